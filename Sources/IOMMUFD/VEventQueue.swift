import CIOMMUFD
import SystemPackage

/// `iommu_veventq_type`.
public struct VEventQueueType: RawRepresentable, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Never valid for allocation (the kernel answers EOPNOTSUPP). The C constant is `IOMMU_VEVENTQ_TYPE_DEFAULT`.
    public static let `default` = VEventQueueType(rawValue: UInt32(IOMMU_VEVENTQ_TYPE_DEFAULT.rawValue))
    /// The C constant is `IOMMU_VEVENTQ_TYPE_ARM_SMMUV3` (events are `iommu_vevent_arm_smmuv3`).
    public static let armSMMUv3 = VEventQueueType(rawValue: UInt32(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3.rawValue))
    /// The C constant is `IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV` (events are `iommu_vevent_tegra241_cmdqv`).
    public static let tegra241CMDQV = VEventQueueType(rawValue: UInt32(IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV.rawValue))
    /// TEST-ONLY: the mock driver's queue (events are `iommu_viommu_event_selftest`).
    public static let selftest = VEventQueueType(rawValue: UInt32(IOMMU_VEVENTQ_TYPE_SELFTEST))

    /// Payload bytes of one event of this type, when known.
    public var eventSize: Int? {
        switch self {
        case .armSMMUv3: MemoryLayout<iommu_vevent_arm_smmuv3>.size
        case .tegra241CMDQV: MemoryLayout<iommu_vevent_tegra241_cmdqv>.size
        case .selftest: MemoryLayout<iommu_viommu_event_selftest>.size
        default: nil
        }
    }
}

/// One record read from a vEVENTQ fd.
public struct VEvent: Sendable, Hashable {
    /// `iommufd_vevent_header.sequence` (31-bit, wraps).
    public let sequence: UInt32
    /// The kernel dropped events before this point (`IOMMU_VEVENTQ_FLAG_LOST_EVENTS`);
    /// such a record has no payload.
    public let lostEvents: Bool
    /// Events missing between the previous record and this one, from the sequence numbers.
    public let gap: UInt32
    /// The type-specific event bytes.
    public let payload: [UInt8]
}

/// A vIOMMU event queue (IOMMU_VEVENTQ_ALLOC, 6.15+): object plus read-only fd.
/// On deinit the fd is closed first (it pins the object), then the object is destroyed.
public struct VEventQueue: ~Copyable {
    public let id: VEventQueueID
    public let fd: KernelFD
    public let queue: KernelFD
    public let type: VEventQueueType
    /// Payload size of one event.
    public let eventSize: Int
    /// The largest event size `allocVEventQueue` takes (the uAPI's events are 8 to 32 bytes).
    public static let maximumEventSize = 4096
    /// The last sequence number read, for gap detection.
    public private(set) var lastSequence: UInt32?
    private var owned = true

    init(id: VEventQueueID, fd: KernelFD, queue: KernelFD, type: VEventQueueType, eventSize: Int) {
        self.id = id
        self.fd = fd
        self.queue = queue
        self.type = type
        self.eventSize = eventSize
    }

    /// Reads the events queued now (up to `max`, 1...`maximumQueueRead`), waiting up to
    /// `timeout` for the first when given.
    public mutating func readEvents(max: Int = 64, timeout: Duration? = nil) throws(IOMMUFDError) -> [VEvent] {
        try queue.checkReadCount(max, what: "vEVENTQ")
        if let timeout, try !queue.waitReadable(timeout: timeout, what: "vEVENTQ") { return [] }
        let header = MemoryLayout<iommufd_vevent_header>.size
        let buffer = [UInt8](repeating: 0, count: max * (header + eventSize))
        let bytes = try withArrayBuffer(buffer) { (buf) throws(IOMMUFDError) in
            let n = try queue.readQueue(into: UnsafeMutableRawBufferPointer(buf), what: "vEVENTQ")
            return Array(buf.prefix(n))
        }
        return parse(bytes)
    }

    /// Splits a read into records; updates `lastSequence`.
    mutating func parse(_ bytes: [UInt8]) -> [VEvent] {
        let header = MemoryLayout<iommufd_vevent_header>.size
        let lostFlag = UInt32(IOMMU_VEVENTQ_FLAG_LOST_EVENTS.rawValue)
        var events: [VEvent] = []
        var offset = 0
        while bytes.count - offset >= header {
            let flags = Self.u32(bytes, offset)
            let sequence = Self.u32(bytes, offset + 4)
            offset += header
            let lost = flags & lostFlag != 0
            let size = lost ? 0 : Swift.min(eventSize, bytes.count - offset)
            let payload = Array(bytes[offset..<offset + size])
            offset += size
            // The kernel's sequence is 31 bits wide.
            let expected = lastSequence.map { ($0 &+ 1) & 0x7fff_ffff }
            let gap = expected.map { (sequence &- $0) & 0x7fff_ffff } ?? 0
            events.append(VEvent(sequence: sequence, lostEvents: lost, gap: gap, payload: payload))
            // A lost-events record takes a sequence number of its own (the latest dropped one).
            lastSequence = sequence
        }
        return events
    }

    private static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    }

    public consuming func destroy() throws(IOMMUFDError) {
        owned = false
        _ = queue.close()
        try fd.raw.destroy(id.rawValue)
    }

    deinit {
        guard owned else { return }
        _ = queue.close()
        try? fd.raw.destroy(id.rawValue)
    }
}

extension IOMMUFD {
    /// IOMMU_VEVENTQ_ALLOC: a queue of `depth` events of `type` from `viommu`.
    /// `eventSize` is needed only for types this package does not know.
    public func allocVEventQueue(viommu: VIOMMUID, type: VEventQueueType, depth: UInt32,
                                 eventSize: Int? = nil) throws(IOMMUFDError) -> VEventQueue {
        if depth == 0 { throw .invalid(.veventqAlloc, argument: "veventq_depth", "queue depth is zero") }
        guard let size = eventSize ?? type.eventSize else {
            throw .invalid(.veventqAlloc, argument: "type", "unknown event type: pass its eventSize")
        }
        // Reads allocate max * (header + size) bytes: keep that bounded.
        guard (0...VEventQueue.maximumEventSize).contains(size) else {
            throw .invalid(.veventqAlloc, argument: "type", "event size \(size) is outside 0...\(VEventQueue.maximumEventSize)")
        }
        let (id, queue) = try fd.raw.allocVEventQueue(viommu: viommu.rawValue, type: type.rawValue, depth: depth)
        return VEventQueue(id: VEventQueueID(rawValue: id), fd: fd, queue: KernelFD(adopting: queue, driver: fd.driver),
                           type: type, eventSize: size)
    }
}

extension iommu_veventq_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("viommu_id", viommu_id),
         TraceField("type", hex: type), TraceField("veventq_depth", veventq_depth),
         TraceField("out_veventq_id", out_veventq_id), TraceField("out_veventq_fd", out_veventq_fd)]
    }
}

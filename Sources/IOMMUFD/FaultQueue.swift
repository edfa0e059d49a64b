import CIOMMUFD
import SystemPackage

/// An I/O page-fault queue (IOMMU_FAULT_QUEUE_ALLOC): an iommufd object plus the fd
/// faults are read from and responses written to. Give its id to `allocHWPT(fault:)`.
///
/// On deinit the fd is closed first (it holds a reference on the object), then the
/// object is destroyed.
public struct FaultQueue: ~Copyable {
    public let id: FaultQueueID
    /// The /dev/iommu descriptor the object lives in.
    public let fd: KernelFD
    /// The fault fd (`out_fault_fd`).
    public let queue: KernelFD
    private var owned = true

    init(id: FaultQueueID, fd: KernelFD, queue: KernelFD) {
        self.id = id
        self.fd = fd
        self.queue = queue
    }

    /// Reads the faults queued now (up to `max`, 1...`maximumQueueRead`), waiting up to
    /// `timeout` for the first when given. An empty queue returns []. Faults come in whole groups.
    public func readFaults(max: Int = 64, timeout: Duration? = nil) throws(IOMMUFDError) -> [PageFault] {
        try queue.checkReadCount(max, what: "fault queue")
        if let timeout, try !queue.waitReadable(timeout: timeout, what: "fault queue") { return [] }
        let size = MemoryLayout<iommu_hwpt_pgfault>.size
        let records = [iommu_hwpt_pgfault](repeating: iommu_hwpt_pgfault(), count: max)
        return try withArrayBuffer(records) { (buf) throws(IOMMUFDError) in
            let n = try queue.readQueue(into: UnsafeMutableRawBufferPointer(buf), what: "fault queue")
            return buf.prefix(n / size).map(PageFault.init)
        }
    }

    /// Answers a fault group (by the cookie of any of its faults).
    public func respond(cookie: UInt32, code: PageResponseCode = .success) throws(IOMMUFDError) {
        let response = [iommu_hwpt_page_response(cookie: cookie, code: code.rawValue)]
        let n = try withArrayBuffer(response) { (buf) throws(IOMMUFDError) in
            try queue.writeQueue(UnsafeRawBufferPointer(buf), what: "fault queue")
        }
        if n != MemoryLayout<iommu_hwpt_page_response>.size {
            throw .system("write", .ioError, on: "fault queue", argument: "short write of \(n) bytes")
        }
    }

    /// Closes the fd and destroys the object, reporting DESTROY's answer.
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

/// One I/O page fault (`iommu_hwpt_pgfault`).
public struct PageFault: Sendable, Hashable {
    public struct Permissions: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let read = Permissions(rawValue: UInt32(IOMMU_PGFAULT_PERM_READ.rawValue))
        public static let write = Permissions(rawValue: UInt32(IOMMU_PGFAULT_PERM_WRITE.rawValue))
        public static let exec = Permissions(rawValue: UInt32(IOMMU_PGFAULT_PERM_EXEC.rawValue))
        public static let privileged = Permissions(rawValue: UInt32(IOMMU_PGFAULT_PERM_PRIV.rawValue))
    }

    public let flags: UInt32
    public let device: IOMMUFDDeviceID
    /// Nil unless `IOMMU_PGFAULT_FLAGS_PASID_VALID`.
    public let pasid: UInt32?
    public let groupID: UInt32
    public let permissions: Permissions
    public let address: UInt64
    public let length: UInt32
    /// Pass to `respond(cookie:)`.
    public let cookie: UInt32
    /// The last fault of its group (`IOMMU_PGFAULT_FLAGS_LAST_PAGE`).
    public var isLastPage: Bool { flags & UInt32(IOMMU_PGFAULT_FLAGS_LAST_PAGE.rawValue) != 0 }

    init(_ raw: iommu_hwpt_pgfault) {
        flags = raw.flags
        device = IOMMUFDDeviceID(rawValue: raw.dev_id)
        pasid = raw.flags & UInt32(IOMMU_PGFAULT_FLAGS_PASID_VALID.rawValue) != 0 ? raw.pasid : nil
        groupID = raw.grpid
        permissions = Permissions(rawValue: raw.perm)
        address = raw.addr
        length = raw.length
        cookie = raw.cookie
    }
}

/// `iommufd_page_response_code`.
public enum PageResponseCode: UInt32, Sendable {
    case success = 0
    case invalid = 1
}

extension IOMMUFD {
    /// IOMMU_FAULT_QUEUE_ALLOC (6.11+).
    public func allocFaultQueue() throws(IOMMUFDError) -> FaultQueue {
        let (id, queue) = try fd.raw.allocFaultQueue()
        return FaultQueue(id: FaultQueueID(rawValue: id), fd: fd, queue: KernelFD(adopting: queue, driver: fd.driver))
    }
}

extension iommu_fault_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("out_fault_id", out_fault_id),
         TraceField("out_fault_fd", out_fault_fd)]
    }
}

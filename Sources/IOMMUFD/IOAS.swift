import CIOMMUFD
import SystemPackage

/// An IO address space (IOMMU_IOAS_*): user memory mapped at IOVAs, shared by the
/// page tables and devices attached to it. Destroyed on deinit.
public struct IOAS: ~Copyable {
    public let id: IOASID
    public let fd: KernelFD
    /// When set (e.g. `ioas.iovaAlignment = try ioas.iovaRanges().alignment`), maps, unmaps
    /// and copies are checked against it before the syscall; nil (the default) leaves the
    /// alignment to the kernel. Explicit, so who answers never depends on call history.
    public var iovaAlignment: UInt64?
    private var owned = true

    public init(id: IOASID, fd: KernelFD) {
        self.id = id
        self.fd = fd
    }

    public consuming func destroy() throws(IOMMUFDError) {
        owned = false
        try fd.raw.destroy(id.rawValue)
    }

    public consuming func release() -> IOASID {
        owned = false
        return id
    }

    deinit {
        if owned { try? fd.raw.destroy(id.rawValue) }
    }
}

/// Access rights of a mapping.
public struct MapAccess: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let read = MapAccess(rawValue: UInt32(IOMMU_IOAS_MAP_READABLE.rawValue))
    public static let write = MapAccess(rawValue: UInt32(IOMMU_IOAS_MAP_WRITEABLE.rawValue))
    // Spelled out, not `[.read, .write]`: a constant the compiler initializes statically,
    // so the default argument of every map costs no lazy-initialization check.
    public static let readWrite = MapAccess(rawValue: UInt32(IOMMU_IOAS_MAP_READABLE.rawValue | IOMMU_IOAS_MAP_WRITEABLE.rawValue))
}

/// An inclusive IOVA range, as the kernel reports and takes them.
public struct IOVARange: Sendable, Hashable, CustomStringConvertible {
    public let start: UInt64
    public let last: UInt64
    public init(start: UInt64, last: UInt64) { self.start = start; self.last = last }
    public var description: String { "0x\(String(start, radix: 16))-0x\(String(last, radix: 16))" }
    public func contains(_ iova: UInt64) -> Bool { iova >= start && iova <= last }
}

/// What IOMMU_IOAS_IOVA_RANGES reports.
public struct IOVARanges: Sendable, Hashable {
    public let ranges: [IOVARange]
    /// Every mapping's IOVA and length must be a multiple of this.
    public let alignment: UInt64
}

extension IOAS {
    /// IOMMU_IOAS_MAP of user memory. Returns the IOVA (kernel-chosen when `iova` is nil).
    @inlinable @discardableResult
    public func map(userVA: UInt64, length: UInt64, at iova: UInt64? = nil,
                    access: MapAccess = .readWrite) throws(IOMMUFDError) -> UInt64 {
        try validateRange(.ioasMap, iova: iova ?? 0, length: length)
        if access.isEmpty { throw .invalid(.ioasMap, argument: "flags", "a mapping needs READABLE and/or WRITEABLE") }
        return try RawIOMMUFD.map(on: fd, ioas: id.rawValue, userVA: userVA, length: length, iova: iova,
                                  flags: access.rawValue)
    }

    /// IOMMU_IOAS_MAP of a buffer this process owns; the buffer must outlive the mapping.
    @inlinable @discardableResult
    public func map(_ buffer: UnsafeMutableRawBufferPointer, at iova: UInt64? = nil,
                    access: MapAccess = .readWrite) throws(IOMMUFDError) -> UInt64 {
        guard let base = buffer.baseAddress else {
            throw .invalid(.ioasMap, argument: "user_va", "the buffer has no memory")
        }
        return try map(userVA: userPointer(base), length: UInt64(buffer.count), at: iova, access: access)
    }

    /// IOMMU_IOAS_MAP_FILE: map `length` bytes of a memfd from `start` (6.13+).
    @discardableResult
    public func mapFile(_ file: FileDescriptor, start: UInt64, length: UInt64, at iova: UInt64? = nil,
                        access: MapAccess = .readWrite) throws(IOMMUFDError) -> UInt64 {
        try validateRange(.ioasMapFile, iova: iova ?? 0, length: length)
        return try fd.raw.mapFile(ioas: id.rawValue, file: file.rawValue, start: start, length: length,
                                  iova: iova, flags: access.rawValue)
    }

    /// IOMMU_IOAS_UNMAP of a range. Returns how many bytes were unmapped.
    @inlinable @discardableResult
    public func unmap(iova: UInt64, length: UInt64) throws(IOMMUFDError) -> UInt64 {
        try validateRange(.ioasUnmap, iova: iova, length: length)
        return try RawIOMMUFD.unmap(on: fd, ioas: id.rawValue, iova: iova, length: length)
    }

    /// IOMMU_IOAS_UNMAP of everything: (0, UINT64_MAX), accepted even when empty.
    @discardableResult
    public func unmapAll() throws(IOMMUFDError) -> UInt64 {
        try RawIOMMUFD.unmap(on: fd, ioas: id.rawValue, iova: 0, length: .max)
    }

    /// IOMMU_IOAS_COPY: map into this IOAS the pages already mapped at `sourceIOVA` in `source`.
    /// Returns the destination IOVA (kernel-chosen when `iova` is nil).
    @inlinable @discardableResult
    public func copy(from source: IOASID, sourceIOVA: UInt64, length: UInt64, to iova: UInt64? = nil,
                     access: MapAccess = .readWrite) throws(IOMMUFDError) -> UInt64 {
        try validateRange(.ioasCopy, iova: iova ?? 0, length: length)
        return try RawIOMMUFD.copy(on: fd, dst: id.rawValue, src: source.rawValue, srcIOVA: sourceIOVA,
                                   length: length, dstIOVA: iova, flags: access.rawValue)
    }

    /// IOMMU_IOAS_IOVA_RANGES: the usable IOVA ranges and the required alignment.
    /// Handles the EMSGSIZE two-pass: asks for the count, then for the ranges.
    /// The count is kernel data: one past `maximumIOVARanges`, or a count that keeps
    /// growing, is refused (E2BIG) rather than allocated or chased forever.
    public func iovaRanges() throws(IOMMUFDError) -> IOVARanges {
        var capacity = 4
        var reply = RawIOVARangesReply()
        for _ in 0..<4 {
            do throws(IOMMUFDError) {
                try fd.raw.iovaRanges(ioas: id.rawValue, capacity: capacity, reply: &reply)
            } catch where error.errno == .messageTooLong && Int(reply.count) > capacity {
                capacity = Int(reply.count)
                guard capacity <= Self.maximumIOVARanges else {
                    throw .invalid(.ioasIOVARanges, argument: "num_iovas",
                                   "kernel reported \(capacity) ranges, more than the \(Self.maximumIOVARanges) allowed",
                                   errno: .argListTooLong)
                }
                continue
            }
            return IOVARanges(ranges: Array(reply.slots.prefix(Int(reply.count))), alignment: reply.alignment)
        }
        throw .invalid(.ioasIOVARanges, argument: "num_iovas", "kernel kept growing num_iovas", errno: .argListTooLong)
    }

    /// The most IOVA ranges `iovaRanges()` makes room for (1 MiB of iommu_iova_range);
    /// real IOMMUs report a handful, around reserved regions.
    public static let maximumIOVARanges = 1 << 16

    /// IOMMU_IOAS_ALLOW_IOVAS: restrict kernel-chosen IOVAs to these ranges (empty: no restriction).
    public func allowIOVAs(_ ranges: [IOVARange]) throws(IOMMUFDError) {
        for r in ranges where r.start > r.last {
            throw .invalid(.ioasAllowIOVAs, argument: "allowed_iovas", "range \(r) has start > last")
        }
        try fd.raw.allowIOVAs(ioas: id.rawValue, ranges)
    }

    /// Rejects what the kernel surely would: zero length, wrap-around, misalignment.
    /// Inlined, with the error built out of line: a valid range costs a few compares.
    @inlinable @inline(__always)
    func validateRange(_ request: IoctlRequest, iova: UInt64, length: UInt64) throws(IOMMUFDError) {
        let alignment = iovaAlignment ?? 0
        if length == 0 || iova.addingReportingOverflow(length - 1).overflow
            || (alignment > 1 && (iova % alignment != 0 || length % alignment != 0)) {
            throw rangeError(request, iova: iova, length: length)
        }
    }

    @usableFromInline @inline(never)
    func rangeError(_ request: IoctlRequest, iova: UInt64, length: UInt64) -> IOMMUFDError {
        if length == 0 { return .invalid(request, argument: "length", "length is zero") }
        if iova.addingReportingOverflow(length - 1).overflow {
            return .invalid(request, argument: "iova", "iova + length wraps past 2^64", errno: .overflow)
        }
        let a = iovaAlignment ?? 0
        return .invalid(request, argument: iova % a != 0 ? "iova" : "length",
                        "not a multiple of the IOAS alignment 0x\(String(a, radix: 16))")
    }
}

// MARK: - Trace fields (IOMMU_IOAS_*, and DESTROY/OPTION/CHANGE_PROCESS, which IOAS owners issue)

extension iommu_ioas_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("out_ioas_id", out_ioas_id)]
    }
}

extension iommu_ioas_map: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("ioas_id", ioas_id),
         TraceField("user_va", hex: user_va), TraceField("length", hex: length), TraceField("iova", hex: iova)]
    }
}

extension iommu_ioas_map_file: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("ioas_id", ioas_id),
         TraceField("fd", fd), TraceField("start", hex: start), TraceField("length", hex: length),
         TraceField("iova", hex: iova)]
    }
}

extension iommu_ioas_unmap: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("ioas_id", ioas_id), TraceField("iova", hex: iova),
         TraceField("length", hex: length)]
    }
}

extension iommu_ioas_copy: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("dst_ioas_id", dst_ioas_id),
         TraceField("src_ioas_id", src_ioas_id), TraceField("length", hex: length),
         TraceField("dst_iova", hex: dst_iova), TraceField("src_iova", hex: src_iova)]
    }
}

extension iommu_ioas_iova_ranges: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("ioas_id", ioas_id), TraceField("num_iovas", num_iovas),
         TraceField("allowed_iovas", hex: allowed_iovas), TraceField("out_iova_alignment", hex: out_iova_alignment)]
    }
}

extension iommu_ioas_allow_iovas: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("ioas_id", ioas_id), TraceField("num_iovas", num_iovas),
         TraceField("allowed_iovas", hex: allowed_iovas)]
    }
}

extension iommu_ioas_change_process: TraceableArgument {
    public var traceFields: [TraceField] { [TraceField("size", size)] }
}

extension iommu_destroy: TraceableArgument {
    public var traceFields: [TraceField] { [TraceField("size", size), TraceField("id", id)] }
}

extension iommu_option: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("option_id", option_id), TraceField("op", op),
         TraceField("object_id", object_id), TraceField("val64", hex: val64)]
    }
}

import CIOMMUFD

/// The unvalidated layer: one entry per iommufd ioctl. Every field goes to the kernel
/// as given and the answer comes back as the kernel wrote it; nothing is checked first,
/// so the kernel, not this library, answers bad input. The typed owners (`IOAS`, `HWPT`,
/// ...) validate and then call these. Reach it as `iommufd.raw` or `fd.raw`.
///
/// Ids are the kernel's plain `__u32` object ids; lifetimes are the caller's business
/// (nothing here destroys what it allocates).
public struct RawIOMMUFD: Sendable {
    public let fd: KernelFD
    public init(_ fd: KernelFD) { self.fd = fd }

    /// IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE, the usual access flags.
    public static let readWrite = UInt32(IOMMU_IOAS_MAP_READABLE.rawValue | IOMMU_IOAS_MAP_WRITEABLE.rawValue)
    @inlinable static var fixedIOVA: UInt32 { UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue) }
}

extension KernelFD {
    /// The unvalidated ioctls on this descriptor (see `RawIOMMUFD`).
    public var raw: RawIOMMUFD { RawIOMMUFD(self) }
}

extension IOMMUFD {
    /// The unvalidated ioctls on this descriptor (see `RawIOMMUFD`).
    public var raw: RawIOMMUFD { RawIOMMUFD(fd) }
}

/// What IOMMU_IOAS_IOVA_RANGES wrote back, also when it failed (EMSGSIZE still reports
/// the count needed and fills what fits).
public struct RawIOVARangesReply: Sendable, Equatable {
    /// num_iovas as written back: the number of ranges the IOAS has.
    public var count: UInt32 = 0
    /// out_iova_alignment.
    public var alignment: UInt64 = 0
    /// The whole array passed in (`capacity` entries, or `arrayCount`), as the kernel left it;
    /// a slot the kernel did not write keeps the marker start = UInt64.max, last = 0.
    public var slots: [IOVARange] = []
    public init() {}
}

// MARK: - IOAS

extension RawIOMMUFD {
    /// IOMMU_DESTROY of any object id.
    public func destroy(_ id: UInt32) throws(IOMMUFDError) {
        var cmd = iommu_destroy()
        cmd.size = UInt32(MemoryLayout<iommu_destroy>.size)
        cmd.id = id
        try fd.perform(.destroy, &cmd, argumentName: "id")
    }

    /// IOMMU_IOAS_ALLOC. Returns out_ioas_id.
    public func allocIOAS(flags: UInt32 = 0) throws(IOMMUFDError) -> UInt32 {
        var cmd = iommu_ioas_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_alloc>.size)
        cmd.flags = flags
        try fd.perform(.ioasAlloc, &cmd)
        return cmd.out_ioas_id
    }

    /// IOMMU_IOAS_MAP. A given `iova` adds FIXED_IOVA to `flags`; nil lets the kernel choose.
    /// Returns the iova written back.
    @inlinable @discardableResult
    public func map(ioas: UInt32, userVA: UInt64, length: UInt64, iova: UInt64? = nil,
                    flags: UInt32 = RawIOMMUFD.readWrite) throws(IOMMUFDError) -> UInt64 {
        try Self.map(on: fd, ioas: ioas, userVA: userVA, length: length, iova: iova, flags: flags)
    }

    /// IOMMU_IOAS_MAP_FILE (6.13+). A given `iova` adds FIXED_IOVA to `flags`.
    /// Returns the iova written back.
    @discardableResult
    public func mapFile(ioas: UInt32, file: Int32, start: UInt64, length: UInt64, iova: UInt64? = nil,
                        flags: UInt32 = RawIOMMUFD.readWrite) throws(IOMMUFDError) -> UInt64 {
        var cmd = iommu_ioas_map_file()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_map_file>.size)
        cmd.flags = flags | (iova == nil ? 0 : Self.fixedIOVA)
        cmd.ioas_id = ioas
        cmd.fd = file
        cmd.start = start
        cmd.length = length
        cmd.iova = iova ?? 0
        try fd.perform(.ioasMapFile, &cmd)
        return cmd.iova
    }

    /// IOMMU_IOAS_UNMAP. Returns the length written back (bytes unmapped).
    @inlinable @discardableResult
    public func unmap(ioas: UInt32, iova: UInt64, length: UInt64) throws(IOMMUFDError) -> UInt64 {
        try Self.unmap(on: fd, ioas: ioas, iova: iova, length: length)
    }

    /// IOMMU_IOAS_COPY. A given `dstIOVA` adds FIXED_IOVA to `flags`. Returns dst_iova.
    @inlinable @discardableResult
    public func copy(dst: UInt32, src: UInt32, srcIOVA: UInt64, length: UInt64, dstIOVA: UInt64? = nil,
                     flags: UInt32 = RawIOMMUFD.readWrite) throws(IOMMUFDError) -> UInt64 {
        try Self.copy(on: fd, dst: dst, src: src, srcIOVA: srcIOVA, length: length, dstIOVA: dstIOVA, flags: flags)
    }

    /// IOMMU_IOAS_IOVA_RANGES with room for `capacity` ranges. `reply` is written whatever
    /// the outcome, so a caller can read the count after EMSGSIZE. `arrayCount` passes an
    /// array of that many slots while telling the kernel `capacity` (the selftest's larger
    /// buffer, to see that slots past num_iovas stay untouched); without it a capacity of 0
    /// sends a NULL array.
    public func iovaRanges(ioas: UInt32, capacity: Int, arrayCount: Int? = nil,
                           reply: inout RawIOVARangesReply) throws(IOMMUFDError) {
        var cmd = iommu_ioas_iova_ranges()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_iova_ranges>.size)
        cmd.ioas_id = ioas
        cmd.num_iovas = UInt32(capacity)
        let slotCount = arrayCount ?? capacity
        // Marker values show which slots the kernel wrote.
        let storage = [iommu_iova_range](repeating: iommu_iova_range(start: .max, last: 0), count: max(slotCount, 1))
        var failure: IOMMUFDError?
        let slots = try withArrayBuffer(storage) { (buf) throws(IOMMUFDError) in
            cmd.allowed_iovas = slotCount == 0 ? 0 : userPointer(buf.baseAddress)
            do throws(IOMMUFDError) { try fd.perform(.ioasIOVARanges, &cmd) } catch { failure = error }
            return buf.prefix(slotCount).map { IOVARange(start: $0.start, last: $0.last) }
        }
        reply.count = cmd.num_iovas
        reply.alignment = cmd.out_iova_alignment
        reply.slots = slots
        if let failure { throw failure }
    }

    /// IOMMU_IOAS_ALLOW_IOVAS with these ranges as given (start > last included).
    public func allowIOVAs(ioas: UInt32, _ ranges: [IOVARange]) throws(IOMMUFDError) {
        let storage = ranges.map { iommu_iova_range(start: $0.start, last: $0.last) }
        var cmd = iommu_ioas_allow_iovas()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_allow_iovas>.size)
        cmd.ioas_id = ioas
        cmd.num_iovas = UInt32(ranges.count)
        try withArrayBuffer(storage) { (buf) throws(IOMMUFDError) in
            cmd.allowed_iovas = ranges.isEmpty ? 0 : userPointer(buf.baseAddress)
            try fd.perform(.ioasAllowIOVAs, &cmd)
        }
    }

    /// IOMMU_IOAS_CHANGE_PROCESS (6.14+) with a chosen `__reserved` (the kernel wants 0).
    public func changeProcess(reserved: UInt32 = 0) throws(IOMMUFDError) {
        var cmd = iommu_ioas_change_process()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_change_process>.size)
        cmd.__reserved = reserved
        try fd.perform(.ioasChangeProcess, &cmd)
    }

    /// IOMMU_OPTION get (`set` nil) or set. Returns val64 after the call.
    @discardableResult
    public func option(_ option: UInt32, object: UInt32 = 0, set value: UInt64? = nil) throws(IOMMUFDError) -> UInt64 {
        var cmd = iommu_option()
        cmd.size = UInt32(MemoryLayout<iommu_option>.size)
        cmd.option_id = option
        cmd.op = UInt16(value == nil ? IOMMU_OPTION_OP_GET.rawValue : IOMMU_OPTION_OP_SET.rawValue)
        cmd.object_id = object
        cmd.val64 = value ?? 0
        try fd.perform(.option, &cmd, argumentName: "option_id")
        return cmd.val64
    }

    /// IOMMU_VFIO_IOAS with any `op`. Returns ioas_id as written back.
    @discardableResult
    public func vfioIOAS(op: UInt16, ioas: UInt32 = 0) throws(IOMMUFDError) -> UInt32 {
        var cmd = iommu_vfio_ioas()
        cmd.size = UInt32(MemoryLayout<iommu_vfio_ioas>.size)
        cmd.ioas_id = ioas
        cmd.op = op
        try fd.perform(.vfioIOAS, &cmd, argumentName: "op")
        return cmd.ioas_id
    }

    /// IOMMU_IOAS_NOIOMMU_GET_PA (7.3+, no-IOMMU mode).
    public func noIOMMUGetPA(ioas: UInt32, iova: UInt64, length: UInt64, flags: UInt32 = 0,
                             reserved: UInt32 = 0) throws(IOMMUFDError) -> PhysicalExtent {
        var cmd = iommu_ioas_noiommu_get_pa()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_noiommu_get_pa>.size)
        cmd.flags = flags
        cmd.ioas_id = ioas
        cmd.__reserved = reserved
        cmd.iova = iova
        cmd.length = length
        try fd.perform(.ioasNoIOMMUGetPA, &cmd)
        return PhysicalExtent(physicalAddress: cmd.out_phys, length: cmd.length)
    }
}

// MARK: - The map path, on a borrowed descriptor

// The typed owners (`IOAS`) call these with their own `fd`: going through `fd.raw` would
// copy the descriptor into a `RawIOMMUFD`, a retain and a release (two atomics) per call.
extension RawIOMMUFD {
    @inlinable
    static func map(on fd: KernelFD, ioas: UInt32, userVA: UInt64, length: UInt64, iova: UInt64?,
                    flags: UInt32) throws(IOMMUFDError) -> UInt64 {
        var cmd = iommu_ioas_map()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_map>.size)
        cmd.flags = flags | (iova == nil ? 0 : fixedIOVA)
        cmd.ioas_id = ioas
        cmd.user_va = userVA
        cmd.length = length
        cmd.iova = iova ?? 0
        try fd.perform(.ioasMap, &cmd)
        return cmd.iova
    }

    @inlinable
    static func unmap(on fd: KernelFD, ioas: UInt32, iova: UInt64, length: UInt64) throws(IOMMUFDError) -> UInt64 {
        var cmd = iommu_ioas_unmap()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_unmap>.size)
        cmd.ioas_id = ioas
        cmd.iova = iova
        cmd.length = length
        try fd.perform(.ioasUnmap, &cmd)
        return cmd.length
    }

    @inlinable
    static func copy(on fd: KernelFD, dst: UInt32, src: UInt32, srcIOVA: UInt64, length: UInt64, dstIOVA: UInt64?,
                     flags: UInt32) throws(IOMMUFDError) -> UInt64 {
        var cmd = iommu_ioas_copy()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_copy>.size)
        cmd.flags = flags | (dstIOVA == nil ? 0 : fixedIOVA)
        cmd.dst_ioas_id = dst
        cmd.src_ioas_id = src
        cmd.length = length
        cmd.dst_iova = dstIOVA ?? 0
        cmd.src_iova = srcIOVA
        try fd.perform(.ioasCopy, &cmd)
        return cmd.dst_iova
    }
}

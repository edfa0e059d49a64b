import CIOMMUFD

/// Where an IOVA's memory sits physically: IOMMU_IOAS_NOIOMMU_GET_PA (7.x).
public struct PhysicalExtent: Sendable, Equatable, CustomStringConvertible {
    /// The physical address `iova` maps to.
    public let physicalAddress: UInt64
    /// Bytes physically contiguous from there, capped by the length asked for.
    public let length: UInt64
    public var description: String {
        "phys 0x\(String(physicalAddress, radix: 16)) length 0x\(String(length, radix: 16))"
    }
}

extension IOAS {
    /// IOMMU_IOAS_NOIOMMU_GET_PA: the physical address behind a mapped IOVA, for a
    /// device in VFIO's unsafe no-IOMMU mode, whose DMA is not translated: it must be
    /// given this address, not the IOVA. Needs CAP_SYS_RAWIO.
    public func physicalAddress(iova: UInt64, length: UInt64) throws(IOMMUFDError) -> PhysicalExtent {
        if length == 0 {
            throw .invalid(.ioasNoIOMMUGetPA, argument: "length", "must be non-zero (the most bytes to report)")
        }
        return try fd.noIOMMUGetPA(ioas: id, iova: iova, length: length)
    }
}

extension KernelFD {
    /// Raw IOMMU_IOAS_NOIOMMU_GET_PA: sends exactly these fields, returns what the kernel answered.
    public func noIOMMUGetPA(ioas: IOASID, iova: UInt64, length: UInt64, flags: UInt32 = 0,
                             reserved: UInt32 = 0) throws(IOMMUFDError) -> PhysicalExtent {
        var cmd = iommu_ioas_noiommu_get_pa()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_noiommu_get_pa>.size)
        cmd.flags = flags
        cmd.ioas_id = ioas.rawValue
        cmd.__reserved = reserved
        cmd.iova = iova
        cmd.length = length
        try perform(.ioasNoIOMMUGetPA, &cmd)
        return PhysicalExtent(physicalAddress: cmd.out_phys, length: cmd.length)
    }
}

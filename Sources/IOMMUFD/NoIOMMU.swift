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
        return try fd.raw.noIOMMUGetPA(ioas: id.rawValue, iova: iova, length: length)
    }
}

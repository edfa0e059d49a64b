import CIOMMUFD

extension IOMMUFD {
    /// IOMMU_VFIO_IOAS GET: the IOAS the VFIO container compat layer uses.
    /// ENODEV means none has been set or created yet.
    public func vfioCompatIOAS() throws(IOMMUFDError) -> IOASID {
        IOASID(rawValue: try fd.raw.vfioIOAS(op: UInt16(IOMMU_VFIO_IOAS_GET.rawValue), ioas: 0))
    }

    /// IOMMU_VFIO_IOAS SET: make `ioas` the compat IOAS.
    public func setVFIOCompatIOAS(_ ioas: IOASID) throws(IOMMUFDError) {
        _ = try fd.raw.vfioIOAS(op: UInt16(IOMMU_VFIO_IOAS_SET.rawValue), ioas: ioas.rawValue)
    }

    /// IOMMU_VFIO_IOAS CLEAR: forget the compat IOAS (the IOAS itself stays).
    public func clearVFIOCompatIOAS() throws(IOMMUFDError) {
        _ = try fd.raw.vfioIOAS(op: UInt16(IOMMU_VFIO_IOAS_CLEAR.rawValue), ioas: 0)
    }
}

extension iommu_vfio_ioas: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("ioas_id", ioas_id), TraceField("op", op)]
    }
}

import CIOMMUFD

/// Unvalidated entry points for IOMMU_IOAS_MAP_FILE and IOMMU_IOAS_CHANGE_PROCESS: every
/// field goes to the kernel as given (zero length, unknown flags, odd `start`, a
/// non-zero `__reserved`), so conformance rows see the kernel's answer rather than the
/// library's validation. Normal code uses `IOAS.mapFile` and `IOMMUFD.changeProcess`.
extension KernelFD {
    /// IOMMU_IOAS_MAP_FILE with raw fields. Returns the IOVA the kernel wrote back.
    @discardableResult
    public func mapFileRaw(ioas: UInt32, file: Int32, start: UInt64, length: UInt64,
                           iova: UInt64 = 0, flags: UInt32) throws(IOMMUFDError) -> UInt64 {
        var cmd = iommu_ioas_map_file()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_map_file>.size)
        cmd.flags = flags
        cmd.ioas_id = ioas
        cmd.fd = file
        cmd.start = start
        cmd.length = length
        cmd.iova = iova
        try perform(.ioasMapFile, &cmd)
        return cmd.iova
    }

    /// IOMMU_IOAS_CHANGE_PROCESS with a chosen `__reserved` (the kernel wants 0).
    public func changeProcessRaw(reserved: UInt32) throws(IOMMUFDError) {
        var cmd = iommu_ioas_change_process()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_change_process>.size)
        cmd.__reserved = reserved
        try perform(.ioasChangeProcess, &cmd)
    }
}

import CIOMMUFD

/// How pinned pages are charged (IOMMU_OPTION_RLIMIT_MODE, global).
public enum RlimitMode: UInt64, Sendable {
    /// Charged to the user (RLIMIT_MEMLOCK of the user) — the default.
    case user = 0
    /// Charged to the process's mm (like VFIO type1).
    case process = 1
}

extension IOMMUFD {
    public func rlimitMode() throws(IOMMUFDError) -> RlimitMode {
        let raw = try fd.raw.option(UInt32(IOMMU_OPTION_RLIMIT_MODE.rawValue))
        return RlimitMode(rawValue: raw) ?? .user
    }

    /// Needs CAP_SYS_RESOURCE and no objects yet.
    public func setRlimitMode(_ mode: RlimitMode) throws(IOMMUFDError) {
        try fd.raw.option(UInt32(IOMMU_OPTION_RLIMIT_MODE.rawValue), set: mode.rawValue)
    }
}

extension IOAS {
    /// IOMMU_OPTION_HUGE_PAGES: whether the IOAS may use huge IOMMU pages (on by default).
    public func hugePages() throws(IOMMUFDError) -> Bool {
        try fd.raw.option(UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue), object: id.rawValue) != 0
    }

    public func setHugePages(_ enabled: Bool) throws(IOMMUFDError) {
        try fd.raw.option(UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue), object: id.rawValue, set: enabled ? 1 : 0)
    }
}

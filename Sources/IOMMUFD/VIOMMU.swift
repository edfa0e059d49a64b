import CIOMMUFD
import SystemPackage

/// `iommu_viommu_type`.
public struct VIOMMUType: RawRepresentable, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The core's own vIOMMU (caches nothing driver-specific). The C constant is `IOMMU_VIOMMU_TYPE_DEFAULT`.
    public static let `default` = VIOMMUType(rawValue: UInt32(IOMMU_VIOMMU_TYPE_DEFAULT.rawValue))
    /// The C constant is `IOMMU_VIOMMU_TYPE_ARM_SMMUV3`.
    public static let armSMMUv3 = VIOMMUType(rawValue: UInt32(IOMMU_VIOMMU_TYPE_ARM_SMMUV3.rawValue))
    /// The C constant is `IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV` (6.17+).
    public static let tegra241CMDQV = VIOMMUType(rawValue: UInt32(IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV.rawValue))
    /// TEST-ONLY: the mock driver's vIOMMU (`IOMMU_VIOMMU_TYPE_SELFTEST`).
    public static let selftest = VIOMMUType(rawValue: UInt32(IOMMU_VIOMMU_TYPE_SELFTEST))
}

extension IOMMUFD {
    /// IOMMU_VIOMMU_ALLOC (6.13+): a vIOMMU for `device` over the nest-parent HWPT `parent`.
    public func allocVIOMMU(type: VIOMMUType, device: IOMMUFDDeviceID, parent: HWPTID) throws(IOMMUFDError) -> VIOMMU {
        var none: [UInt8] = []
        return try allocVIOMMU(type: type, device: device, parent: parent, data: &none)
    }

    /// IOMMU_VIOMMU_ALLOC with driver data (6.17+). The kernel may write results back
    /// into `data` (e.g. Tegra241 CMDQV mmap offset and length).
    public func allocVIOMMU(type: VIOMMUType, device: IOMMUFDDeviceID, parent: HWPTID,
                            data: inout [UInt8]) throws(IOMMUFDError) -> VIOMMU {
        let id = try fd.raw.allocVIOMMU(type: type.rawValue, device: device.rawValue, hwpt: parent.rawValue, data: &data)
        return VIOMMU(id: VIOMMUID(rawValue: id), fd: fd)
    }
}

extension IOMMUFD {
    /// IOMMU_HWPT_INVALIDATE with `hwpt_id` = a vIOMMU (6.13+), by id (for vIOMMUs whose owner released them).
    @discardableResult
    public func invalidate(viommu: VIOMMUID, _ request: InvalidationRequest) throws(InvalidationError) -> Int {
        try fd.invalidate(target: viommu.rawValue, request)
    }
}

extension KernelObject where ID == VIOMMUID {
    /// IOMMU_HWPT_INVALIDATE sent to a vIOMMU (6.13+): invalidations that name vDEVICEs.
    @discardableResult
    public func invalidate(_ request: InvalidationRequest) throws(InvalidationError) -> Int {
        try fd.invalidate(target: id.rawValue, request)
    }
}

extension iommu_viommu_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("type", hex: type),
         TraceField("dev_id", dev_id), TraceField("hwpt_id", hwpt_id), TraceField("out_viommu_id", out_viommu_id),
         TraceField("data_len", data_len), TraceField("data_uptr", hex: data_uptr)]
    }
}

import CIOMMUFD
import SystemPackage

/// A HW-accelerated vIOMMU queue, destroyed on deinit.
public typealias HWQueue = KernelObject<HWQueueID>

/// `iommu_hw_queue_type`.
public struct HWQueueType: RawRepresentable, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Never valid for allocation (the kernel answers EOPNOTSUPP). The C constant is `IOMMU_HW_QUEUE_TYPE_DEFAULT`.
    public static let `default` = HWQueueType(rawValue: UInt32(IOMMU_HW_QUEUE_TYPE_DEFAULT.rawValue))
    /// The C constant is `IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV`.
    public static let tegra241CMDQV = HWQueueType(rawValue: UInt32(IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV.rawValue))
    /// TEST-ONLY: the mock driver's queue (`IOMMU_HW_QUEUE_TYPE_SELFTEST`).
    public static let selftest = HWQueueType(rawValue: UInt32(IOMMU_HW_QUEUE_TYPE_SELFTEST))
}

extension IOMMUFD {
    /// IOMMU_HW_QUEUE_ALLOC (6.17+): queue `index` of `viommu`, living in guest memory at
    /// `nestingParentIOVA` (an IOVA of the vIOMMU's nest-parent HWPT).
    public func allocHWQueue(viommu: VIOMMUID, type: HWQueueType, index: UInt32,
                             nestingParentIOVA: UInt64, length: UInt64) throws(IOMMUFDError) -> HWQueue {
        if length == 0 { throw .invalid(.hwQueueAlloc, argument: "length", "length is zero") }
        if nestingParentIOVA.addingReportingOverflow(length - 1).overflow {
            throw .invalid(.hwQueueAlloc, argument: "nesting_parent_iova", "address + length wraps past 2^64",
                           errno: .overflow)
        }
        let id = try fd.raw.allocHWQueue(viommu: viommu.rawValue, type: type.rawValue, index: index,
                                         nestingParentIOVA: nestingParentIOVA, length: length)
        return HWQueue(id: HWQueueID(rawValue: id), fd: fd)
    }
}

extension iommu_hw_queue_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("flags", hex: flags), TraceField("viommu_id", viommu_id),
         TraceField("type", hex: type), TraceField("index", index), TraceField("out_hw_queue_id", out_hw_queue_id),
         TraceField("nesting_parent_iova", hex: nesting_parent_iova), TraceField("length", hex: length)]
    }
}

import CIOMMUFD

// MARK: - Invalidation

/// One VT-d stage-1 IOTLB invalidation (`iommu_hwpt_vtd_s1_invalidate`).
public struct VTdStage1Invalidation: Sendable, Hashable {
    public var addr: UInt64
    public var npages: UInt64
    /// Only leaf entries changed (`IOMMU_VTD_INV_FLAGS_LEAF`).
    public var leaf: Bool
    public init(addr: UInt64, npages: UInt64, leaf: Bool = false) {
        self.addr = addr; self.npages = npages; self.leaf = leaf
    }
    /// Everything: addr 0, npages U64_MAX.
    public static let all = VTdStage1Invalidation(addr: 0, npages: .max)
}

/// One SMMUv3 CMDQ command (`iommu_viommu_arm_smmuv3_invalidate`), words in host order.
public struct SMMUv3Command: Sendable, Hashable {
    public var cmd0: UInt64
    public var cmd1: UInt64
    public init(_ cmd0: UInt64, _ cmd1: UInt64) { self.cmd0 = cmd0; self.cmd1 = cmd1 }
}

/// TEST-ONLY: one mock nested-domain IOTLB invalidation (`iommu_hwpt_invalidate_selftest`).
public struct SelftestInvalidation: Sendable, Hashable {
    public var iotlbID: UInt32
    /// `IOMMU_TEST_INVALIDATE_FLAG_ALL`: iotlbID is ignored.
    public var all: Bool
    public init(iotlbID: UInt32 = 0, all: Bool = false) { self.iotlbID = iotlbID; self.all = all }
}

/// The entries of one IOMMU_HWPT_INVALIDATE call.
public enum InvalidationRequest: Sendable, Hashable {
    case vtdStage1([VTdStage1Invalidation])
    /// Sent to a vIOMMU (6.13+).
    case armSMMUv3([SMMUv3Command])
    /// TEST-ONLY (mock driver).
    case selftest([SelftestInvalidation])
    /// `data` holds `data.count / entryLength` entries of `type`.
    case raw(type: UInt32, entryLength: Int, data: [UInt8])

    public var dataType: UInt32 {
        switch self {
        case .vtdStage1: UInt32(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1.rawValue)
        case .armSMMUv3: UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3.rawValue)
        case .selftest: UInt32(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST)
        case .raw(let type, _, _): type
        }
    }

    public var entryLength: Int {
        switch self {
        case .vtdStage1: MemoryLayout<iommu_hwpt_vtd_s1_invalidate>.size
        case .armSMMUv3: MemoryLayout<iommu_viommu_arm_smmuv3_invalidate>.size
        case .selftest: MemoryLayout<iommu_hwpt_invalidate_selftest>.size
        case .raw(_, let length, _): length
        }
    }

    public var count: Int {
        switch self {
        case .vtdStage1(let e): e.count
        case .armSMMUv3(let e): e.count
        case .selftest(let e): e.count
        case .raw(_, let length, let data): length > 0 ? data.count / length : 0
        }
    }

    /// The entry array as the kernel reads it.
    public var bytes: [UInt8] {
        switch self {
        case .vtdStage1(let entries):
            return entries.flatMap { e in
                var s = iommu_hwpt_vtd_s1_invalidate()
                s.addr = e.addr
                s.npages = e.npages
                s.flags = e.leaf ? UInt32(IOMMU_VTD_INV_FLAGS_LEAF.rawValue) : 0
                return structBytes(s)
            }
        case .armSMMUv3(let entries):
            return entries.flatMap { e in
                var s = iommu_viommu_arm_smmuv3_invalidate()
                s.cmd = (e.cmd0.littleEndian, e.cmd1.littleEndian)
                return structBytes(s)
            }
        case .selftest(let entries):
            return entries.flatMap { e in
                structBytes(iommu_hwpt_invalidate_selftest(flags: e.all ? UInt32(IOMMU_TEST_INVALIDATE_FLAG_ALL) : 0,
                                                           iotlb_id: e.iotlbID))
            }
        case .raw(_, _, let data):
            return data
        }
    }
}

/// A failed IOMMU_HWPT_INVALIDATE: the kernel handles entries in order and stops at the
/// first bad one, reporting how many it handled. `error.argument` names the failing entry.
public struct InvalidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let error: IOMMUFDError
    /// Entries the kernel handled before failing (entries `0..<handled` took effect).
    public let handled: Int
    /// Entries sent.
    public let requested: Int

    /// The 0-based index of the entry that failed, when the failure was an entry's.
    public var failedIndex: Int? { handled < requested ? handled : nil }

    public var description: String { "\(error) (\(handled) of \(requested) entries handled)" }
}

/// One conformance case: a stable id, the uAPI rule it checks, the kernel it needs.
public struct ConformanceCase: Sendable {
    public let id: String
    /// The rule of the uAPI this case checks, in one sentence.
    public let rule: String
    /// The first kernel that has what the case exercises; older kernels SKIP.
    public let since: KernelVersion
    public let requires: Set<Requirement>
    /// The VFIO mode or other variant axis, "-" when none.
    public let mode: String
    public let body: @Sendable (CaseContext) throws -> Void

    public init(_ id: String, rule: String, since: KernelVersion = "6.2", requires: Set<Requirement> = [],
                mode: String = "-", body: @escaping @Sendable (CaseContext) throws -> Void) {
        self.id = id
        self.rule = rule
        self.since = since
        self.requires = requires
        self.mode = mode
        self.body = body
    }
}

/// What a case needs from the machine; a missing one makes it SKIP with the reason.
public enum Requirement: String, Sendable, Hashable, CaseIterable {
    /// /dev/iommu.
    case iommufd
    /// CONFIG_IOMMUFD_TEST: IOMMU_TEST_CMD and mock domains.
    case testModule
    /// One edu device bound to vfio-pci.
    case eduDevice
    /// An edu device bound to vfio-pci in VFIO's unsafe no-IOMMU mode (noiommu profile).
    case noIOMMUEdu
    /// Two edu devices bound to vfio-pci, in different groups.
    case twoEduDevices
    /// Two edu devices bound to vfio-pci in the SAME IOMMU group (behind a PCIe-to-PCI bridge).
    case sharedGroupEdus
    /// /dev/vfio/vfio (the legacy type1 container).
    case vfioContainer
    /// Free 2 MiB hugetlb pages.
    case hugetlb
    /// /proc/self/task/*/fail-nth and debugfs fault-injection knobs.
    case failNth
    /// Running as root (to drop privileges in the case).
    case root
}

/// A case ends early with SKIP by throwing this.
public struct CaseSkip: Error, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// A failed expectation.
public struct CaseFailure: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

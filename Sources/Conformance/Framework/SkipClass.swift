/// Why a case skipped, as a small fixed vocabulary: the expectation files pin a skip's
/// class rather than its text, so rewording a message is not a regression but a skip
/// that starts to happen for another reason is. Cases give their reason as free text
/// (CaseSkip, Machine.missing, Runner.skipReason), so the class is derived from it here,
/// in one place; a reason no rule knows is "other", and the files keep its text.
public enum SkipClass {
    public static let other = "other"

    /// Each class with the phrases that mark it, tried in order (first match wins).
    /// The phrases are those of the messages in Framework/ and Cases/; the host tests
    /// feed every Machine.missing message and the suite's observed skips through this.
    static let rules: [(name: String, phrases: [String])] = [
        // Runner.skipReason: the case's `since` is newer than the running kernel.
        ("kernel-too-old", [CaseResult.versionSkipPrefix]),
        // A case that pins the answer of older kernels, on a newer one.
        ("kernel-too-new", ["this case checks the older answer"]),
        // The opt-in kernel-bug reproducers (KnownBugs.swift).
        ("known-bug-opt-in", ["known kernel bug, run with"]),
        // The IOMMUFD_TEST mock devices bind to the hardware IOMMU driver on 6.12 + VT-d/AMD-Vi.
        ("mock-refused", ["mock devices cannot bind"]),
        // type1 refuses an IOMMU without interrupt remapping (allow_unsafe_interrupts=0).
        ("no-isolated-msi", ["no isolated MSI"]),
        // An emulation limit of QEMU, not a kernel answer.
        ("qemu-limit", ["QEMU 7.2 "]),
        // The case is meant for another profile (no-IOMMU edus vs translated ones, VT-d registers).
        ("wrong-profile", ["no-IOMMU mode", "only on the intel profile", "expectations exist for "]),
        // Two edus in one IOMMU group need the PCIe-to-PCI bridge, which some profiles lack.
        ("no-shared-group", ["in one IOMMU group"]),
        // A kernel option the case needs is not built in.
        ("kernel-option-absent", ["kernel without ", "(no FAILSLAB debugfs)", "(CONFIG_FAULT_INJECTION)",
                                  "(FAULT_INJECTION_DEBUG_FS)"]),
        ("no-hugepages", ["hugetlb", "MFD_HUGETLB", "huge pages"]),
        // The device the case drives is not there, or has no cdev / group node.
        ("no-device", ["no edu device bound", "edu device(s) bound", "edu devices in different IOMMU groups",
                       "no QEMU nvme device", "has no VFIO cdev", "has no IOMMU group"]),
        ("not-root", ["must run as root"]),
    ]

    /// The class of a skip reason ("other" when no rule matches).
    public static func of(reason: String) -> String {
        rules.first { rule in rule.phrases.contains { reason.contains($0) } }?.name ?? other
    }
}

extension CaseResult {
    /// The skip's class (SkipClass), nil unless the case skipped.
    public var skipClass: String? { status == .skip ? SkipClass.of(reason: reason) : nil }
}

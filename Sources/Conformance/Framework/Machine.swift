import Glibc
import IOMMUFD
import VFIO

/// What the machine under test offers, probed once before the cases run.
public struct Machine: Sendable {
    public let profile: String
    public let kernel: KernelVersion
    public let kernelRelease: String
    /// edu devices bound to vfio-pci, in PCI address order.
    public let eduDevices: [PCIDevice]
    public let hasIOMMUFD: Bool
    public let hasTestModule: Bool
    public let hasVFIOContainer: Bool
    public let hugetlbFreePages: Int
    public let hasFailNth: Bool
    public let isRoot: Bool

    /// edu devices in VFIO's unsafe no-IOMMU mode: their DMA is not translated, so only
    /// the noiommu.* cases (which DMA to a physical address the kernel gave them) use them.
    public let noIOMMUEdus: [PCIDevice]

    public static func probe(profile: String) -> Machine {
        let (kernel, release) = KernelVersion.running()
        let bound = PCIDevice.all().filter { $0.isEdu && $0.driver == "vfio-pci" }
        let edus = bound.filter { !$0.isNoIOMMU }
        return Machine(
            profile: profile, kernel: kernel, kernelRelease: release, eduDevices: edus,
            hasIOMMUFD: access("/dev/iommu", F_OK) == 0,
            hasTestModule: probeTestModule(),
            hasVFIOContainer: access("/dev/vfio/vfio", F_OK) == 0,
            hugetlbFreePages: readInt("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages") ?? 0,
            hasFailNth: access("/proc/self/fail-nth", F_OK) == 0
                && access("/sys/kernel/debug/failslab", F_OK) == 0,
            isRoot: getuid() == 0, noIOMMUEdus: bound.filter(\.isNoIOMMU))
    }

    /// The first pair of edu devices that share an IOMMU group, if any.
    public var sharedGroupEdus: [PCIDevice] {
        let byGroup = Dictionary(grouping: eduDevices.filter { $0.iommuGroup != nil }, by: { $0.iommuGroup ?? -1 })
        return byGroup.values.filter { $0.count >= 2 }.min { ($0.first?.address ?? "") < ($1.first?.address ?? "") }
            .map { Array($0.prefix(2)) } ?? []
    }

    /// Why requirement `r` is not met, or nil.
    public func missing(_ r: Requirement) -> String? {
        switch r {
        case .iommufd: return hasIOMMUFD ? nil : "no /dev/iommu (kernel without CONFIG_IOMMUFD)"
        case .testModule:
            return hasTestModule ? nil : "IOMMU_TEST_CMD not available (kernel without CONFIG_IOMMUFD_TEST)"
        case .eduDevice:
            if eduDevices.isEmpty && !noIOMMUEdus.isEmpty {
                return "the edu devices are in VFIO's no-IOMMU mode (DMA untranslated): only noiommu.* cases use them"
            }
            return eduDevices.isEmpty ? "no edu device bound to vfio-pci" : nil
        case .noIOMMUEdu:
            return noIOMMUEdus.isEmpty ? "no edu device in VFIO's no-IOMMU mode (needs the noiommu profile on 7.x)" : nil
        case .twoEduDevices:
            let groups = Set(eduDevices.compactMap(\.iommuGroup))
            return groups.count >= 2 ? nil : "needs two edu devices in different IOMMU groups, found \(eduDevices.count)"
        case .sharedGroupEdus:
            return sharedGroupEdus.count >= 2 ? nil
                : "needs two edu devices in one IOMMU group (behind the PCIe-to-PCI bridge); this IOMMU gives them none or separate groups"
        case .vfioContainer: return hasVFIOContainer ? nil : "no /dev/vfio/vfio (kernel without VFIO_CONTAINER)"
        case .hugetlb: return hugetlbFreePages >= 2 ? nil : "fewer than 2 free 2 MiB hugetlb pages"
        case .failNth: return hasFailNth ? nil : "no fail-nth / debugfs fault injection (FAULT_INJECTION_DEBUG_FS)"
        case .root: return isRoot ? nil : "must run as root"
        }
    }

    /// IOMMU_TEST_CMD with a too-short size: EINVAL where the test module exists, ENOTTY where not.
    static func probeTestModule() -> Bool {
        guard let iommufd = try? IOMMUFD.open() else { return false }
        var size: UInt32 = 4
        do {
            _ = try withUnsafeMutableBytes(of: &size) { raw in try iommufd.fd.perform(.testCmd, bytes: raw) }
            return true
        } catch let error as IOMMUFDError {
            return error.errno != .inappropriateIOCTLForDevice
        } catch {
            return false
        }
    }

    static func readInt(_ path: String) -> Int? { Sysfs.read(path).flatMap { Int($0) } }
}

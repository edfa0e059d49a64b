import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// A PCI device as `devices` prints it (from VFIO's `PCIDevice`).
public struct PCIDeviceInfo: Sendable, Equatable, Encodable {
    public let address: String
    public let vendor: String
    public let device: String
    public let classCode: String
    public let driver: String?
    public let iommuGroup: Int?
    /// `/dev/vfio/devices/vfioN` when bound to a VFIO driver with cdev support.
    public let vfioCdev: String?
    /// `intel-iommu`, `amd-iommu`, `virtio-iommu`..., from the group's IOMMU device.
    public let iommuModel: String?
    /// The group's domain type (`DMA`, `DMA-FQ`, `identity`, `blocked`).
    public let groupType: String?

    enum CodingKeys: String, CodingKey {
        case address, vendor, device, classCode = "class", driver, iommuGroup = "iommu_group",
             vfioCdev = "vfio_cdev", iommuModel = "iommu_model", groupType = "group_type"
    }
}

public enum PCIDevices {
    /// `00:03.0` → `0000:00:03.0`.
    public static func normalize(_ bdf: String) -> String {
        bdf.split(separator: ":").count == 2 ? "0000:" + bdf : bdf
    }

    public static func all() -> [PCIDeviceInfo] {
        PCIDevice.all().sorted { $0.address < $1.address }.map(info(from:))
    }

    public static func info(from d: PCIDevice) -> PCIDeviceInfo {
        func h(_ v: some BinaryInteger, _ w: Int) -> String {
            let s = String(v, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return PCIDeviceInfo(
            address: d.address, vendor: h(d.vendor, 4), device: h(d.device, 4), classCode: h(d.classCode, 6),
            driver: d.driver, iommuGroup: d.iommuGroup, vfioCdev: d.vfioCdevPath,
            iommuModel: d.iommuModel.map { m in d.iommu.map { "\(m) (\($0))" } ?? m },
            groupType: d.iommuGroup.flatMap { readFile("/sys/kernel/iommu_groups/\($0)/type") })
    }

    public static func info(for address: String) throws(IOMMUFDError) -> PCIDeviceInfo {
        info(from: try PCIDevice.find(normalize(address)))
    }

    /// The VFIO cdev for a path, a PCI address, or `auto` (the first cdev).
    public static func cdevPath(for pathOrBDF: String) throws(IOMMUFDError) -> String {
        if pathOrBDF.hasPrefix("/") { return pathOrBDF }
        if pathOrBDF == "auto" {
            guard let first = listDirectory("/dev/vfio/devices").sorted().first else {
                throw IOMMUFDError(ioctl: "open(auto)", errno: .noSuchFileOrDirectory, origin: .system(call: "open"),
                                   argument: "device", meaning: "no VFIO cdev under /dev/vfio/devices; bind a device to vfio-pci")
            }
            return "/dev/vfio/devices/\(first)"
        }
        let bdf = normalize(pathOrBDF)
        let d = try PCIDevice.find(bdf)
        guard let cdev = d.vfioCdevPath else {
            throw IOMMUFDError(ioctl: "open(\(bdf))", errno: .noSuchFileOrDirectory, origin: .system(call: "open"),
                               argument: "device",
                               meaning: "\(bdf) has no VFIO cdev (driver: \(d.driver ?? "none")); run `iommufdctl bind \(bdf)` first")
        }
        return cdev
    }

    /// The IOMMU group (`/dev/vfio/N`) of a PCI address, or for `auto` of the first device on
    /// vfio-pci whose group is viable (every other device in it on vfio-pci or on no driver).
    public static func vfioGroup(for bdfOrAuto: String) throws(IOMMUFDError) -> (group: Int, address: String) {
        if bdfOrAuto == "auto" {
            let devices = PCIDevice.all().sorted { $0.address < $1.address }
            let driverOf = Dictionary(devices.map { ($0.address, $0.driver) }, uniquingKeysWith: { a, _ in a })
            let viable = devices.first { d in
                d.driver == "vfio-pci" && d.iommuGroup != nil
                    && d.groupDevices.allSatisfy { peer in driverOf[peer].map { $0 == nil || $0 == "vfio-pci" } ?? true }
            }
            guard let viable, let group = viable.iommuGroup else {
                throw IOMMUFDError(ioctl: "open(auto)", errno: .noSuchFileOrDirectory, origin: .system(call: "open"),
                                   argument: "device", meaning: "no device on vfio-pci in a viable IOMMU group; bind one with `iommufdctl bind BDF`")
            }
            return (group, viable.address)
        }
        let bdf = normalize(bdfOrAuto)
        guard let group = try PCIDevice.find(bdf).iommuGroup else {
            throw IOMMUFDError(ioctl: "open(\(bdf))", errno: .noSuchFileOrDirectory, origin: .system(call: "open"),
                               argument: "device", meaning: "\(bdf) has no IOMMU group (no IOMMU translates it)")
        }
        return (group, bdf)
    }

    // MARK: - small file helpers

    /// A sysfs (or any small) file's text without trailing whitespace (VFIO's reader).
    public static func readFile(_ path: String) -> String? { Sysfs.read(path) }

    /// Entry names of a directory, sorted (VFIO's lister).
    public static func listDirectory(_ path: String) -> [String] { Sysfs.list(path) }
}

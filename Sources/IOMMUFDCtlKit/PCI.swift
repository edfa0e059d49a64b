import Glibc
import IOMMUFD
import SystemPackage

/// Minimal sysfs reading for PCI devices (until VFIO's `PCIDevice.all()` lands; then this forwards to it).
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
    public static let sysfsRoot = "/sys/bus/pci/devices"

    /// `00:03.0` → `0000:00:03.0`.
    public static func normalize(_ bdf: String) -> String {
        bdf.split(separator: ":").count == 2 ? "0000:" + bdf : bdf
    }

    public static func all() -> [PCIDeviceInfo] {
        listDirectory(sysfsRoot).sorted().map(info(for:))
    }

    public static func info(for address: String) -> PCIDeviceInfo {
        let dir = "\(sysfsRoot)/\(address)"
        let group = readLink("\(dir)/iommu_group").flatMap { Int($0.split(separator: "/").last ?? "") }
        let iommuLink = readLink("\(dir)/iommu")
        var model: String?
        if let iommuLink {
            let iommuName = String(iommuLink.split(separator: "/").last ?? "")
            // /sys/class/iommu/dmar0 → intel-iommu; ivhd0 → amd-iommu; virtio → virtio-iommu.
            if iommuName.hasPrefix("dmar") { model = "intel-iommu (\(iommuName))" }
            else if iommuName.hasPrefix("ivhd") { model = "amd-iommu (\(iommuName))" }
            else if iommuLink.contains("virtio") { model = "virtio-iommu (\(iommuName))" }
            else if iommuName.contains("smmu") { model = "arm-smmu (\(iommuName))" }
            else { model = iommuName }
        }
        let groupType = group.flatMap { readFile("/sys/kernel/iommu_groups/\($0)/type") }
        let cdev = listDirectory("\(dir)/vfio-dev").first(where: { $0.hasPrefix("vfio") }).map { "/dev/vfio/devices/\($0)" }
        return PCIDeviceInfo(
            address: address,
            vendor: readFile("\(dir)/vendor") ?? "?",
            device: readFile("\(dir)/device") ?? "?",
            classCode: readFile("\(dir)/class") ?? "?",
            driver: readLink("\(dir)/driver").map { String($0.split(separator: "/").last ?? "") },
            iommuGroup: group, vfioCdev: cdev, iommuModel: model, groupType: groupType)
    }

    /// The VFIO cdev for a path or a PCI address.
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
        let info = info(for: bdf)
        guard let cdev = info.vfioCdev else {
            let why = info.vendor == "?" ? "no PCI device \(bdf)"
                : "\(bdf) has no VFIO cdev (driver: \(info.driver ?? "none")); run `iommufdctl bind \(bdf)` first"
            throw IOMMUFDError(ioctl: "open(\(bdf))", errno: .noSuchFileOrDirectory, origin: .system(call: "open"),
                               argument: "device", meaning: why)
        }
        return cdev
    }

    /// Binds to vfio-pci through driver_override + drivers_probe.
    public static func bindToVFIO(_ bdf: String) throws(IOMMUFDError) {
        let bdf = normalize(bdf)
        let dir = "\(sysfsRoot)/\(bdf)"
        if let driver = readLink("\(dir)/driver").map({ String($0.split(separator: "/").last ?? "") }) {
            if driver == "vfio-pci" { return }
            try writeFile("\(dir)/driver/unbind", bdf)
        }
        try writeFile("\(dir)/driver_override", "vfio-pci")
        try writeFile("/sys/bus/pci/drivers_probe", bdf)
    }

    /// Unbinds from its driver and clears driver_override.
    public static func unbind(_ bdf: String) throws(IOMMUFDError) {
        let bdf = normalize(bdf)
        let dir = "\(sysfsRoot)/\(bdf)"
        if readLink("\(dir)/driver") != nil { try writeFile("\(dir)/driver/unbind", bdf) }
        try writeFile("\(dir)/driver_override", "\n")
    }

    // MARK: - small file helpers

    public static func readFile(_ path: String) -> String? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return String(decoding: out, as: UTF8.self).trimmingWhitespace().trimmingNewlines()
    }

    static func writeFile(_ path: String, _ text: String) throws(IOMMUFDError) {
        let fd = Glibc.open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", Errno(rawValue: errno), on: path) }
        defer { Glibc.close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, bytes.count) }
        if n < 0 { throw .system("write", Errno(rawValue: errno), on: path) }
    }

    static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buf, 4095)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

extension String {
    func trimmingNewlines() -> String {
        var s = Substring(self)
        while s.last == "\n" { s.removeLast() }
        while s.first == "\n" { s.removeFirst() }
        return String(s)
    }
}

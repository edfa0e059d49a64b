import IOMMUFD
import SystemPackage

/// A PCI function as sysfs describes it: ids, driver, IOMMU group, VFIO cdev.
/// The sysfs root is a parameter so tests can point it at a fake tree.
public struct PCIDevice: Sendable, Hashable, CustomStringConvertible {
    /// "0000:00:03.0".
    public let address: String
    public let vendor: UInt16
    public let device: UInt16
    /// PCI class code (24 bits: class, subclass, prog-if).
    public let classCode: UInt32
    /// The bound driver ("vfio-pci"), or nil.
    public let driver: String?
    public let iommuGroup: Int?
    /// "/dev/vfio/devices/vfio0" when bound to vfio-pci with cdev support.
    public let vfioCdevPath: String?
    /// The IOMMU instance in sysfs ("dmar0", "ivhd0", "virtio0"...), or nil.
    public let iommu: String?
    /// The sysfs root this was read from.
    public let sysfs: String

    /// PCI class code, under its sysfs name.
    public var `class`: UInt32 { classCode }

    /// QEMU's educational device (1234:11e8).
    public var isEdu: Bool { vendor == 0x1234 && device == 0x11e8 }

    /// The kind of IOMMU translating for this device, from its sysfs instance name:
    /// "intel dmar", "amd-iommu", "virtio-iommu", "arm-smmu-v3", or the raw name.
    public var iommuModel: String? {
        guard let name = iommu else { return nil }
        if name.hasPrefix("dmar") { return "intel dmar" }
        if name.hasPrefix("ivhd") { return "amd-iommu" }
        if name.hasPrefix("virtio") { return "virtio-iommu" }
        if name.hasPrefix("smmu3") { return "arm-smmu-v3" }
        // virtio-iommu registers under its own PCI function's name ("0000:00:01.0").
        if Sysfs.hex(Sysfs.read("\(sysfs)/bus/pci/devices/\(name)/vendor")) == UInt16(0x1af4) { return "virtio-iommu" }
        return name
    }

    /// Bound to vfio-pci in VFIO's unsafe no-IOMMU mode (cdev "noiommu-vfioN"): DMA is not translated.
    public var isNoIOMMU: Bool { vfioCdevPath?.contains("/noiommu-") ?? false }

    public var description: String {
        func h(_ v: some BinaryInteger, _ w: Int) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(address) [\(h(vendor, 4)):\(h(device, 4))] class \(h(classCode, 6)) driver \(driver ?? "-") group \(iommuGroup.map(String.init) ?? "-")"
    }

    var devicePath: String { "\(sysfs)/bus/pci/devices/\(address)" }

    /// Every PCI device under `sysfs`, by address.
    public static func all(sysfs: String = "/sys") -> [PCIDevice] {
        Sysfs.list("\(sysfs)/bus/pci/devices").compactMap { load($0, sysfs: sysfs) }
    }

    /// The device at `address`, e.g. "0000:00:03.0".
    public static func find(_ address: String, sysfs: String = "/sys") throws(IOMMUFDError) -> PCIDevice {
        guard let d = load(address, sysfs: sysfs) else {
            throw IOMMUFDError(ioctl: "sysfs", errno: .noSuchFileOrDirectory, origin: .system(call: "open"),
                               argument: address,
                               meaning: "no PCI device \(address) with readable vendor/device ids under \(sysfs)/bus/pci/devices")
        }
        return d
    }

    /// Reads one device; nil when its ids cannot be read.
    static func load(_ address: String, sysfs: String) -> PCIDevice? {
        let base = "\(sysfs)/bus/pci/devices/\(address)"
        guard let vendor: UInt16 = Sysfs.hex(Sysfs.read("\(base)/vendor")),
              let device: UInt16 = Sysfs.hex(Sysfs.read("\(base)/device")) else { return nil }
        let classCode: UInt32 = Sysfs.hex(Sysfs.read("\(base)/class")) ?? 0
        let group = Sysfs.linkName("\(base)/iommu_group").flatMap { Int($0) }
        // "vfioN", or "noiommu-vfioN" in VFIO's no-IOMMU mode (7.x cdevs).
        let cdev = Sysfs.list("\(base)/vfio-dev").first { $0.hasPrefix("vfio") || $0.hasPrefix("noiommu-vfio") }
            .map { "/dev/vfio/devices/\($0)" }
        return PCIDevice(address: address, vendor: vendor, device: device, classCode: classCode,
                         driver: Sysfs.linkName("\(base)/driver"), iommuGroup: group, vfioCdevPath: cdev,
                         iommu: iommuName(address, base: base, sysfs: sysfs), sysfs: sysfs)
    }

    /// The `iommu` link, or else the /sys/class/iommu instance listing this device.
    static func iommuName(_ address: String, base: String, sysfs: String) -> String? {
        if let name = Sysfs.linkName("\(base)/iommu") { return name }
        return Sysfs.list("\(sysfs)/class/iommu").first { Sysfs.exists("\(sysfs)/class/iommu/\($0)/devices/\(address)") }
    }

    /// Re-reads this device (after a driver change).
    public func refreshed() throws(IOMMUFDError) -> PCIDevice { try Self.find(address, sysfs: sysfs) }

    /// Other devices in the same IOMMU group (all must be VFIO-bound or unbound for the
    /// group to be viable).
    public var groupDevices: [String] {
        guard let g = iommuGroup else { return [] }
        return Sysfs.list("\(sysfs)/kernel/iommu_groups/\(g)/devices").filter { $0 != address }
    }
}

extension PCIDevice {
    /// Binds the device to vfio-pci: driver_override, unbind from the current driver,
    /// drivers_probe. Returns the re-read device (now with `vfioCdevPath`).
    @discardableResult
    public func bindToVFIO() throws(IOMMUFDError) -> PCIDevice {
        if driver == "vfio-pci" { return try refreshed() }
        try Sysfs.write("\(devicePath)/driver_override", "vfio-pci")
        if driver != nil { try Sysfs.write("\(devicePath)/driver/unbind", address) }
        try Sysfs.write("\(sysfs)/bus/pci/drivers_probe", address)
        return try refreshed()
    }

    /// Unbinds from vfio-pci, clears driver_override and lets the kernel probe the
    /// default driver again.
    @discardableResult
    public func unbindFromVFIO() throws(IOMMUFDError) -> PCIDevice {
        if driver == "vfio-pci" { try Sysfs.write("\(devicePath)/driver/unbind", address) }
        try Sysfs.write("\(devicePath)/driver_override", "\n")
        try Sysfs.write("\(sysfs)/bus/pci/drivers_probe", address)
        return try refreshed()
    }
}

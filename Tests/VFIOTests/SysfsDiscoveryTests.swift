import Foundation
import IOMMUFD
import Testing
@testable import VFIO

/// PCIDevice discovery against a fake sysfs tree in a temp dir.
@Suite struct SysfsDiscoveryTests {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "fake-sysfs-\(UUID().uuidString)"
        let fm = FileManager.default
        func dir(_ p: String) throws { try fm.createDirectory(atPath: root + "/" + p, withIntermediateDirectories: true) }
        func file(_ p: String, _ text: String) throws { try (text + "\n").write(toFile: root + "/" + p, atomically: false, encoding: .utf8) }
        func link(_ p: String, _ target: String) throws { try fm.createSymbolicLink(atPath: root + "/" + p, withDestinationPath: target) }

        let edu = "bus/pci/devices/0000:00:03.0"
        let nic = "bus/pci/devices/0000:00:04.0"
        for d in [edu, nic, "bus/pci/drivers/vfio-pci", "bus/pci/drivers/e1000e", "kernel/iommu_groups/5/devices",
                  "kernel/iommu_groups/6/devices", "class/iommu/dmar0/devices", "class/iommu/ivhd0/devices", "\(edu)/vfio-dev/vfio0"] {
            try dir(d)
        }
        try file("\(edu)/vendor", "0x1234"); try file("\(edu)/device", "0x11e8"); try file("\(edu)/class", "0x00ff00")
        try file("\(nic)/vendor", "0x8086"); try file("\(nic)/device", "0x10d3"); try file("\(nic)/class", "0x020000")
        try link("\(edu)/driver", "../../../../bus/pci/drivers/vfio-pci")
        try link("\(edu)/iommu_group", "../../../../kernel/iommu_groups/5")
        try link("\(edu)/iommu", "../../../../class/iommu/dmar0")
        try link("\(nic)/driver", "../../../../bus/pci/drivers/e1000e")
        try link("\(nic)/iommu_group", "../../../../kernel/iommu_groups/6")
        try link("kernel/iommu_groups/5/devices/0000:00:03.0", "../../../../bus/pci/devices/0000:00:03.0")
        try link("kernel/iommu_groups/5/devices/0000:00:03.1", "../../../../bus/pci/devices/0000:00:03.1")
        try link("kernel/iommu_groups/6/devices/0000:00:04.0", "../../../../bus/pci/devices/0000:00:04.0")
        try link("class/iommu/ivhd0/devices/0000:00:04.0", "../../../../bus/pci/devices/0000:00:04.0")
        for f in ["\(nic)/driver_override", "bus/pci/drivers/e1000e/unbind", "bus/pci/drivers/vfio-pci/unbind",
                  "bus/pci/drivers_probe", "\(edu)/driver_override"] {
            try file(f, "")
        }
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: root) }

    @Test func discoversEduAndItsVFIONodes() throws {
        defer { cleanup() }
        let all = PCIDevice.all(sysfs: root)
        #expect(all.map(\.address) == ["0000:00:03.0", "0000:00:04.0"])
        let edu = try PCIDevice.find("0000:00:03.0", sysfs: root)
        #expect(edu.isEdu && edu.vendor == 0x1234 && edu.device == 0x11e8)
        #expect(edu.classCode == 0x00ff00 && edu.class == 0x00ff00)
        #expect(edu.driver == "vfio-pci")
        #expect(edu.iommuGroup == 5)
        #expect(edu.vfioCdevPath == "/dev/vfio/devices/vfio0")
        #expect(edu.iommu == "dmar0" && edu.iommuModel == "intel dmar")
        #expect(edu.groupDevices == ["0000:00:03.1"])
        #expect(all.first(where: \.isEdu) == edu)

        let nic = try PCIDevice.find("0000:00:04.0", sysfs: root)
        #expect(!nic.isEdu && nic.driver == "e1000e" && nic.vfioCdevPath == nil)
        #expect(nic.iommuModel == "amd-iommu") // found through class/iommu/*/devices
        #expect(nic.groupDevices.isEmpty)
    }

    @Test func missingDeviceIsATypedError() throws {
        defer { cleanup() }
        let e = try #require(#expect(throws: IOMMUFDError.self) { try PCIDevice.find("0000:00:1f.0", sysfs: root) })
        #expect(e.errno == .noSuchFileOrDirectory && e.argument == "0000:00:1f.0")
        #expect(PCIDevice.all(sysfs: root + "/nope").isEmpty)
    }

    @Test func bindAndUnbindWriteTheRightAttributes() throws {
        defer { cleanup() }
        let nic = try PCIDevice.find("0000:00:04.0", sysfs: root)
        _ = try nic.bindToVFIO()
        func read(_ p: String) throws -> String { try String(contentsOfFile: root + "/" + p, encoding: .utf8) }
        #expect(try read("bus/pci/devices/0000:00:04.0/driver_override") == "vfio-pci")
        #expect(try read("bus/pci/drivers/e1000e/unbind") == "0000:00:04.0")
        #expect(try read("bus/pci/drivers_probe") == "0000:00:04.0")

        let edu = try PCIDevice.find("0000:00:03.0", sysfs: root)
        _ = try edu.unbindFromVFIO()
        #expect(try read("bus/pci/drivers/vfio-pci/unbind") == "0000:00:03.0")
        #expect(try read("bus/pci/devices/0000:00:03.0/driver_override") == "\n")
    }
}

extension SysfsDiscoveryTests {
    /// virtio-iommu registers under its own PCI function's name, and in VFIO's no-IOMMU mode
    /// the cdev is noiommu-vfioN.
    @Test func virtioIOMMUAndNoIOMMUCdevsAreNamed() throws {
        defer { cleanup() }
        let fm = FileManager.default
        let viommu = root + "/bus/pci/devices/0000:00:01.0"
        try fm.createDirectory(atPath: viommu, withIntermediateDirectories: true)
        try "0x1af4\n".write(toFile: viommu + "/vendor", atomically: false, encoding: .utf8)
        try "0x1057\n".write(toFile: viommu + "/device", atomically: false, encoding: .utf8)
        try fm.createDirectory(atPath: root + "/class/iommu/0000:00:01.0/devices", withIntermediateDirectories: true)
        let nic = root + "/bus/pci/devices/0000:00:04.0"
        try fm.removeItem(atPath: root + "/class/iommu/ivhd0/devices/0000:00:04.0")
        try fm.createSymbolicLink(atPath: nic + "/iommu", withDestinationPath: "../../../../class/iommu/0000:00:01.0")
        #expect(try PCIDevice.find("0000:00:04.0", sysfs: root).iommuModel == "virtio-iommu")

        let edu = root + "/bus/pci/devices/0000:00:03.0"
        try fm.removeItem(atPath: edu + "/vfio-dev/vfio0")
        try fm.createDirectory(atPath: edu + "/vfio-dev/noiommu-vfio0", withIntermediateDirectories: true)
        let found = try PCIDevice.find("0000:00:03.0", sysfs: root)
        #expect(found.vfioCdevPath == "/dev/vfio/devices/noiommu-vfio0")
        #expect(found.isNoIOMMU)
    }
}

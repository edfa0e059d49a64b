import Glibc
import IOMMUFD
import VFIO

/// The library's own promises, checked on the real kernel: error paths release every
/// descriptor they opened, and owners release theirs when dropped.
enum LibraryCases {
    static var all: [ConformanceCase] { [noLeakOnErrors, noLeakOnDrop, pciRebind] }

    /// Open descriptors of this process.
    static func openFDs() -> Int { Sysfs.list("/proc/self/fd").count }

    /// Runs `batch` `times` times and checks the descriptor count did not move.
    /// (Each batch is a plain function: swiftc 6.3 crashes on some closures that own noncopyable values.)
    static func checkNoLeak(_ ctx: CaseContext, _ what: String, times: Int = 8,
                            _ batch: (CaseContext) throws -> Void) throws {
        try batch(ctx)  // warm up: lazily opened files settle first
        let before = openFDs()
        for _ in 0..<times { try batch(ctx) }
        let after = openFDs()
        try ctx.check(before > 0 && after == before, "\(what): \(after - before) descriptors leaked over \(times) runs")
    }

    static func failed(_ body: () throws -> Void) -> Bool {
        do { try body(); return false } catch { return true }
    }

    static func missingNodes(_ ctx: CaseContext) throws {
        try ctx.check(failed { _ = try IOMMUFD.open("/dev/iommu-missing") }, "open of a missing iommufd node succeeded")
        try ctx.check(failed { _ = try VFIODevice.openCdev("/dev/vfio/devices/vfio999") }, "open of a missing cdev succeeded")
        try ctx.check(failed { _ = try VFIOGroup.open(9999) }, "open of a missing group succeeded")
    }

    static func kernelErrors(_ ctx: CaseContext) throws {
        let container = try VFIOContainer.openIOMMUFDCompat()
        try ctx.check(failed { try container.setIOMMU(.type1v2) }, "SET_IOMMU with no group succeeded")
        try ctx.check(failed { try container.fd.raw.destroy(0) }, "destroy id 0 succeeded")
    }

    static func nonEduInit(_ ctx: CaseContext, _ cdev: String) throws {
        let iommufd = try ctx.openIOMMUFD()
        let device = try VFIODevice.openCdev(cdev)
        _ = try device.bind(iommufd: iommufd)
        var initFailed = false
        do { _ = try EduDevice(device) } catch { initFailed = true }
        try ctx.check(initFailed, "EduDevice init on a non-edu device succeeded")
    }

    static func secondPath(_ ctx: CaseContext, _ edu: PCIDevice) throws {
        let held = try DMAPath(mode: .native, pci: edu)
        try ctx.check(failed { _ = try DMAPath(mode: .native, pci: edu) }, "a second native path on one device succeeded")
        _ = held
    }

    static let noLeakOnErrors = ConformanceCase(
        "lib.no-fd-leak-on-errors",
        rule: "every failing open, bind, init or setup path of the library closes what it opened",
        requires: [.iommufd, .eduDevice]) { ctx in
        try checkNoLeak(ctx, "open of missing nodes", missingNodes)
        try checkNoLeak(ctx, "kernel errors on a compat container", kernelErrors)
        // A device that is not an edu: EduDevice's init must close the device it consumed.
        if let cdev = PCIDevice.all().first(where: { !$0.isEdu && $0.driver == "vfio-pci" })?.vfioCdevPath {
            try checkNoLeak(ctx, "EduDevice init on \(cdev)") { try nonEduInit($0, cdev) }
        }
        // A setup that fails half-way (BIND of a device already bound) releases what it opened.
        let edu = ctx.machine.eduDevices[0]
        try checkNoLeak(ctx, "a DMA path on a device already in use") { try secondPath($0, edu) }
    }

    static func openAndDrop(_ ctx: CaseContext, _ mode: VFIOMode, _ edu: PCIDevice) throws {
        do { _ = try DMAPath(mode: mode, pci: edu) } catch is CaseSkip {}
    }

    static func faultQueue(_ ctx: CaseContext) throws {
        let iommufd = try ctx.openIOMMUFD()
        _ = try ctx.expectOK("FAULT_QUEUE_ALLOC") { try iommufd.allocFaultQueue() }
    }

    static let noLeakOnDrop = ConformanceCase(
        "lib.no-fd-leak-on-drop",
        rule: "dropping an owner (iommufd, device, container, group, fault queue, DMA path) closes its descriptors",
        since: "6.11", requires: [.iommufd, .eduDevice]) { ctx in
        let edu = ctx.machine.eduDevices[0]
        for mode in VFIOMode.allCases where mode == .native || ctx.machine.missing(.vfioContainer) == nil {
            try checkNoLeak(ctx, "DMA path \(mode.rawValue)", times: 4) { try openAndDrop($0, mode, edu) }
        }
        try checkNoLeak(ctx, "fault queue", faultQueue)
        try checkNoLeak(ctx, "eventfd") { _ in _ = try EventFD.create() }
    }

    /// Unbind from vfio-pci and bind back through sysfs, on the nvme (no nvme driver is built
    /// in, so unbound it stays driverless): the cdev node goes away and comes back.
    static let pciRebind = ConformanceCase(
        "lib.pci-unbind-bind",
        rule: "PCIDevice.unbindFromVFIO/bindToVFIO move a device off and back onto vfio-pci, with its cdev",
        since: "6.6", requires: [.root]) { ctx in
        guard let nvme = PCIDevice.all().first(where: { $0.vendor == 0x1b36 && $0.device == 0x0010 }) else {
            try ctx.skip("no QEMU nvme device (1b36:0010) in this machine")
        }
        try ctx.checkEqual(nvme.driver, "vfio-pci", "nvme driver before")
        let off = try ctx.expectOK("unbind") { try nvme.unbindFromVFIO() }
        try ctx.check(off.driver != "vfio-pci", "still on vfio-pci after unbind")
        try ctx.checkEqual(off.vfioCdevPath, nil, "cdev after unbind")
        let on = try ctx.expectOK("bind") { try off.bindToVFIO() }
        try ctx.checkEqual(on.driver, "vfio-pci", "nvme driver after bind")
        guard let cdev = on.vfioCdevPath else { throw CaseFailure("no VFIO cdev after bind") }
        let device = try ctx.expectOK("open \(cdev)") { try VFIODevice.openCdev(cdev) }
        let iommufd = try ctx.openIOMMUFD()
        _ = try ctx.expectOK("bind the new cdev") { try device.bind(iommufd: iommufd) }
    }
}

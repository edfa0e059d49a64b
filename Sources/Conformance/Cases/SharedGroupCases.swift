import IOMMUFD
import SystemPackage
import VFIO

/// Two edu devices behind a PCIe-to-PCI bridge share one IOMMU group (DMA aliases to the
/// bridge): the group is the unit of isolation, ownership and reset.
enum SharedGroupCases {
    static let src: UInt64 = 0x40_0000
    static let dst: UInt64 = 0x80_0000
    static let length = 2048

    static var all: [ConformanceCase] {
        [members, twoDeviceFDs, cdevSecondIOMMUFD, cdevSplitIOAS, hotResetInfo, hotReset]
            + [VFIOMode.type1v2, .compatType1v2, .native].map(dmaBehindBridge)
    }

    static func pair(_ ctx: CaseContext) throws -> (PCIDevice, PCIDevice) {
        let edus = ctx.machine.sharedGroupEdus
        guard edus.count >= 2 else { try ctx.skip("no edu pair in one IOMMU group") }
        return (edus[0], edus[1])
    }

    static func cdev(_ ctx: CaseContext, _ pci: PCIDevice) throws -> VFIODevice {
        guard let path = pci.vfioCdevPath else { try ctx.skip("\(pci.address) has no VFIO cdev") }
        return try ctx.expectOK("open \(path)") { try VFIODevice.openCdev(path) }
    }

    /// Both devices of the pair opened through their cdevs and bound to one iommufd.
    final class BoundPair {
        let iommufd: IOMMUFD
        let a: VFIODevice, b: VFIODevice
        let idA: IOMMUFDDeviceID, idB: IOMMUFDDeviceID

        init(_ ctx: CaseContext) throws {
            let (pa, pb) = try pair(ctx)
            let iommufd = try ctx.openIOMMUFD()
            let a = try cdev(ctx, pa), b = try cdev(ctx, pb)
            idA = try ctx.expectOK("bind \(pa.address)") { try a.bind(iommufd: iommufd) }
            idB = try ctx.expectOK("bind \(pb.address)") { try b.bind(iommufd: iommufd) }
            self.iommufd = iommufd
            self.a = a
            self.b = b
        }
    }

    static let members = ConformanceCase(
        "group.shared.members", rule: "devices behind a PCIe-to-PCI bridge form one viable IOMMU group",
        since: .legacyVFIO, requires: [.sharedGroupEdus]) { ctx in
        let (a, b) = try pair(ctx)
        try ctx.checkEqual(a.iommuGroup, b.iommuGroup, "group of \(a.address) vs \(b.address)")
        try ctx.check(a.groupDevices.contains(b.address) && b.groupDevices.contains(a.address),
                      "group members: \(a.groupDevices)")
        guard let number = a.iommuGroup else { try ctx.skip("no group") }
        let group = try ctx.expectOK("open group \(number)") { try VFIOGroup.open(number) }
        let status = try ctx.expectOK("GROUP_GET_STATUS") { try group.status() }
        try ctx.check(status.viable, "group \(number) with both edus on vfio-pci is not viable")
        try ctx.check(!status.containerSet, "a fresh group reports a container")
    }

    /// One container, one group: GET_DEVICE_FD hands out both devices, and both answer.
    static let twoDeviceFDs = ConformanceCase(
        "group.shared.two-device-fds", rule: "a group set in a container hands out a device fd for each of its devices",
        since: .legacyVFIO, requires: [.sharedGroupEdus, .vfioContainer]) { ctx in
        let (a, b) = try pair(ctx)
        guard let number = a.iommuGroup else { try ctx.skip("no group") }
        let container = try ctx.expectOK("open container") { try VFIOContainer.open() }
        let group = try ctx.expectOK("open group") { try VFIOGroup.open(number) }
        try ctx.expectOK("SET_CONTAINER") { try group.setContainer(container) }
        try ctx.expectOK("SET_IOMMU") { try container.setIOMMU(.type1v2) }
        for pci in [a, b] {
            let device = try ctx.expectOK("GET_DEVICE_FD \(pci.address)") {
                try group.deviceFD(pci.address)
            }
            let id = try ctx.expectOK("read id") {
                try device.read32(.bar0, at: EduDevice.Register.identification)
            }
            try ctx.checkEqual(id, EduDevice.expectedID, "edu id of \(pci.address)")
        }
    }

    /// Both devices of the group DMA through one set of mappings (their requests alias to the bridge).
    static func dmaBehindBridge(_ mode: VFIOMode) -> ConformanceCase {
        ConformanceCase("group.shared.dma-behind-bridge",
                        rule: "both devices of a group DMA through the one set of mappings of their container or IOAS",
                        since: mode.since,
                        requires: [.sharedGroupEdus, mode == .type1v2 ? .vfioContainer : .iommufd],
                        mode: mode.rawValue) { ctx in
            let (a, b) = try pair(ctx)
            if ctx.profile == "amd" {
                // Measured: QEMU 7.2's amd-iommu drops DMA from behind the PCIe-to-PCI bridge in every mode
                // (no data, no IO_PAGE_FAULT); an emulator limit, not a uAPI rule.
                try ctx.skip("QEMU 7.2 amd-iommu does not deliver DMA from behind a PCIe-to-PCI bridge")
            }
            let source = try DMABuffer(size: 4096), outA = try DMABuffer(size: 4096), outB = try DMABuffer(size: 4096)
            source.fillPattern(seed: 21, length: length)
            let pathA = try DMAPath(mode: mode, pci: a)
            let pathB: DMAPath
            if let native = pathA.native {
                // Native: B binds to the same iommufd and attaches to A's IOAS (one page table per group).
                pathB = try DMAPath(sharing: native, pci: b)
            } else {
                pathB = try DMAPath(sharingGroupOf: pathA, pci: b)
            }
            try ctx.expectOK("map") {
                try pathA.map(source, length: 4096, iova: src)
                try pathA.map(outA, length: 4096, iova: dst)
                try pathA.map(outB, length: 4096, iova: dst + 0x10_0000)
            }
            for (path, out, iova) in [(pathA, outA, dst), (pathB, outB, dst + 0x10_0000)] {
                try ctx.expectOK("DMA through \(path.pci.address)") {
                    try path.roundTrip(from: src, to: iova, length: length)
                }
                try ctx.check(out.matchesPattern(seed: 21, length: length), "DMA through \(path.pci.address) did not land")
            }
        }
    }

    /// DMA ownership is per group: iommu_device_claim_dma_owner() refuses a second owner (EPERM).
    static let cdevSecondIOMMUFD = ConformanceCase(
        "group.shared.cdev-second-iommufd",
        rule: "devices of one group must bind to the same iommufd: another iommufd fails EPERM (iommu.c claim_dma_owner)",
        since: "6.6", requires: [.sharedGroupEdus, .iommufd]) { ctx in
        let (a, b) = try pair(ctx)
        let first = try ctx.openIOMMUFD(), second = try ctx.openIOMMUFD()
        let devA = try cdev(ctx, a), devB = try cdev(ctx, b)
        _ = try ctx.expectOK("bind \(a.address) to iommufd 1") { try devA.bind(iommufd: first) }
        try ctx.expectErrno(.notPermitted, "bind \(b.address) to iommufd 2") {
            try devB.bind(iommufd: second)
        }
        _ = try ctx.expectOK("bind \(b.address) to iommufd 1") { try devB.bind(iommufd: first) }
    }

    /// A group has one page table: attaching its second device elsewhere fails EINVAL (device.c:489).
    static let cdevSplitIOAS = ConformanceCase(
        "group.shared.cdev-one-page-table",
        rule: "a group has one page table: attaching its other device elsewhere fails EINVAL; re-attaching an attached device replaces it for the whole group",
        since: "6.6", requires: [.sharedGroupEdus, .iommufd]) { ctx in
        let bound = try BoundPair(ctx)
        let one = try ctx.expectOK("IOAS 1") { try bound.iommufd.allocIOAS() }
        let two = try ctx.expectOK("IOAS 2") { try bound.iommufd.allocIOAS() }
        _ = try ctx.expectOK("attach A to IOAS 1") { try bound.a.attach(one.id) }
        try ctx.expectErrno(.invalidArgument, "attach B to IOAS 2") { _ = try bound.b.attach(two.id) }
        _ = try ctx.expectOK("attach B to IOAS 1") { try bound.b.attach(one.id) }
        try ctx.expectErrno(.resourceBusy, "destroy IOAS 1 while the group uses it") {
            try bound.iommufd.destroy(one.id)
        }
        // Re-attaching an attached device is a replace, and a replace moves the whole group
        // (iommufd_device_do_replace): IOAS 1 is left with no user.
        _ = try ctx.expectOK("replace: attach A to IOAS 2") { try bound.a.attach(two.id) }
        try ctx.expectOK("destroy IOAS 1 after the group moved") {
            try bound.iommufd.destroy(one.id)
        }
        _ = one.release()  // destroyed above; drop ownership so deinit sends nothing
        try ctx.expectErrno(.resourceBusy, "destroy IOAS 2, now the group's") {
            try bound.iommufd.destroy(two.id)
        }
    }

    /// A bus reset behind the bridge affects both devices; the cdev reports them by iommufd device id.
    static let hotResetInfo = ConformanceCase(
        "group.shared.hot-reset-info",
        rule: "GET_PCI_HOT_RESET_INFO on a cdev lists every device the bus reset affects, by dev_id, owned by this iommufd",
        since: "6.6", requires: [.sharedGroupEdus, .iommufd]) { ctx in
        let (a, b) = try pair(ctx)
        let bound = try BoundPair(ctx)
        let info = try ctx.expectOK("GET_PCI_HOT_RESET_INFO") { try bound.a.hotResetInfo() }
        let listed = Set(info.devices.map(\.address))
        try ctx.check(listed.isSuperset(of: [a.address, b.address]), "affected devices \(listed) miss one of the pair")
        try ctx.check(info.usesDeviceIDs, "a bound cdev should report device ids (FLAG_DEV_ID), flags 0x\(String(info.flags, radix: 16))")
        try ctx.check(info.allOwned, "both devices are bound to this iommufd but FLAG_DEV_ID_OWNED is clear")
        let ids = Set(info.devices.map(\.id))
        try ctx.check(ids.isSuperset(of: [bound.idA.rawValue, bound.idB.rawValue]),
                      "ids \(ids) should hold \(bound.idA) and \(bound.idB)")
    }

    static let hotReset = ConformanceCase(
        "group.shared.hot-reset",
        rule: "PCI_HOT_RESET from a cdev with no group fds resets the bus when iommufd owns every affected device",
        since: "6.6", requires: [.sharedGroupEdus, .iommufd]) { ctx in
        let bound = try BoundPair(ctx)
        try ctx.expectOK("PCI_HOT_RESET") { try bound.a.hotReset() }
        // The device still answers after the reset (vfio-pci restores config space).
        let id = try ctx.expectOK("read edu id after reset") {
            try bound.b.read32(.bar0, at: EduDevice.Register.identification)
        }
        try ctx.checkEqual(id, EduDevice.expectedID, "edu id register after the bus reset")
    }
}

// VFIO cdev device ioctls after BIND (IRQs, reset, regions) and device data, on a real
// edu device (see VFIOCdevCases.swift).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

extension VFIOCdevCases {
    // MARK: device ioctls after BIND

    static func rawSetIRQs(_ dev: borrowing VFIODevice, flags: UInt32, index: UInt32, start: UInt32, count: UInt32,
                           data: [UInt8] = [], argsz: UInt32? = nil) throws(IOMMUFDError) {
        var cmd = RawCommand(count: 20 + data.count)
        cmd.set(argsz ?? UInt32(20 + data.count), at: 0)
        cmd.set(flags, at: 4)
        cmd.set(index, at: 8)
        cmd.set(start, at: 12)
        cmd.set(count, at: 16)
        for (i, b) in data.enumerated() { cmd.bytes[20 + i] = b }
        try cmd.send(.vfioDeviceSetIRQs, on: dev.fd)
    }

    static let dataNone = UInt32(VFIO_IRQ_SET_DATA_NONE)
    static let dataBool = UInt32(VFIO_IRQ_SET_DATA_BOOL)
    static let dataEventFD = UInt32(VFIO_IRQ_SET_DATA_EVENTFD)
    static let actionTrigger = UInt32(VFIO_IRQ_SET_ACTION_TRIGGER)
    static let actionMask = UInt32(VFIO_IRQ_SET_ACTION_MASK)

    static let deviceIoctls: [ConformanceCase] = [
        c("cdev.unknown-ioctl", "an ioctl number VFIO does not define fails ENOTTY once bound (vfio_pci_core.c:1515)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "_IO(';', 0x7e)") {
                try edu.device.fd.perform(unknownIoctl, value: 0)
            }
            // A container-only ioctl sent to a device fd is just as unknown there. (Not every
            // container number is: IOMMU_GET_INFO shares 0x3b70 with GET_PCI_HOT_RESET_INFO.)
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "VFIO_CHECK_EXTENSION on a device fd") {
                try edu.device.fd.perform(.vfioCheckExtension, value: 1)
            }
        },
        c("cdev.region-info.bad-index", "GET_REGION_INFO with an index past the device's regions fails EINVAL") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let info = try ctx.step("GET_INFO") { try edu.device.info() }
            for index: UInt32 in [info.numRegions, info.numRegions + 1, 0xffff, 0xffff_ffff] {
                try ctx.expectErrno(.invalidArgument, "index \(index)") {
                    try edu.device.regionInfo(RegionIndex(rawValue: index))
                }
            }
            var short = RawCommand(count: 32)
            short.set(UInt32(8), at: 0)
            try ctx.expectErrno(.invalidArgument, "argsz 8") {
                try short.send(.vfioDeviceGetRegionInfo, on: edu.device.fd)
            }
        },
        c("cdev.irq-info.bad-index", "GET_IRQ_INFO fails EINVAL for index >= 5; ERR on a conventional-PCI device is EINVAL in 6.12 (vfio_pci_core.c:1190-1202), after 6.12 it answers with 1 vector (7.3.4 vfio_pci_core.c:1257-1268, 883)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            for index: UInt32 in [5, 6, 0xffff_ffff] {
                try ctx.expectErrno(.invalidArgument, "index \(index)") {
                    try edu.device.irqInfo(rawIndex: index)
                }
            }
            // QEMU's edu is conventional PCI (no PCIe capability): 6.12 has no ERR index for it.
            try ctx.expect(ctx.byKernel(.invalidArgument, from: .after612, nil), "ERR index (3)") {
                try edu.device.irqInfo(.err)
            }
            let req = try ctx.expectOK("REQ index") { try edu.device.irqInfo(.req) }
            try ctx.checkEqual(req.count, 1, "REQ vectors")
        },
        c("cdev.set-irqs.invalid", "SET_IRQS fails EINVAL for a bad index, undefined flag bits, two DATA types, start/count beyond the vectors, or data shorter than count (vfio_main.c:1543-1571)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.invalidArgument, "index 5") {
                try rawSetIRQs(edu.device, flags: dataNone | actionTrigger, index: 5, start: 0, count: 0)
            }
            try ctx.expectErrno(.invalidArgument, "flag bit 31") {
                try rawSetIRQs(edu.device, flags: dataNone | actionTrigger | (1 << 31), index: 1, start: 0, count: 1)
            }
            try ctx.expectErrno(.invalidArgument, "DATA_NONE|DATA_BOOL") {
                try rawSetIRQs(edu.device, flags: dataNone | dataBool | actionTrigger, index: 1, start: 0, count: 1, data: [1])
            }
            try ctx.expectErrno(.invalidArgument, "MSI start 1 (edu has one vector)") {
                try rawSetIRQs(edu.device, flags: dataNone | actionTrigger, index: 1, start: 1, count: 1)
            }
            try ctx.expectErrno(.invalidArgument, "MSI count 2") {
                try rawSetIRQs(edu.device, flags: dataEventFD | actionTrigger, index: 1, start: 0, count: 2, data: [0xff, 0xff, 0xff, 0xff])
            }
            try ctx.expectErrno(.invalidArgument, "MSI-X (0 vectors) start 0 count 1") {
                try rawSetIRQs(edu.device, flags: dataNone | actionTrigger, index: 2, start: 0, count: 1)
            }
            try ctx.expectErrno(.invalidArgument, "eventfd data shorter than count") {
                try rawSetIRQs(edu.device, flags: dataEventFD | actionTrigger, index: 1, start: 0, count: 1, data: [], argsz: 20)
            }
            // Disabling (DATA_NONE, count 0) an index that is not enabled is EINVAL too (vfio_pci_set_msi_trigger).
            try ctx.expectErrno(.invalidArgument, "disable MSI while it is not enabled") {
                try rawSetIRQs(edu.device, flags: dataNone | actionTrigger, index: 1, start: 0, count: 0)
            }
            let efd = try ctx.step("eventfd") { try EventFD.create() }
            try ctx.expectOK("enable MSI") { try edu.device.enableIRQs(.msi, eventFDs: [efd.descriptor]) }
            try ctx.expectErrno(.invalidArgument, "enable INTx while MSI is enabled") {
                try edu.device.enableIRQs(.intx, eventFDs: [efd.descriptor])
            }
            try ctx.expectOK("disable MSI (DATA_NONE, count 0)") {
                try rawSetIRQs(edu.device, flags: dataNone | actionTrigger, index: 1, start: 0, count: 0)
            }
        },
        c("cdev.set-irqs.not-an-eventfd", "SET_IRQS with a descriptor that is not an eventfd fails EINVAL, with a closed one EBADF (eventfd_ctx_fdget); MASK/UNMASK on MSI is ENOTTY (vfio_pci_intrs.c:856-881)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let null = try PlainFD("/dev/null")
            try ctx.expectErrno(.invalidArgument, "MSI trigger with /dev/null") {
                try edu.device.enableIRQs(.msi, eventFDs: [FileDescriptor(rawValue: null.raw)])
            }
            try ctx.expectErrno(.badFileDescriptor, "MSI trigger with closed fd 100000") {
                try edu.device.enableIRQs(.msi, eventFDs: [FileDescriptor(rawValue: 100_000)])
            }
            try ctx.expectErrno(.invalidArgument, "INTx trigger with /dev/null") {
                try edu.device.enableIRQs(.intx, eventFDs: [FileDescriptor(rawValue: null.raw)])
            }
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "MASK on MSI") {
                try edu.device.maskIRQ(.msi)
            }
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "UNMASK on MSI") {
                try edu.device.unmaskIRQ(.msi)
            }
        },
        c("cdev.reset", "QEMU's edu has no reset method (no FLR, no PM reset, on the root bus no bus reset): GET_INFO lacks FLAGS_RESET and RESET fails EINVAL (vfio_pci_core.c:1259)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let info = try ctx.step("GET_INFO") { try edu.device.info() }
            try ctx.check(!info.flags.contains(.reset), "GET_INFO reports FLAGS_RESET for the edu (flags \(info.flags))")
            try ctx.expectErrno(.invalidArgument, "RESET without FLAGS_RESET") {
                try edu.device.reset()
            }
        },
        c("cdev.hot-reset-info", "GET_PCI_HOT_RESET_INFO of the edu on the root bus fails ENODEV: neither slot nor bus can be reset (behind the bridge it lists the devices: group.shared.hot-reset-info)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let pci = try CdevRig.pci(ctx)
            try ctx.check(pci.address.hasPrefix("0000:00:"), "the first edu \(pci.address) is not on the root bus")
            try ctx.expectErrno(.operationNotSupportedByDevice, "HOT_RESET_INFO") {
                try edu.device.hotResetInfo()
            }
        },
        c("cdev.feature.invalid", "FEATURE fails ENOTTY for a feature vfio-pci lacks (MIGRATION, DMA logging), EINVAL for GET|SET without PROBE or undefined flags") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "PROBE MIGRATION") {
                try edu.device.feature(.migration, [.probe, .get])
            }
            try ctx.expectErrno(.inappropriateIOCTLForDevice, "PROBE DMA_LOGGING_START") {
                try edu.device.feature(.dmaLoggingStart, [.probe, .set])
            }
            try ctx.expectErrno(.invalidArgument, "GET|SET without PROBE") {
                try edu.device.feature(.migration, [.get, .set])
            }
            try ctx.expectErrno(.invalidArgument, "flag bit 31") {
                try edu.device.feature(DeviceFeature(rawValue: 1), FeatureOperation(rawValue: 1 << 31))
            }
        },
    ]

    // MARK: device data

    static let data: [ConformanceCase] = [
        c("cdev.info.pci", "GET_INFO of a vfio-pci device: FLAGS_PCI, at least the 9 fixed regions, 5 IRQ indexes") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let info = try ctx.expectOK("GET_INFO") { try edu.device.info() }
            try ctx.check(info.flags.contains(.pci), "flags 0x\(String(info.flags.rawValue, radix: 16)) lack FLAGS_PCI")
            try ctx.check(!info.flags.contains(.platform) && !info.flags.contains(.amba), "non-PCI bus flags set")
            try ctx.check(info.numRegions >= 9, "num_regions \(info.numRegions) < 9")
            try ctx.checkEqual(info.numIRQs, 5, "num_irqs")
        },
        c("cdev.region.bar0", "BAR0 of edu is a 1 MiB readable, writable, mmap-able region; BAR1-5 and ROM are empty") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let bar0 = try ctx.expectOK("REGION_INFO BAR0") { try edu.device.regionInfo(.bar0) }
            try ctx.checkEqual(bar0.size, 1 << 20, "BAR0 size")
            try ctx.check(bar0.flags.isSuperset(of: [.read, .write, .mmap]), "BAR0 flags 0x\(String(bar0.flags.rawValue, radix: 16))")
            try ctx.checkEqual(bar0.offset, 0, "BAR0 offset (VFIO_PCI_INDEX_TO_OFFSET(0))")
            for n in 1...5 {
                let r = try ctx.expectOK("REGION_INFO BAR\(n)") { try edu.device.regionInfo(.bar(n)) }
                try ctx.checkEqual(r.size, 0, "BAR\(n) size")
                try ctx.checkEqual(r.offset, UInt64(n) << 40, "BAR\(n) offset")
            }
            let cfg = try ctx.expectOK("REGION_INFO config") { try edu.device.regionInfo(.config) }
            try ctx.check(cfg.size >= 256, "config size \(cfg.size)")
            try ctx.check(cfg.flags.isSuperset(of: [.read, .write]) && !cfg.flags.contains(.mmap), "config flags 0x\(String(cfg.flags.rawValue, radix: 16))")
        },
        c("cdev.region.config-ids", "config space read through the config region shows vendor 1234, device 11e8, and the edu id register reads 0x010000ed through BAR0") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let vendor = try ctx.expectOK("config[0]") { try edu.device.read16(.config, at: PCIConfig.vendorID) }
            let device = try ctx.expectOK("config[2]") { try edu.device.read16(.config, at: PCIConfig.deviceID) }
            try ctx.checkEqual(vendor, 0x1234, "vendor id")
            try ctx.checkEqual(device, 0x11e8, "device id")
            let id = try ctx.expectOK("BAR0[0]") { try edu.device.read32(.bar0, at: 0) }
            try ctx.checkEqual(id, EduDevice.expectedID, "edu identification register")
            try ctx.expectOK("BAR0[4] liveness write") { try edu.device.write32(.bar0, at: 4, 0x1234_5678) }
            let back = try ctx.expectOK("BAR0[4] read") { try edu.device.read32(.bar0, at: 4) }
            try ctx.checkEqual(back, ~UInt32(0x1234_5678), "liveness register (complement)")
        },
        c("cdev.region.bar0-mmap", "an mmap of BAR0 reads the edu id register and the liveness register answers writes through the mapping") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.step("memory decoding on") { try edu.device.setPCIBusMaster(true) }
            let map = try ctx.expectOK("mmap BAR0 first page") {
                try edu.device.mapRegion(.bar0, offset: 0, length: 4096)
            }
            try ctx.checkEqual(try map.load32(at: 0), EduDevice.expectedID, "id register through the mapping")
            try map.store32(0x0f0f_0f0f, at: 4)
            try ctx.checkEqual(try map.load32(at: 4), ~UInt32(0x0f0f_0f0f), "liveness register through the mapping")
            try ctx.check((try? map.load32(at: 4096)) == nil, "a load past the mapping was not refused")
            let viaPread = try ctx.expectOK("pread BAR0[4]") { try edu.device.read32(.bar0, at: 4) }
            try ctx.checkEqual(viaPread, ~UInt32(0x0f0f_0f0f), "pread sees the mmap write")
        },
    ]
}

// VFIO device cdev (/dev/vfio/devices/vfioN) errno rules and device data, on a real
// edu device bound to vfio-pci, as 6.12.117's vfio_main.c, device_cdev.c, group.c,
// vfio_pci_core.c and iommufd/device.c answer them (the kernel's
// vfio_iommufd_setup_test).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// Any object id where the API wants a page table, to send ids of the wrong kind on purpose.
struct RawPT: PageTableID {
    let rawValue: UInt32
    init(rawValue: UInt32) { self.rawValue = rawValue }
    static var kind: String { "raw" }
}

/// An iommufd with edu devices opened through their cdevs (not yet bound).
final class CdevRig {
    let iommufd: IOMMUFD
    init(_ ctx: CaseContext) throws { iommufd = try ctx.openIOMMUFD() }

    static func pci(_ ctx: CaseContext, _ n: Int = 0) throws -> PCIDevice {
        guard ctx.machine.eduDevices.count > n else { try ctx.skip("needs \(n + 1) edu device(s) bound to vfio-pci") }
        return ctx.machine.eduDevices[n]
    }

    static func cdevPath(_ ctx: CaseContext, _ n: Int = 0) throws -> String {
        let p = try pci(ctx, n)
        guard let cdev = p.vfioCdevPath else { try ctx.skip("\(p.address) has no VFIO cdev") }
        return cdev
    }
}

/// One edu bound to an iommufd through its cdev, with an IOAS attached (or not).
final class BoundEdu {
    let device: VFIODevice
    let id: IOMMUFDDeviceID
    init(_ ctx: CaseContext, _ rig: CdevRig, _ n: Int = 0) throws {
        let path = try CdevRig.cdevPath(ctx, n)
        let dev = try ctx.step("open \(path)") { try VFIODevice.openCdev(path) }
        id = try ctx.step("BIND_IOMMUFD") { try dev.bind(iommufd: rig.iommufd) }
        device = dev
    }
}

/// A file descriptor that is not an iommufd (closed on deinit).
final class PlainFD {
    let raw: Int32
    init(_ path: String) throws {
        raw = Glibc.open(path, O_RDWR | O_CLOEXEC)
        if raw < 0 { throw CaseFailure("open \(path): errno \(errno)") }
    }
    deinit { Glibc.close(raw) }
}

enum VFIOCdevCases {
    static let needs: Set<Requirement> = [.iommufd, .eduDevice]

    static func c(_ id: String, _ rule: String, since: KernelVersion = "6.6", requires: Set<Requirement> = needs,
                  _ body: @escaping @Sendable (CaseContext) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, since: since, requires: requires, body: body)
    }

    /// An ioctl number VFIO does not define, below iommufd's 0x80 base: _IO(';', 0x7e).
    static let unknownIoctl = IoctlRequest("VFIO_UNDEFINED(0x3b7e)", 0x3b7e)

    static var all: [ConformanceCase] { unbound + bind + attach + deviceIoctls + data }

    // MARK: before BIND

    static let unbound: [ConformanceCase] = [
        c("cdev.unbound.get-info", "every device ioctl but BIND fails EINVAL on a cdev not bound yet (vfio_main.c:1280)") { ctx in
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            try ctx.expectErrno(.invalidArgument, "GET_INFO before bind") { try dev.info() }
            try ctx.expectErrno(.invalidArgument, "unknown ioctl before bind") {
                try dev.fd.perform(unknownIoctl, value: 0)
            }
        },
        c("cdev.unbound.region-info", "GET_REGION_INFO / GET_IRQ_INFO / RESET on an unbound cdev fail EINVAL") { ctx in
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            try ctx.expectErrno(.invalidArgument, "GET_REGION_INFO(BAR0)") { try dev.regionInfo(.bar0) }
            try ctx.expectErrno(.invalidArgument, "GET_IRQ_INFO(INTx)") { try dev.irqInfo(.intx) }
            try ctx.expectErrno(.invalidArgument, "RESET") { try dev.reset() }
        },
        c("cdev.unbound.attach", "ATTACH_IOMMUFD_PT before BIND fails EINVAL") { ctx in
            let rig = try CdevRig(ctx)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            try ctx.expectErrno(.invalidArgument, "ATTACH before bind") { try dev.attach(ioas.id) }
            try ctx.expectErrno(.invalidArgument, "DETACH before bind") { try dev.detach() }
        },
    ]

    // MARK: BIND

    static func rawBind(_ dev: borrowing VFIODevice, argsz: UInt32 = 16, flags: UInt32 = 0, fd: Int32) throws(IOMMUFDError) {
        var cmd = RawCommand(count: 16)
        cmd.set(argsz, at: 0)
        cmd.set(flags, at: 4)
        cmd.set(fd, at: 8)
        try cmd.send(.vfioDeviceBindIOMMUFD, on: dev.fd)
    }

    static let bind: [ConformanceCase] = [
        c("cdev.bind.ok", "BIND_IOMMUFD returns a non-zero device id, after which GET_INFO works") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.check(edu.id.rawValue != 0, "out_devid is 0")
            try ctx.expectOK("GET_INFO after bind") { try edu.device.info() }
        },
        c("cdev.bind.bad-flags", "BIND with an unknown flag fails EINVAL (device_cdev.c:78); BIND_FLAG_TOKEN is EINVAL before 6.17 and from 6.17 makes vfio-pci read the token UUID, so a NULL token_uuid_ptr is EFAULT (7.3.4 device_cdev.c:72-89)") { ctx in
            let rig = try CdevRig(ctx)
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            let raw = rig.iommufd.fd.rawValue ?? -1
            try ctx.expectErrno(.invalidArgument, "flags 1<<31") {
                try rawBind(dev, flags: 1 << 31, fd: raw)
            }
            try ctx.expectErrno(ctx.byKernel(.invalidArgument, from: "6.17", .badAddress),
                                "flags BIND_FLAG_TOKEN (1), token_uuid_ptr NULL") {
                try rawBind(dev, flags: 1, fd: raw)
            }
            try ctx.expectOK("a correct BIND afterwards") { try rawBind(dev, fd: raw) }
        },
        c("cdev.bind.short-argsz", "BIND with argsz < 16 (offsetofend out_devid) fails EINVAL") { ctx in
            let rig = try CdevRig(ctx)
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            let raw = rig.iommufd.fd.rawValue ?? -1
            for argsz: UInt32 in [0, 8, 12, 15] {
                try ctx.expectErrno(.invalidArgument, "argsz \(argsz)") {
                    try rawBind(dev, argsz: argsz, fd: raw)
                }
            }
        },
        c("cdev.bind.negative-fd", "BIND with iommufd -1 fails EINVAL (checked before the fd is looked up)") { ctx in
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            try ctx.expectErrno(.invalidArgument, "iommufd -1") { try rawBind(dev, fd: -1) }
            try ctx.expectErrno(.invalidArgument, "iommufd INT32_MIN") { try rawBind(dev, fd: .min) }
        },
        c("cdev.bind.not-iommufd", "BIND with an fd that is not an iommufd fails EBADFD (iommufd_ctx_from_fd)") { ctx in
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            let null = try PlainFD("/dev/null")
            try ctx.expectErrno(.fileDescriptorInBadState, "/dev/null") {
                try dev.bind(iommufdDescriptor: FileDescriptor(rawValue: null.raw))
            }
            let efd = try ctx.step("eventfd") { try EventFD.create() }
            try ctx.expectErrno(.fileDescriptorInBadState, "an eventfd") {
                try dev.bind(iommufdDescriptor: efd.descriptor)
            }
            try ctx.expectErrno(.fileDescriptorInBadState, "the device's own fd") {
                try dev.bind(iommufdDescriptor: FileDescriptor(rawValue: dev.fd.rawValue ?? -1))
            }
        },
        c("cdev.bind.closed-fd", "BIND with a closed descriptor number fails EBADF") { ctx in
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            let closed: Int32
            do { let f = try PlainFD("/dev/null"); closed = f.raw }
            try ctx.check(fcntl(closed, F_GETFD) < 0, "descriptor \(closed) is still open")
            try ctx.expectErrno(.badFileDescriptor, "closed fd \(closed)") {
                try dev.bind(iommufdDescriptor: FileDescriptor(rawValue: closed))
            }
            try ctx.expectErrno(.badFileDescriptor, "fd 100000") {
                try dev.bind(iommufdDescriptor: FileDescriptor(rawValue: 100_000))
            }
        },
        c("cdev.bind.twice", "a second BIND of a bound cdev fails EINVAL, to the same or another iommufd (device_cdev.c:89)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.invalidArgument, "same iommufd") {
                try edu.device.bind(iommufd: rig.iommufd)
            }
            let other = try ctx.openIOMMUFD()
            try ctx.expectErrno(.invalidArgument, "another iommufd") {
                try edu.device.bind(iommufd: other)
            }
            try ctx.expectOK("the first binding still works (GET_INFO)") { try edu.device.info() }
        },
        c("cdev.bind.group-open", "BIND fails EBUSY while the device's group fd is open (group.c:417); works once it is closed",
          requires: needs.union([.vfioContainer])) { ctx in
            let rig = try CdevRig(ctx)
            let pci = try CdevRig.pci(ctx)
            guard let g = pci.iommuGroup else { try ctx.skip("no IOMMU group") }
            let path = try CdevRig.cdevPath(ctx)
            let dev = try ctx.step("open cdev") { try VFIODevice.openCdev(path) }
            do {
                let group = try ctx.step("open /dev/vfio/\(g)") { try VFIOGroup.open(g) }
                try ctx.expectErrno(.resourceBusy, "BIND with the group open") {
                    try dev.bind(iommufd: rig.iommufd)
                }
                _ = group.number
            }
            let id = try ctx.expectOK("BIND after the group fd closed") {
                try dev.bind(iommufd: rig.iommufd)
            }
            try ctx.check(id.rawValue != 0, "device id 0")
            // And the other way round: with a cdev bound, the group cannot be opened (group.c:460).
            var groupOpen = "OK"
            do throws(IOMMUFDError) { _ = try VFIOGroup.open(g) } catch { groupOpen = IOMMUFDError.symbol(error.errno) }
            try ctx.checkEqual(groupOpen, "EBUSY", "open /dev/vfio/\(g) while the cdev is bound")
        },
    ]

    // MARK: ATTACH / DETACH / DESTROY

    static func rawAttach(_ dev: borrowing VFIODevice, argsz: UInt32 = 12, flags: UInt32 = 0, pt: UInt32) throws(IOMMUFDError) {
        var cmd = RawCommand(count: 16)
        cmd.set(argsz, at: 0)
        cmd.set(flags, at: 4)
        cmd.set(pt, at: 8)
        try cmd.send(.vfioDeviceAttachIOMMUFDPT, on: dev.fd)
    }

    static let attach: [ConformanceCase] = [
        c("cdev.attach.bad-pt-id", "ATTACH to a pt_id that names no object fails ENOENT") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            for pt: UInt32 in [0, 0xffff, 0xffff_ffff] {
                try ctx.expectErrno(.noSuchFileOrDirectory, "pt_id \(pt)") {
                    try edu.device.attach(RawPT(rawValue: pt))
                }
            }
        },
        c("cdev.attach.not-a-page-table", "ATTACH to an object that is neither IOAS nor HWPT (the device itself, a fault queue) fails EINVAL (device.c:786)") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.invalidArgument, "pt_id = own device id") {
                try edu.device.attach(RawPT(rawValue: edu.id.rawValue))
            }
            if ctx.kernel >= "6.11" {
                let q = try ctx.step("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
                try ctx.expectErrno(.invalidArgument, "pt_id = fault queue") {
                    try edu.device.attach(RawPT(rawValue: q.id.rawValue))
                }
            }
        },
        c("cdev.attach.flags", "ATTACH with flags != 0 or argsz < 12 fails EINVAL; DETACH likewise with flags != 0 or argsz < 8") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            try ctx.expectErrno(.invalidArgument, "ATTACH flags 1<<31") {
                try rawAttach(edu.device, flags: 1 << 31, pt: ioas.id.rawValue)
            }
            try ctx.expectErrno(.invalidArgument, "ATTACH argsz 8") {
                try rawAttach(edu.device, argsz: 8, pt: ioas.id.rawValue)
            }
            try ctx.expectOK("ATTACH argsz 12 flags 0") {
                try rawAttach(edu.device, pt: ioas.id.rawValue)
            }
            var detach = RawCommand(count: 8)
            detach.set(UInt32(8), at: 0)
            detach.set(UInt32(1 << 31), at: 4)
            try ctx.expectErrno(.invalidArgument, "DETACH flags 1<<31") {
                try detach.send(.vfioDeviceDetachIOMMUFDPT, on: edu.device.fd)
            }
            var short = RawCommand(count: 8)
            short.set(UInt32(4), at: 0)
            try ctx.expectErrno(.invalidArgument, "DETACH argsz 4") {
                try short.send(.vfioDeviceDetachIOMMUFDPT, on: edu.device.fd)
            }
            try ctx.expectOK("DETACH") { try edu.device.detach() }
        },
        c("cdev.attach.replace-cycle", "attach IOAS, replace with a HWPT on it, detach, attach again: each step succeeds and reports the attached HWPT") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            let auto = try ctx.expectOK("attach IOAS") { try edu.device.attach(ioas.id) }
            try ctx.check(auto.rawValue != ioas.id.rawValue && auto.rawValue != 0, "attach returned \(auto), not a new HWPT id")
            let hwpt = try ctx.expectOK("HWPT_ALLOC on the IOAS") {
                try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id)
            }
            let replaced = try ctx.expectOK("attach HWPT (replace)") { try edu.device.attach(hwpt.id) }
            try ctx.checkEqual(replaced, hwpt.id, "pt_id after replace")
            // The auto HWPT was freed by the replace: its id no longer names anything.
            try ctx.expectErrno(.noSuchFileOrDirectory, "attach the released auto HWPT id") {
                try edu.device.attach(auto)
            }
            try ctx.expectErrno(.resourceBusy, "DESTROY the attached HWPT") {
                try rig.iommufd.destroy(hwpt.id)
            }
            try ctx.expectOK("detach") { try edu.device.detach() }
            try ctx.expectOK("detach again (no-op)") { try edu.device.detach() }
            let again = try ctx.expectOK("attach IOAS again") { try edu.device.attach(ioas.id) }
            try ctx.check(again.rawValue != 0, "attach returned id 0")
            try ctx.expectOK("replace back to the explicit HWPT") { try edu.device.attach(hwpt.id) }
            try ctx.expectOK("detach") { try edu.device.detach() }
            let hwptID = hwpt.release()
            try ctx.expectOK("DESTROY the detached HWPT") { try rig.iommufd.destroy(hwptID) }
        },
        c("cdev.destroy.attached-ioas", "DESTROY of an IOAS with an attached device, or of the auto HWPT, fails EBUSY; after DETACH the IOAS can be destroyed") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            let id = ioas.release()
            let hwpt = try ctx.step("attach") { try edu.device.attach(id) }
            try ctx.expectErrno(.resourceBusy, "DESTROY IOAS") { try rig.iommufd.destroy(id) }
            try ctx.expectErrno(.resourceBusy, "DESTROY auto HWPT") { try rig.iommufd.destroy(hwpt) }
            try ctx.expectOK("DETACH") { try edu.device.detach() }
            try ctx.expectErrno(.noSuchFileOrDirectory, "the auto HWPT is gone after DETACH") {
                try rig.iommufd.destroy(hwpt)
            }
            try ctx.expectOK("DESTROY IOAS") { try rig.iommufd.destroy(id) }
        },
        c("cdev.destroy.bound-device", "DESTROY of a VFIO-bound device's id fails EBUSY (VFIO holds it); the binding keeps working") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try ctx.expectErrno(.resourceBusy, "DESTROY device id") { try rig.iommufd.destroy(edu.id) }
            try ctx.expectOK("GET_INFO still works") { try edu.device.info() }
        },
        c("cdev.attach.pasid-6.12", "ATTACH with VFIO_DEVICE_ATTACH_PASID fails EINVAL before 6.15 (flags must be 0)") { ctx in
            guard ctx.kernel < "6.15" else { try ctx.skip("PASID attach exists from 6.15; this case checks the older answer") }
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            try ctx.expectErrno(.invalidArgument, "ATTACH pasid 1") {
                try edu.device.attach(pasid: 1, to: ioas.id)
            }
            try ctx.expectErrno(.invalidArgument, "DETACH pasid 1") { try edu.device.detach(pasid: 1) }
        },
        c("cdev.attach.pasid", "from 6.15 VFIO_DEVICE_ATTACH_PASID reaches iommufd: the edu has no PASID capability, so attaching PASID 1 to an IOAS fails (7.3.4: EINVAL); detaching a PASID that was never attached succeeds (vfio/iommufd.c:223-224); the RID attach still works", since: "6.15") { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
            try ctx.expectErrno(.invalidArgument, "ATTACH pasid 1") {
                try edu.device.attach(pasid: 1, to: ioas.id)
            }
            try ctx.expectOK("DETACH pasid 1 (never attached)") { try edu.device.detach(pasid: 1) }
            try ctx.expectOK("ATTACH the RID") { try edu.device.attach(ioas.id) }
        },
    ]

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

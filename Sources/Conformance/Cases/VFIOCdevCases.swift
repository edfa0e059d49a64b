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

}

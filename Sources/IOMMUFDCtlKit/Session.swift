import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// Memory a step file maps: anonymous, hugetlb or memfd-backed, unmapped on deinit.
public final class StepBuffer {
    public let base: UnsafeMutableRawPointer
    public let size: UInt64
    public let kind: BufferKind
    let memfd: Int32?

    init(base: UnsafeMutableRawPointer, size: UInt64, kind: BufferKind, memfd: Int32?) {
        self.base = base
        self.size = size
        self.kind = kind
        self.memfd = memfd
    }

    public static func allocate(size: UInt64, kind: BufferKind) throws(IOMMUFDError) -> StepBuffer {
        var flags = MAP_SHARED
        var fd: Int32 = -1
        switch kind {
        case .anonymous: flags = MAP_PRIVATE | MAP_ANONYMOUS
        case .hugetlb: flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB
        case .memfd:
            fd = memfdCreate("iommufdctl")
            if fd < 0 { throw .system("memfd_create", Errno(rawValue: errno), on: "buffer") }
            if ftruncate(fd, off_t(size)) != 0 {
                let e = errno
                Glibc.close(fd)
                throw .system("ftruncate", Errno(rawValue: e), on: "buffer")
            }
        }
        let p = mmap(nil, Int(size), PROT_READ | PROT_WRITE, flags, fd, 0)
        guard let p, p != MAP_FAILED else {
            let e = errno
            if fd >= 0 { Glibc.close(fd) }
            throw .system("mmap", Errno(rawValue: e), on: "buffer",
                          argument: kind == .hugetlb ? "size (hugetlb needs free huge pages and a multiple of their size)" : "size")
        }
        // Touch the pages so pinning does not depend on first-fault behaviour.
        memset(p, 0, Int(size))
        return StepBuffer(base: p, size: size, kind: kind, memfd: fd >= 0 ? fd : nil)
    }

    deinit {
        munmap(base, Int(size))
        if let memfd { Glibc.close(memfd) }
    }
}

/// memfd_create(2): glibc declares it only under _GNU_SOURCE, which the Swift Glibc module lacks.
func memfdCreate(_ name: String) -> Int32 {
    typealias Fn = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create") else {
        errno = ENOSYS
        return -1
    }
    return unsafeBitCast(sym, to: Fn.self)(name, 0)
}

/// Opens a VFIO device node; returns the descriptor.
public typealias DeviceOpener = (String) throws(IOMMUFDError) -> Int32

/// Opens a legacy VFIO node (a container or `/dev/vfio/N`); returns the descriptor.
public typealias LegacyNodeOpener = (String) throws(IOMMUFDError) -> Int32

/// The state a step file builds up: one iommufd, and the named objects made through it.
public final class Session {
    public let iommufd: IOMMUFD
    var ioas: [String: IOASID] = [:]
    var buffers: [String: StepBuffer] = [:]
    var mappings: [String: UInt64] = [:]
    var devices: [String: Device] = [:]
    /// Containers and groups of the legacy VFIO steps.
    let legacy = LegacyVFIOObjects()
    let openDevice: DeviceOpener
    let openLegacyNode: LegacyNodeOpener

    /// An opened VFIO device and, once bound, its id in this iommufd.
    final class Device {
        let device: VFIODevice
        var id: UInt32?  // the bound device's dev_id
        init(_ device: consuming VFIODevice) { self.device = device }
    }

    public init(iommufd: consuming IOMMUFD, openDevice: @escaping DeviceOpener = Session.openDeviceNode,
                openLegacyNode: @escaping LegacyNodeOpener = Session.openLegacyVFIONode) {
        self.iommufd = iommufd
        self.openDevice = openDevice
        self.openLegacyNode = openLegacyNode
    }

    /// The descriptors this session issues ioctls on (for filtering traces).
    public var descriptors: Set<Int32> {
        var s = Set<Int32>()
        if let fd = iommufd.fd.rawValue { s.insert(fd) }
        for d in devices.values { if let fd = d.device.fd.rawValue { s.insert(fd) } }
        return s.union(legacy.descriptors)
    }

    /// Opens `/dev/vfio/devices/vfioN`, or the cdev of a PCI address.
    public static func openDeviceNode(_ pathOrBDF: String) throws(IOMMUFDError) -> Int32 {
        try openNode(try PCIDevices.cdevPath(for: pathOrBDF),
                     busy: "the device is open elsewhere (or its group is in use)",
                     missing: "no such VFIO cdev; bind the device to vfio-pci first")
    }

    /// Opens `/dev/iommu` or `/dev/vfio/vfio` (as a container) or a group node `/dev/vfio/N`.
    public static func openLegacyVFIONode(_ path: String) throws(IOMMUFDError) -> Int32 {
        try openNode(path,
                     busy: "the group is already open (one user per group), or a device of it is open through its cdev",
                     missing: "no such node: /dev/iommu needs CONFIG_IOMMUFD, /dev/vfio/vfio a VFIO container, /dev/vfio/N a device of group N on vfio-pci")
    }

    /// open(2) read-write; EBUSY and ENOENT get the caller's explanation, other errnos their own.
    static func openNode(_ path: String, busy: String, missing: String) throws(IOMMUFDError) -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            let e = Errno(rawValue: errno)
            throw IOMMUFDError(ioctl: "open(\(path))", errno: e, origin: .system(call: "open"), argument: "path",
                               meaning: e == .resourceBusy ? busy : e == .noSuchFileOrDirectory ? missing : e.description)
        }
        return fd
    }

    func ioasID(_ name: String) throws(IOMMUFDError) -> IOASID {
        guard let id = ioas[name] else { throw Self.missing(name, "IOAS") }
        return id
    }

    func buffer(_ name: String) throws(IOMMUFDError) -> StepBuffer {
        guard let b = buffers[name] else { throw Self.missing(name, "buffer") }
        return b
    }

    func device(_ name: String) throws(IOMMUFDError) -> Device {
        guard let d = devices[name] else { throw Self.missing(name, "device") }
        return d
    }

    func number(_ arg: NumberArg) throws(IOMMUFDError) -> UInt64 {
        switch arg {
        case .literal(let v): return v
        case .handle(let name):
            if let v = mappings[name] { return v }
            if let id = ioas[name] { return UInt64(id.rawValue) }
            if let d = devices[name], let id = d.id { return UInt64(id) }
            if devices[name] != nil { throw Self.missing(name, "device id (bind it first)") }
            throw Self.missing(name, "handle")
        }
    }

    static func missing(_ name: String, _ kind: String) -> IOMMUFDError {
        IOMMUFDError(ioctl: "step", errno: .invalidArgument, origin: .validation, argument: name,
                     meaning: "\(kind) '\(name)' does not exist (the step that creates it failed or did not run)")
    }

    /// Runs `body` on a borrowed IOAS handle for `name` without destroying it afterwards.
    func withIOAS<R>(_ name: String, _ body: (inout IOAS) throws(IOMMUFDError) -> R) throws(IOMMUFDError) -> R {
        var handle = IOAS(id: try ioasID(name), fd: iommufd.fd)
        let result: Result<R, IOMMUFDError>
        do throws(IOMMUFDError) { result = .success(try body(&handle)) } catch { result = .failure(error) }
        _ = handle.release()
        return try result.get()
    }
}

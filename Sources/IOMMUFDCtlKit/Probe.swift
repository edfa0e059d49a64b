import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// One probed ioctl.
public struct ProbeEntry: Sendable, Encodable, Equatable {
    public enum State: String, Sendable, Encodable { case supported, unsupported, inconclusive, skipped }

    public let request: String
    public let number: String
    /// `/dev/iommu`, `/dev/iommu (compat container)`, `/dev/vfio/vfio`, or the device cdev.
    public let target: String
    public let state: State
    /// What the harmless call returned: `ok`, or the errno symbol.
    public let answer: String
    public let note: String?
}

/// Facts about the running kernel.
public struct HostFacts: Sendable, Encodable {
    public let kernel: String
    public let machine: String
    public let iommufdNode: Bool
    public let vfioContainerNode: Bool
    public let vfioCdevs: [String]
    /// `/sys/module/<module>/parameters/*`, as `module.parameter`.
    public let moduleParameters: [String: String]

    enum CodingKeys: String, CodingKey {
        case kernel, machine, iommufdNode = "dev_iommu", vfioContainerNode = "dev_vfio_vfio",
             vfioCdevs = "vfio_cdevs", moduleParameters = "module_parameters"
    }

    public static func collect() -> HostFacts {
        var u = utsname()
        uname(&u)
        func field<T>(_ t: T) -> String {
            withUnsafeBytes(of: t) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        var params: [String: String] = [:]
        for module in ["iommufd", "vfio", "vfio_iommu_type1", "vfio_pci", "vfio_pci_core"] {
            let dir = "/sys/module/\(module)/parameters"
            for p in PCIDevices.listDirectory(dir) { params["\(module).\(p)"] = PCIDevices.readFile("\(dir)/\(p)") ?? "?" }
        }
        return HostFacts(
            kernel: field(u.release), machine: field(u.machine),
            iommufdNode: access("/dev/iommu", F_OK) == 0, vfioContainerNode: access("/dev/vfio/vfio", F_OK) == 0,
            vfioCdevs: PCIDevices.listDirectory("/dev/vfio/devices").sorted().map { "/dev/vfio/devices/\($0)" },
            moduleParameters: params)
    }
}

public struct ProbeReport: Sendable, Encodable {
    public let host: HostFacts?
    /// Whether IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST) exists; nil if /dev/iommu could not be probed.
    public let testCommand: Bool?
    public let entries: [ProbeEntry]
    public let errors: [String]

    enum CodingKeys: String, CodingKey { case host, testCommand = "iommu_test_cmd", entries = "ioctls", errors }
}

/// Probes which ioctls this kernel knows by issuing each with a harmless argument:
/// a struct whose `size`/`argsz` is 0, which every known ioctl rejects (EINVAL) before
/// touching any state, and every unknown one answers with ENOTTY.
public struct Prober {
    public var driver: any IoctlDriver
    /// Opens a node read-write; returns the fd or `-errno`.
    public var open: (String) -> Int32

    public init(driver: any IoctlDriver = SystemIoctlDriver(), open: @escaping (String) -> Int32 = Prober.openNode) {
        self.driver = driver
        self.open = open
    }

    public static func openNode(_ path: String) -> Int32 {
        let fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
        return fd >= 0 ? fd : -errno
    }

    /// ENOTTY = the kernel does not know the ioctl; any other answer means it does.
    public static func classify(_ result: Result<Int32, IOMMUFDError>) -> (ProbeEntry.State, String) {
        switch result {
        case .success: return (.supported, "ok")
        case .failure(let e) where e.isNotSupported: return (.unsupported, "ENOTTY")
        case .failure(let e): return (.supported, IOMMUFDError.symbol(e.errno))
        }
    }

    /// Sends a zeroed `count`-byte argument (size/argsz = 0).
    static func zeroSized(_ request: IoctlRequest, on fd: KernelFD, count: Int = 16) -> Result<Int32, IOMMUFDError> {
        var bytes = [UInt8](repeating: 0, count: count)
        return bytes.withUnsafeMutableBytes { raw in
            do throws(IOMMUFDError) { return .success(try fd.perform(request, bytes: raw)) } catch { return .failure(error) }
        }
    }

    static func byValue(_ request: IoctlRequest, _ value: UInt, on fd: KernelFD) -> Result<Int32, IOMMUFDError> {
        do throws(IOMMUFDError) { return .success(try fd.perform(request, value: value)) } catch { return .failure(error) }
    }

    static func entry(_ r: IoctlRequest, _ target: String, _ result: Result<Int32, IOMMUFDError>, note: String? = nil) -> ProbeEntry {
        let (state, answer) = classify(result)
        return ProbeEntry(request: r.name, number: Numbers.hex(r.number), target: target, state: state, answer: answer, note: note)
    }

    /// Every iommufd ioctl (and IOMMU_TEST_CMD) on `/dev/iommu`, then the VFIO container
    /// ioctls on its compat path.
    public func probeIOMMUFD(path: String = "/dev/iommu") -> (entries: [ProbeEntry], testCmd: Bool?, error: String?) {
        let raw = open(path)
        guard raw >= 0 else { return ([], nil, "\(path): \(Errno(rawValue: -raw)) — no iommufd (CONFIG_IOMMUFD) here") }
        let fd = KernelFD(adopting: raw, driver: driver)
        var out: [ProbeEntry] = []
        var testCmd: Bool?
        for r in IoctlRequest.allIOMMUFD + [.testCmd] {
            let e = Self.entry(r, path, Self.zeroSized(r, on: fd))
            if r == .testCmd { testCmd = e.state == .supported }
            out.append(e)
        }
        out += probeContainer(fd, target: "\(path) (compat container)")
        return (out, testCmd, nil)
    }

    /// The type1 container ioctls. Read-only ones go by value; the others get argsz = 0.
    func probeContainer(_ fd: KernelFD, target: String, native: Bool = false) -> [ProbeEntry] {
        var out: [ProbeEntry] = []
        out.append(Self.entry(.vfioGetAPIVersion, target, Self.byValue(.vfioGetAPIVersion, 0, on: fd)))
        out.append(Self.entry(.vfioCheckExtension, target, Self.byValue(.vfioCheckExtension, 3, on: fd),
                              note: "CHECK_EXTENSION(TYPE1v2)"))
        out.append(Self.entry(.vfioSetIOMMU, target, Self.byValue(.vfioSetIOMMU, 0, on: fd), note: "invalid type 0"))
        for r in [IoctlRequest.vfioIOMMUGetInfo, .vfioIOMMUMapDMA, .vfioIOMMUUnmapDMA, .vfioIOMMUDirtyPages] {
            let result = Self.zeroSized(r, on: fd)
            var e = Self.entry(r, target, result)
            // Native VFIO answers EINVAL to every unknown ioctl until SET_IOMMU: that proves nothing.
            if native, case .failure(let err) = result, err.errno == .invalidArgument {
                e = ProbeEntry(request: e.request, number: e.number, target: target, state: .inconclusive, answer: "EINVAL",
                               note: "native container answers EINVAL to any ioctl before SET_IOMMU")
            }
            out.append(e)
        }
        return out
    }

    /// The native VFIO container, when /dev/vfio/vfio exists.
    public func probeNativeContainer(path: String = "/dev/vfio/vfio") -> [ProbeEntry] {
        let raw = open(path)
        guard raw >= 0 else { return [] }
        return probeContainer(KernelFD(adopting: raw, driver: driver), target: path, native: true)
    }

    /// Device ioctls on a VFIO cdev. Before BIND every device ioctl answers EINVAL, so the
    /// cdev is bound to a fresh iommufd first; RESET (which takes no argument) is not sent.
    public func probeDevice(cdev: String, iommufdPath: String = "/dev/iommu") -> (entries: [ProbeEntry], error: String?) {
        let raw = open(cdev)
        guard raw >= 0 else { return ([], "\(cdev): \(Errno(rawValue: -raw))") }
        let device = VFIODevice(adopting: raw, name: cdev, driver: driver)
        var out: [ProbeEntry] = [Self.entry(.vfioDeviceBindIOMMUFD, cdev, Self.zeroSized(.vfioDeviceBindIOMMUFD, on: device.fd),
                                            note: "argsz 0")]
        var bound: String?
        let ifd = open(iommufdPath)
        if ifd >= 0 {
            let iommufd = IOMMUFD(adopting: ifd, driver: driver)
            do throws(IOMMUFDError) { _ = try device.bind(iommufd: iommufd) } catch { bound = error.description }
            out += probeBoundDevice(device, cdev: cdev, notBound: bound)
            _ = consume iommufd
        } else {
            out += probeBoundDevice(device, cdev: cdev, notBound: "\(iommufdPath): \(Errno(rawValue: -ifd))")
        }
        return (out, bound.map { "bind failed, device ioctls inconclusive: \($0)" })
    }

    func probeBoundDevice(_ device: borrowing VFIODevice, cdev: String, notBound: String?) -> [ProbeEntry] {
        var out: [ProbeEntry] = []
        for r in VFIORequestGroups.device where r != .vfioDeviceBindIOMMUFD {
            if r == .vfioDeviceReset {
                out.append(ProbeEntry(request: r.name, number: Numbers.hex(r.number), target: cdev, state: .skipped,
                                      answer: "-", note: "takes no argument: probing it would reset the device"))
                continue
            }
            let result = Self.zeroSized(r, on: device.fd)
            var e = Self.entry(r, cdev, result, note: "argsz 0")
            if let notBound, case .failure(let err) = result, err.errno == .invalidArgument {
                e = ProbeEntry(request: e.request, number: e.number, target: cdev, state: .inconclusive, answer: "EINVAL",
                               note: "not bound (\(notBound))")
            }
            out.append(e)
        }
        return out
    }

    /// Everything: host facts, /dev/iommu, the native container, and a device cdev if one exists.
    public func probeAll(device: String? = nil, host: HostFacts? = nil, includeDevice: Bool = true) -> ProbeReport {
        var errors: [String] = []
        let (iommufdEntries, testCmd, error) = probeIOMMUFD()
        if let error { errors.append(error) }
        var entries = iommufdEntries + probeNativeContainer()
        let cdev: String?
        if let device {
            do throws(IOMMUFDError) { cdev = try PCIDevices.cdevPath(for: device) } catch {
                errors.append(error.description)
                cdev = nil
            }
        } else {
            cdev = includeDevice ? host?.vfioCdevs.first : nil
        }
        if let cdev {
            let (deviceEntries, deviceError) = probeDevice(cdev: cdev)
            entries += deviceEntries
            if let deviceError { errors.append(deviceError) }
        }
        return ProbeReport(host: host, testCommand: testCmd, entries: entries, errors: errors)
    }
}

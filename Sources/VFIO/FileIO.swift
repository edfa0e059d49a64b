import Glibc
import IOMMUFD
import SystemPackage

/// Reads and writes of a device fd's regions (pread/pwrite at the region offset).
///
/// Kept apart from `IoctlDriver` so a mock driver can also play the device's
/// registers; a driver that conforms to both is used for both automatically.
public protocol DeviceFileIO: Sendable {
    /// pread(2): bytes read, or `-errno`.
    func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: UInt64) -> Int
    /// pwrite(2): bytes written, or `-errno`.
    func pwrite(fd: Int32, from buffer: UnsafeRawBufferPointer, offset: UInt64) -> Int
}

/// The real kernel.
public struct SystemFileIO: DeviceFileIO {
    public init() {}

    @inline(never)
    public func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: UInt64) -> Int {
        while true {
            let n = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(Int64(bitPattern: offset)))
            if n >= 0 { return n }
            if Glibc.errno != EINTR { return -Int(Glibc.errno) }
        }
    }

    @inline(never)
    public func pwrite(fd: Int32, from buffer: UnsafeRawBufferPointer, offset: UInt64) -> Int {
        while true {
            let n = Glibc.pwrite(fd, buffer.baseAddress, buffer.count, off_t(Int64(bitPattern: offset)))
            if n >= 0 { return n }
            if Glibc.errno != EINTR { return -Int(Glibc.errno) }
        }
    }
}

/// The file I/O to use with `driver`: the driver itself when it plays the device too.
func fileIO(for driver: any IoctlDriver) -> any DeviceFileIO {
    (driver as? any DeviceFileIO) ?? SystemFileIO()
}

/// Opens a device node, naming the failure the way the rest of the package does.
func openNode(_ path: String, flags: Int32 = O_RDWR | O_CLOEXEC) throws(IOMMUFDError) -> Int32 {
    let raw = Glibc.open(path, flags)
    guard raw >= 0 else {
        let err = Errno(rawValue: Glibc.errno)
        let meaning: String
        switch err {
        case .noSuchFileOrDirectory: meaning = "\(path) does not exist (device not bound to vfio-pci, or kernel lacks the option)"
        case .permissionDenied: meaning = "no permission on \(path): run as root or grant access to the node"
        case .resourceBusy: meaning = "\(path) is already open (VFIO allows one user), or its group/cdev is in use"
        default: meaning = err.description
        }
        throw IOMMUFDError(ioctl: "open(\(path))", errno: err, origin: .system(call: "open"), argument: "path",
                           meaning: meaning)
    }
    return raw
}

import CIOMMUFD
import Glibc

/// The raw ioctl layer. Every ioctl of this package goes through one of these,
/// so tests can substitute a recording mock and the CLI can trace the real one.
public protocol IoctlDriver: Sendable {
    /// Issues `request` on `fd`. Returns the ioctl's result (>= 0) or `-errno`.
    func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32
    /// Closes `fd`. Returns 0 or `-errno`.
    func close(fd: Int32) -> Int32
}

/// The real kernel, through Glibc's ioctl(2).
public struct SystemIoctlDriver: IoctlDriver {
    public init() {}

    public func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        Self.ioctl(fd, request, argument)
    }

    /// The ioctl, retried on EINTR: its result or -errno (read in C right after the call).
    /// `KernelFD` calls this directly when its driver is this one, skipping the
    /// existential's indirect call.
    @inlinable @inline(__always)
    static func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> Int32 {
        ciommufd_ioctl_retrying(fd, request, argument)
    }

    @inline(never)
    public func close(fd: Int32) -> Int32 {
        // close(2) must not be retried on EINTR: the descriptor is gone either way.
        Glibc.close(fd) == 0 ? 0 : -Glibc.errno
    }
}

extension IoctlDriver where Self == SystemIoctlDriver {
    public static var system: SystemIoctlDriver { SystemIoctlDriver() }
}

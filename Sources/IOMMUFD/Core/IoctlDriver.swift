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

    // Not inlined, so nothing runs between the call and the errno read.
    @inline(never)
    public func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        while true {
            let result = ciommufd_ioctl(fd, request, argument)
            if result >= 0 { return result }
            let err = ciommufd_errno()
            if err != EINTR { return -err }
        }
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

import SystemPackage

/// Every failure of this package: which ioctl, which argument, which errno, and what it means.
public struct IOMMUFDError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Origin: Sendable, Equatable {
        /// The kernel returned the errno.
        case kernel
        /// Rejected before any syscall, because the kernel surely would.
        case validation
        /// A local call around the ioctl (open, mmap, read on a queue fd...).
        case system(call: String)
    }

    public let ioctl: String
    public let errno: Errno
    public let origin: Origin
    /// The argument at fault, when known.
    public let argument: String?
    /// What the errno means for this ioctl.
    public let meaning: String

    public init(ioctl: String, errno: Errno, origin: Origin, argument: String? = nil, meaning: String) {
        self.ioctl = ioctl
        self.errno = errno
        self.origin = origin
        self.argument = argument
        self.meaning = meaning
    }

    /// A kernel error for `request`, with the request's errno meaning.
    public static func kernel(_ request: IoctlRequest, _ errno: Errno, argument: String? = nil) -> Self {
        IOMMUFDError(ioctl: request.name, errno: errno, origin: .kernel, argument: argument,
                     meaning: request.meaning(of: errno))
    }

    /// A client-side rejection: the ioctl was not issued.
    public static func invalid(_ request: IoctlRequest, argument: String, _ why: String,
                               errno: Errno = .invalidArgument) -> Self {
        IOMMUFDError(ioctl: request.name, errno: errno, origin: .validation, argument: argument, meaning: why)
    }

    /// A failed local syscall (open, mmap, read...).
    public static func system(_ call: String, _ errno: Errno, on what: String, argument: String? = nil) -> Self {
        IOMMUFDError(ioctl: what, errno: errno, origin: .system(call: call), argument: argument,
                     meaning: errno.description)
    }

    /// True when the kernel does not know this ioctl.
    public var isNotSupported: Bool { errno == .inappropriateIOCTLForDevice && origin == .kernel }

    public var description: String {
        let arg = argument.map { " [\($0)]" } ?? ""
        switch origin {
        case .kernel:
            return "\(ioctl)\(arg): \(Self.symbol(errno)) (\(errno.rawValue)): \(meaning)"
        case .validation:
            return "\(ioctl)\(arg): \(Self.symbol(errno)) (\(errno.rawValue)), rejected before the syscall: \(meaning)"
        case .system(let call):
            return "\(call) for \(ioctl)\(arg): \(Self.symbol(errno)) (\(errno.rawValue)): \(meaning)"
        }
    }

    /// The C name of an errno (EINVAL, ENOENT...).
    public static func symbol(_ errno: Errno) -> String {
        errnoNames[errno.rawValue] ?? "E?\(errno.rawValue)"
    }

    static let errnoNames: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 3: "ESRCH", 4: "EINTR", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 9: "EBADF",
        11: "EAGAIN", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 19: "ENODEV",
        22: "EINVAL", 24: "EMFILE", 25: "ENOTTY", 28: "ENOSPC", 29: "ESPIPE", 34: "ERANGE", 75: "EOVERFLOW",
        77: "EBADFD", 90: "EMSGSIZE", 95: "EOPNOTSUPP", 98: "EADDRINUSE", 110: "ETIMEDOUT",
    ]
}

extension Errno {
    /// EBADFD (77): "file descriptor in bad state" — BIND with a non-iommufd fd.
    public static var fileDescriptorInBadState: Errno { Errno(rawValue: 77) }
}

import SystemPackage

/// One ioctl: its uAPI name, request number, and what each errno means for it.
public struct IoctlRequest: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let number: UInt
    /// Errno → meaning for this ioctl, from the kernel sources.
    public let meanings: [Errno: String]

    public init(_ name: String, _ number: UInt, meanings: [Errno: String] = [:]) {
        self.name = name
        self.number = number
        self.meanings = meanings
    }

    public var description: String { name }

    public static func == (a: Self, b: Self) -> Bool { a.name == b.name && a.number == b.number }
    public func hash(into h: inout Hasher) { h.combine(name); h.combine(number) }

    /// What `errno` means when this ioctl returns it.
    public func meaning(of errno: Errno) -> String {
        if let specific = meanings[errno] { return specific }
        if let generic = IoctlRequest.genericMeanings[errno] { return generic }
        return errno.description
    }

    /// Rules shared by every iommufd ioctl (main.c) and every VFIO ioctl.
    static let genericMeanings: [Errno: String] = [
        .inappropriateIOCTLForDevice: "not supported by this kernel (unknown ioctl for this file)",
        .badAddress: "an argument pointer is not readable or writable memory",
        .invalidArgument: "size or argsz too small for the required fields, or an invalid argument",
        .argListTooLong: "struct larger than the kernel knows with a non-zero tail",
        .notSupported: "unknown flag or non-zero reserved field",
        .noSuchFileOrDirectory: "no object with that id, or the id names an object of another type",
        .resourceBusy: "object is in use",
        .badFileDescriptor: "the file descriptor is closed or invalid",
        .noMemory: "out of memory, or RLIMIT_MEMLOCK exceeded while pinning",
        .permissionDenied: "permission denied",
        .notPermitted: "operation not permitted for this process",
    ]
}

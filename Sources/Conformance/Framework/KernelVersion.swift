import Glibc

/// A kernel release as major.minor.patch, comparable.
public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let major: Int, minor: Int, patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int = 0) {
        self.major = major; self.minor = minor; self.patch = patch
    }

    /// Parses "6.12.117-foo" and the like; unparsable parts become 0.
    public init(parsing release: String) {
        let numeric = release.split(whereSeparator: { !($0.isNumber || $0 == ".") }).first ?? ""
        let parts = numeric.split(separator: ".").map { Int($0) ?? 0 } + [0, 0, 0]
        self.init(parts[0], parts[1], parts[2])
    }

    public init(stringLiteral value: String) { self.init(parsing: value) }

    /// `since` of cases on the legacy group/container uAPI alone (no iommufd): that
    /// uAPI is far older (3.6), but the suite claims only the oldest kernel it boots
    /// and checks its expectations against, Debian's 6.1 (where they run and pass).
    public static let legacyVFIO: KernelVersion = "6.1"
    /// iommufd itself: drivers/iommu/iommufd/ and include/uapi/linux/iommufd.h
    /// first appear in 6.2 (absent from the 6.1 tree); the default `since`.
    public static let iommufd: KernelVersion = "6.2"
    /// The VFIO device cdev (/dev/vfio/devices/vfioN, BIND_IOMMUFD) and HWPT_ALLOC.
    public static let vfioCdev: KernelVersion = "6.6"
    /// A behaviour that differs between 6.12.117 and 7.3.4 (both measured) without
    /// the release that changed it being pinned: every kernel after 6.12 gets the new one.
    public static let after612: KernelVersion = "6.13"

    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }

    public var description: String { "\(major).\(minor)" + (patch > 0 ? ".\(patch)" : "") }

    /// The running kernel's release (uname -r).
    public static func running() -> (KernelVersion, String) {
        var u = utsname()
        uname(&u)
        let release = withUnsafeBytes(of: &u.release) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return (KernelVersion(parsing: release), release)
    }
}

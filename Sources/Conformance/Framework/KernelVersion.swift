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

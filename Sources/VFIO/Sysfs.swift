import Glibc
import IOMMUFD
import SystemPackage

/// Small sysfs helpers on plain Glibc calls (no Foundation: the guest binary stays small).
public enum Sysfs {
    /// A sysfs attribute's text without the trailing newline, or nil.
    public static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        var s = String(decoding: out, as: UTF8.self)
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }

    /// Writes `text` to a sysfs attribute (one write call, as sysfs wants).
    static func write(_ path: String, _ text: String) throws(IOMMUFDError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .system("open", Errno(rawValue: errno), on: path) }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw .system("write", Errno(rawValue: errno), on: path, argument: text) }
    }

    /// The last path component a symlink points to ("../../kernel/iommu_groups/5" → "5").
    static func linkName(_ path: String) -> String? {
        var buf = [Int8](repeating: 0, count: 4096)
        let n = readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.split(separator: "/").last.map(String.init)
    }

    /// Entry names of a directory (no "." / ".."), sorted; empty when missing.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// "0x1234" → 0x1234.
    static func hex<T: FixedWidthInteger>(_ text: String?) -> T? {
        guard var t = text else { return nil }
        if t.hasPrefix("0x") || t.hasPrefix("0X") { t.removeFirst(2) }
        return T(t, radix: 16)
    }
}

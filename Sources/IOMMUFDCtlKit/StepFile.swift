import IOMMUFD
import SystemPackage

// Step-file grammar (one ioctl per step):
//
//   file    := line*
//   line    := blank | '#' comment | step ['#' comment]
//   step    := NAME (key '=' value | flag)*
//   value   := number | handle | word          number: 0x1000, 4096, 16K, 2M, 1G, max
//   expect  := 'expect=' ('ok' | ERRNO)        ERRNO: ENOENT, EEXIST, ... or a decimal errno
//
// A value that starts with a digit must be a number. A value in a number slot that does
// not start with a digit names a handle defined by an earlier step (`as=NAME`): an IOAS,
// a buffer, a mapping (its IOVA), a device.

/// What a step expects from the kernel.
public enum Expectation: Sendable, Equatable, CustomStringConvertible {
    case ok
    case errno(Errno)

    public var description: String {
        switch self {
        case .ok: return "ok"
        case .errno(let e): return IOMMUFDError.symbol(e)
        }
    }

    /// Parses `ok`, `ENOENT`, `2`.
    public static func parse(_ text: String) -> Expectation? {
        let upper = text.uppercased()
        if upper == "OK" || upper == "0" { return .ok }
        if let n = Int32(text), n > 0 { return .errno(Errno(rawValue: n)) }
        return ErrnoNames.value(of: upper).map { .errno(Errno(rawValue: $0)) }
    }
}

/// A number, or the name of a handle whose value is only known when the step runs.
public enum NumberArg: Sendable, Equatable, CustomStringConvertible {
    case literal(UInt64)
    case handle(String)

    public var description: String {
        switch self {
        case .literal(let v): return Numbers.hex(v)
        case .handle(let n): return n
        }
    }
}

public enum BufferKind: String, Sendable, Equatable {
    case anonymous, hugetlb, memfd
}

public enum OptionName: Sendable, Equatable {
    case rlimitMode
    case hugePages
    case id(UInt32)

    var rawID: UInt32 {
        switch self {
        case .rlimitMode: return 0
        case .hugePages: return 1
        case .id(let v): return v
        }
    }
}

/// The kind of a named handle.
public enum HandleKind: String, Sendable, Equatable {
    case ioas = "IOAS"
    case buffer
    case mapping
    case device
}

/// One step: what to send, and what the user expects back.
public struct Step: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case ioasAlloc(name: String)
        case buffer(name: String, size: UInt64, kind: BufferKind)
        /// From a buffer (at an offset) or from a literal user VA.
        case map(ioas: String, buffer: String?, userVA: UInt64?, offset: UInt64, length: UInt64?,
                 iova: NumberArg?, access: MapAccess, raw: Bool, name: String?)
        case unmap(ioas: String, iova: NumberArg?, length: NumberArg?, all: Bool, raw: Bool)
        case copy(dst: String, src: String, srcIOVA: NumberArg, length: UInt64, iova: NumberArg?,
                  access: MapAccess, name: String?)
        case iovaRanges(ioas: String)
        case allowIOVAs(ioas: String, ranges: [IOVARange])
        case option(OptionName, ioas: String?, set: UInt64?)
        case destroy(NumberArg)
        /// A zero-filled struct of `bytes` bytes whose leading `size` field says `size`.
        case rawSize(request: IoctlRequest, size: UInt32, bytes: Int, ioas: String?)
        case openDevice(name: String, path: String)
        case bind(device: String)
        case attach(device: String, pt: NumberArg)
        case detach(device: String)
    }

    public let line: Int
    public let text: String
    public let action: Action
    public let expect: Expectation?

    public init(line: Int, text: String, action: Action, expect: Expectation?) {
        self.line = line
        self.text = text
        self.action = action
        self.expect = expect
    }

    /// True for steps that need a VFIO device.
    public var needsDevice: Bool {
        switch action {
        case .openDevice, .bind, .attach, .detach: return true
        default: return false
        }
    }
}

/// A step file that does not parse: `file:line: message`.
public struct StepFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}

public struct StepFile: Sendable, Equatable {
    public let name: String
    public let steps: [Step]
    /// The comment lines before the first step: what the file reproduces.
    public let summary: [String]

    /// The step names and their keys, for `iommufdctl run --help` and error messages.
    public static let grammar: [(step: String, usage: String)] = [
        ("ioas-alloc", "as=NAME"),
        ("buffer", "as=NAME size=N [hugetlb=1|memfd=1]"),
        ("map", "ioas=A (buffer=B [offset=N] | va=N) [length=N] [iova=N|auto] [access=r|w|rw|none] [raw=1] [as=NAME]"),
        ("unmap", "ioas=A (iova=N length=N | all) [raw=1]"),
        ("copy", "ioas=DST src=SRC src-iova=N length=N [iova=N|auto] [access=rw] [as=NAME]"),
        ("iova-ranges", "ioas=A"),
        ("allow-iovas", "ioas=A [ranges=START-LAST,...]"),
        ("option", "name=rlimit-mode|huge-pages|N [ioas=A] [set=N]"),
        ("destroy", "id=A|N"),
        ("raw-size", "request=IOAS_MAP size=N [bytes=N] [ioas=A]"),
        ("device", "as=NAME path=/dev/vfio/devices/vfioN|BDF"),
        ("bind", "device=D"),
        ("attach", "device=D pt=A|N"),
        ("detach", "device=D"),
    ]

    public static func parse(_ text: String, name: String) throws(StepFileError) -> StepFile {
        var parser = Parser(file: name)
        var summary: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine).trimmingWhitespace()
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                if parser.steps.isEmpty { summary.append(String(line.dropFirst()).trimmingWhitespace()) }
                continue
            }
            try parser.parseLine(line, number: index + 1)
        }
        return StepFile(name: name, steps: parser.steps, summary: summary)
    }
}

private struct Parser {
    let file: String
    var steps: [Step] = []
    var handles: [String: HandleKind] = [:]

    init(file: String) { self.file = file }

    func fail(_ line: Int, _ message: String) -> StepFileError {
        StepFileError(file: file, line: line, message: message)
    }

    mutating func parseLine(_ fullLine: String, number line: Int) throws(StepFileError) {
        // Strip a trailing comment.
        var text = fullLine
        if let hash = text.firstIndex(of: "#") { text = String(text[..<hash]).trimmingWhitespace() }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let stepName = words.first else { return }
        var args = Args(line: line, file: file)
        for word in words.dropFirst() {
            if let eq = word.firstIndex(of: "=") {
                let key = normalize(String(word[..<eq]))
                let value = String(word[word.index(after: eq)...])
                if key.isEmpty { throw fail(line, "empty key in '\(word)'") }
                if value.isEmpty { throw fail(line, "empty value for '\(key)'") }
                if args.values[key] != nil { throw fail(line, "duplicate argument '\(key)'") }
                args.values[key] = value
                args.order.append(key)
            } else {
                let key = normalize(word)
                if args.values[key] != nil { throw fail(line, "duplicate argument '\(key)'") }
                args.values[key] = "1"
                args.order.append(key)
            }
        }
        var expect: Expectation?
        if let e = args.take("expect") {
            guard let parsed = Expectation.parse(e) else {
                throw fail(line, "bad expectation '\(e)': use ok or an errno name (ENOENT, EEXIST, EINVAL...)")
            }
            expect = parsed
        }
        let action = try parseAction(normalize(stepName), &args)
        if let leftover = args.order.first(where: { args.values[$0] != nil }) {
            throw fail(line, "unknown argument '\(leftover)' for step '\(stepName)'")
        }
        steps.append(Step(line: line, text: text, action: action, expect: expect))
    }

    func normalize(_ s: String) -> String { s.lowercased().replacingUnderscores() }

    mutating func define(_ name: String, _ kind: HandleKind, _ args: Args) throws(StepFileError) -> String {
        if name.first?.isNumber == true { throw fail(args.line, "handle name '\(name)' must not start with a digit") }
        if let existing = handles[name], existing != kind {
            throw fail(args.line, "'\(name)' is already a \(existing.rawValue) handle")
        }
        handles[name] = kind
        return name
    }

    func use(_ name: String, _ kind: HandleKind, _ args: Args) throws(StepFileError) -> String {
        guard let existing = handles[name] else {
            throw fail(args.line, "unknown \(kind.rawValue) '\(name)' (define it first with as=\(name))")
        }
        if existing != kind { throw fail(args.line, "'\(name)' is a \(existing.rawValue) handle, not a \(kind.rawValue)") }
        return name
    }

    func numberArg(_ key: String, _ text: String, _ args: Args, kinds: [HandleKind]) throws(StepFileError) -> NumberArg {
        if text.first?.isNumber == true || text.lowercased() == "max" {
            guard let v = Numbers.parse(text) else { throw fail(args.line, "bad number '\(text)' for \(key)") }
            return .literal(v)
        }
        guard let kind = handles[text] else {
            throw fail(args.line, "bad number '\(text)' for \(key) (not a number and not a defined handle)")
        }
        guard kinds.contains(kind) else {
            throw fail(args.line, "'\(text)' is a \(kind.rawValue) handle; \(key) takes a number"
                       + (kinds.isEmpty ? "" : " or a \(kinds.map(\.rawValue).joined(separator: "/")) handle"))
        }
        return .handle(text)
    }

    func access(_ args: inout Args) throws(StepFileError) -> MapAccess {
        guard let text = args.take("access") else { return .readWrite }
        switch text.lowercased() {
        case "rw", "wr", "readwrite": return .readWrite
        case "r", "read", "ro": return .read
        case "w", "write", "wo": return .write
        case "none", "0": return []
        default: throw fail(args.line, "bad access '\(text)': use r, w, rw or none")
        }
    }

    mutating func parseAction(_ step: String, _ a: inout Args) throws(StepFileError) -> Step.Action {
        switch step {
        case "ioas-alloc":
            return .ioasAlloc(name: try define(try a.require("as", step), .ioas, a))
        case "buffer":
            let name = try define(try a.require("as", step), .buffer, a)
            let size = try a.number("size", step)
            if size == 0 { throw fail(a.line, "buffer size must be > 0") }
            let huge = try a.flag("hugetlb"), memfd = try a.flag("memfd")
            if huge && memfd { throw fail(a.line, "choose one of hugetlb=1 and memfd=1") }
            return .buffer(name: name, size: size, kind: huge ? .hugetlb : memfd ? .memfd : .anonymous)
        case "map":
            let ioas = try use(try a.require("ioas", step), .ioas, a)
            var buffer: String?
            var va: UInt64?
            if let b = a.take("buffer") { buffer = try use(b, .buffer, a) }
            if a.has("va") { va = try a.number("va", step) }
            if buffer == nil && va == nil { throw fail(a.line, "missing argument 'buffer' (or va=) for step 'map'") }
            if buffer != nil && va != nil { throw fail(a.line, "give buffer= or va=, not both") }
            let offset = try a.optionalNumber("offset") ?? 0
            let length = try a.optionalNumber("length")
            if va != nil && length == nil { throw fail(a.line, "missing argument 'length' for step 'map' with va=") }
            var iova: NumberArg?
            if let t = a.take("iova"), t.lowercased() != "auto" {
                iova = try numberArg("iova", t, a, kinds: [.mapping])
            }
            let acc = try access(&a)
            let raw = try a.flag("raw")
            var name: String?
            if let n = a.take("as") { name = try define(n, .mapping, a) }
            return .map(ioas: ioas, buffer: buffer, userVA: va, offset: offset, length: length, iova: iova,
                        access: acc, raw: raw, name: name)
        case "unmap":
            let ioas = try use(try a.require("ioas", step), .ioas, a)
            let all = try a.flag("all")
            let raw = try a.flag("raw")
            var iova: NumberArg?, length: NumberArg?
            if let t = a.take("iova") { iova = try numberArg("iova", t, a, kinds: [.mapping]) }
            if let t = a.take("length") { length = try numberArg("length", t, a, kinds: []) }
            if all && (iova != nil || length != nil) { throw fail(a.line, "unmap: give 'all' or iova= length=, not both") }
            if !all && iova == nil { throw fail(a.line, "missing argument 'iova' for step 'unmap' (or 'all')") }
            if !all && length == nil { throw fail(a.line, "missing argument 'length' for step 'unmap'") }
            return .unmap(ioas: ioas, iova: iova, length: length, all: all, raw: raw)
        case "copy":
            let dst = try use(try a.require("ioas", step), .ioas, a)
            let src = try use(try a.require("src", step), .ioas, a)
            let srcIOVA = try numberArg("src-iova", try a.require("src-iova", step), a, kinds: [.mapping])
            let length = try a.number("length", step)
            var iova: NumberArg?
            if let t = a.take("iova"), t.lowercased() != "auto" { iova = try numberArg("iova", t, a, kinds: [.mapping]) }
            let acc = try access(&a)
            var name: String?
            if let n = a.take("as") { name = try define(n, .mapping, a) }
            return .copy(dst: dst, src: src, srcIOVA: srcIOVA, length: length, iova: iova, access: acc, name: name)
        case "iova-ranges":
            return .iovaRanges(ioas: try use(try a.require("ioas", step), .ioas, a))
        case "allow-iovas":
            let ioas = try use(try a.require("ioas", step), .ioas, a)
            var ranges: [IOVARange] = []
            if let text = a.take("ranges"), text.lowercased() != "none" {
                for part in text.split(separator: ",") {
                    let ends = part.split(separator: "-", maxSplits: 1)
                    guard ends.count == 2, let s = Numbers.parse(String(ends[0])), let l = Numbers.parse(String(ends[1])) else {
                        throw fail(a.line, "bad range '\(part)': use START-LAST (inclusive), e.g. 0x100000-0x1fffff")
                    }
                    ranges.append(IOVARange(start: s, last: l))
                }
            }
            return .allowIOVAs(ioas: ioas, ranges: ranges)
        case "option":
            let text = try a.require("name", step)
            let option: OptionName
            switch normalize(text) {
            case "rlimit-mode", "rlimit": option = .rlimitMode
            case "huge-pages", "hugepages": option = .hugePages
            default:
                guard let n = Numbers.parse(text), n <= UInt32.max else {
                    throw fail(a.line, "unknown option '\(text)': use rlimit-mode, huge-pages or a number")
                }
                option = .id(UInt32(n))
            }
            var ioas: String?
            if let t = a.take("ioas") { ioas = try use(t, .ioas, a) }
            let set = try a.optionalNumber("set")
            return .option(option, ioas: ioas, set: set)
        case "destroy":
            let t = try a.require("id", step)
            return .destroy(try numberArg("id", t, a, kinds: [.ioas, .device]))
        case "raw-size":
            let reqText = try a.require("request", step)
            guard let request = RequestCatalog.find(reqText) else {
                throw fail(a.line, "unknown request '\(reqText)' (use a name like IOAS_MAP or a number like 0x85)")
            }
            let size = try a.number("size", step)
            guard size <= UInt32.max else { throw fail(a.line, "size \(size) does not fit the u32 size field") }
            let bytes = try a.optionalNumber("bytes") ?? max(size, 8)
            guard bytes >= 4, bytes <= 1 << 16 else { throw fail(a.line, "bytes must be 4...65536") }
            var ioas: String?
            if let t = a.take("ioas") { ioas = try use(t, .ioas, a) }
            return .rawSize(request: request, size: UInt32(size), bytes: Int(bytes), ioas: ioas)
        case "device", "open-device":
            let name = try define(try a.require("as", step), .device, a)
            return .openDevice(name: name, path: try a.require("path", step))
        case "bind":
            return .bind(device: try use(try a.require("device", step), .device, a))
        case "attach":
            let d = try use(try a.require("device", step), .device, a)
            return .attach(device: d, pt: try numberArg("pt", try a.require("pt", step), a, kinds: [.ioas]))
        case "detach":
            return .detach(device: try use(try a.require("device", step), .device, a))
        default:
            let known = StepFile.grammar.map(\.step)
            let hint = known.first(where: { editDistance($0, step) <= 2 }).map { " (did you mean '\($0)'?)" } ?? ""
            throw fail(a.line, "unknown step '\(step)'\(hint)")
        }
    }
}

private struct Args {
    let line: Int
    let file: String
    var values: [String: String] = [:]
    var order: [String] = []

    init(line: Int, file: String) { self.line = line; self.file = file }

    func has(_ key: String) -> Bool { values[key] != nil }

    mutating func take(_ key: String) -> String? {
        defer { values[key] = nil }
        return values[key]
    }

    mutating func require(_ key: String, _ step: String) throws(StepFileError) -> String {
        guard let v = take(key) else {
            throw StepFileError(file: file, line: line, message: "missing argument '\(key)' for step '\(step)'")
        }
        return v
    }

    mutating func number(_ key: String, _ step: String) throws(StepFileError) -> UInt64 {
        let text = try require(key, step)
        guard let v = Numbers.parse(text) else {
            throw StepFileError(file: file, line: line, message: "bad number '\(text)' for \(key)")
        }
        return v
    }

    mutating func optionalNumber(_ key: String) throws(StepFileError) -> UInt64? {
        guard let text = take(key) else { return nil }
        guard let v = Numbers.parse(text) else {
            throw StepFileError(file: file, line: line, message: "bad number '\(text)' for \(key)")
        }
        return v
    }

    mutating func flag(_ key: String) throws(StepFileError) -> Bool {
        guard let text = take(key) else { return false }
        switch text.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off": return false
        default: throw StepFileError(file: file, line: line, message: "bad flag '\(text)' for \(key): use 1 or 0")
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }

    func replacingUnderscores() -> String { String(map { $0 == "_" ? "-" : $0 }) }
}

import IOMMUFD
import SystemPackage

/// Turns step lines into `Step`s, tracking the handles earlier steps define (`as=NAME`).
struct StepParser {
    let file: String
    var steps: [Step] = []
    var handles: [String: HandleKind] = [:]
    /// Groups opened by `number=`: get-device-fd on them needs `device=`.
    var groupsOpenedByNumber: Set<String> = []

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
        var args = StepArguments(line: line, file: file)
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

    mutating func define(_ name: String, _ kind: HandleKind, _ args: StepArguments) throws(StepFileError) -> String {
        if name.first?.isNumber == true { throw fail(args.line, "handle name '\(name)' must not start with a digit") }
        if let existing = handles[name], existing != kind {
            throw fail(args.line, "'\(name)' is already a \(existing.rawValue) handle")
        }
        handles[name] = kind
        return name
    }

    func use(_ name: String, _ kind: HandleKind, _ args: StepArguments) throws(StepFileError) -> String {
        guard let existing = handles[name] else {
            throw fail(args.line, "unknown \(kind.rawValue) '\(name)' (define it first with as=\(name))")
        }
        if existing != kind { throw fail(args.line, "'\(name)' is a \(existing.rawValue) handle, not a \(kind.rawValue)") }
        return name
    }

    func numberArg(_ key: String, _ text: String, _ args: StepArguments, kinds: [HandleKind]) throws(StepFileError) -> NumberArg {
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

    func access(_ args: inout StepArguments) throws(StepFileError) -> MapAccess {
        guard let text = args.take("access") else { return .readWrite }
        switch text.lowercased() {
        case "rw", "wr", "readwrite": return .readWrite
        case "r", "read", "ro": return .read
        case "w", "write", "wo": return .write
        case "none", "0": return []
        default: throw fail(args.line, "bad access '\(text)': use r, w, rw or none")
        }
    }

    mutating func parseAction(_ step: String, _ a: inout StepArguments) throws(StepFileError) -> Step.Action {
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
            if let legacy = try parseLegacyVFIOStep(step, &a) { return .legacyVFIO(legacy) }
            let known = StepFile.grammar.map(\.step)
            let hint = known.first(where: { editDistance($0, step) <= 2 }).map { " (did you mean '\($0)'?)" } ?? ""
            throw fail(a.line, "unknown step '\(step)'\(hint)")
        }
    }
}

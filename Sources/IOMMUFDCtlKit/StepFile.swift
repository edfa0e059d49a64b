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
// a buffer, a mapping (its IOVA), a device, a VFIO container or group.
//
// Parsing: StepParser.swift (iommufd steps), LegacyVFIOSteps.swift (container/group steps),
// StepArguments.swift (the key=value words).

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
    case container
    case group
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
        /// A step of the legacy VFIO flow: container, group, SET_IOMMU, MAP_DMA...
        case legacyVFIO(LegacyVFIOStep)
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
        case .legacyVFIO(let step): return step.needsDevice
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
    ] + LegacyVFIOStep.grammar

    public static func parse(_ text: String, name: String) throws(StepFileError) -> StepFile {
        var parser = StepParser(file: name)
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

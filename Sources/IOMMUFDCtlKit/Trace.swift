import IOMMUFD
import Synchronization

/// One ioctl as the CLI prints it: request, decoded input and output, result or errno, duration.
/// Built from the library's `IoctlTraceEvent`, so it shows what really went to the kernel.
public struct TraceRecord: Sendable, Equatable, Encodable {
    public struct Field: Sendable, Equatable {
        public let name: String
        public let value: String
        public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    }

    public let request: String
    public let number: UInt
    public let fd: Int32
    public let input: [Field]
    public let output: [Field]
    public let result: Int32?
    public let errno: Int32?
    public let errnoName: String?
    public let meaning: String?
    public let durationNanoseconds: Int64

    public init(request: String, number: UInt, fd: Int32, input: [Field], output: [Field], result: Int32?,
                errno: Int32?, errnoName: String?, meaning: String?, durationNanoseconds: Int64) {
        self.request = request
        self.number = number
        self.fd = fd
        self.input = input
        self.output = output
        self.result = result
        self.errno = errno
        self.errnoName = errnoName
        self.meaning = meaning
        self.durationNanoseconds = durationNanoseconds
    }

    public init(_ event: IoctlTraceEvent) {
        request = event.request
        number = event.number
        fd = event.fd
        input = StructDecoder.decode(number: event.number, fields: event.input)
        output = StructDecoder.decode(number: event.number, fields: event.output)
        result = event.result
        errno = event.error?.errno.rawValue
        errnoName = event.error.map { IOMMUFDError.symbol($0.errno) }
        meaning = event.error?.meaning
        let c = event.duration.components
        durationNanoseconds = c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000
    }

    /// `IOMMU_IOAS_UNMAP size=24 ioas_id=1 iova=0x100000 length=0x2000`
    public var inputLine: String {
        ([request] + input.map { "\($0.name)=\($0.value)" }).joined(separator: " ")
    }

    /// `-> ok result=0 length=0x4000` or `-> ENOENT (2): meaning`
    public var outcomeLine: String {
        if let errnoName, let errno {
            return "-> \(errnoName) (\(errno)): \(meaning ?? "")"
        }
        let changed = output.filter { o in !input.contains(o) }
        let shown = changed.isEmpty ? "" : " " + changed.map { "\($0.name)=\($0.value)" }.joined(separator: " ")
        return "-> ok" + (result.map { $0 == 0 ? "" : " result=\($0)" } ?? "") + shown
    }

    public var durationText: String { Self.formatDuration(durationNanoseconds) }

    public static func formatDuration(_ ns: Int64) -> String {
        if ns < 1_000 { return "\(ns) ns" }
        if ns < 1_000_000 { return "\(ns / 1_000) µs" }
        return "\(ns / 1_000_000) ms"
    }

    enum Keys: String, CodingKey {
        case request, number, fd, input, output, result, errno, errno_name, meaning, duration_ns
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(request, forKey: .request)
        try c.encode(Numbers.hex(number), forKey: .number)
        try c.encode(fd, forKey: .fd)
        try c.encode(FieldList(fields: input), forKey: .input)
        try c.encode(FieldList(fields: output), forKey: .output)
        try c.encodeIfPresent(result, forKey: .result)
        try c.encodeIfPresent(errno, forKey: .errno)
        try c.encodeIfPresent(errnoName, forKey: .errno_name)
        try c.encodeIfPresent(meaning, forKey: .meaning)
        try c.encode(durationNanoseconds, forKey: .duration_ns)
    }
}

/// Fields as a JSON object, in struct order.
struct FieldList: Encodable {
    let fields: [TraceRecord.Field]
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for f in fields { try c.encode(f.value, forKey: Key(stringValue: f.name)) }
    }
}

/// A thread-safe list of records, filled by a trace sink.
public final class TraceCollector: Sendable {
    private let records = Mutex<[TraceRecord]>([])
    private let fds = Mutex<Set<Int32>?>(nil)

    /// Collects only events on these descriptors (nil: all).
    public init(fds: Set<Int32>? = nil) { self.fds.withLock { $0 = fds } }

    public func watch(_ fd: Int32) { fds.withLock { _ = $0?.insert(fd) } }

    public var sink: IoctlTracer.Handler {
        { [self] event in
            let wanted = self.fds.withLock { $0.map { $0.contains(event.fd) } ?? true }
            if wanted { self.records.withLock { $0.append(TraceRecord(event)) } }
        }
    }

    /// Returns and clears what was collected.
    public func drain() -> [TraceRecord] { records.withLock { r in defer { r = [] }; return r } }
}

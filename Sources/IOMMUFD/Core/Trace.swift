import Synchronization

/// One named field of a decoded uAPI struct, for traces and the CLI.
public struct TraceField: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let value: String
    public init(_ name: String, _ value: String) { self.name = name; self.value = value }
    public init(_ name: String, hex: some BinaryInteger) { self.init(name, "0x" + String(hex, radix: 16)) }
    public init(_ name: String, _ value: some BinaryInteger) { self.init(name, String(value)) }
    public var description: String { "\(name)=\(value)" }
}

/// A uAPI struct that can describe its fields by name.
public protocol TraceableArgument {
    var traceFields: [TraceField] { get }
}

/// What one ioctl sent and got back.
public struct IoctlTraceEvent: Sendable, CustomStringConvertible {
    public let request: String
    public let number: UInt
    public let fd: Int32
    public let input: [TraceField]
    public let output: [TraceField]
    /// The ioctl's return value when it succeeded.
    public let result: Int32?
    /// The errno symbol and its meaning for this ioctl when it failed.
    public let error: IOMMUFDError?
    public let duration: Duration

    /// One readable line: `IOMMU_IOAS_MAP (0x3b85) fd 3 in: size=40 ... -> ok (0) [12 µs]`.
    public var description: String {
        let inFields = input.map(\.description).joined(separator: " ")
        let outFields = output.isEmpty ? "" : " out: " + output.map(\.description).joined(separator: " ")
        let answer = error.map { "\(IOMMUFDError.symbol($0.errno)) (\($0.errno.rawValue)): \($0.meaning)" }
            ?? "ok (\(result ?? 0))"
        let micros = duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000
        return "\(request) (0x\(String(number, radix: 16))) fd \(fd) in: \(inFields)\(outFields) -> \(answer) [\(micros) µs]"
    }
}

/// The process-wide tracing hook: off unless someone installs a handler. Several
/// handlers may be active at once (`with` scopes one); each sees every ioctl.
public enum IoctlTracer {
    public typealias Handler = @Sendable (IoctlTraceEvent) -> Void

    // Closures live in class boxes: a closure stored directly in the Mutex is
    // re-abstracted on every inout access, so each read would wrap it in one more
    // thunk (measured: a stack overflow after ~20k traced ioctls).
    private final class Box: Sendable {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }
    private struct Registry {
        var next = 1
        /// Key 0 is the `install`ed handler; others belong to `with` scopes.
        var handlers: [Int: Box] = [:]
    }
    private static let registry = Mutex(Registry())

    /// Sets (or with nil, removes) the process-wide handler.
    public static func install(_ h: Handler?) { registry.withLock { $0.handlers[0] = h.map(Box.init) } }

    /// All active handlers as one, or nil when tracing is off.
    static var current: Handler? {
        let boxes = registry.withLock { Array($0.handlers.values) }
        switch boxes.count {
        case 0: return nil
        case 1: return boxes[0].handler
        default: return { event in for b in boxes { b.handler(event) } }
        }
    }

    /// Runs `body` with `h` receiving events too, removing it after.
    @discardableResult
    public static func with<R, E: Error>(_ h: @escaping Handler, _ body: () throws(E) -> R) throws(E) -> R {
        let key = registry.withLock { r in
            defer { r.next += 1 }
            r.handlers[r.next] = Box(h)
            return r.next
        }
        defer { _ = registry.withLock { $0.handlers.removeValue(forKey: key) } }
        return try body()
    }
}

/// Fields of any argument: named ones where the type knows them, else its bytes.
func traceFields<T>(of value: T) -> [TraceField] {
    if let t = value as? TraceableArgument { return t.traceFields }
    return withUnsafeBytes(of: value) { raw in
        [TraceField("bytes", raw.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined())]
    }
}

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
public struct IoctlTraceEvent: Sendable {
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
}

/// The process-wide tracing hook: off unless someone installs a handler.
public enum IoctlTracer {
    public typealias Handler = @Sendable (IoctlTraceEvent) -> Void

    // The closure lives in a class box: a closure stored directly in the Mutex is
    // re-abstracted on every inout access, so each read would wrap it in one more
    // thunk (measured: a stack overflow after ~20k traced ioctls).
    private final class Box: Sendable {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }
    private static let box = Mutex<Box?>(nil)

    public static func install(_ h: Handler?) { box.withLock { $0 = h.map(Box.init) } }
    static var current: Handler? { box.withLock { $0 }?.handler }

    /// Runs `body` with `h` installed, restoring the previous handler after.
    public static func with<R, E: Error>(_ h: @escaping Handler, _ body: () throws(E) -> R) throws(E) -> R {
        let previous = box.withLock { old in defer { old = Box(h) }; return old }
        defer { box.withLock { $0 = previous } }
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

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
    /// The argument's fields as sent (decoded from a copy when read).
    public var input: [TraceField] { fields.input }
    /// The argument's fields as the kernel left them; empty when the ioctl failed.
    public var output: [TraceField] { fields.output }
    /// The ioctl's return value when it succeeded.
    public let result: Int32?
    /// The errno symbol and its meaning for this ioctl when it failed.
    public let error: IOMMUFDError?
    public let duration: Duration
    let fields: TraceFieldStorage

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
///
/// While none is installed an ioctl pays one relaxed atomic load (`isActive`): no lock,
/// no allocation. Relaxed is enough: a handler installed on this thread is seen by this
/// thread's next ioctl (program order); one installed on another thread is seen
/// promptly, and an ioctl racing the installation was never ordered against it anyway.
public enum IoctlTracer {
    public typealias Handler = @Sendable (IoctlTraceEvent) -> Void

    // Closures live in class boxes: a closure stored directly in the Mutex is
    // re-abstracted on every inout access, so each read would wrap it in one more
    // thunk (measured: a stack overflow after ~20k traced ioctls).
    final class Box: Sendable {
        let handler: Handler
        init(_ handler: @escaping Handler) { self.handler = handler }
    }
    private struct Registry {
        var next = 1
        /// Key 0 is the `install`ed handler; others belong to `with` scopes.
        var handlers: [Int: Box] = [:]
        /// Every handler as one, rebuilt on each change: a traced ioctl only retains it.
        var combined: Box?

        mutating func changed() {
            let boxes = Array(handlers.values)
            switch boxes.count {
            case 0: combined = nil
            case 1: combined = boxes[0]
            default: combined = Box { event in for b in boxes { b.handler(event) } }
            }
            IoctlTracer.handlerCount.store(boxes.count, ordering: .relaxed)
        }
    }
    private static let registry = Mutex(Registry())
    /// The registry's handler count, mirrored for the untraced fast path.
    @usableFromInline static let handlerCount = Atomic<Int>(0)

    /// True while any handler is installed (one relaxed load).
    @inlinable static var isActive: Bool { handlerCount.load(ordering: .relaxed) != 0 }

    /// Sets (or with nil, removes) the process-wide handler.
    public static func install(_ h: Handler?) {
        registry.withLock { r in
            r.handlers[0] = h.map(Box.init)
            r.changed()
        }
    }

    /// All active handlers as one, or nil when tracing is off. The box, not its closure:
    /// a closure returned through the lock's generic result is re-wrapped in thunks
    /// (two allocations per traced ioctl).
    static var current: Box? { registry.withLock { $0.combined } }

    /// Runs `body` with `h` receiving events too, removing it after.
    @discardableResult
    public static func with<R, E: Error>(_ h: @escaping Handler, _ body: () throws(E) -> R) throws(E) -> R {
        let key = registry.withLock { r in
            defer { r.next += 1 }
            r.handlers[r.next] = Box(h)
            r.changed()
            return r.next
        }
        defer {
            registry.withLock { r in
                r.handlers.removeValue(forKey: key)
                r.changed()
            }
        }
        return try body()
    }
}

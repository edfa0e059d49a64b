/// Where a trace event's fields come from. Decoding a struct into named fields costs far
/// more than the ioctl's own user-space work, so a traced ioctl keeps a copy of the
/// argument and `IoctlTraceEvent.input`/`output` decode it when read: a handler that
/// reads no fields pays no decoding.
///
/// Unchecked Sendable: only plain-data arguments are kept (`InlineArgument.fits`,
/// `traceFields(before:after:failed:)`), copies of bits that nothing writes again.
struct TraceFieldStorage: @unchecked Sendable {
    /// A plain-data argument of up to 64 bytes (nearly all) as sent and as the kernel left
    /// it (nil when the ioctl failed), stored in the event itself: no allocation, and
    /// copying the event copies bits, no reference counting.
    private var small: (type: Any.Type, before: InlineArgument, after: InlineArgument?)?
    /// Any other argument: boxed, or decoded when the ioctl ran.
    private var other: OtherFields?

    static func inline(type: Any.Type, before: InlineArgument, after: InlineArgument?) -> Self {
        TraceFieldStorage(small: (type, before, after))
    }

    /// A larger plain-data argument, boxed.
    static func boxed(before: Any, after: Any?) -> Self {
        TraceFieldStorage(other: OtherFields(before: before, after: after))
    }

    /// Fields decoded when the ioctl ran (raw bytes, integer arguments, other arguments).
    static func decoded(input: [TraceField], output: [TraceField]) -> Self {
        TraceFieldStorage(other: OtherFields(input: input, output: output))
    }

    var input: [TraceField] {
        if let small { return small.before.fields(as: small.type) }
        return other?.input ?? []
    }

    var output: [TraceField] {
        if let small { return small.after?.fields(as: small.type) ?? [] }
        return other?.output ?? []
    }
}

/// The fields of an argument `InlineArgument` does not take.
final class OtherFields: @unchecked Sendable {
    private let before: Any?
    private let after: Any?
    private let decoded: (input: [TraceField], output: [TraceField])?

    init(before: Any, after: Any?) {
        self.before = before
        self.after = after
        decoded = nil
    }

    init(input: [TraceField], output: [TraceField]) {
        before = nil
        after = nil
        decoded = (input, output)
    }

    var input: [TraceField] { decoded?.input ?? before.map(traceFields(ofBoxed:)) ?? [] }
    var output: [TraceField] { decoded?.output ?? after.map(traceFields(ofBoxed:)) ?? [] }
}

/// The bytes of a small plain-data value, kept inline.
@usableFromInline
struct InlineArgument {
    @inlinable static var capacity: Int { 64 }
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)

    init<T>(_ value: T) {
        withUnsafeBytes(of: value) { source in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: source) }
        }
    }

    /// `bytes.count` must not exceed `capacity`.
    init(bytes: UnsafeRawBufferPointer) {
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
    }

    /// Whether a `T` fits: plain data, at most `capacity` bytes, at most 8-byte aligned.
    @inlinable
    static func fits<T>(_: T.Type) -> Bool {
        _isPOD(T.self) && MemoryLayout<T>.size <= capacity && MemoryLayout<T>.alignment <= 8
    }

    /// The fields of the value these bytes hold, `type` being what `init` was given.
    func fields(as type: Any.Type) -> [TraceField] {
        func decode<T>(_: T.Type) -> [TraceField] {
            withUnsafeBytes(of: words) { traceFields(of: $0.load(as: T.self)) }
        }
        return _openExistential(type, do: decode)
    }
}

/// The fields of an argument too large or too unusual for `InlineArgument`, as sent
/// (`before`) and returned (`after`, unless `failed`): boxed to decode later when `T` is
/// plain data, decoded now otherwise. No `T?` here: from an unspecialized caller that type
/// would be looked up at run time on every call.
func traceFields<T>(before: T, after: T, failed: Bool) -> TraceFieldStorage {
    guard _isPOD(T.self) else {
        return .decoded(input: traceFields(of: before), output: failed ? [] : traceFields(of: after))
    }
    return .boxed(before: before, after: failed ? nil : after as Any)
}

/// Fields of any argument: named ones where the type knows them, else its bytes.
func traceFields<T>(of value: T) -> [TraceField] {
    if let t = value as? TraceableArgument { return t.traceFields }
    return withUnsafeBytes(of: value) { raw in
        [TraceField("bytes", raw.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined())]
    }
}

/// Fields of a copy kept as `Any`, opened first so unnamed fields show the value's bytes.
func traceFields(ofBoxed value: Any) -> [TraceField] {
    _openExistential(value, do: traceFields(of:))
}

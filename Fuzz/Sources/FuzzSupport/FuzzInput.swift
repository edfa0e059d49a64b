/// Structured values drawn from a fuzz input, front to back. Past the end every read
/// answers zero, so any input decodes to something and libFuzzer's mutations of one
/// byte change one decision.
public struct FuzzInput {
    public let bytes: [UInt8]
    public private(set) var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isEmpty: Bool { position >= bytes.count }

    public mutating func u8() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func integer<T: FixedWidthInteger>(_: T.Type = T.self) -> T {
        var v: T = 0
        for i in 0..<MemoryLayout<T>.size { v |= T(truncatingIfNeeded: u8()) << (8 * i) }
        return v
    }

    public mutating func u16() -> UInt16 { integer() }
    public mutating func u32() -> UInt32 { integer() }
    public mutating func u64() -> UInt64 { integer() }
    public mutating func bool() -> Bool { u8() & 1 != 0 }

    /// A choice among `count` options.
    public mutating func pick(_ count: Int) -> Int { count <= 1 ? 0 : Int(u8()) % count }

    /// A 64-bit value biased towards the edges the validation checks: 0, 1, powers of
    /// two and their neighbours, UINT64_MAX; otherwise 8 raw bytes.
    public mutating func interesting64() -> UInt64 {
        switch u8() % 8 {
        case 0: return 0
        case 1: return UInt64(u8() % 64).exponent2
        case 2: return UInt64(u8() % 64).exponent2 &- 1
        case 3: return UInt64(u8() % 64).exponent2 &+ 1
        case 4: return .max &- UInt64(u8())
        case 5: return UInt64(u16()) << 12
        default: return u64()
        }
    }

    /// An Int biased the same way, negative values included (they are API misuse to survive).
    public mutating func interestingInt() -> Int { Int(truncatingIfNeeded: interesting64()) }

    /// Up to `max` bytes; the length comes first.
    public mutating func data(max: Int) -> [UInt8] {
        let n = Int(u16()) % (max + 1)
        return (0..<n).map { _ in u8() }
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }
}

extension UInt64 {
    /// 2^self.
    var exponent2: UInt64 { 1 << self }
}

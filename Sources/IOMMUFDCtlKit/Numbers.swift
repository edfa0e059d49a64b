/// Number parsing and formatting shared by step files and output.
public enum Numbers {
    /// Parses `0x1000`, `4096`, `0b101`, `16K`, `2M`, `1G` (binary multiples), `max` (UINT64_MAX).
    public static func parse(_ text: String) -> UInt64? {
        var s = String(text.lowercased().filter { $0 != "_" })
        if s == "max" || s == "u64max" { return .max }
        var multiplier: UInt64 = 1
        if let last = s.last {
            switch last {
            case "k": multiplier = 1 << 10
            case "m": multiplier = 1 << 20
            case "g": multiplier = 1 << 30
            default: break
            }
            if multiplier != 1 { s.removeLast() }
        }
        let value: UInt64?
        if s.hasPrefix("0x") {
            value = UInt64(s.dropFirst(2), radix: 16)
        } else if s.hasPrefix("0b") {
            value = UInt64(s.dropFirst(2), radix: 2)
        } else {
            value = UInt64(s, radix: 10)
        }
        guard let v = value else { return nil }
        let (product, overflow) = v.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    public static func hex(_ value: some BinaryInteger) -> String { "0x" + String(value, radix: 16) }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
    func rightPadded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}

import CIOMMUFD
import IOMMUFD
import SystemPackage

/// One entry of a VFIO info capability chain (`vfio_info_cap_header` + payload).
public struct InfoCapability: Sendable, Hashable {
    public let id: UInt16
    public let version: UInt16
    /// The capability's bytes after its 8-byte header, up to the next one (or the end).
    public let payload: [UInt8]

    public init(id: UInt16, version: UInt16, payload: [UInt8]) {
        self.id = id
        self.version = version
        self.payload = payload
    }

    /// Walks a chain in `bytes` (the whole info struct), starting at `first`.
    /// `next` offsets are from the start of the struct; 0 ends the chain.
    /// Loops, backward links and out-of-range offsets end the walk instead of trapping:
    /// this is kernel data. A `next` that is not past this header leaves the payload
    /// running to the end of the bytes.
    public static func chain(in bytes: [UInt8], first: UInt32, headerSize: Int) -> [InfoCapability] {
        var caps: [InfoCapability] = []
        var offset = Int(first)
        var seen = Set<Int>()
        while offset != 0, offset >= headerSize, offset + 8 <= bytes.count, seen.insert(offset).inserted,
              caps.count < 64 {
            let id = bytes.le(UInt16.self, at: offset) ?? 0
            let version = bytes.le(UInt16.self, at: offset + 2) ?? 0
            let next = Int(bytes.le(UInt32.self, at: offset + 4) ?? 0)
            let end = (next >= offset + 8 && next <= bytes.count) ? next : bytes.count
            caps.append(InfoCapability(id: id, version: version, payload: Array(bytes[(offset + 8)..<end])))
            offset = next
        }
        return caps
    }
}

extension Array where Element == UInt8 {
    /// A little-endian integer at `offset`, or nil when it does not fit.
    func le<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset + size <= count else { return nil }
        var v: T = 0
        for i in 0..<size { v |= T(self[offset + i]) << (8 * i) }
        return v
    }

    mutating func putLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset + size <= count else { return }
        for i in 0..<size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}

/// The bytes of a C struct, and back.
func bytes<T>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

func load<T>(_ type: T.Type, from bytes: [UInt8], initial: T) -> T {
    var value = initial
    withUnsafeMutableBytes(of: &value) { dst in
        let n = Swift.min(dst.count, bytes.count)
        for i in 0..<n { dst[i] = bytes[i] }
    }
    return value
}

extension KernelFD {
    /// The VFIO "argsz two-pass": sends `header` (whose first field is argsz); when the
    /// kernel answers with a larger argsz (room for the capability chain), sends again
    /// with a buffer that large. Returns all bytes the kernel filled in.
    func performGrowing(_ request: IoctlRequest, header: [UInt8], argumentName: String? = nil,
                        maximum: Int = 1 << 20) throws(IOMMUFDError) -> [UInt8] {
        var size = header.count
        for _ in 0..<4 {
            var buffer = [UInt8](repeating: 0, count: size)
            for i in 0..<header.count { buffer[i] = header[i] }
            buffer.putLE(UInt32(size), at: 0)
            // The stdlib's withUnsafeMutableBytes is rethrows, which erases the typed error.
            let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
            defer { raw.deallocate() }
            raw.copyBytes(from: buffer)
            let result = Result { () throws(IOMMUFDError) in try perform(request, bytes: raw, argumentName: argumentName) }
            buffer = Array(raw)
            _ = try result.get()
            let wanted = Int(buffer.le(UInt32.self, at: 0) ?? 0)
            if wanted <= size { return buffer }
            guard wanted <= maximum else {
                throw .invalid(request, argument: "argsz", "kernel asked for \(wanted) bytes, more than the \(maximum) allowed",
                               errno: .argListTooLong)
            }
            size = wanted
        }
        throw .invalid(request, argument: "argsz", "kernel kept growing argsz", errno: .argListTooLong)
    }
}

import IOMMUFD

/// A zeroed byte buffer holding an iommufd command, for sending malformed sizes on purpose.
public struct RawCommand {
    public var bytes: [UInt8]

    public init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    /// Stores a little-endian integer at a byte offset (the `size` field is at 0).
    public mutating func set<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for (i, b) in raw.enumerated() where offset + i < bytes.count { bytes[offset + i] = b }
        }
    }

    /// Sends the bytes unvalidated through `request`.
    public mutating func send(_ request: IoctlRequest, on fd: KernelFD) throws(IOMMUFDError) {
        var copy = bytes
        let n = copy.count
        let result: Result<Void, IOMMUFDError> = copy.withUnsafeMutableBytes { raw in
            do throws(IOMMUFDError) {
                try fd.perform(request, bytes: UnsafeMutableRawBufferPointer(rebasing: raw[0..<n]))
                return .success(())
            } catch { return .failure(error) }
        }
        bytes = copy
        try result.get()
    }
}

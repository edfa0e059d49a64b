/// Typed-throws scoped buffers: the stdlib's withUnsafe* helpers are `rethrows`,
/// which erases `throws(IOMMUFDError)` to `any Error`.
public func withArrayBuffer<T, R>(_ values: [T],
                                  _ body: (UnsafeMutableBufferPointer<T>) throws(IOMMUFDError) -> R)
    throws(IOMMUFDError) -> R {
    let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
    _ = buffer.initialize(from: values)
    defer {
        buffer.baseAddress?.deinitialize(count: values.count)
        buffer.deallocate()
    }
    return try body(UnsafeMutableBufferPointer(rebasing: buffer[0..<values.count]))
}

/// The address of a buffer as the kernel's `__u64` user pointer.
public func userPointer(_ p: UnsafeRawPointer?) -> UInt64 {
    UInt64(UInt(bitPattern: p))
}

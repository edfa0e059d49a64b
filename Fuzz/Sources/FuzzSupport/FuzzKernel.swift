import IOMMUFD
import VFIO

/// A kernel played by the fuzz input: every ioctl, read(2), pread(2) and poll(2) the
/// library issues is answered from the same `FuzzInput`, so one input is one whole
/// conversation. Nothing reaches a real kernel; descriptors are numbers only.
///
/// Requests without a handler succeed or fail with an errno drawn from the input and
/// leave the argument alone (the validation target only needs the answer). Handlers
/// emulate the kernel's writes for the requests whose output a decoder reads.
///
/// @unchecked Sendable: libFuzzer calls the target on one thread, one input at a time.
public final class FuzzKernel: IoctlDriver, QueueIODriver, DeviceFileIO, @unchecked Sendable {
    public typealias Handler = (FuzzKernel, UnsafeMutableRawPointer?) -> Int32

    public var input: FuzzInput
    public private(set) var calls: [UInt] = []
    private var handlers: [UInt: Handler] = [:]

    public init(_ input: FuzzInput) { self.input = input }

    /// Answers `request` with `handler` (which returns 0 or -errno).
    public func handle(_ request: IoctlRequest, _ handler: @escaping Handler) {
        handlers[request.number] = handler
    }

    /// 0 most of the time, else a -errno the library has meanings for (or any other).
    public func result() -> Int32 {
        let pick = input.u8()
        if pick < 160 { return 0 }
        let common: [Int32] = [1, 2, 5, 7, 9, 12, 14, 16, 17, 19, 22, 25, 28, 34, 75, 90, 95, 110]
        return pick < 250 ? -common[Int(pick) % common.count] : -Int32(1 + input.u8() % 133)
    }

    // MARK: IoctlDriver

    public func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        calls.append(request)
        if let handler = handlers[request] { return handler(self, argument) }
        return result()
    }

    public func close(fd: Int32) -> Int32 { 0 }

    // MARK: QueueIODriver (fault queue, vEVENTQ)

    public func read(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let r = result()
        if r < 0 { return Int(r) }
        return fill(buffer)
    }

    public func write(fd: Int32, from buffer: UnsafeRawBufferPointer) -> Int {
        let r = result()
        return r < 0 ? Int(r) : min(buffer.count, Int(input.u16()))
    }

    public func poll(fd: Int32, timeoutMilliseconds: Int32) -> Int32 {
        input.bool() ? 1 : 0
    }

    // MARK: DeviceFileIO (region pread/pwrite)

    public func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: UInt64) -> Int {
        let r = result()
        return r < 0 ? Int(r) : fill(buffer)
    }

    public func pwrite(fd: Int32, from buffer: UnsafeRawBufferPointer, offset: UInt64) -> Int {
        let r = result()
        return r < 0 ? Int(r) : min(buffer.count, Int(input.u16()))
    }

    /// Copies up to `buffer.count` input bytes in, as a read(2) would; returns how many.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        let bytes = input.data(max: buffer.count)
        for (i, b) in bytes.enumerated() { buffer[i] = b }
        return bytes.count
    }
}

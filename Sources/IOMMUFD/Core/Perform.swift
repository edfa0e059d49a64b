import Glibc
import SystemPackage

/// The single place that performs an ioctl and reads its errno.
///
/// The untraced path is the ioctl and nothing else: one relaxed load says tracing is
/// off, the descriptor comes from `KernelFD`'s atomic word, and the error is built only
/// on failure. `perform<T>` is inlinable so callers in other modules (VFIO) get it
/// specialized for their struct instead of the generic entry point.
extension KernelFD {
    /// Issues `request` with a pointer to `argument`, which the kernel may update.
    /// Returns the ioctl's non-negative result.
    // Always inlined: as a call, LLVM merges its specializations into one body behind
    // thunks, one more call and return per ioctl.
    @inlinable @inline(__always)
    @discardableResult
    public func perform<T>(_ request: IoctlRequest, _ argument: inout T,
                           argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        if IoctlTracer.isActive {
            // A small plain-data struct (nearly every uAPI argument) is traced as bytes plus
            // its type: no generic code on that path, even when `T` is not specialized.
            guard InlineArgument.fits(T.self) else {
                return try performTraced(request, &argument, argumentName: argumentName)
            }
            return try withUnsafeMutableBytes(of: &argument) { (raw) throws(IOMMUFDError) in
                try performTraced(request, bytes: raw, type: T.self, argumentName: argumentName)
            }
        }
        let result = withUnsafeMutableBytes(of: &argument) { raw in issue(request.number, raw.baseAddress) }
        if result < 0 { throw failure(request, result, argumentName) }
        return result
    }

    /// Issues `request` with raw bytes (used to send short, long or odd-sized structs on purpose).
    @discardableResult
    public func perform(_ request: IoctlRequest, bytes: UnsafeMutableRawBufferPointer,
                        argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        guard IoctlTracer.isActive, let tracer = IoctlTracer.current else {
            return try checked(request, issue(request.number, bytes.baseAddress), argumentName)
        }
        let input = [TraceField("bytes", hexString(bytes))]
        let (result, fd, elapsed) = timedIssue(request.number, bytes.baseAddress)
        let output = result < 0 ? [] : [TraceField("bytes", hexString(bytes))]
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer,
                          fields: .decoded(input: input, output: output), argumentName: argumentName)
    }

    /// Issues `request` with an integer argument passed by value (CHECK_EXTENSION, SET_IOMMU...).
    @discardableResult
    public func perform(_ request: IoctlRequest, value: UInt,
                        argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        let pointer = UnsafeMutableRawPointer(bitPattern: value)
        guard IoctlTracer.isActive, let tracer = IoctlTracer.current else {
            return try checked(request, issue(request.number, pointer), argumentName)
        }
        let (result, fd, elapsed) = timedIssue(request.number, pointer)
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer,
                          fields: .decoded(input: [TraceField("value", hex: value)], output: []),
                          argumentName: argumentName)
    }

    /// The ioctl itself on the (still open) descriptor: its result or -errno, -EBADF once closed.
    @inlinable @inline(__always)
    func issue(_ number: UInt, _ pointer: UnsafeMutableRawPointer?) -> Int32 {
        withDescriptor { fd in ioctl(fd, number, pointer) } ?? -Errno.badFileDescriptor.rawValue
    }

    /// The driver's ioctl; the real kernel's is called directly, not through the existential.
    @inlinable @inline(__always)
    func ioctl(_ fd: Int32, _ number: UInt, _ pointer: UnsafeMutableRawPointer?) -> Int32 {
        usesSystemDriver ? SystemIoctlDriver.ioctl(fd, number, pointer)
            : driver.ioctl(fd: fd, request: number, argument: pointer)
    }

    /// The error for a negative result; kept out of line, off the fast path.
    @usableFromInline @inline(never)
    func failure(_ request: IoctlRequest, _ result: Int32, _ argumentName: String?) -> IOMMUFDError {
        .kernel(request, Errno(rawValue: -result), argument: argumentName)
    }

    private func checked(_ request: IoctlRequest, _ result: Int32, _ argumentName: String?) throws(IOMMUFDError) -> Int32 {
        if result < 0 { throw failure(request, result, argumentName) }
        return result
    }

    /// perform<T> with a tracer: the argument before and after (decoded only if a handler
    /// reads the fields), and the time the ioctl took.
    @usableFromInline
    func performTraced<T>(_ request: IoctlRequest, _ argument: inout T,
                          argumentName: String?) throws(IOMMUFDError) -> Int32 {
        guard let tracer = IoctlTracer.current else {  // the last handler went away meanwhile
            let result = withUnsafeMutableBytes(of: &argument) { raw in issue(request.number, raw.baseAddress) }
            return try checked(request, result, argumentName)
        }
        let before = argument
        let (result, fd, elapsed) = withUnsafeMutableBytes(of: &argument) { raw in
            timedIssue(request.number, raw.baseAddress)
        }
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer,
                          fields: traceFields(before: before, after: argument, failed: result < 0),
                          argumentName: argumentName)
    }

    /// performTraced for a plain-data argument of `InlineArgument.capacity` bytes at most.
    @usableFromInline
    func performTraced(_ request: IoctlRequest, bytes: UnsafeMutableRawBufferPointer, type: Any.Type,
                       argumentName: String?) throws(IOMMUFDError) -> Int32 {
        guard let tracer = IoctlTracer.current else {
            return try checked(request, issue(request.number, bytes.baseAddress), argumentName)
        }
        let before = InlineArgument(bytes: UnsafeRawBufferPointer(bytes))
        let (result, fd, elapsed) = timedIssue(request.number, bytes.baseAddress)
        let after = result < 0 ? nil : InlineArgument(bytes: UnsafeRawBufferPointer(bytes))
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer,
                          fields: .inline(type: type, before: before, after: after), argumentName: argumentName)
    }

    /// The ioctl with its duration and the descriptor it went to (-1 when closed).
    private func timedIssue(_ number: UInt, _ pointer: UnsafeMutableRawPointer?) -> (Int32, Int32, Duration) {
        withDescriptor { fd in
            let start = monotonicNanoseconds()
            let result = ioctl(fd, number, pointer)
            return (result, fd, .nanoseconds(monotonicNanoseconds() - start))
        } ?? (-Errno.badFileDescriptor.rawValue, -1, .zero)
    }

    private func finish(_ request: IoctlRequest, fd: Int32, result: Int32, elapsed: Duration,
                        tracer: IoctlTracer.Box, fields: TraceFieldStorage,
                        argumentName: String?) throws(IOMMUFDError) -> Int32 {
        guard result < 0 else {
            tracer.handler(IoctlTraceEvent(request: request.name, number: request.number, fd: fd, result: result,
                                           error: nil, duration: elapsed, fields: fields))
            return result
        }
        let error = failure(request, result, argumentName)
        tracer.handler(IoctlTraceEvent(request: request.name, number: request.number, fd: fd, result: nil,
                                       error: error, duration: elapsed, fields: fields))
        throw error
    }
}

/// CLOCK_MONOTONIC (ContinuousClock's clock) in nanoseconds, read directly: a third of
/// the instructions of `ContinuousClock.now` and the `Duration` arithmetic, per read.
private func monotonicNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) &* 1_000_000_000 &+ Int64(t.tv_nsec)
}

func hexString(_ bytes: UnsafeMutableRawBufferPointer) -> String {
    bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
}

import SystemPackage

/// The single place that performs an ioctl and reads its errno.
///
/// The untraced path is the ioctl and nothing else: one relaxed load says tracing is
/// off, the descriptor comes from `KernelFD`'s atomic word, and the error is built only
/// on failure.
extension KernelFD {
    /// Issues `request` with a pointer to `argument`, which the kernel may update.
    /// Returns the ioctl's non-negative result.
    @discardableResult
    public func perform<T>(_ request: IoctlRequest, _ argument: inout T,
                           argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        if IoctlTracer.isActive { return try performTraced(request, &argument, argumentName: argumentName) }
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
                          input: input, output: output, argumentName: argumentName)
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
                          input: [TraceField("value", hex: value)], output: [], argumentName: argumentName)
    }

    /// The ioctl itself on the (still open) descriptor: its result or -errno, -EBADF once closed.
    func issue(_ number: UInt, _ pointer: UnsafeMutableRawPointer?) -> Int32 {
        withDescriptor { fd in driver.ioctl(fd: fd, request: number, argument: pointer) }
            ?? -Errno.badFileDescriptor.rawValue
    }

    /// The error for a negative result; kept out of line, off the fast path.
    @inline(never)
    func failure(_ request: IoctlRequest, _ result: Int32, _ argumentName: String?) -> IOMMUFDError {
        .kernel(request, Errno(rawValue: -result), argument: argumentName)
    }

    private func checked(_ request: IoctlRequest, _ result: Int32, _ argumentName: String?) throws(IOMMUFDError) -> Int32 {
        if result < 0 { throw failure(request, result, argumentName) }
        return result
    }

    /// perform<T> with a tracer: the fields before and after, and the time the ioctl took.
    func performTraced<T>(_ request: IoctlRequest, _ argument: inout T,
                          argumentName: String?) throws(IOMMUFDError) -> Int32 {
        guard let tracer = IoctlTracer.current else {  // the last handler went away meanwhile
            let result = withUnsafeMutableBytes(of: &argument) { raw in issue(request.number, raw.baseAddress) }
            return try checked(request, result, argumentName)
        }
        let input = traceFields(of: argument)
        let (result, fd, elapsed) = withUnsafeMutableBytes(of: &argument) { raw in
            timedIssue(request.number, raw.baseAddress)
        }
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer, input: input,
                          output: result < 0 ? [] : traceFields(of: argument), argumentName: argumentName)
    }

    /// The ioctl with its duration and the descriptor it went to (-1 when closed).
    private func timedIssue(_ number: UInt, _ pointer: UnsafeMutableRawPointer?) -> (Int32, Int32, Duration) {
        let clock = ContinuousClock()
        return withDescriptor { fd in
            let start = clock.now
            let result = driver.ioctl(fd: fd, request: number, argument: pointer)
            return (result, fd, clock.now - start)
        } ?? (-Errno.badFileDescriptor.rawValue, -1, .zero)
    }

    private func finish(_ request: IoctlRequest, fd: Int32, result: Int32, elapsed: Duration,
                        tracer: IoctlTracer.Box, input: [TraceField], output: [TraceField],
                        argumentName: String?) throws(IOMMUFDError) -> Int32 {
        let error: IOMMUFDError? = result < 0 ? failure(request, result, argumentName) : nil
        tracer.handler(IoctlTraceEvent(request: request.name, number: request.number, fd: fd, input: input,
                                       output: output, result: error == nil ? result : nil, error: error,
                                       duration: elapsed))
        if let error { throw error }
        return result
    }
}

func hexString(_ bytes: UnsafeMutableRawBufferPointer) -> String {
    bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
}

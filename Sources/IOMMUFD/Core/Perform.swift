import SystemPackage

/// The single place that performs an ioctl and reads its errno.
extension KernelFD {
    /// Issues `request` with a pointer to `argument`, which the kernel may update.
    /// Returns the ioctl's non-negative result.
    @discardableResult
    public func perform<T>(_ request: IoctlRequest, _ argument: inout T,
                           argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        let tracer = IoctlTracer.current
        let input = tracer.map { _ in traceFields(of: argument) } ?? []
        let (result, fd, elapsed) = withUnsafeMutableBytes(of: &argument) { raw in
            issue(request, raw.baseAddress, timed: tracer != nil)
        }
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer, input: input,
                          output: { traceFields(of: argument) }, argumentName: argumentName)
    }

    /// Issues `request` with raw bytes (used to send short, long or odd-sized structs on purpose).
    @discardableResult
    public func perform(_ request: IoctlRequest, bytes: UnsafeMutableRawBufferPointer,
                        argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        let tracer = IoctlTracer.current
        let input = tracer.map { _ in [TraceField("bytes", hexString(bytes))] } ?? []
        let (result, fd, elapsed) = issue(request, bytes.baseAddress, timed: tracer != nil)
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer, input: input,
                          output: { [TraceField("bytes", hexString(bytes))] },
                          argumentName: argumentName)
    }

    /// Issues `request` with an integer argument passed by value (CHECK_EXTENSION, SET_IOMMU...).
    @discardableResult
    public func perform(_ request: IoctlRequest, value: UInt,
                        argumentName: String? = nil) throws(IOMMUFDError) -> Int32 {
        let tracer = IoctlTracer.current
        let (result, fd, elapsed) = issue(request, UnsafeMutableRawPointer(bitPattern: value), timed: tracer != nil)
        return try finish(request, fd: fd, result: result, elapsed: elapsed, tracer: tracer,
                          input: [TraceField("value", hex: value)], output: { [] }, argumentName: argumentName)
    }

    /// The ioctl itself on the still-open descriptor (a racing close waits for it); the
    /// clock is read only when a tracer will report the time.
    private func issue(_ request: IoctlRequest, _ pointer: UnsafeMutableRawPointer?,
                       timed: Bool) -> (Int32, Int32, Duration) {
        withDescriptor { fd in
            guard timed else { return (driver.ioctl(fd: fd, request: request.number, argument: pointer), fd, .zero) }
            let clock = ContinuousClock()
            let start = clock.now
            let result = driver.ioctl(fd: fd, request: request.number, argument: pointer)
            return (result, fd, clock.now - start)
        } ?? (-Errno.badFileDescriptor.rawValue, -1, .zero)
    }

    private func finish(_ request: IoctlRequest, fd: Int32, result: Int32, elapsed: Duration,
                        tracer: IoctlTracer.Handler?, input: [TraceField], output: () -> [TraceField],
                        argumentName: String?) throws(IOMMUFDError) -> Int32 {
        let error: IOMMUFDError? = result < 0
            ? .kernel(request, Errno(rawValue: -result), argument: argumentName) : nil
        if let tracer {
            tracer(IoctlTraceEvent(request: request.name, number: request.number, fd: fd, input: input,
                                   output: error == nil ? output() : [], result: error == nil ? result : nil,
                                   error: error, duration: elapsed))
        }
        if let error { throw error }
        return result
    }
}

func hexString(_ bytes: UnsafeMutableRawBufferPointer) -> String {
    bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
}

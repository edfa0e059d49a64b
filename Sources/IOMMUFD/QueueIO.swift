import Glibc
import SystemPackage

/// The most records one readFaults/readEvents call asks for.
public let maximumQueueRead = 4096

/// read(2)/write(2)/poll(2) on the queue fds iommufd hands out (fault queue, vEVENTQ).
///
/// Optional on top of `IoctlDriver`: a driver that also conforms (the tests' mock)
/// serves these calls; any other driver gets the real syscalls.
public protocol QueueIODriver: IoctlDriver {
    /// Returns bytes read (0: nothing queued) or `-errno`.
    func read(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int
    /// Returns bytes written or `-errno`.
    func write(fd: Int32, from buffer: UnsafeRawBufferPointer) -> Int
    /// Returns > 0 when readable, 0 on timeout, or `-errno`.
    func poll(fd: Int32, timeoutMilliseconds: Int32) -> Int32
}

extension KernelFD {
    /// read(2) on this queue fd; `what` names the queue in errors.
    func readQueue(into buffer: UnsafeMutableRawBufferPointer, what: String) throws(IOMMUFDError) -> Int {
        guard let raw = rawValue else { throw .system("read", .badFileDescriptor, on: what) }
        let n: Int
        if let io = driver as? any QueueIODriver {
            n = io.read(fd: raw, into: buffer)
        } else {
            n = Self.retrying { Glibc.read(raw, buffer.baseAddress, buffer.count) }
        }
        // The kernel's queues never block: an empty queue reads 0 (or EAGAIN with O_NONBLOCK).
        if n == -Int(EAGAIN) { return 0 }
        if n < 0 { throw .system("read", Errno(rawValue: Int32(-n)), on: what) }
        return n
    }

    func writeQueue(_ buffer: UnsafeRawBufferPointer, what: String) throws(IOMMUFDError) -> Int {
        guard let raw = rawValue else { throw .system("write", .badFileDescriptor, on: what) }
        let n: Int
        if let io = driver as? any QueueIODriver {
            n = io.write(fd: raw, from: buffer)
        } else {
            n = Self.retrying { Glibc.write(raw, buffer.baseAddress, buffer.count) }
        }
        if n < 0 { throw .system("write", Errno(rawValue: Int32(-n)), on: what) }
        return n
    }

    /// Checks a read's record count (`max` of readFaults/readEvents): 1...`maximumQueueRead`,
    /// since the records are allocated before the read.
    func checkReadCount(_ max: Int, what: String) throws(IOMMUFDError) {
        guard (1...maximumQueueRead).contains(max) else {
            throw IOMMUFDError(ioctl: what, errno: .invalidArgument, origin: .validation, argument: "max",
                               meaning: "read of \(max) records: give 1...\(maximumQueueRead)")
        }
    }

    /// Waits until readable. Returns false on timeout.
    func waitReadable(timeout: Duration, what: String) throws(IOMMUFDError) -> Bool {
        guard let raw = rawValue else { throw .system("poll", .badFileDescriptor, on: what) }
        let (s, atto) = timeout.components
        // poll(2) takes an int of milliseconds: longer waits are the longest it can do
        // (24.8 days); the seconds are clamped first so the product cannot overflow.
        let seconds = min(max(0, s), Int64(Int32.max / 1000) + 1)
        // A negative timeout polls once: poll(2) would read a negative one as "forever".
        let ms = Int32(clamping: max(0, seconds * 1000 + atto / 1_000_000_000_000_000))
        let r: Int32
        if let io = driver as? any QueueIODriver {
            r = io.poll(fd: raw, timeoutMilliseconds: ms)
        } else {
            var p = pollfd(fd: raw, events: Int16(POLLIN), revents: 0)
            r = Int32(Self.retrying { Int(Glibc.poll(&p, 1, ms)) })
        }
        if r < 0 { throw .system("poll", Errno(rawValue: -r), on: what) }
        return r > 0
    }

    /// Runs a syscall, retrying EINTR; returns its result or `-errno`.
    private static func retrying(_ call: () -> Int) -> Int {
        while true {
            let n = call()
            if n >= 0 { return n }
            if errno != EINTR { return -Int(errno) }
        }
    }
}

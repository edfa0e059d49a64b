import Glibc
import IOMMUFD
import SystemPackage

/// An eventfd(2): the kernel signals it on each device interrupt (SET_IRQS). Closed on deinit.
public struct EventFD: ~Copyable {
    public let rawValue: Int32

    /// Creates a non-blocking eventfd (reads never hang; use `wait(timeout:)` to block).
    public static func create(initial: UInt32 = 0, semaphore: Bool = false) throws(IOMMUFDError) -> EventFD {
        // EFD_CLOEXEC and EFD_NONBLOCK equal O_CLOEXEC and O_NONBLOCK; EFD_SEMAPHORE is 1.
        let raw = c_eventfd(initial, O_CLOEXEC | O_NONBLOCK | (semaphore ? 1 : 0))
        guard raw >= 0 else { throw .system("eventfd", Errno(rawValue: Glibc.errno), on: "eventfd") }
        return EventFD(rawValue: raw)
    }

    private init(rawValue: Int32) { self.rawValue = rawValue }

    /// The descriptor, for SET_IRQS (`enableIRQs(_:eventFDs:)`).
    public var descriptor: FileDescriptor { FileDescriptor(rawValue: rawValue) }

    deinit { Glibc.close(rawValue) }

    /// Reads and resets the counter; nil when nothing was signalled.
    public func read() throws(IOMMUFDError) -> UInt64? {
        var value: UInt64 = 0
        while true {
            let n = Glibc.read(rawValue, &value, 8)
            if n == 8 { return value }
            let err = Glibc.errno
            if n < 0 && err == EINTR { continue }
            if n < 0 && (err == EAGAIN || err == EWOULDBLOCK) { return nil }
            throw .system("read", Errno(rawValue: n < 0 ? err : EIO), on: "eventfd")
        }
    }

    /// Waits up to `timeout` for a signal (poll), then reads it. nil on timeout.
    public func wait(timeout: Duration) throws(IOMMUFDError) -> UInt64? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if let v = try read() { return v }
            let left = deadline - clock.now
            if left <= .zero { return nil }
            let (s, atto) = left.components
            let ms = Int32(clamping: s * 1000 + atto / 1_000_000_000_000_000 + 1)
            var p = pollfd(fd: rawValue, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, ms)
            if r < 0 && Glibc.errno != EINTR { throw .system("poll", Errno(rawValue: Glibc.errno), on: "eventfd") }
        }
    }

    /// Adds `value` to the counter (what the kernel does on an interrupt; for tests).
    public func signal(_ value: UInt64 = 1) throws(IOMMUFDError) {
        var v = value
        let n = Glibc.write(rawValue, &v, 8)
        if n != 8 { throw .system("write", Errno(rawValue: n < 0 ? Glibc.errno : EIO), on: "eventfd") }
    }
}

// Glibc's module map does not export <sys/eventfd.h>; the C symbol takes two ints,
// which the Swift and C conventions pass identically.
// TODO: use a CIOMMUFD shim once the header exports one.
@_silgen_name("eventfd")
private func c_eventfd(_ initval: UInt32, _ flags: Int32) -> Int32

import Glibc
import Synchronization
import SystemPackage

/// A kernel file descriptor shared by an owner and the objects created through it.
///
/// Objects (an IOAS, a HWPT, ...) keep a reference so their deinit can issue
/// DESTROY on the right descriptor. Once the owner closes it, the number is
/// forgotten here, so a later deinit can never hit a reused descriptor.
///
/// The descriptor, a closed flag and a count of the calls using it share one atomic
/// word, so a call reads the descriptor without a lock. A call announces itself with
/// one atomic add that also reads the word, and withdraws after its syscall; `close`
/// sets the flag, then waits for the announced calls before it closes the number.
/// So when a close races an ioctl, either the close comes first and the ioctl fails
/// with EBADF without reaching the kernel, or the ioctl is already announced and
/// completes on the still-open descriptor. The number is never closed under a running
/// call, so another thread's open cannot get it while this call still uses it. (Only
/// reading the number and closing it by exchange would leave that window open: load,
/// close, someone else's open reusing the number, then the ioctl on their file.)
public final class KernelFD: Sendable {
    public let driver: any IoctlDriver
    /// The driver is the real kernel: ioctls then call it directly, not through the existential.
    @usableFromInline let usesSystemDriver: Bool
    /// Bits 0-31: the descriptor; bit 32: closed; bits 33-63: calls using the descriptor.
    @usableFromInline let state: Atomic<UInt64>
    @inlinable static var closedFlag: UInt64 { 1 << 32 }
    @inlinable static var oneUser: UInt64 { 1 << 33 }

    public init(adopting raw: Int32, driver: any IoctlDriver = SystemIoctlDriver()) {
        self.driver = driver
        self.usesSystemDriver = driver is SystemIoctlDriver
        self.state = Atomic(UInt64(UInt32(bitPattern: raw)))
    }

    /// The descriptor number, or nil once closed. A caller that issues its own syscalls
    /// with it should use `withDescriptor`, which keeps `close` from closing it meanwhile.
    public var rawValue: Int32? {
        let word = state.load(ordering: .acquiring)
        return word & Self.closedFlag != 0 ? nil : Self.descriptor(in: word)
    }

    /// Runs `body` with the descriptor, which stays open until `body` returns (a `close`
    /// meanwhile waits for it); nil without running `body` when already closed. `body`
    /// must not close this descriptor: that close would wait for `body` forever.
    @inlinable
    public func withDescriptor<R, E: Error>(_ body: (Int32) throws(E) -> R) throws(E) -> R? {
        let word = state.wrappingAdd(Self.oneUser, ordering: .acquiring).newValue
        defer { state.wrappingSubtract(Self.oneUser, ordering: .releasing) }
        if word & Self.closedFlag != 0 { return nil }
        return try body(Self.descriptor(in: word))
    }

    @inlinable
    static func descriptor(in word: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: word)) }

    /// Closes the descriptor once; later calls return 0. Returns 0 or -errno. Waits for
    /// calls still using the descriptor (see the type's note) before closing it.
    public func close() -> Int32 {
        let before = state.bitwiseOr(Self.closedFlag, ordering: .acquiringAndReleasing).oldValue
        if before & Self.closedFlag != 0 { return 0 }
        var waits = 0
        while state.load(ordering: .acquiring) >= Self.oneUser {
            // A racing ioctl is short; yield first, then sleep in case it blocks.
            if waits < 64 { sched_yield() } else { usleep(100) }
            waits += 1
        }
        return driver.close(fd: Self.descriptor(in: before))
    }

    /// Closes now and reports close(2)'s error, naming `what` was closed.
    public func closeReportingErrors(_ what: String) throws(IOMMUFDError) {
        let result = close()
        if result < 0 { throw .system("close", Errno(rawValue: -result), on: what) }
    }

    deinit {
        // No call can be running: each holds a reference to this object.
        let word = state.load(ordering: .acquiring)
        if word & Self.closedFlag == 0 { _ = driver.close(fd: Self.descriptor(in: word)) }
    }
}

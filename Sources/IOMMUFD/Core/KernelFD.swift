import Synchronization
import SystemPackage

/// A kernel file descriptor shared by an owner and the objects created through it.
///
/// Objects (an IOAS, a HWPT, ...) keep a reference so their deinit can issue
/// DESTROY on the right descriptor. Once the owner closes it, the number is
/// forgotten here, so a later deinit can never hit a reused descriptor.
public final class KernelFD: Sendable {
    public let driver: any IoctlDriver
    private let state: Mutex<Int32?>

    public init(adopting raw: Int32, driver: any IoctlDriver = SystemIoctlDriver()) {
        self.driver = driver
        self.state = Mutex(raw)
    }

    /// The descriptor number, or nil once closed.
    public var rawValue: Int32? { state.withLock { $0 } }

    /// Closes the descriptor once; later calls return 0. Returns 0 or -errno.
    public func close() -> Int32 {
        guard let raw = state.withLock({ (s: inout Int32?) -> Int32? in
            defer { s = nil }
            return s
        }) else { return 0 }
        return driver.close(fd: raw)
    }

    /// Closes now and reports close(2)'s error, naming `what` was closed.
    public func closeReportingErrors(_ what: String) throws(IOMMUFDError) {
        let result = close()
        if result < 0 { throw .system("close", Errno(rawValue: -result), on: what) }
    }

    deinit {
        if let raw = state.withLock({ $0 }) { _ = driver.close(fd: raw) }
    }
}

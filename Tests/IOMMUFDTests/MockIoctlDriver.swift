import CIOMMUFD
import IOMMUFD
import Synchronization
import SystemPackage

/// MOCK kernel for host tests: records every ioctl (request number + the struct bytes
/// sent, `size` bytes from the first u32) and plays scripted replies. Nothing reaches a
/// real kernel. Also serves read/write/poll on queue fds (fault queue, vEVENTQ).
final class MockIoctlDriver: QueueIODriver, Sendable {
    struct Call: Sendable {
        let fd: Int32
        let request: UInt
        /// The argument struct as sent (before the mock's reply).
        let bytes: [UInt8]

        /// The sent struct as `T` (zero-filled past what was recorded).
        func decode<T>(_: T.Type) -> T {
            let p = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
            defer { p.deallocate() }
            p.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
            bytes.prefix(MemoryLayout<T>.size).withUnsafeBytes { p.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return p.load(as: T.self)
        }

        func u32(at offset: Int) -> UInt32 {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
        }
    }

    /// One scripted mock reply: run `handler` (which may edit the struct), else return `errno`.
    struct Reply: Sendable {
        var handler: (@Sendable (UnsafeMutableRawPointer) -> Void)? = nil
        var errno: Errno? = nil

        static func fail(_ e: Errno) -> Reply { Reply(errno: e) }
        static func edit(_ h: @escaping @Sendable (UnsafeMutableRawPointer) -> Void, then e: Errno? = nil) -> Reply {
            Reply(handler: h, errno: e)
        }
        /// Writes `value` at `offset` of the struct, then succeeds.
        static func u32(_ value: UInt32, at offset: Int) -> Reply {
            .edit { $0.storeBytes(of: value, toByteOffset: offset, as: UInt32.self) }
        }
    }

    private struct State {
        var calls: [Call] = []
        var replies: [UInt: [Reply]] = [:]
        var closed: [Int32] = []
        var reads: [Int32: [[UInt8]]] = [:]
        var writes: [(fd: Int32, bytes: [UInt8])] = []
        var pollTimeouts: [Int32] = []
    }

    private let state = Mutex(State())

    /// Queues replies for `request`, used in order; unscripted calls succeed untouched.
    func script(_ request: IoctlRequest, _ replies: Reply...) {
        state.withLock { $0.replies[request.number, default: []].append(contentsOf: replies) }
    }

    /// Queues one read(2) result for a queue fd.
    func scriptRead(fd: Int32, _ bytes: [UInt8]) {
        state.withLock { $0.reads[fd, default: []].append(bytes) }
    }

    var calls: [Call] { state.withLock { $0.calls } }
    var closed: [Int32] { state.withLock { $0.closed } }
    var writes: [(fd: Int32, bytes: [UInt8])] { state.withLock { $0.writes } }
    /// The timeout of every poll(2), in milliseconds.
    var pollTimeouts: [Int32] { state.withLock { $0.pollTimeouts } }
    func calls(_ request: IoctlRequest) -> [Call] { calls.filter { $0.request == request.number } }

    func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        var bytes: [UInt8] = []
        if let argument {
            let size = Int(min(argument.load(as: UInt32.self), 4096))
            bytes = Array(UnsafeRawBufferPointer(start: argument, count: size))
        }
        let reply = state.withLock { s -> Reply? in
            s.calls.append(Call(fd: fd, request: request, bytes: bytes))
            guard var queue = s.replies[request], !queue.isEmpty else { return nil }
            let r = queue.removeFirst()
            s.replies[request] = queue
            return r
        }
        guard let reply else { return 0 }
        if let h = reply.handler, let argument { h(argument) }
        return reply.errno.map { -$0.rawValue } ?? 0
    }

    func close(fd: Int32) -> Int32 {
        state.withLock { $0.closed.append(fd) }
        return 0
    }

    func read(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let next = state.withLock { s -> [UInt8]? in
            guard var q = s.reads[fd], !q.isEmpty else { return nil }
            let first = q.removeFirst()
            s.reads[fd] = q
            return first
        }
        guard let next else { return 0 }
        let n = min(next.count, buffer.count)
        buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: next.withUnsafeBytes { $0 }[0..<n]))
        return n
    }

    func write(fd: Int32, from buffer: UnsafeRawBufferPointer) -> Int {
        state.withLock { $0.writes.append((fd, Array(buffer))) }
        return buffer.count
    }

    func poll(fd: Int32, timeoutMilliseconds: Int32) -> Int32 {
        state.withLock {
            $0.pollTimeouts.append(timeoutMilliseconds)
            return ($0.reads[fd]?.isEmpty ?? true) ? 0 : 1
        }
    }
}

/// A thread-safe box for values a mock handler captures.
final class Captured<T: Sendable>: Sendable {
    private let value: Mutex<T>
    init(_ v: T) { value = Mutex(v) }
    func set(_ v: T) { value.withLock { $0 = v } }
    var get: T { value.withLock { $0 } }
}

/// Byte offset of a stored field of a uAPI struct.
func offset<T>(_ key: PartialKeyPath<T>) -> Int {
    MemoryLayout<T>.offset(of: key) ?? -1
}

/// Bytes of user memory the kernel would read through a __u64 pointer.
func userBytes(_ address: UInt64, _ count: Int) -> [UInt8] {
    guard let p = UnsafeRawPointer(bitPattern: UInt(address)), count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: count))
}

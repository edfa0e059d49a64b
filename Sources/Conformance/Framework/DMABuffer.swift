import CIOMMUFD
import Glibc
import IOMMUFD

/// Host memory that a device will DMA to or from, with its page backing.
public final class DMABuffer {
    public enum Backing: String, Sendable, CaseIterable {
        /// Anonymous 4 KiB pages.
        case anon4k = "anon-4k"
        /// A 2 MiB hugetlb page (MAP_HUGETLB).
        case hugetlb2m = "hugetlb-2m"
        /// A shared mapping of a memfd.
        case memfd
    }

    public let bytes: UnsafeMutableRawBufferPointer
    public let backing: Backing
    private let memfd: Int32

    /// Maps `size` bytes (rounded up to the backing's page size), zeroed.
    public init(size: Int, backing: Backing = .anon4k) throws {
        self.backing = backing
        var length = size
        var flags = MAP_PRIVATE | MAP_ANONYMOUS
        var fd: Int32 = -1
        switch backing {
        case .anon4k: break
        case .hugetlb2m:
            length = (size + (2 << 20) - 1) / (2 << 20) * (2 << 20)
            flags |= MAP_HUGETLB
        case .memfd:
            fd = ciommufd_memfd_create("swift-iommufd-dma", 0)
            guard fd >= 0 else { throw CaseFailure("memfd_create failed: errno \(errno)") }
            guard ftruncate(fd, off_t(length)) == 0 else { close(fd); throw CaseFailure("ftruncate failed: errno \(errno)") }
            flags = MAP_SHARED
        }
        let p = mmap(nil, length, PROT_READ | PROT_WRITE, flags, fd, 0)
        guard let p, p != MAP_FAILED else {
            let err = errno
            if fd >= 0 { close(fd) }
            // Only hugetlb memory can be legitimately short (the pool is shared); plain
            // anonymous or memfd memory failing to map is a broken machine, not a skip.
            let why = "mmap of \(length) bytes (\(backing.rawValue)) failed: errno \(err)"
            if backing == .hugetlb2m { throw CaseSkip(why + " (hugetlb pool exhausted)") }
            throw CaseFailure(why)
        }
        memset(p, 0, length)
        bytes = UnsafeMutableRawBufferPointer(start: p, count: length)
        memfd = fd
    }

    deinit {
        munmap(bytes.baseAddress, bytes.count)
        if memfd >= 0 { close(memfd) }
    }

    public var address: UInt64 { userPointer(bytes.baseAddress) }
    public var count: Int { bytes.count }

    /// Fills the first `length` bytes with a pattern derived from `seed`.
    public func fillPattern(seed: UInt8, length: Int) {
        for i in 0..<min(length, bytes.count) { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ Int(seed)) }
    }

    public func matchesPattern(seed: UInt8, length: Int) -> Bool {
        (0..<min(length, bytes.count)).allSatisfy { bytes[$0] == UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    public func isZero(length: Int) -> Bool { (0..<min(length, bytes.count)).allSatisfy { bytes[$0] == 0 } }

    /// A sub-range view, for mapping part of the buffer.
    public func slice(_ offset: Int, _ length: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }
}

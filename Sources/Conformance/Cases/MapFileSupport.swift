// Plumbing for the MAP_FILE and CHANGE_PROCESS cases: memfds and tmpfs files with CPU
// views made by separate mmaps, a byte pattern, /proc/<pid>/status readers, and the
// native edu setup assembled by hand (so RLIMIT_MODE can be set before any object exists).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// A shmem-backed file (memfd, hugetlb memfd or tmpfs file) that MAP_FILE can pin.
final class MemFile {
    let fd: Int32
    let size: Int

    private init(fd: Int32, size: Int) { self.fd = fd; self.size = size }

    /// memfd_create + ftruncate. Hugetlb (MFD_HUGETLB | MFD_HUGE_2MB) sizes round up to 2 MiB.
    static func memfd(size: Int, hugetlb: Bool = false) throws -> MemFile {
        let mfdHugetlb: UInt32 = 0x4, mfdHuge2MB: UInt32 = 21 << 26 // include/uapi/linux/memfd.h
        let length = hugetlb ? (size + (2 << 20) - 1) / (2 << 20) * (2 << 20) : size
        let fd = ciommufd_memfd_create(hugetlb ? "swift-iommufd-mapfile-huge" : "swift-iommufd-mapfile",
                                       hugetlb ? mfdHugetlb | mfdHuge2MB : 0)
        guard fd >= 0 else {
            if hugetlb { throw CaseSkip("memfd_create(MFD_HUGETLB | MFD_HUGE_2MB) failed: errno \(errno)") }
            throw CaseFailure("memfd_create failed: errno \(errno)")
        }
        guard ftruncate(fd, off_t(length)) == 0 else {
            let e = errno
            close(fd)
            throw CaseFailure("ftruncate(memfd, \(length)) failed: errno \(e)")
        }
        return MemFile(fd: fd, size: length)
    }

    /// A regular file of `size` bytes in the directory `dir` (unlinked at once; the fd keeps it).
    static func regular(in dir: String, size: Int) throws -> MemFile {
        let path = "\(dir)/swift-iommufd-mapfile-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CaseFailure("open \(path): errno \(errno)") }
        unlink(path)
        guard ftruncate(fd, off_t(size)) == 0 else {
            let e = errno
            close(fd)
            throw CaseFailure("ftruncate(\(path), \(size)) failed: errno \(e)")
        }
        return MemFile(fd: fd, size: size)
    }

    deinit { close(fd) }

    var descriptor: FileDescriptor { FileDescriptor(rawValue: fd) }

    /// A new MAP_SHARED view of `[offset, offset + length)` (hugetlb: offset 2 MiB aligned).
    func view(offset: Int = 0, length: Int? = nil) throws -> FileView {
        let count = length ?? (size - offset)
        guard let p = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off_t(offset)), p != MAP_FAILED else {
            throw CaseSkip("mmap of \(count) bytes of the file at \(offset) failed: errno \(errno)")
        }
        return FileView(UnsafeMutableRawBufferPointer(start: p, count: count))
    }
}

/// One mmap of a MemFile, unmapped on deinit.
final class FileView {
    let bytes: UnsafeMutableRawBufferPointer
    init(_ bytes: UnsafeMutableRawBufferPointer) { self.bytes = bytes }
    deinit { munmap(bytes.baseAddress, bytes.count) }
    var va: UInt64 { userPointer(bytes.baseAddress) }
}

/// The DMACases pattern (byte i = i*31 + seed) at an offset of any buffer.
enum Pattern {
    static func fill(_ b: UnsafeMutableRawBufferPointer, at offset: Int = 0, seed: UInt8, length: Int) {
        for i in 0..<length { b[offset + i] = UInt8(truncatingIfNeeded: i &* 31 &+ Int(seed)) }
    }

    static func matches(_ b: UnsafeMutableRawBufferPointer, at offset: Int = 0, seed: UInt8, length: Int) -> Bool {
        (0..<length).allSatisfy { b[offset + $0] == UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    static func zero(_ b: UnsafeMutableRawBufferPointer, at offset: Int = 0, length: Int) {
        for i in 0..<length { b[offset + i] = 0 }
    }
}

/// /proc/<pid>/status fields in kB: VmPin is mm->pinned_vm, VmLck mm->locked_vm (fs/proc/task_mmu.c:68-69).
enum ProcStatus {
    static func kB(_ field: String, pid: pid_t = getpid()) -> Int64? {
        guard let f = fopen("/proc/\(pid)/status", "r") else { return nil }
        defer { fclose(f) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), f) != nil {
            let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard s.hasPrefix(field + ":") else { continue }
            let digits = String(s.dropFirst(field.count + 1).filter { $0.isASCII && $0.isNumber })
            return UInt64(digits).map { Int64(bitPattern: $0) }
        }
        return nil
    }

    static func vmPin(_ pid: pid_t = getpid()) -> Int64 { kB("VmPin", pid: pid) ?? -1 }
    static func vmLck(_ pid: pid_t = getpid()) -> Int64 { kB("VmLck", pid: pid) ?? -1 }
}

enum MapFile {
    static let page = 4096
    /// Below the edu buffer's last byte (QEMU 7.2 edu aborts on a full 4096-byte copy).
    static let length = 2048
    static let src: UInt64 = 0x40_0000
    static let dst: UInt64 = 0x80_0000
    static let other: UInt64 = 0xC0_0000

    static let read = UInt32(IOMMU_IOAS_MAP_READABLE.rawValue)
    static let write = UInt32(IOMMU_IOAS_MAP_WRITEABLE.rawValue)
    static let fixed = UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue)
    static let rwFixed = read | write | fixed

    static func requirements(hugetlb: Bool = false) -> Set<Requirement> {
        hugetlb ? [.iommufd, .eduDevice, .hugetlb] : [.iommufd, .eduDevice]
    }

    /// A bound and attached edu in native mode, with its IOAS.
    static func nativePath(_ ctx: CaseContext) throws -> (DMAPath, DMAPath.NativeSetup) {
        let path = try DMAPath(mode: .native, pci: try DMACases.firstEdu(ctx))
        guard let n = path.native else { throw CaseFailure("native DMAPath without iommufd objects") }
        return (path, n)
    }

    /// The native setup by hand: open /dev/iommu, `prepare` it (e.g. RLIMIT_MODE, which must
    /// precede every object), bind the edu cdev, allocate an IOAS, attach.
    static func nativePath(_ ctx: CaseContext, prepare: (borrowing IOMMUFD) throws -> Void) throws -> DMAPath {
        let pci = try DMACases.firstEdu(ctx)
        guard let cdev = pci.vfioCdevPath else { throw CaseSkip("\(pci.address) has no VFIO cdev") }
        func step<T: ~Copyable>(_ what: String, _ body: () throws -> T) throws -> T {
            do { return try body() } catch { throw CaseFailure("native setup, \(what): \(error)") }
        }
        let iommufd = try ctx.openIOMMUFD()
        try prepare(iommufd)
        let device = try step("open \(cdev)") { try VFIODevice.openCdev(cdev) }
        let id = try step("BIND_IOMMUFD") { try device.bind(iommufd: iommufd) }
        let ioas = try step("IOAS_ALLOC") { try iommufd.allocIOAS() }
        let hwpt = try step("ATTACH_IOMMUFD_PT") { try device.attach(ioas.id) }
        return try DMAPath(mode: .native, pci: pci, device: device,
                           backend: .native(DMAPath.NativeSetup(iommufd: iommufd, ioas: ioas, deviceID: id, hwpt: hwpt)))
    }

    static func dma(_ ctx: CaseContext, _ path: DMAPath, _ what: String, from: UInt64, to: UInt64) throws {
        try ctx.expectOK(what) { try path.roundTrip(from: from, to: to, length: length) }
    }
}

// Shared plumbing for the mock-domain, IOAS, fail-nth and privilege cases: the
// 6.12 selftest constants, mmap'ed buffers, and the fixtures with
// the selftest's teardown (close, reopen, MD_CHECK_REFS == 0 over the buffers).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum MS {
    static let page = UInt64(sysconf(Int32(_SC_PAGESIZE)))
    /// MOCK_IO_PAGE_SIZE: PAGE_SIZE / 2 (selftest.c:46).
    static var mockPage: UInt64 { page / 2 }
    static let mockHugePage: UInt64 = 512 * (UInt64(sysconf(Int32(_SC_PAGESIZE))) / 2)
    static let apertureStart: UInt64 = 1 << 24
    static let apertureLast: UInt64 = (1 << 31) - 1
    static let hugePage: UInt64 = 2 << 20
    static let read = UInt32(IOMMU_IOAS_MAP_READABLE.rawValue)
    static let write = UInt32(IOMMU_IOAS_MAP_WRITEABLE.rawValue)
    static let rw = read | write
    static let fixed = UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue)
    static let defaultMemoryLimit: UInt32 = 65536
    /// The selftest's BUFFER_SIZE.
    static var bufferSize: Int { Int(page) * 16 }
}

/// An mmap'ed MAP_SHARED anonymous buffer (optionally hugetlb, optionally aligned), unmapped on deinit.
final class MBuf {
    let base: UnsafeMutableRawPointer
    let count: Int

    init(base: UnsafeMutableRawPointer, count: Int) { self.base = base; self.count = count }

    static func make(_ count: Int, hugetlb: Bool = false, align: Int = 0) -> MBuf? {
        let flags = MAP_SHARED | MAP_ANONYMOUS | (hugetlb ? (MAP_HUGETLB | MAP_POPULATE) : 0)
        if align > 0 {
            guard let reserve = mmap(nil, count + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
                  Int(bitPattern: reserve) != -1 else { return nil }
            let start = UInt(bitPattern: reserve)
            let aligned = (start + UInt(align) - 1) & ~(UInt(align) - 1)
            guard let p = mmap(UnsafeMutableRawPointer(bitPattern: aligned), count, PROT_READ | PROT_WRITE,
                               flags | MAP_FIXED, -1, 0), Int(bitPattern: p) != -1 else {
                munmap(reserve, count + align)
                return nil
            }
            if aligned > start { munmap(reserve, Int(aligned - start)) }
            let tail = aligned + UInt(count), end = start + UInt(count + align)
            if end > tail { munmap(UnsafeMutableRawPointer(bitPattern: tail), Int(end - tail)) }
            return MBuf(base: p, count: count)
        }
        guard let p = mmap(nil, count, PROT_READ | PROT_WRITE, flags, -1, 0), Int(bitPattern: p) != -1 else { return nil }
        return MBuf(base: p, count: count)
    }

    /// A MAP_SHARED view of the whole file (the selftest's memfd_mmap).
    static func view(of file: MemFile) throws -> MBuf {
        guard let p = mmap(nil, file.size, PROT_READ | PROT_WRITE, MAP_SHARED, file.fd, 0), Int(bitPattern: p) != -1 else {
            throw CaseFailure("mmap of the \(file.size)-byte memfd failed: errno \(errno)")
        }
        return MBuf(base: p, count: file.size)
    }

    var va: UInt64 { UInt64(UInt(bitPattern: base)) }
    var raw: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: count) }
    func at(_ offset: Int) -> UInt64 { va + UInt64(offset) }

    func fill(seed: UInt32 = 1) {
        var x = seed | 1
        for i in 0..<count {
            x = x &* 1_103_515_245 &+ 12345
            base.storeBytes(of: UInt8(truncatingIfNeeded: x >> 16), toByteOffset: i, as: UInt8.self)
        }
    }

    deinit { munmap(base, count) }
}

/// Buffer that ctx failures can report on.
func needBuffer(_ count: Int, hugetlb: Bool = false, align: Int = 0) throws -> MBuf {
    guard let b = MBuf.make(count, hugetlb: hugetlb, align: align) else {
        if hugetlb { throw CaseSkip("mmap of \(count) bytes of hugetlb memory failed (no free huge pages)") }
        throw CaseFailure("mmap of \(count) bytes failed: errno \(errno)")
    }
    return b
}

// MARK: - Fixtures

extension CaseContext {
    /// A setup step (not counted as an assertion): see `CaseContext.setup`.
    @discardableResult
    func step<T: ~Copyable>(_ what: String, _ body: () throws -> T) throws -> T {
        try setup(what, body)
    }
}

/// The `iommufd_ioas` fixture variants. mock_domain adds a PASID-capable mock device
/// (pasid_capable, iommufd.c:394 in 7.3.4) from 6.15, where MOCK_FLAGS_DEVICE_PASID exists;
/// 6.12.117's mock driver rejects the flag (its own selftest fails that fixture there).
enum IOASVariant: String, CaseIterable, Sendable {
    case noDomain = "no_domain"
    case mockDomain = "mock_domain"
    case twoMockDomain = "two_mock_domain"
    case mockDomainLimit = "mock_domain_limit"

    var domains: Int { switch self { case .noDomain: 0; case .mockDomain, .mockDomainLimit: 1; case .twoMockDomain: 2 } }
    var memoryLimit: UInt32 { self == .mockDomainLimit ? 16 : MS.defaultMemoryLimit }
    var pasidCapable: Bool { self == .mockDomain }
}

/// The release that added MOCK_FLAGS_DEVICE_PASID and the PASID test ops.
let mockPASIDSince: KernelVersion = "6.15"

/// State of one fixture instance. Holds the fd by reference; the owner closes it at teardown.
final class Fx {
    let fd: KernelFD
    let ioas: UInt32
    var domains: [MockDomain]
    let buffer: MBuf
    /// Extra buffers whose refs must be 0 after teardown.
    var tracked: [MBuf] = []
    /// The fixture's PASID-capable mock device (iommufd_ioas.mock_domain from 6.15), else 0.
    var pasidDevice: UInt32 = 0
    var baseIOVA: UInt64

    init(fd: KernelFD, ioas: UInt32, domains: [MockDomain], buffer: MBuf) {
        self.fd = fd; self.ioas = ioas; self.domains = domains; self.buffer = buffer
        self.baseIOVA = domains.isEmpty ? 0 : MS.apertureStart
    }

    var test: TestCommands { TestCommands(fd: fd) }
    var hasDomain: Bool { !domains.isEmpty }
    var stdev: UInt32 { domains.first?.stdevID.rawValue ?? 0 }
    var hwpt: UInt32 { domains.first?.hwptID.rawValue ?? 0 }
    var device: UInt32 { domains.first?.deviceID.rawValue ?? 0 }
    var ioasID: IOASID { IOASID(rawValue: ioas) }
}

/// Opens /dev/iommu, allocates the IOAS, sets the batch memory limit and adds the mock
/// domains; runs `body`; then the selftest teardown: default memory limit, close,
/// reopen, MD_CHECK_REFS 0 over every buffer. `checkDevCache`: like the 7.x iommufd_ioas
/// and iommufd_mock_domain setups, every new mock device's cache must read
/// IOMMU_TEST_DEV_CACHE_DEFAULT (6.13+). `pasidDevice`: add a MOCK_FLAGS_DEVICE_PASID
/// device too (6.15+; ignored before). `ioasHugePages`: set the IOAS's HUGE_PAGES option
/// before any device attaches.
func withMockFixture(_ ctx: CaseContext, domains: Int, memoryLimit: UInt32 = MS.defaultMemoryLimit,
                     domainFlags: MockDeviceFlags? = nil, needsMock: Bool = false, checkDevCache: Bool = false,
                     pasidDevice: Bool = false, ioasHugePages: UInt64? = nil, _ body: (Fx) throws -> Void) throws {
    if domains > 0 || needsMock { try requireMockDevices(ctx) }
    let iommufd = try ctx.openIOMMUFD()
    let fd = iommufd.fd
    let test = iommufd.testCommands
    let buffer = try needBuffer(MS.bufferSize, align: Int(MS.hugePage))
    let ioas = try ctx.step("IOAS_ALLOC") { try fd.raw.allocIOAS() }
    try ctx.step("SET_TEMP_MEMORY_LIMIT \(memoryLimit)") {
        try test.setTempMemoryLimit(memoryLimit)
    }
    if let ioasHugePages {
        try ctx.step("IOAS HUGE_PAGES \(ioasHugePages)") {
            try fd.raw.option(UInt32(IOMMU_OPTION_HUGE_PAGES.rawValue), object: ioas, set: ioasHugePages)
        }
    }
    var mocks: [MockDomain] = []
    for i in 0..<domains {
        let mock = try ctx.step("MOCK_DOMAIN #\(i + 1)") {
            if let domainFlags { return try test.mockDomain(IOASID(rawValue: ioas), flags: domainFlags) }
            return try test.mockDomain(IOASID(rawValue: ioas))
        }
        mocks.append(mock)
        if checkDevCache && ctx.kernel >= .after612 {
            try ctx.step("DEV_CHECK_CACHE all default, device #\(i + 1)") {
                for id in 0...UInt32(MOCK_DEV_CACHE_ID_MAX) {
                    try test.checkDevCache(mock.deviceID, id: id, expected: UInt32(IOMMU_TEST_DEV_CACHE_DEFAULT))
                }
            }
        }
    }
    let fx = Fx(fd: fd, ioas: ioas, domains: mocks, buffer: buffer)
    if pasidDevice && ctx.kernel >= mockPASIDSince {
        fx.pasidDevice = try ctx.step("MOCK_DOMAIN_FLAGS PASID") {
            try test.mockDomain(IOASID(rawValue: ioas), flags: .pasid).deviceID.rawValue
        }
    }
    var failure: Error?
    do { try body(fx) } catch { failure = error }
    _ = try? test.setTempMemoryLimit(MS.defaultMemoryLimit)
    if let failure {
        _ = consume iommufd
        throw failure
    }
    try mockTeardown(ctx, iommufd, buffers: [fx.buffer] + fx.tracked)
}

func withIOASFixture(_ ctx: CaseContext, _ v: IOASVariant, needsMock: Bool = false, _ body: (Fx) throws -> Void) throws {
    try withMockFixture(ctx, domains: v.domains, memoryLimit: v.memoryLimit, needsMock: needsMock || v.pasidCapable,
                        checkDevCache: true, pasidDevice: v.pasidCapable, body)
}

/// Probes whether the kernel can create mock devices at all: MOCK_DOMAIN on a fresh IOAS.
/// 6.12's iommu core probes a device without a fwspec with the first registered IOMMU whose
/// fwnode is NULL (iommu.c:528, iommu_ops_from_fwnode(NULL)); with VT-d or AMD-Vi active that
/// is the hardware driver, not the selftest's mock IOMMU, so the mock device gets no IOMMU and
/// iommufd_device_bind() refuses it with EINVAL (no IOMMU_CAP_CACHE_COHERENCY). Later kernels
/// give mock devices a fwspec (7.3.4: they bind under VT-d and AMD-Vi too). The refusal is
/// expected only on 6.12 with VT-d or AMD-Vi, and there it is a SKIP with that reason; a
/// refusal anywhere else, or mock devices binding where the refusal is expected, fails.
func requireMockDevices(_ ctx: CaseContext) throws {
    let f: IOMMUFD
    do { f = try IOMMUFD.open() } catch { return }
    let fd = f.fd
    let result = outcome {
        let ioas = try fd.raw.allocIOAS()
        _ = try TestCommands(fd: fd).mockDomain(IOASID(rawValue: ioas))
    }
    _ = consume f
    let refusalExpected = ctx.kernel < .after612 && (ctx.profile == "intel" || ctx.profile == "amd")
    if refusalExpected && result != "EINVAL" {
        throw CaseFailure("MOCK_DOMAIN on a fresh IOAS answered \(result), but on \(ctx.kernel) with \(ctx.profile) "
                          + "the mock devices are expected to be refused (EINVAL): the kernel changed")
    }
    if !refusalExpected && result != "OK" {
        throw CaseFailure("MOCK_DOMAIN on a fresh IOAS failed \(result) on \(ctx.kernel) with \(ctx.profile), "
                          + "where mock devices are expected to bind")
    }
    if refusalExpected {
        throw CaseSkip("mock devices cannot bind on this kernel+IOMMU: MOCK_DOMAIN on a fresh IOAS fails EINVAL "
                       + "(6.12 probes fwspec-less mock devices with the first NULL-fwnode IOMMU, here the hardware "
                       + "IOMMU driver, so iommufd_device_bind() rejects them)")
    }
}

/// The selftest teardown: close the fd (destroying everything), reopen, and every page of
/// the buffers must be unpinned (MD_CHECK_REFS 0).
func mockTeardown(_ ctx: CaseContext, _ iommufd: consuming IOMMUFD, buffers: [MBuf]) throws {
    do { try iommufd.close() } catch { throw CaseFailure("close /dev/iommu at teardown: \(error)") }
    let again = try ctx.openIOMMUFD()
    let test = again.testCommands
    for b in buffers {
        try ctx.expectOK("MD_CHECK_REFS == 0 over \(b.count) bytes after teardown") {
            try test.checkRefs(userVA: b.va, length: UInt64(b.count), refs: 0)
        }
    }
}

/// Runs `body` in a forked child and returns what it wrote (for cases that must leave
/// the process: fork_gone, privilege drops). The child exits right after.
func inChild(_ body: () -> String) -> (output: String, status: Int32) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return ("pipe failed", -1) }
    let pid = fork()
    if pid == 0 {
        close(fds[0])
        let out = body()
        _ = out.withCString { write(fds[1], $0, strlen($0)) }
        _exit(0)
    }
    close(fds[1])
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1024)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, 1024) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
    }
    close(fds[0])
    var status: Int32 = 0
    if pid > 0 { waitpid(pid, &status, 0) }
    return (String(decoding: bytes, as: UTF8.self), status)
}

/// "OK" or the errno symbol of a typed-throws body (for reporting from a child).
func outcome<T>(_ body: () throws -> T) -> String {
    do { _ = try body(); return "OK" } catch let error as IOMMUFDError {
        return error.origin == .kernel ? IOMMUFDError.symbol(error.errno) : "LIB:\(IOMMUFDError.symbol(error.errno))"
    } catch { return "not an ioctl error: \(error)" }
}

func structBytesOf<T>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

// Shared plumbing for the vIOMMU, vEVENTQ, HW queue, PASID and fault-queue cases: the
// fixture of 7.3's iommufd_viommu selftest (a mock device on an IOAS, a NEST_PARENT HWPT,
// a SELFTEST vIOMMU on it and a nested HWPT on that vIOMMU), raw-byte commands for the
// rows the library rejects before the syscall, and read/write/poll/mmap on the fds with
// the errno reported as a symbol (those errors are not IOMMUFDErrors from an ioctl).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

/// The mock objects of one case. Object ids are plain ids (ownership released): closing
/// the iommufd at teardown destroys whatever a case leaves, as in the selftest.
final class NestRig {
    let iommufd: IOMMUFD
    let ioas: IOASID
    let mock: MockDomain
    /// A NEST_PARENT paging HWPT on `ioas`.
    let parent: HWPTID
    /// A SELFTEST vIOMMU on `parent` (nil with `.parentOnly`).
    let viommu: VIOMMUID?
    /// A nested SELFTEST HWPT on `viommu` (nil with `.parentOnly`).
    let nested: HWPTID?
    /// 16 pages to map (unpinned again at teardown).
    let buffer: MBuf

    init(iommufd: consuming IOMMUFD, ioas: IOASID, mock: MockDomain, parent: HWPTID, viommu: VIOMMUID?,
         nested: HWPTID?, buffer: MBuf) {
        self.iommufd = iommufd
        self.ioas = ioas; self.mock = mock; self.parent = parent
        self.viommu = viommu; self.nested = nested; self.buffer = buffer
    }

    var fd: KernelFD { iommufd.fd }
    var test: TestCommands { iommufd.testCommands }
    var stdev: MockStdevID { mock.stdevID }
    var device: IOMMUFDDeviceID { mock.deviceID }
    var fixtureVIOMMU: VIOMMUID { viommu ?? VIOMMUID(rawValue: 0) }
    var fixtureNested: HWPTID { nested ?? HWPTID(rawValue: 0) }

    /// SELFTEST data for nested HWPTs: every mock IOTLB entry starts as IOMMU_TEST_IOTLB_DEFAULT.
    static let nestedData = HWPTData.selftest(iotlb: UInt32(IOMMU_TEST_IOTLB_DEFAULT))
}

enum NestLevel { case parentOnly, viommu }

/// Builds the rig (skipping when mock devices cannot bind), runs `body`, then the selftest
/// teardown: close the iommufd, reopen, and no page of the buffer may stay pinned.
func withNestRig(_ ctx: CaseContext, _ level: NestLevel = .viommu, deviceFlags: MockDeviceFlags = [],
                 _ body: (NestRig) throws -> Void) throws {
    try requireMockDevices(ctx)
    let iommufd = try ctx.openIOMMUFD()
    let buffer = try needBuffer(MS.bufferSize, align: Int(MS.hugePage))
    let ioas = try ctx.step("IOAS_ALLOC") { try iommufd.allocIOAS().release() }
    let mock = try ctx.step("MOCK_DOMAIN\(deviceFlags.isEmpty ? "" : "_FLAGS \(deviceFlags.rawValue)")") {
        deviceFlags.isEmpty ? try iommufd.testCommands.mockDomain(ioas) : try iommufd.testCommands.mockDomain(ioas, flags: deviceFlags)
    }
    let parent = try ctx.step("HWPT_ALLOC NEST_PARENT") {
        try iommufd.allocHWPT(device: mock.deviceID, ioas: ioas, flags: .nestParent).release()
    }
    var viommu: VIOMMUID?, nested: HWPTID?
    if level == .viommu {
        let v = try ctx.step("VIOMMU_ALLOC SELFTEST") {
            try iommufd.allocVIOMMU(type: .selftest, device: mock.deviceID, parent: parent).release()
        }
        nested = try ctx.step("HWPT_ALLOC nested on the vIOMMU") {
            try iommufd.allocNestedHWPT(device: mock.deviceID, parent: .viommu(v), data: NestRig.nestedData).release()
        }
        viommu = v
    }
    let rig = NestRig(iommufd: iommufd, ioas: ioas, mock: mock, parent: parent, viommu: viommu, nested: nested, buffer: buffer)
    try body(rig)
    if rig.fd.close() != 0 { throw CaseFailure("close /dev/iommu at teardown failed") }
    let again = try ctx.openIOMMUFD()
    try ctx.step("MD_CHECK_REFS == 0 over the buffer after close") {
        try again.testCommands.checkRefs(userVA: buffer.va, length: UInt64(buffer.count), refs: 0)
    }
}

// MARK: - Raw commands (the kernel answers rows the library refuses)

/// Sends `T` as zeroed bytes with `size` set and the given fields (by key path) overwritten.
/// Only for malformed requests: well-formed ones go through the library.
func sendRaw<T>(_ type: T.Type, _ request: IoctlRequest, on fd: KernelFD,
                u32 fields32: [(PartialKeyPath<T>, UInt32)] = [],
                u64 fields64: [(PartialKeyPath<T>, UInt64)] = []) throws(IOMMUFDError) {
    var cmd = RawCommand(count: MemoryLayout<T>.size)
    cmd.set(UInt32(MemoryLayout<T>.size), at: 0)
    for (path, value) in fields32 { cmd.set(value, at: MemoryLayout<T>.offset(of: path)!) }
    for (path, value) in fields64 { cmd.set(value, at: MemoryLayout<T>.offset(of: path)!) }
    try cmd.send(request, on: fd)
}

// MARK: - Queue fds: read/write/poll with the errno as a symbol

/// What a syscall on a queue fd answered: "n bytes" or the errno symbol.
func ioResult(_ n: Int) -> String {
    n >= 0 ? "\(n) bytes" : IOMMUFDError.symbol(Errno(rawValue: errno))
}

/// read(2) of `count` bytes from `fd` (a vEVENTQ or fault fd), returning the bytes read and what it answered.
func rawRead(_ fd: KernelFD, count: Int) -> (bytes: [UInt8], result: String) {
    guard let raw = fd.rawValue else { return ([], "EBADF") }
    var buf = [UInt8](repeating: 0, count: max(count, 1))
    let n = buf.withUnsafeMutableBytes { Glibc.read(raw, $0.baseAddress, count) }
    return (n > 0 ? Array(buf[0..<n]) : [], ioResult(n))
}

/// write(2) of `bytes` to a fault fd.
func rawWrite(_ fd: KernelFD, _ bytes: [UInt8]) -> String {
    guard let raw = fd.rawValue else { return "EBADF" }
    let n = bytes.withUnsafeBytes { Glibc.write(raw, $0.baseAddress, bytes.count) }
    return ioResult(n)
}

/// poll(2) revents of `fd` after waiting up to `ms` for POLLIN.
func pollEvents(_ fd: KernelFD, ms: Int32 = 1000) -> Int16 {
    guard let raw = fd.rawValue else { return -1 }
    var p = pollfd(fd: raw, events: Int16(POLLIN | POLLOUT), revents: 0)
    return poll(&p, 1, ms) < 0 ? -1 : p.revents
}

/// Little-endian u32 words of a byte array (for headers and event records).
func words32(_ bytes: [UInt8]) -> [UInt32] {
    stride(from: 0, to: bytes.count - bytes.count % 4, by: 4).map { i in
        UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
    }
}

/// An `iommu_hwpt_page_response` as raw bytes (any code, for the bad-response rows).
func pageResponseBytes(cookie: UInt32, code: UInt32) -> [UInt8] {
    withUnsafeBytes(of: cookie.littleEndian) { Array($0) } + withUnsafeBytes(of: code.littleEndian) { Array($0) }
}

/// A case on a fresh `NestRig`.
func nestCase(_ id: String, _ rule: String, since: KernelVersion, _ level: NestLevel = .viommu,
              deviceFlags: MockDeviceFlags = [],
              _ body: @escaping @Sendable (CaseContext, NestRig) throws -> Void) -> ConformanceCase {
    ConformanceCase(id, rule: rule, since: since, requires: [.iommufd, .testModule]) { ctx in
        try withNestRig(ctx, level, deviceFlags: deviceFlags) { rig in try body(ctx, rig) }
    }
}

/// Closes a vEVENTQ's fd and DESTROYs it (VEventQueue.destroy), as one expectation.
func closeAndDestroy(_ ctx: CaseContext, _ q: consuming VEventQueue, _ what: String) throws {
    var result = "OK"
    do throws(IOMMUFDError) { try q.destroy() } catch { result = IOMMUFDError.symbol(error.errno) }
    try ctx.checkEqual(result, "OK", what)
}

/// Closes a fault queue's fd and DESTROYs it (FaultQueue.destroy), as one expectation.
func closeAndDestroy(_ ctx: CaseContext, _ q: consuming FaultQueue, _ what: String) throws {
    var result = "OK"
    do throws(IOMMUFDError) { try q.destroy() } catch { result = IOMMUFDError.symbol(error.errno) }
    try ctx.checkEqual(result, "OK", what)
}

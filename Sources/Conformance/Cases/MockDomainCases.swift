// The kernel selftest fixtures `iommufd_ioas` and `iommufd_mock_domain`
// (tools/testing/selftests/iommu/iommufd.c, 6.12.117 and 7.3.4) ported to our API. Where
// 6.12.117's kernel lacks what its own (backported) selftest uses — the PASID mock device,
// an input-type GET_HW_INFO — the case pins what 6.12 answers instead. Every case ends
// with the selftest teardown: close, reopen, MD_CHECK_REFS 0 over the buffers.
// vm/kselftest/crossref/ maps each kernel test to these ids.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum MockDomainCases {
    static var all: [ConformanceCase] { ioasCasesObjects + ioasCasesHWPT + ioasCasesMemory + ioasCasesFile + mockDomainCases }

    typealias Body = @Sendable (CaseContext, Fx, IOASVariant) throws -> Void

    static func ioas(_ name: String, _ rule: String, since: KernelVersion = "6.2",
                     variants: [IOASVariant] = IOASVariant.allCases, hugetlb: Bool = false, needsMock: Bool = false,
                     _ body: @escaping Body) -> [ConformanceCase] {
        variants.map { v in
            ConformanceCase("mock.ioas.\(name)", rule: rule, since: since,
                            requires: hugetlb ? [.iommufd, .testModule, .hugetlb] : [.iommufd, .testModule],
                            mode: v.rawValue) { ctx in
                try withIOASFixture(ctx, v, needsMock: needsMock) { fx in try body(ctx, fx, v) }
            }
        }
    }

    /// check_access_rw (7.3.4 iommufd.c:1281): every IOVA from PAGE_SIZE - 50 to PAGE_SIZE + 49
    /// into the area, every length 1...63, read then write (6300 pairs), then one
    /// whole-buffer read.
    static func checkAccessRW(_ ctx: CaseContext, _ fx: Fx, access: AccessID, iova: UInt64,
                              flags: MockAccessRWFlags = []) throws {
        let buf = fx.buffer
        buf.fill(seed: UInt32(truncatingIfNeeded: iova) &+ flags.rawValue)
        let tmp = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        defer { tmp.deallocate() }
        var checked = 0
        var a = iova + MS.page - 50
        while a < iova + MS.page + 50 {
            var len = 1
            while len < 64 {
                let slice = UnsafeMutableRawBufferPointer(rebasing: tmp[0..<len])
                try fx.test.accessRWResult(access, iova: a, buffer: slice, flags: flags).orFail("ACCESS_RW read iova 0x\(String(a, radix: 16)) len \(len)")
                if memcmp(buf.base + Int(a - iova), tmp.baseAddress!, len) != 0 {
                    throw CaseFailure("ACCESS_RW read at 0x\(String(a, radix: 16)) len \(len): data differs from the buffer")
                }
                for i in 0..<len { tmp[i] = UInt8.random(in: 0...255) }
                try fx.test.accessRWResult(access, iova: a, buffer: slice, flags: flags.union(.write)).orFail("ACCESS_RW write")
                if memcmp(buf.base + Int(a - iova), tmp.baseAddress!, len) != 0 {
                    throw CaseFailure("ACCESS_RW write at 0x\(String(a, radix: 16)) len \(len): buffer not updated")
                }
                checked += 1
                len += 1
            }
            a += 1
        }
        // Multi-page read.
        let big = UnsafeMutableRawBufferPointer.allocate(byteCount: buf.count, alignment: 8)
        defer { big.deallocate() }
        try ctx.step("ACCESS_RW multi-page read") { try fx.test.accessRW(access, iova: iova, buffer: big, flags: flags) }
        try ctx.check(memcmp(buf.base, big.baseAddress!, buf.count) == 0, "multi-page ACCESS_RW read differs")
        try ctx.checkEqual(checked, 100 * 63, "IOVA x length pairs read and written")
    }

    static func checkMock(_ ctx: CaseContext, _ fx: Fx, hwpts: [UInt32], va: UInt64, iova: UInt64, length: UInt64) throws {
        for h in hwpts {
            try ctx.step("MD_CHECK_MAP hwpt \(h) iova 0x\(String(iova, radix: 16)) len \(length)") {
                try fx.test.checkMap(HWPTID(rawValue: h), iova: iova, length: length, userVA: va)
            }
        }
    }

}

/// Closes a mock access fd (DESTROY of the access); close(2) must succeed.
func closeAccess(_ ctx: CaseContext, _ access: consuming MockAccess) throws {
    var failure: IOMMUFDError?
    do { try access.close() } catch { failure = error }
    try ctx.check(failure == nil, "close access: \(failure.map { "\($0)" } ?? "")")
}

extension Result where Failure == IOMMUFDError {
    func orFail(_ what: String) throws { if case .failure(let e) = self { throw CaseFailure("\(what): \(e)") } }
}

extension TestCommands {
    /// accessRW as a Result, for tight loops that should not count one assertion per call.
    func accessRWResult(_ access: AccessID, iova: UInt64, buffer: UnsafeMutableRawBufferPointer,
                        flags: MockAccessRWFlags) -> Result<Void, IOMMUFDError> {
        do throws(IOMMUFDError) {
            try self.accessRW(access, iova: iova, buffer: buffer, flags: flags)
            return .success(())
        } catch { return .failure(error) }
    }
}

// The 6.12 kernel selftest fixtures `iommufd_ioas` and `iommufd_mock_domain`
// (tools/testing/selftests/iommu/iommufd.c) ported to our API, with expectations for
// what 6.12.117's kernel does (the shipped selftest uses a PASID mock device and an
// input-type GET_HW_INFO that 6.12 lacks; those parts are left out). Every case ends
// with the selftest teardown: close, reopen, MD_CHECK_REFS 0 over the buffers.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum MockDomainCases {
    static var all: [ConformanceCase] { ioasCasesObjects + ioasCasesMemory + mockDomainCases }

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

    /// check_access_rw, with a thinned sweep (every 7th IOVA, every 5th length) to fit TCG.
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
                len += 5
            }
            a += 7
        }
        // Multi-page read.
        let big = UnsafeMutableRawBufferPointer.allocate(byteCount: buf.count, alignment: 8)
        defer { big.deallocate() }
        try ctx.step("ACCESS_RW multi-page read") { try fx.test.accessRW(access, iova: iova, buffer: big, flags: flags) }
        try ctx.check(memcmp(buf.base, big.baseAddress!, buf.count) == 0, "multi-page ACCESS_RW read differs")
        try ctx.check(checked > 0, "no ACCESS_RW done")
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

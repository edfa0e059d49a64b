import IOMMUFD
import SystemPackage
import Testing
@testable import Conformance

/// `expectErrno` fails in each of its three ways, passes only on the kernel's errno, and
/// lets a non-ioctl error (a skip, a failure) through untouched. Case bodies are plain
/// closures: no `throws(IOMMUFDError)` annotation.
@Suite struct ExpectErrnoTests {
    let ctx = CaseContext(machine: RunnerTests.machine())

    func failure(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let f as CaseFailure { return f.message } catch { return "other: \(error)" }
    }

    @Test func succeedingCallFails() {
        let message = failure { try ctx.expectErrno(.invalidArgument, "call") { 42 } }
        #expect(message?.contains("expected EINVAL, but it succeeded") == true)
    }

    @Test func libraryValidationIsNotTheKernel() {
        let message = failure {
            try ctx.expectErrno(.invalidArgument, "call") {
                throw IOMMUFDError.invalid(.ioasMap, argument: "length", "length is zero")
            }
        }
        #expect(message?.contains("the library rejected it") == true)
    }

    @Test func wrongErrnoFails() {
        let message = failure { try ctx.expectErrno(.invalidArgument, "call") { throw IOMMUFDError.kernel(.ioasMap, .fileExists) } }
        #expect(message?.contains("expected EINVAL, got") == true)
    }

    @Test func kernelErrnoPassesAndIsTrailed() throws {
        try ctx.expectErrno(.fileExists, "map twice") { throw IOMMUFDError.kernel(.ioasMap, .fileExists) }
        #expect(ctx.trail.last == "map twice: EEXIST")
    }

    @Test func otherErrorsPassThrough() {
        #expect(throws: CaseSkip.self) { try ctx.expectErrno(.invalidArgument, "call") { throw CaseSkip("no device") } }
        #expect(throws: CaseSkip.self) { try ctx.expectOK("call") { throw CaseSkip("no device") } }
    }
}

import Glibc
import IOMMUFD
import Testing
@testable import Conformance

/// The case runner on the host: each case runs in a forked child, so these use cases
/// that need no kernel object (they assert on plain values, crash, hang or skip).
// Serialized, and the whole host run uses --no-parallel (Scripts/test): fork() in a process whose
// other threads hold runtime locks could leave a child stuck.
@Suite(.serialized) struct RunnerTests {
    static func machine(kernel: KernelVersion = "6.12.117") -> Machine {
        Machine(profile: "host", kernel: kernel, kernelRelease: kernel.description, eduDevices: [],
                hasIOMMUFD: false, hasTestModule: false, hasVFIOContainer: false, hugetlbFreePages: 0,
                hasFailNth: false, isRoot: getuid() == 0, noIOMMUEdus: [])
    }

    let runner = Runner(machine: machine(), timeoutSeconds: 2)

    @Test func passingCaseCountsItsAssertions() {
        let r = runner.run(ConformanceCase("t.pass", rule: "r") { ctx in
            try ctx.check(true, "")
            try ctx.checkEqual(2, 2, "two")
        })
        #expect(r.status == .pass && r.reason == "2 assertions, 0 setup steps")
    }

    @Test func setupStepsAreNotAssertions() {
        let onlySetup = runner.run(ConformanceCase("t.setup", rule: "r") { ctx in
            try ctx.setup("alloc") { 1 }
            try ctx.setup("map") { 2 }
        })
        #expect(onlySetup.status == .fail && onlySetup.reason.contains("no assertion")
                && onlySetup.reason.contains("2 setup steps"), "\(onlySetup.reason)")
        let checked = runner.run(ConformanceCase("t.setup-and-check", rule: "r") { ctx in
            let value = try ctx.setup("alloc") { 7 }
            try ctx.checkEqual(value, 7, "value")
        })
        #expect(checked.status == .pass && checked.reason == "1 assertions, 1 setup steps", "\(checked.reason)")
        let failedSetup = runner.run(ConformanceCase("t.setup-fails", rule: "r") { ctx in
            try ctx.setup("alloc") { throw IOMMUFDError.kernel(.ioasAlloc, .noMemory) }
            try ctx.check(true, "")
        })
        #expect(failedSetup.status == .fail && failedSetup.reason.contains("alloc: expected success"), "\(failedSetup.reason)")
    }

    @Test func failedCheckFailsWithItsMessage() {
        let r = runner.run(ConformanceCase("t.fail", rule: "r") { ctx in try ctx.checkEqual(1, 2, "value") })
        #expect(r.status == .fail && r.reason == "value: got 1, expected 2", "\(r.reason)")
    }

    @Test func caseWithoutAssertionsCannotPass() {
        let r = runner.run(ConformanceCase("t.empty", rule: "r") { _ in })
        #expect(r.status == .fail && r.reason.contains("no assertion"))
    }

    @Test func crashIsAFailureNotARunnerCrash() {
        let r = runner.run(ConformanceCase("t.crash", rule: "r") { _ in kill(getpid(), SIGKILL) })
        #expect(r.status == .fail && r.reason.contains("signal 9"), "\(r.reason)")
    }

    @Test func hangIsKilledAtTheTimeout() {
        let r = runner.run(ConformanceCase("t.hang", rule: "r") { _ in sleep(30) })
        #expect(r.status == .fail && r.reason.contains("timed out after 2 s"))
        #expect(r.ms < 10_000)
    }

    @Test func skipsCarryTheirReason() {
        let thrown = runner.run(ConformanceCase("t.skip", rule: "r") { ctx in try ctx.skip("no widget") })
        #expect(thrown.status == .skip && thrown.reason == "no widget")
        let newer = runner.run(ConformanceCase("t.new", rule: "r", since: "6.15") { ctx in try ctx.check(true, "") })
        #expect(newer.status == .skip && newer.reason == "needs kernel 6.15, running 6.12.117")
        let needs = runner.run(ConformanceCase("t.dev", rule: "r", requires: [.eduDevice]) { ctx in try ctx.check(true, "") })
        #expect(needs.status == .skip && needs.reason == "no edu device bound to vfio-pci")
    }

    @Test func observationTravelsBack() {
        let r = runner.run(ConformanceCase("diff.t", rule: "r", mode: "native") { ctx in
            ctx.observation = "ENOENT"
            try ctx.check(true, "")
        })
        #expect(r.observed == "ENOENT" && r.mode == "native")
    }

    @Test func kernelVersionsCompare() {
        #expect(KernelVersion(parsing: "6.12.117-amd64") == KernelVersion(6, 12, 117))
        #expect(KernelVersion("6.1.0") < KernelVersion("6.6"))
        #expect(KernelVersion("6.12") > KernelVersion("6.6.30"))
        #expect(KernelVersion("6.12").description == "6.12")
    }
}

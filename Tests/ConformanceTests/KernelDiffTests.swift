import Foundation
import Glibc
import Testing
@testable import Conformance

/// The kernel-diff table: what changed between kernels on one profile, from each
/// case's status and trail (what every expectation saw).
@Suite(.serialized) struct KernelDiffTests {
    static func result(_ id: String, _ label: String, _ kernel: String, _ status: CaseResult.Status = .pass,
                       reason: String = "2 assertions", trail: [String]) -> CaseResult {
        CaseResult(id: id, profile: label, mode: "-", status: status, reason: reason, ms: 1, kernel: kernel, trail: trail)
    }

    @Test func aChangedErrnoIsReportedWithTheStepThatChanged() {
        let cases = [
            Self.result("diff.map-wrap", "intel-6.12", "6.12.117", trail: ["map: OK", "wrap: EINVAL"]),
            Self.result("diff.map-wrap", "intel-7.3", "7.3.4", trail: ["map: OK", "wrap: EOVERFLOW"]),
            Self.result("same", "intel-6.12", "6.12.117", trail: ["x: OK"]),
            Self.result("same", "intel-7.3", "7.3.4", trail: ["x: OK"]),
        ]
        let changes = KernelDiff.changes(cases)
        #expect(changes == [KernelChange(id: "diff.map-wrap", mode: "-", profile: "intel", from: "6.12.117", to: "7.3.4",
                                         changes: ["wrap: EINVAL → EOVERFLOW"])])
        let text = KernelDiff.render(changes)
        #expect(text.contains("diff.map-wrap [intel] 6.12 → 7.3: wrap: EINVAL → EOVERFLOW"), "\(text)")
    }

    @Test func statusChangesCountButVersionSkipsAndOtherProfilesDoNot() {
        let cases = [
            Self.result("a", "intel-6.1", "6.1.192", .skip, reason: "needs kernel 6.2, running 6.1.192", trail: []),
            Self.result("a", "intel-6.12", "6.12.117", trail: ["x: OK"]),
            Self.result("b", "virtio-6.12", "6.12.117", trail: ["x: OK"]),
            Self.result("b", "virtio-7.3", "7.3.4", .skip, reason: "no edu device bound to vfio-pci", trail: []),
            Self.result("c", "amd-6.12", "6.12.117", trail: ["x: OK"]),
            Self.result("c", "intel-7.3", "7.3.4", trail: ["x: EINVAL"]),
        ]
        let changes = KernelDiff.changes(cases)
        #expect(changes.count == 1 && changes.first?.id == "b", "\(changes)")
        #expect(changes.first?.changes == ["status: pass → skip (no edu device bound to vfio-pci)"])
    }

    @Test func labelsNameTheirProfile() {
        #expect(KernelDiff.baseProfile("intel-6.1") == "intel")
        #expect(KernelDiff.baseProfile("noiommu-7.3") == "noiommu")
        #expect(KernelDiff.baseProfile("virtio") == "virtio")
    }

    @Test func theTrailRecordsWhatEachExpectationSaw() {
        let runner = Runner(machine: KernelSeriesTests.machine("7.3.4"), timeoutSeconds: 5, label: "intel-7.3")
        let r = runner.run(ConformanceCase("t.trail", rule: "r") { ctx in
            try ctx.checkEqual(ctx.byKernel(1, from: .after612, 2), 2, "picked")
            try ctx.checkEqual(ctx.byKernel(1, from: "7.4", 2), 1, "older branch")
        })
        #expect(r.status == .pass, "\(r)")
        #expect(r.trail == ["picked: 2", "older branch: 1"], "\(String(describing: r.trail))")
    }
}

extension KernelDiffTests {
    @Test func stepsCompareByAnswerNotLabel() {
        let cases = [
            Self.result("mock.compat.map", "virtio-6.12", "6.12.117", trail: ["unmap page 0x1004000: OK"]),
            Self.result("mock.compat.map", "virtio-7.3", "7.3.4", trail: ["unmap page 0x1002000: OK"]),
            Self.result("failnth.sweep", "virtio-6.12", "6.12.117", trail: ["x: OK"]),
            Self.result("failnth.sweep", "virtio-7.3", "7.3.4", trail: ["x: OK"]),
        ]
        #expect(KernelDiff.changes(cases).isEmpty)
    }
}

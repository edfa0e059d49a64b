import Foundation
import Glibc
import Testing
@testable import Conformance

/// A second, older kernel in the main job: per-case "kernel", the result label
/// ("intel-6.1"), version skips in the summary, and which cases 6.1 can run.
@Suite(.serialized) struct KernelSeriesTests {
    static func machine(_ release: String) -> Machine {
        Machine(profile: "intel", kernel: KernelVersion(parsing: release), kernelRelease: release, eduDevices: [],
                hasIOMMUFD: false, hasTestModule: false, hasVFIOContainer: false, hugetlbFreePages: 0,
                hasFailNth: false, isRoot: getuid() == 0, noIOMMUEdus: [])
    }

    @Test func resultsCarryTheLabelAndTheKernelWhileCasesSeeTheProfile() {
        let runner = Runner(machine: Self.machine("6.1.192"), timeoutSeconds: 2, label: "intel-6.1")
        let ran = runner.run(ConformanceCase("t.profile", rule: "r", since: "6.1") { ctx in
            try ctx.checkEqual(ctx.profile, "intel", "profile seen by the case")
        })
        #expect(ran.status == .pass && ran.profile == "intel-6.1" && ran.kernel == "6.1.192", "\(ran)")
        let old = runner.run(ConformanceCase("t.new", rule: "r", since: "6.2") { _ in })
        #expect(old.isVersionSkip && old.reason == "needs kernel 6.2, running 6.1.192" && old.kernel == "6.1.192")
    }

    @Test func kernelIsOptionalInTheJSON() throws {
        let legacy = #"{"kernel":"6.12.117","cases":[{"id":"a","profile":"intel","mode":"-","status":"pass","reason":"1 assertions","ms":1}]}"#
        let doc = try JSONDecoder().decode(Reports.Document.self, from: Data(legacy.utf8))
        #expect(doc.cases.first?.kernel == nil)
        let r = CaseResult(id: "a", profile: "intel-6.1", mode: "-", status: .pass, reason: "1 assertions", ms: 1,
                           kernel: "6.1.192")
        let text = Reports.json(.init(kernel: "6.12.117", cases: [r]))
        #expect(text.contains(#""kernel" : "6.1.192""#))
        #expect(try JSONDecoder().decode(Reports.Document.self, from: Data(text.utf8)).cases == [r])
    }

    @Test func summaryFoldsVersionSkipsAndShowsEachProfilesKernel() {
        let cases = [
            CaseResult(id: "a", profile: "intel", mode: "-", status: .pass, reason: "1 assertions", ms: 1, kernel: "6.12.117"),
            CaseResult(id: "a", profile: "intel-6.1", mode: "-", status: .skip, reason: "needs kernel 6.2, running 6.1.192",
                       ms: 0, kernel: "6.1.192"),
            CaseResult(id: "b", profile: "intel", mode: "-", status: .pass, reason: "1 assertions", ms: 1, kernel: "6.12.117"),
            CaseResult(id: "b", profile: "intel-6.1", mode: "-", status: .skip, reason: "no edu device bound to vfio-pci",
                       ms: 0, kernel: "6.1.192"),
        ]
        let text = Summary.render(.init(kernel: "6.12.117", cases: cases))
        #expect(text.contains("intel-6.1    0      0      2      6.1.192"), "\(text)")
        #expect(!text.split(separator: "\n").contains { $0.hasPrefix("a ") }, "a version-skip-only row is omitted")
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("b ") })
        #expect(text.contains("SKIP 1 case [intel-6.1]: needs kernel 6.2, running 6.1.192"))
        #expect(text.contains("SKIP b [intel-6.1]: no edu device bound to vfio-pci"))
    }

    /// What 6.1 (no iommufd, no cdev) runs: the legacy type1 container and group cases only.
    @Test func onlyLegacyVFIOCasesRunOn61() {
        for c in Catalog.all where c.since <= "6.1" {
            #expect(!c.requires.contains(.iommufd) && !c.requires.contains(.testModule), "\(c.id)[\(c.mode)]")
        }
        #expect(Catalog.all.contains { $0.id == "dma.roundtrip.anon-4k" && $0.mode == "type1v2" && $0.since == "6.1" })
    }
}

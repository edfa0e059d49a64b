import Glibc
import Testing
@testable import Conformance

/// The expectation files and the verdict they give Scripts/conformance: every kind of
/// difference fails, and the skip classes come from the reasons the suite really gives.
@Suite struct ExpectationTests {
    static func r(_ id: String, _ status: CaseResult.Status, _ reason: String = "1 assertions",
                  mode: String = "-") -> CaseResult {
        CaseResult(id: id, profile: "virtio-7.3", mode: mode, status: status, reason: reason, ms: 1, kernel: "7.3.4")
    }
    static let mockRefused = "mock devices cannot bind on this kernel+IOMMU: MOCK_DOMAIN on a fresh IOAS fails EINVAL"
    static let baseline = [
        r("a.pass", .pass), r("b.pass", .pass, mode: "native"), r("c.old", .skip, "needs kernel 7.0, running 6.12.117"),
        r("d.mock", .skip, mockRefused), r("e.odd", .skip, "/tmp is not a tmpfs mount"),
    ]
    static let expected = Expectations(results: baseline)

    static func check(_ results: [CaseResult], scope: [String] = []) -> ExpectationCheck {
        ExpectationCheck(label: "virtio-7.3", expected: expected, results: results, scope: scope)
    }

    static func replacing(_ key: String, with new: CaseResult?) -> [CaseResult] {
        baseline.compactMap { Expectations.key($0) == key ? new : $0 }
    }

    @Test func theRunItWasWrittenFromMatches() {
        #expect(Self.check(Self.baseline).differences.isEmpty)
        #expect(Self.check(Self.baseline).render(file: "7.3-virtio.txt").contains("5 case variants as expected"))
    }

    @Test func aPassThatSkipsOrFailsIsARegression() {
        let skipped = Self.check(Self.replacing("b.pass[native]", with: Self.r("b.pass", .skip, Self.mockRefused, mode: "native")))
        #expect(skipped.differences.map(\.kind) == [.regression])
        let text = skipped.render(file: "7.3-virtio.txt")
        #expect(text.contains("REGRESSION pass → skip mock-refused"), "\(text)")
        #expect(text.contains("reason: mock devices cannot bind") && text.contains("b.pass[native]"), "\(text)")
        let failed = Self.check(Self.replacing("a.pass", with: Self.r("a.pass", .fail, "map: got EINVAL")))
        #expect(failed.differences.map(\.kind) == [.regression])
        #expect(failed.render(file: "f").contains("pass → fail: map: got EINVAL"))
        let skipFails = Self.check(Self.replacing("c.old", with: Self.r("c.old", .fail, "boom")))
        #expect(skipFails.differences.map(\.kind) == [.regression])
    }

    @Test func aSkipForAnotherReasonDiffers() {
        let moved = Self.check(Self.replacing("c.old", with: Self.r("c.old", .skip, "fewer than 2 free 2 MiB hugetlb pages")))
        #expect(moved.differences.map(\.kind) == [.skipReasonChanged])
        #expect(moved.render(file: "f").contains("skip kernel-too-old → skip no-hugepages"))
        // Rewording a classified reason is not a difference; an unclassified one's text is compared.
        #expect(Self.check(Self.replacing("c.old", with: Self.r("c.old", .skip, "needs kernel 7.1, running 6.12.117")))
            .differences.isEmpty)
        let reworded = Self.check(Self.replacing("e.odd", with: Self.r("e.odd", .skip, "/tmp is not tmpfs")))
        #expect(reworded.differences.map(\.kind) == [.skipReasonChanged])
        #expect(reworded.render(file: "f").contains("skip other: /tmp is not a tmpfs mount → skip other: /tmp is not tmpfs"))
    }

    @Test func aPassWhereASkipWasExpectedAsksForPromotion() {
        let promoted = Self.check(Self.replacing("d.mock", with: Self.r("d.mock", .pass)))
        #expect(promoted.differences.map(\.kind) == [.nowPasses])
        #expect(promoted.render(file: "f").contains("NOW PASSES skip mock-refused → pass: promote it: run with --update-expectations"))
    }

    @Test func newAndGoneIdsDiffer() {
        let renamed = Self.check(Self.replacing("a.pass", with: Self.r("a.renamed", .pass)))
        #expect(renamed.differences.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.goneCase, .newCase])
        let text = renamed.render(file: "f")
        #expect(text.contains("NEW CASE (got pass): no expectation; run --update-expectations"), "\(text)")
        #expect(text.contains("GONE (expected pass): did not run"), "\(text)")
        #expect(Self.check(Self.baseline + [Self.r("a.pass", .pass, mode: "compat")]).differences.map(\.key) == ["a.pass[compat]"])
    }

    @Test func aPartialRunComparesOnlyTheIdsItsPatternsMatch() {
        let run = Self.baseline.filter { $0.id.hasPrefix("d.") || $0.id.hasPrefix("a.") }
        #expect(Self.check(run, scope: ["d.*", "a.pass"]).differences.isEmpty)
        #expect(Self.check(run, scope: ["d.*", "a.pass"]).compared == 2)
        // An id the patterns match that did not run is still gone.
        #expect(Self.check([Self.r("a.pass", .pass)], scope: ["d.*", "a.*"]).differences.map(\.key) == ["d.mock"])
        // A partial update replaces only what the patterns match.
        let updated = ExpectationCheck.updated(Self.expected, results: [Self.r("d.mock", .pass)], scope: ["d.*"])
        #expect(updated.entries.count == 5 && updated.entries["d.mock"]?.status == .pass
                && updated.entries["c.old"] == Self.expected.entries["c.old"])
    }

    @Test func theFileRoundTripsSortedOneLineEach() throws {
        let withFailure = Expectations(results: Self.baseline + [Self.r("f.known", .fail, "unmap: got EBUSY: odd")])
        let text = withFailure.render(comments: Expectations.header(label: "virtio-7.3", kernel: "7.3.4"))
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines == ["a.pass pass", "b.pass[native] pass", "c.old skip kernel-too-old", "d.mock skip mock-refused",
                          "e.odd skip other: /tmp is not a tmpfs mount", "f.known fail: unmap: got EBUSY: odd"])
        #expect(try Expectations(parsing: text) == withFailure)
        #expect(throws: Expectations.ParseError.self) { try Expectations(parsing: "a.pass passed\n") }
        #expect(throws: Expectations.ParseError.self) { try Expectations(parsing: "a.skip skip\n") }
        #expect(Expectations.fileName(label: "intel-7.3") == "7.3-intel.txt")
        #expect(Expectations.fileName(label: "noiommu-7.3") == "7.3-noiommu.txt")
        #expect(Expectations.fileName(label: "host") == "host.txt")
    }

    @Test func everyMissingRequirementHasAClass() {
        let bare = Machine(profile: "intel", kernel: "7.3.4", kernelRelease: "7.3.4", eduDevices: [],
                           hasIOMMUFD: false, hasTestModule: false, hasVFIOContainer: false, hugetlbFreePages: 0,
                           hasFailNth: false, isRoot: false, noIOMMUEdus: [])
        for req in Requirement.allCases {
            let reason = bare.missing(req) ?? ""
            #expect(SkipClass.of(reason: reason) != SkipClass.other, "\(req): \(reason)")
        }
    }

    /// The suite's skip reasons, as the runs print them, and the class each gets.
    @Test(arguments: [
        ("needs kernel 6.13, running 6.12.117", "kernel-too-old"),
        ("PASID attach exists from 6.15; this case checks the older answer", "kernel-too-new"),
        ("known kernel bug, run with SWIFT_IOMMUFD_KNOWN_BUGS=1 to reproduce: x", "known-bug-opt-in"),
        (mockRefused, "mock-refused"),
        ("type1 SET_IOMMU: EPERM: this IOMMU has no isolated MSI and vfio_iommu_type1.allow_unsafe_interrupts is 0", "no-isolated-msi"),
        ("QEMU 7.2 amd-iommu does not deliver DMA from behind a PCIe-to-PCI bridge", "qemu-limit"),
        ("the edu devices are in VFIO's no-IOMMU mode (DMA untranslated): only noiommu.* cases use them", "wrong-profile"),
        ("no edu device in VFIO's no-IOMMU mode (needs the noiommu profile on 7.x)", "wrong-profile"),
        ("VT-d registers only on the intel profile", "wrong-profile"),
        ("needs two edu devices in one IOMMU group (behind the PCIe-to-PCI bridge); this IOMMU gives them none", "no-shared-group"),
        ("no edu pair in one IOMMU group", "no-shared-group"),
        ("no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)", "kernel-option-absent"),
        ("mmap of 4194304 bytes (hugetlb2m) failed: errno 12 (hugetlb pool exhausted)", "no-hugepages"),
        ("memfd_create(MFD_HUGETLB | MFD_HUGE_2MB) failed: errno 12", "no-hugepages"),
        ("0000:00:03.0 has no VFIO cdev", "no-device"),
        ("needs 2 edu device(s) bound to vfio-pci", "no-device"),
        ("no container", "other"),
    ])
    func skipReasonsAreClassified(reason: String, cls: String) {
        #expect(SkipClass.of(reason: reason) == cls)
    }
}

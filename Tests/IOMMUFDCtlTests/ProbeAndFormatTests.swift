import Foundation
import Glibc
import IOMMUFD
import SystemPackage
import Testing
@testable import IOMMUFDCtlKit

@Suite struct ProbeTests {
    @Test func classification() {
        #expect(Prober.classify(.failure(.kernel(.ioasMapFile, .inappropriateIOCTLForDevice))) == (.unsupported, "ENOTTY"))
        #expect(Prober.classify(.failure(.kernel(.ioasMap, .invalidArgument))) == (.supported, "EINVAL"))
        #expect(Prober.classify(.success(0)) == (.supported, "ok"))
    }

    /// MOCK 6.12: 0x80–0x8e known, 0x8f (MAP_FILE) and later unknown, TEST_CMD present.
    @Test func mock612Kernel() throws {
        let mock = MockKernel(firstUnknownNr: 0x8f, testCmd: true)
        let prober = Prober(driver: mock, open: { _ in FakeFD.next() })
        let (entries, testCmd, error) = prober.probeIOMMUFD()
        #expect(error == nil)
        #expect(testCmd == true)
        let byName = Dictionary(entries.filter { $0.target == "/dev/iommu" }.map { ($0.request, $0) }, uniquingKeysWith: { a, _ in a })
        for r in IoctlRequest.allIOMMUFD {
            let e = try #require(byName[r.name])
            let expected: ProbeEntry.State = (r.number & 0xff) < 0x8f ? .supported : .unsupported
            #expect(e.state == expected, "\(r.name)")
        }
        #expect(byName["IOMMU_IOAS_MAP_FILE"]?.answer == "ENOTTY")
        #expect(byName["IOMMU_VIOMMU_ALLOC"]?.state == .unsupported)
        #expect(byName["IOMMU_FAULT_QUEUE_ALLOC"]?.state == .supported)
        // Every iommufd probe sent size 0: harmless.
        #expect(entries.filter { $0.target == "/dev/iommu" }.allSatisfy { $0.answer == "EINVAL" || $0.answer == "ENOTTY" })
    }

    @Test func withoutTestCommand() {
        let prober = Prober(driver: MockKernel(testCmd: false), open: { _ in FakeFD.next() })
        #expect(prober.probeIOMMUFD().testCmd == false)
    }

    @Test func missingNode() {
        let prober = Prober(driver: MockKernel(), open: { _ in -ENOENT })
        let (entries, testCmd, error) = prober.probeIOMMUFD()
        #expect(entries.isEmpty)
        #expect(testCmd == nil)
        #expect(error?.contains("/dev/iommu") == true)
    }

    @Test func nativeContainerEINVALIsInconclusive() {
        let prober = Prober(driver: MockKernel(), open: { _ in FakeFD.next() })
        let entries = prober.probeNativeContainer()
        #expect(entries.first { $0.request == "VFIO_IOMMU_MAP_DMA" }?.state == .inconclusive)
    }
}

@Suite struct FormatTests {
    func splitRecord() throws -> TraceRecord {
        let file = try StepFile.parse(try #require(Examples.named("split-unmap")), name: "s")
        let report = StepRunner().run(file, in: Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: MockKernel())))
        return try #require(report.steps[3].ioctls.first)
    }

    @Test func traceEventLines() throws {
        let r = try splitRecord()
        #expect(r.inputLine == "IOMMU_IOAS_UNMAP size=24 ioas_id=1 iova=0x100000 length=0x2000")
        #expect(r.outcomeLine == "-> ENOENT (2): nothing mapped in the range, or the range would split an existing mapping")
        #expect(r.durationNanoseconds >= 0)
    }

    @Test func traceEventJSON() throws {
        let r = try splitRecord()
        let line = Format.jsonLine(r)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["request"] as? String == "IOMMU_IOAS_UNMAP")
        #expect(object["number"] as? String == "0x3b86")
        #expect(object["errno_name"] as? String == "ENOENT")
        #expect(object["errno"] as? Int == 2)
        #expect((object["input"] as? [String: String])?["iova"] == "0x100000")
        #expect(object["meaning"] as? String == IoctlRequest.ioasUnmap.meaning(of: .noSuchFileOrDirectory))
    }

    @Test func stepAndErrnoLines() throws {
        let file = try StepFile.parse(try #require(Examples.named("split-unmap")), name: "s")
        let report = StepRunner().run(file, in: Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: MockKernel())))
        let text = Format.step(report.steps[3], file: "split-unmap.steps")
        #expect(text.contains("split-unmap.steps:6: unmap ioas=a iova=0x100000 length=0x2000   expect=ENOENT"))
        #expect(text.contains("-> ENOENT (2): nothing mapped in the range"))
        #expect(text.contains("PASS expected ENOENT, got ENOENT"))
        #expect(Format.runSummary(report) == "s: 5 passed, 0 failed, 0 not run — all expectations held")
        let validation = StepResult.ErrorInfo(.invalid(.ioasMap, argument: "length", "length is zero"))
        #expect(Format.errorLine(validation) == "IOMMU_IOAS_MAP [length]: EINVAL, rejected before the syscall: length is zero")
        let kernel = StepResult.ErrorInfo(.kernel(.ioasMap, .fileExists))
        #expect(Format.errorLine(kernel) == "IOMMU_IOAS_MAP: EEXIST (17): range overlaps an existing mapping")
    }

    @Test func runReportJSON() throws {
        let file = try StepFile.parse(try #require(Examples.named("split-unmap")), name: "s")
        let report = StepRunner().run(file, in: Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: MockKernel())))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Format.json(report).utf8)) as? [String: Any])
        #expect(object["ok"] as? Bool == true)
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps[3]["outcome"] as? String == "ENOENT")
        #expect(steps[3]["expect"] as? String == "ENOENT")
        #expect((steps[3]["error"] as? [String: Any])?["errno_name"] as? String == "ENOENT")
    }

    @Test func table() {
        #expect(Format.table(["a", "bb"], [["xyz", "1"]]) == "a    bb\n---  --\nxyz  1")
    }

    @Test func shortRawBuffersDecodePartially() {
        let fields = StructDecoder.decode(number: IoctlRequest.ioasMap.number, fields: [TraceField("bytes", "0400000000000000")])
        #expect(fields == [.init("size", "4"), .init("flags", "0")])
    }
}

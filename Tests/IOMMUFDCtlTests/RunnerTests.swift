import IOMMUFD
import SystemPackage
import Testing
@testable import IOMMUFDCtlKit

/// Step execution against the MOCK kernel (MockKernel), never /dev/iommu.
@Suite struct RunnerTests {
    func run(_ text: String, keepGoing: Bool = false, mock: MockKernel = MockKernel()) throws -> RunReport {
        let file = try StepFile.parse(text, name: "mock.steps")
        let session = Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: mock))
        return StepRunner(keepGoing: keepGoing).run(file, in: session)
    }

    @Test func splitUnmapExpectationHolds() throws {
        let report = try run(try #require(Examples.named("split-unmap")))
        #expect(report.ok)
        #expect(report.passed == 5)
        let split = report.steps[3]
        #expect(split.outcome == "ENOENT")
        #expect(split.status == .passed)
        #expect(split.error?.origin == "kernel")
        #expect(split.error?.meaning == IoctlRequest.ioasUnmap.meaning(of: .noSuchFileOrDirectory))
        // What went to the (mock) kernel, decoded field by field.
        let io = try #require(split.ioctls.first)
        #expect(io.request == "IOMMU_IOAS_UNMAP")
        #expect(io.input == [.init("size", "24"), .init("ioas_id", "1"), .init("iova", "0x100000"), .init("length", "0x2000")])
        #expect(io.errnoName == "ENOENT")
        #expect(report.steps[4].values == [.init("unmapped", "0x4000")])
        let map = try #require(report.steps[2].ioctls.first)
        // FIXED_IOVA|WRITEABLE|READABLE, whether the library or StructDecoder names the fields.
        let flags = try #require(map.input.first { $0.name == "flags" }).value
        #expect(flags == "0x7" || flags == "FIXED_IOVA|WRITEABLE|READABLE")
        #expect(map.input.contains(.init("iova", "0x100000")))
    }

    @Test(arguments: ["overlap-map", "unmap-all-empty", "zero-length", "iova-ranges"])
    func examplesHoldAgainstTheMock(_ name: String) throws {
        let report = try run(try #require(Examples.named(name)))
        #expect(report.ok, "\(report.steps.filter { $0.status != .passed }.map { "\($0.line): \($0.outcome ?? "-")" })")
    }

    @Test func zeroLengthIsValidatedUnlessRaw() throws {
        let report = try run(try #require(Examples.named("zero-length")))
        #expect(report.steps[2].error?.origin == "validation")
        #expect(report.steps[2].ioctls.isEmpty)  // never reached the kernel
        #expect(report.steps[3].error?.origin == "kernel")
        #expect(report.steps[3].ioctls.count == 1)
    }

    @Test func stopsOnUnexpectedErrorUnlessKeepGoing() throws {
        let text = """
            ioas-alloc as=a
            unmap ioas=a iova=0x1000 length=0x1000
            unmap ioas=a all
            """
        let stopped = try run(text)
        #expect(!stopped.ok)
        #expect(stopped.steps.map(\.status) == [.passed, .failed, .notRun])
        let kept = try run(text, keepGoing: true)
        #expect(kept.steps.map(\.status) == [.passed, .failed, .passed])
        #expect(!kept.ok)
    }

    @Test func unmetExpectationOfErrorFails() throws {
        let report = try run("ioas-alloc as=a\nunmap ioas=a all expect=ENOENT\n")
        #expect(report.steps[1].status == .failed)
        #expect(report.steps[1].outcome == "ok")
        #expect(!report.ok)
    }

    @Test func autoIOVAFeedsLaterSteps() throws {
        let report = try run("""
            ioas-alloc as=a
            buffer as=b size=0x2000
            map ioas=a buffer=b as=m
            unmap ioas=a iova=m length=0x2000 expect=ok
            destroy id=a
            destroy id=a expect=ENOENT
            """)
        #expect(report.ok)
        #expect(report.steps[2].values == [.init("m", "0x10000000")])
    }

    @Test func rawSizeProbe() throws {
        let report = try run("raw-size request=IOAS_ALLOC size=4 expect=EINVAL\nraw-size request=VIOMMU_ALLOC size=0 expect=ENOTTY\n")
        #expect(report.ok)
        #expect(report.steps[1].error?.meaning == "not supported by this kernel (unknown ioctl for this file)")
    }

    @Test func iovaRangesValues() throws {
        let report = try run("ioas-alloc as=a\niova-ranges ioas=a\n")
        #expect(report.steps[1].values == [.init("ranges", "0x0-0xfedfffff,0xfef00000-0x7fffffffff"), .init("alignment", "0x1000")])
    }

    @Test func deviceStepsWithoutDeviceFailCleanly() throws {
        let file = try StepFile.parse("device as=d path=/dev/vfio/devices/vfio9\nbind device=d\n", name: "d.steps")
        let session = Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: MockKernel()), openDevice: { (path) throws(IOMMUFDError) in
            throw IOMMUFDError(ioctl: "open(\(path))", errno: .noSuchFileOrDirectory, origin: .system(call: "open"), meaning: "mock: no device")
        })
        let report = StepRunner(keepGoing: true).run(file, in: session)
        #expect(report.steps[0].error?.origin == "open")
        #expect(report.steps[1].error?.origin == "validation")
    }
}

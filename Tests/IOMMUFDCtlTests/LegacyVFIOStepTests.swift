import IOMMUFD
import Testing
import VFIO
@testable import IOMMUFDCtlKit

/// The legacy VFIO steps (container, group, set-iommu, get-device-fd, map-dma, unmap-dma):
/// parsing, and execution against the MOCK kernel (MockLegacyVFIO.swift), never /dev/vfio.
@Suite struct LegacyVFIOStepTests {
    @Test func stepsParse() throws {
        let f = try StepFile.parse("""
            container as=c
            container as=t kind=type1
            group as=g device=00:03.0 container=c
            group as=h number=7 container=t
            set-iommu container=c
            set-iommu container=t type=type1 expect=ok
            set-iommu container=t type=0 expect=EINVAL
            get-device-fd as=d group=g
            get-device-fd as=e group=h device=00:04.0
            buffer as=buf size=0x2000
            map-dma container=c buffer=buf iova=0x100000
            map-dma container=c buffer=buf offset=0x1000 length=0x1000 iova=1M access=r
            map-dma container=c buffer=buf iova=0x100000 length=0 raw=1 expect=EINVAL
            unmap-dma container=c iova=0x100000 length=0x2000
            unmap-dma container=c all
            """, name: "legacy.steps")
        #expect(f.steps.count == 15)
        let actions = f.steps.map(\.action)
        #expect(actions[0] == .legacyVFIO(.container(name: "c", kind: .compat)))
        #expect(actions[1] == .legacyVFIO(.container(name: "t", kind: .type1)))
        #expect(actions[2] == .legacyVFIO(.group(name: "g", source: .device("00:03.0"), container: "c")))
        #expect(actions[3] == .legacyVFIO(.group(name: "h", source: .number(7), container: "t")))
        #expect(actions[4] == .legacyVFIO(.setIOMMU(container: "c", type: .type1v2)))
        #expect(actions[5] == .legacyVFIO(.setIOMMU(container: "t", type: .type1)))
        #expect(actions[6] == .legacyVFIO(.setIOMMU(container: "t", type: VFIOExtension(rawValue: 0))))
        #expect(actions[7] == .legacyVFIO(.getDeviceFD(name: "d", group: "g", address: nil)))
        #expect(actions[8] == .legacyVFIO(.getDeviceFD(name: "e", group: "h", address: "0000:00:04.0")))
        #expect(actions[10] == .legacyVFIO(.mapDMA(container: "c", buffer: "buf", offset: 0, length: nil, iova: 0x100000,
                                                   access: .readWrite, raw: false)))
        #expect(actions[11] == .legacyVFIO(.mapDMA(container: "c", buffer: "buf", offset: 0x1000, length: 0x1000,
                                                   iova: 0x100000, access: .read, raw: false)))
        #expect(actions[12] == .legacyVFIO(.mapDMA(container: "c", buffer: "buf", offset: 0, length: 0, iova: 0x100000,
                                                   access: .readWrite, raw: true)))
        #expect(actions[13] == .legacyVFIO(.unmapDMA(container: "c", iova: 0x100000, length: 0x2000)))
        #expect(actions[14] == .legacyVFIO(.unmapAllDMA(container: "c")))
        #expect(f.steps[2].needsDevice && f.steps[7].needsDevice && !f.steps[4].needsDevice)
    }

    @Test func reproducerExampleParses() throws {
        let f = try StepFile.parse(try #require(Examples.named("vtd-compat-map-no-access")), name: "vtd.steps")
        #expect(f.summary.first?.hasPrefix("vtd-compat-map-no-access:") == true)
        #expect(f.summary.joined(separator: " ").contains("iommu_pt.h:933"))
        #expect(f.steps.first?.action == .legacyVFIO(.container(name: "c", kind: .compat)))
        let map = try #require(f.steps.last)
        // No READ/WRITE: the library's mapDMA would refuse it, so the step goes raw to the kernel.
        #expect(map.action == .legacyVFIO(.mapDMA(container: "c", buffer: "buf", offset: 0, length: 0x1000,
                                                  iova: 0x100000, access: [], raw: true)))
        #expect(map.expect == .errno(.invalidArgument))
    }

    @Test(arguments: [
        ("container as=c kind=vfio2\n", 1, "bad container kind 'vfio2': use compat (/dev/iommu) or type1 (/dev/vfio/vfio)"),
        ("container\n", 1, "missing argument 'as' for step 'container'"),
        ("container as=c\n\ngroup as=g container=c\n", 3, "missing argument 'device' (or number=) for step 'group'"),
        ("container as=c\ngroup as=g device=auto number=3 container=c\n", 2, "give device= or number=, not both"),
        ("container as=c\ngroup as=g number=x7 container=c\n", 2, "bad group number 'x7'"),
        ("group as=g device=auto container=c\n", 1, "unknown container 'c' (define it first with as=c)"),
        ("container as=c\ngroup as=g number=3 container=c\nget-device-fd as=d group=g\n", 3,
         "missing argument 'device' for step 'get-device-fd' (group 'g' was opened by number=)"),
        ("container as=c\nset-iommu container=c type=type3\n", 2, "bad IOMMU type 'type3': use type1v2, type1 or a number"),
        ("ioas-alloc as=a\nset-iommu container=a\n", 2, "'a' is a IOAS handle, not a container"),
        ("container as=c\nbuffer as=b size=0x1000\nmap-dma container=c buffer=b length=0x1000\n", 3,
         "missing argument 'iova' for step 'map-dma'"),
        ("container as=c\nmap-dma container=c buffer=c iova=0\n", 2, "'c' is a container handle, not a buffer"),
        ("container as=c\nbuffer as=b size=0x1000\nmap-dma container=c buffer=b iova=0 access=x\n", 3,
         "bad access 'x': use r, w, rw or none"),
        ("container as=c\nunmap-dma container=c all iova=0\n", 2, "unmap-dma: give 'all' or iova= length=, not both"),
        ("container as=c\nunmap-dma container=c iova=0\n", 2, "missing argument 'length' for step 'unmap-dma'"),
        ("container as=c\nunmap-dma container=c\n", 2, "missing argument 'iova' for step 'unmap-dma' (or 'all')"),
        ("container as=c\nmap-dmaa container=c\n", 2, "unknown step 'map-dmaa' (did you mean 'map-dma'?)"),
    ] as [(String, Int, String)])
    func badLinesGiveLineNumberedErrors(_ text: String, _ line: Int, _ message: String) {
        #expect(throws: StepFileError(file: "bad.steps", line: line, message: message)) {
            try StepFile.parse(text, name: "bad.steps")
        }
    }

    /// Runs `text` on a mock session whose legacy nodes open as fake fds; returns the paths opened too.
    func run(_ text: String) throws -> (RunReport, [String]) {
        let file = try StepFile.parse(text, name: "mock.steps")
        let opened = OpenedPaths()
        let session = Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: MockKernel()),
                              openLegacyNode: { path in opened.paths.append(path); return FakeFD.next() })
        let report = StepRunner(keepGoing: true).run(file, in: session)
        return (report, opened.paths)
    }

    @Test func compatFlowAgainstTheMock() throws {
        let (report, opened) = try run("""
            container as=c kind=compat
            group as=g number=7 container=c
            set-iommu container=c type=type1v2
            get-device-fd as=d group=g device=0000:00:03.0
            buffer as=buf size=0x2000
            map-dma container=c buffer=buf iova=0x100000 length=0x1000 access=none expect=EINVAL
            map-dma container=c buffer=buf iova=0x100000 length=0x1000 access=rw
            map-dma container=c buffer=buf iova=0x100000 length=0x1000 expect=EEXIST
            unmap-dma container=c iova=0x100000 length=0x1000
            unmap-dma container=c all
            """)
        #expect(report.ok, "\(report.steps.filter { $0.status != .passed }.map { "\($0.line): \($0.outcome ?? "-")" })")
        #expect(opened == ["/dev/iommu", "/dev/vfio/7"])
        let containerFD = try #require(report.steps[0].values.first?.value.split(separator: "=").last.map(String.init))
        let setContainer = try #require(report.steps[1].ioctls.first)
        #expect(setContainer.request == "VFIO_GROUP_SET_CONTAINER")
        #expect(setContainer.input == [.init("container_fd", containerFD)])
        #expect(report.steps[2].ioctls.first?.input == [.init("value", "0x3"), .init("type", "VFIO_TYPE1v2_IOMMU")])
        #expect(report.steps[3].ioctls.first?.input == [.init("name", "0000:00:03.0")])
        // access=none reached the (mock) kernel with flags 0, which refused it.
        let noAccess = report.steps[5]
        #expect(noAccess.error?.origin == "kernel")
        let map = try #require(noAccess.ioctls.first)
        #expect(map.request == "VFIO_IOMMU_MAP_DMA")
        #expect(map.input.first { $0.name == "flags" }?.value == "0")
        #expect(map.input.contains(.init("iova", "0x100000")) && map.input.contains(.init("size", "0x1000")))
        #expect(map.errnoName == "EINVAL")
        #expect(report.steps[6].ioctls.first?.input.first { $0.name == "flags" }?.value == "READ|WRITE")
        #expect(report.steps[6].values == [.init("iova", "0x100000"), .init("size", "0x1000")])
        #expect(report.steps[8].values == [.init("unmapped", "0x1000")])
        #expect(report.steps[9].ioctls.first?.input.first { $0.name == "flags" }?.value == "ALL")
    }

    @Test func zeroSizeIsValidatedUnlessRaw() throws {
        let (report, _) = try run("""
            container as=c
            buffer as=buf size=0x1000
            map-dma container=c buffer=buf iova=0x100000 length=0 expect=EINVAL
            map-dma container=c buffer=buf iova=0x100000 length=0 raw=1 expect=EINVAL
            """)
        #expect(report.ok)
        #expect(report.steps[2].error?.origin == "validation")
        #expect(report.steps[2].ioctls.isEmpty)
        #expect(report.steps[3].error?.origin == "kernel")
        #expect(report.steps[3].ioctls.count == 1)
    }

    @Test func stepsOnMissingObjectsFailCleanly() throws {
        let (report, _) = try run("""
            container as=c
            group as=g number=7 container=c
            get-device-fd as=d group=g device=0000:00:03.0
            """)
        #expect(report.ok)
        let file = try StepFile.parse("container as=c\nset-iommu container=c\n", name: "x.steps")
        let failing = Session(iommufd: IOMMUFD(adopting: FakeFD.next(), driver: MockKernel()),
                              openLegacyNode: { (path) throws(IOMMUFDError) in
            throw IOMMUFDError(ioctl: "open(\(path))", errno: .noSuchFileOrDirectory, origin: .system(call: "open"), meaning: "mock: none")
        })
        let r = StepRunner(keepGoing: true).run(file, in: failing)
        #expect(r.steps[0].error?.origin == "open")
        #expect(r.steps[1].error?.origin == "validation")
        #expect(r.steps[1].error?.meaning.contains("container 'c' does not exist") == true)
    }
}

/// The nodes a mock session opened, in order.
final class OpenedPaths {
    var paths: [String] = []
}

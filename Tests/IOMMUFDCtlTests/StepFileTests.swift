import Foundation
import IOMMUFD
import Testing
@testable import IOMMUFDCtlKit

@Suite struct StepFileTests {
    @Test func splitUnmapExampleParses() throws {
        let file = try StepFile.parse(try #require(Examples.named("split-unmap")), name: "split-unmap.steps")
        #expect(file.steps.count == 5)
        #expect(file.summary.first?.hasPrefix("split-unmap") == true)
        #expect(file.steps[0].action == .ioasAlloc(name: "a"))
        #expect(file.steps[1].action == .buffer(name: "buf", size: 0x4000, kind: .anonymous))
        #expect(file.steps[3].line == 6)
        #expect(file.steps[3].expect == .errno(.noSuchFileOrDirectory))
        #expect(file.steps[3].action == .unmap(ioas: "a", iova: .literal(0x100000), length: .literal(0x2000), all: false, raw: false))
        #expect(file.steps[4].expect == .ok)
    }

    @Test(arguments: Examples.all.map(\.name))
    func everyExampleParses(_ name: String) throws {
        let file = try StepFile.parse(try #require(Examples.named(name)), name: name)
        #expect(!file.steps.isEmpty)
    }

    @Test func embeddedExamplesMatchTheFiles() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/steps").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".steps") }
        #expect(Set(files.map { String($0.dropLast(6)) }) == Set(Examples.all.map(\.name)))
        for f in files {
            let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
            #expect(Examples.named(f).map { $0 + "\n" } == text, "examples/steps/\(f) differs from Examples.swift")
        }
    }

    @Test func grammarDetails() throws {
        let text = """
            # header
            ioas-alloc as=a
            ioas-alloc as=b
            buffer as=h size=2M hugetlb=1
            buffer as=m size=16K memfd=1     # trailing comment
            map ioas=a buffer=m iova=auto access=r as=m1
            map ioas=a va=0x1000 length=0x1000 iova=0x2000 raw=1 expect=EINVAL
            copy ioas=b src=a src-iova=m1 length=0x4000 iova=0x9000
            unmap ioas=a all
            unmap ioas=a iova=m1 length=16k
            allow-iovas ioas=a ranges=0x100000-0x1fffff,0x300000-0x3fffff
            option name=huge-pages ioas=a set=0
            option name=rlimit-mode expect=ok
            destroy id=b expect=2
            raw-size request=IOAS_MAP size=4 expect=EINVAL
            raw-size request=0x8f size=0 expect=ENOTTY
            """
        let f = try StepFile.parse(text, name: "t")
        #expect(f.steps.count == 15)
        #expect(f.steps[2].action == .buffer(name: "h", size: 2 << 20, kind: .hugetlb))
        #expect(f.steps[4].action == .map(ioas: "a", buffer: "m", userVA: nil, offset: 0, length: nil, iova: nil,
                                           access: .read, raw: false, name: "m1"))
        #expect(f.steps[5].expect == .errno(.invalidArgument))
        #expect(f.steps[6].action == .copy(dst: "b", src: "a", srcIOVA: .handle("m1"), length: 0x4000,
                                            iova: .literal(0x9000), access: .readWrite, name: nil))
        #expect(f.steps[7].action == .unmap(ioas: "a", iova: nil, length: nil, all: true, raw: false))
        #expect(f.steps[8].action == .unmap(ioas: "a", iova: .handle("m1"), length: .literal(0x4000), all: false, raw: false))
        #expect(f.steps[9].action == .allowIOVAs(ioas: "a", ranges: [IOVARange(start: 0x100000, last: 0x1fffff),
                                                                    IOVARange(start: 0x300000, last: 0x3fffff)]))
        #expect(f.steps[10].action == .option(.hugePages, ioas: "a", set: 0))
        #expect(f.steps[12].expect == .errno(.noSuchFileOrDirectory))
        #expect(f.steps[13].action == .rawSize(request: .ioasMap, size: 4, bytes: 8, ioas: nil))
        #expect(f.steps[14].action == .rawSize(request: .ioasMapFile, size: 0, bytes: 8, ioas: nil))
    }

    @Test(arguments: [
        ("ioas-alloc as=a\nmapp ioas=a\n", 2, "unknown step 'mapp' (did you mean 'map'?)"),
        ("ioas-alloc\n", 1, "missing argument 'as' for step 'ioas-alloc'"),
        ("ioas-alloc as=a\n\n# c\nunmap ioas=a iova=0x10z length=1\n", 4, "bad number '0x10z' for iova"),
        ("ioas-alloc as=a\nbuffer as=b size=12q\n", 2, "bad number '12q' for size"),
        ("map ioas=a buffer=b iova=0\n", 1, "unknown IOAS 'a' (define it first with as=a)"),
        ("ioas-alloc as=a\nunmap ioas=a length=1\n", 2, "missing argument 'iova' for step 'unmap' (or 'all')"),
        ("ioas-alloc as=a\nunmap ioas=a all expect=EWHAT\n", 2, "bad expectation 'EWHAT': use ok or an errno name (ENOENT, EEXIST, EINVAL...)"),
        ("ioas-alloc as=a\nunmap ioas=a all colour=red\n", 2, "unknown argument 'colour' for step 'unmap'"),
        ("ioas-alloc as=a\nbuffer as=a size=1\n", 2, "'a' is already a IOAS handle"),
        ("buffer as=b size=0x1000\nmap ioas=b buffer=b\n", 2, "'b' is a buffer handle, not a IOAS"),
        ("raw-size request=NOPE size=1\n", 1, "unknown request 'NOPE' (use a name like IOAS_MAP or a number like 0x85)"),
    ] as [(String, Int, String)])
    func badFilesGiveLineNumberedErrors(_ text: String, _ line: Int, _ message: String) {
        #expect(throws: StepFileError(file: "bad.steps", line: line, message: message)) {
            try StepFile.parse(text, name: "bad.steps")
        }
        let described = (try? StepFile.parse(text, name: "bad.steps")).map { _ in "" }
            ?? "bad.steps:\(line): \(message)"
        #expect(described.hasPrefix("bad.steps:\(line): "))
    }

    @Test func numbers() {
        #expect(Numbers.parse("0x1000") == 0x1000)
        #expect(Numbers.parse("4096") == 4096)
        #expect(Numbers.parse("16K") == 16384)
        #expect(Numbers.parse("2m") == 2 << 20)
        #expect(Numbers.parse("0x1_0000") == 0x10000)
        #expect(Numbers.parse("max") == .max)
        #expect(Numbers.parse("0x") == nil)
        #expect(Numbers.parse("1z") == nil)
        #expect(Numbers.parse("0xffffffffffffffffK") == nil)
    }

    @Test func requestLookup() {
        #expect(RequestCatalog.find("IOAS_MAP") == .ioasMap)
        #expect(RequestCatalog.find("iommu_ioas_unmap") == .ioasUnmap)
        #expect(RequestCatalog.find("ioas-copy") == .ioasCopy)
        #expect(RequestCatalog.find("0x90") == .viommuAlloc)
        #expect(RequestCatalog.find("0x3b85") == .ioasMap)
        #expect(RequestCatalog.find("DEVICE_BIND_IOMMUFD") == .vfioDeviceBindIOMMUFD)
    }
}

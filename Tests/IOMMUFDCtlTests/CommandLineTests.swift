import ArgumentParser
import Testing
@testable import iommufdctl

@Suite struct CommandLineTests {
    @Test func probeJSON() throws {
        let cmd = try #require(try IOMMUFDCtl.parseAsRoot(["probe", "--json"]) as? Probe)
        #expect(cmd.global.json)
        #expect(cmd.device == nil)
    }

    @Test func hwInfo() throws {
        let cmd = try #require(try IOMMUFDCtl.parseAsRoot(["hw-info", "0000:00:03.0", "--json"]) as? HWInfoCommand)
        #expect(cmd.device == "0000:00:03.0")
        #expect(cmd.global.json)
        #expect(cmd.iommufd == "/dev/iommu")
    }

    @Test func runFile() throws {
        let cmd = try #require(try IOMMUFDCtl.parseAsRoot(["run", "examples/steps/split-unmap.steps"]) as? Run)
        #expect(cmd.file == "examples/steps/split-unmap.steps")
        #expect(!cmd.keepGoing)
        #expect(cmd.global.traceJSON == nil)
    }

    @Test func runExampleWithOptions() throws {
        let cmd = try #require(try IOMMUFDCtl.parseAsRoot(
            ["run", "--example", "split-unmap", "--keep-going", "--trace-json", "-", "--json"]) as? Run)
        #expect(cmd.example == "split-unmap")
        #expect(cmd.keepGoing)
        #expect(cmd.global.traceJSON == "-")
        #expect(cmd.global.json)
    }

    @Test func runNeedsFileOrExample() {
        #expect(throws: (any Error).self) { try IOMMUFDCtl.parseAsRoot(["run"]) }
        #expect(throws: (any Error).self) { try IOMMUFDCtl.parseAsRoot(["run", "x.steps", "--example", "y"]) }
    }

    @Test func traceCapturesTheCommand() throws {
        let cmd = try #require(try IOMMUFDCtl.parseAsRoot(["trace", "--", "run", "x.steps", "--keep-going"]) as? Trace)
        #expect(cmd.command.suffix(3) == ["run", "x.steps", "--keep-going"])
        #expect(cmd.output == "-")
    }

    @Test func devicesBindUnbind() throws {
        #expect(try IOMMUFDCtl.parseAsRoot(["devices", "--json"]) is Devices)
        let bind = try #require(try IOMMUFDCtl.parseAsRoot(["bind", "00:03.0"]) as? Bind)
        #expect(bind.bdf == "00:03.0")
        #expect(try IOMMUFDCtl.parseAsRoot(["unbind", "0000:00:03.0"]) is Unbind)
    }

    @Test func unknownSubcommand() {
        #expect(throws: (any Error).self) { try IOMMUFDCtl.parseAsRoot(["frobnicate"]) }
    }
}

import ArgumentParser
import Glibc
import IOMMUFD
import IOMMUFDCtlKit
import VFIO

@main
struct IOMMUFDCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iommufdctl",
        abstract: "Debug kernel iommufd (/dev/iommu) and VFIO uAPI behaviour.",
        discussion: """
            Every ioctl the tool issues can be written as JSON lines with --trace-json PATH|- \
            (or `iommufdctl trace -- SUBCOMMAND ...`).
            """,
        subcommands: [Probe.self, Devices.self, Bind.self, Unbind.self, HWInfoCommand.self, Run.self, Trace.self])
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    @Option(name: .customLong("trace-json"), help: ArgumentHelp("Write every ioctl as a JSON line to PATH ('-' for stdout).", valueName: "PATH"))
    var traceJSON: String?

    /// With the trace on stdout, the subcommand's own output goes to stderr.
    var out: Console { Console(fd: traceJSON == "-" ? 2 : 1) }

    /// Runs `body` with the JSON-lines trace sink installed when asked for.
    func withTrace<R>(_ body: () throws -> R) throws -> R {
        guard let path = traceJSON else { return try body() }
        let fd: Int32 = path == "-" ? 1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ValidationError("cannot open \(path) for the trace") }
        defer { if fd > 2 { close(fd) } }
        return try IoctlTracer.with({ event in Console(fd: fd).print(Format.jsonLine(TraceRecord(event))) }) {
            try body()
        }
    }
}

struct Console: Sendable {
    let fd: Int32
    func print(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            offset += n
        }
    }
}

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Which iommufd and VFIO ioctls this kernel supports (ENOTTY = unsupported).",
        discussion: "Each ioctl gets a struct with size/argsz 0, which a kernel that knows the ioctl rejects with EINVAL before touching any state.")

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Probe device ioctls on this VFIO cdev or PCI address (default: the first cdev).", valueName: "DEVICE"))
    var device: String?

    @Flag(help: "Do not open any VFIO device cdev.")
    var noDevice = false

    func run() throws {
        let report = try global.withTrace {
            Prober().probeAll(device: noDevice ? nil : device, host: HostFacts.collect(), includeDevice: !noDevice)
        }
        global.out.print(global.json ? Format.json(report) : Format.probe(report))
        if report.entries.isEmpty { throw ExitCode.failure }
    }
}

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "PCI devices with IOMMU group, driver, VFIO cdev node and IOMMU model.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let list = PCIDevices.all()
        global.out.print(global.json ? Format.json(list) : Format.devices(list))
    }
}

/// bind and unbind differ only in the sysfs move; both report the device as it is after.
func moveDevice(_ verb: String, _ bdf: String, _ global: GlobalOptions,
                _ move: (PCIDevice) throws(IOMMUFDError) -> PCIDevice) throws {
    do throws(IOMMUFDError) {
        let info = PCIDevices.info(from: try move(try PCIDevice.find(PCIDevices.normalize(bdf))))
        global.out.print(global.json ? Format.json(info) : Format.devices([info]))
    } catch {
        global.out.print(global.json ? Format.json(StepResult.ErrorInfo(error)) : "\(verb) \(bdf): \(error)")
        throw ExitCode.failure
    }
}

struct Bind: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Bind a PCI device to vfio-pci.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "PCI address, e.g. 0000:00:03.0") var bdf: String

    func run() throws {
        try moveDevice("bind", bdf, global) { (d) throws(IOMMUFDError) in try d.bindToVFIO() }
    }
}

struct Unbind: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unbind a PCI device from vfio-pci and let its default driver probe it.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "PCI address, e.g. 0000:00:03.0") var bdf: String

    func run() throws {
        try moveDevice("unbind", bdf, global) { (d) throws(IOMMUFDError) in try d.unbindFromVFIO() }
    }
}

struct HWInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hw-info",
        abstract: "Bind a VFIO device to a new iommufd, decode GET_HW_INFO, attach it to an IOAS and print its IOVA ranges.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A PCI address (bound to vfio-pci) or /dev/vfio/devices/vfioN.") var device: String
    @Option(help: "The iommufd node.") var iommufd = "/dev/iommu"
    @Flag(help: "Also print every ioctl issued.") var verbose = false

    func run() throws {
        let report: HWInfoReport = try global.withTrace {
            do throws(IOMMUFDError) {
                let fd = try IOMMUFD.open(iommufd)
                return HWInfoReport.run(device: device, iommufd: fd)
            } catch {
                var r = HWInfoReport(device: device)
                r.error = StepResult.ErrorInfo(error)
                return r
            }
        }
        if global.json {
            global.out.print(Format.json(report))
        } else {
            global.out.print(Format.hwInfo(report))
            if verbose { for io in report.ioctls { Format.ioctlLines(io, indent: "  ").forEach(global.out.print) } }
        }
        if report.error != nil { throw ExitCode.failure }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a step file: one ioctl per step, with its decoded input, output, errno meaning and duration.",
        discussion: "Steps:\n" + StepFile.grammar.map { "  \($0.step) \($0.usage)" }.joined(separator: "\n")
            + "\nEvery step takes expect=ok|ERRNO. Exit status is 0 only if every step met its expectation"
            + " (a step without one is expected to succeed).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The step file.") var file: String?
    @Option(help: ArgumentHelp("Run an example built into the binary instead of a file.", valueName: "NAME"))
    var example: String?
    @Flag(help: "List the built-in examples.") var listExamples = false
    @Flag(help: "Print the built-in example's text instead of running it.") var show = false
    @Flag(help: "Run every step even after an unexpected outcome.") var keepGoing = false
    @Flag(help: "Only parse the file; do not touch the kernel.") var check = false
    @Option(help: "The iommufd node.") var iommufd = "/dev/iommu"

    func validate() throws {
        if !listExamples && (file == nil) == (example == nil) {
            throw ValidationError("give a step FILE or --example NAME (see --list-examples)")
        }
    }

    func run() throws {
        if listExamples {
            let width = Examples.all.map(\.name.count).max() ?? 0
            for e in Examples.all {
                let summary = e.text.split(separator: "\n").first.map { String($0.dropFirst(2)) } ?? ""
                global.out.print("\(e.name.padding(width)) \(summary)")
            }
            return
        }
        let (name, text) = try load()
        if show { global.out.print(text); return }
        let steps: StepFile
        do throws(StepFileError) {
            steps = try StepFile.parse(text, name: name)
        } catch {
            Console(fd: 2).print(error.description)
            throw ExitCode(2)
        }
        if check {
            global.out.print("\(name): \(steps.steps.count) steps, ok")
            return
        }
        let out = global.out
        let json = global.json
        let report: RunReport = try global.withTrace {
            let fd: IOMMUFD
            do throws(IOMMUFDError) { fd = try IOMMUFD.open(iommufd) } catch {
                Console(fd: 2).print("\(error)")
                throw ExitCode.failure
            }
            if !json { for line in steps.summary { out.print("# \(line)") } }
            let runner = StepRunner(keepGoing: keepGoing, onStep: json ? nil : { out.print(Format.step($0, file: name)) })
            return runner.run(steps, in: Session(iommufd: fd))
        }
        if json {
            out.print(Format.json(report))
        } else {
            for r in report.steps where r.status == .notRun { out.print(Format.step(r, file: name)) }
            out.print(Format.runSummary(report))
        }
        if !report.ok { throw ExitCode.failure }
    }

    func load() throws -> (String, String) {
        if let example {
            guard let text = Examples.named(example) else {
                throw ValidationError("no example '\(example)'; have: \(Examples.all.map(\.name).joined(separator: ", "))")
            }
            return (example + ".steps", text)
        }
        let path = file ?? ""
        guard let text = PCIDevices.readFile(path).map({ $0 + "\n" }) else {
            // Fall back to a built-in example of the same name, for hosts that only carry the binary.
            let base = String(path.split(separator: "/").last ?? "")
            if let text = Examples.named(base) {
                Console(fd: 2).print("note: cannot read \(path); running the built-in example '\(base)'")
                return (base, text)
            }
            throw ValidationError("cannot read \(path)")
        }
        return (String(path.split(separator: "/").last ?? Substring(path)), text)
    }
}

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run another subcommand with every ioctl written as a JSON line.",
        discussion: "Example: iommufdctl trace -- run examples/steps/split-unmap.steps")

    @Option(name: .shortAndLong, help: ArgumentHelp("Where the JSON lines go ('-' = stdout; the command's own output then goes to stderr).", valueName: "PATH"))
    var output = "-"

    @Argument(parsing: .captureForPassthrough, help: "The subcommand and its arguments.")
    var command: [String] = []

    func run() throws {
        var args = command
        if args.first == "--" { args.removeFirst() }
        guard !args.isEmpty else { throw ValidationError("give a subcommand to trace, e.g. trace -- run FILE") }
        if args.first == "trace" { throw ValidationError("trace cannot trace itself") }
        var inner = try IOMMUFDCtl.parseAsRoot(args + ["--trace-json", output])
        try inner.run()
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}

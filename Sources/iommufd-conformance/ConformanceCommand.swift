import ArgumentParser
import Conformance
import Foundation

@main
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iommufd-conformance",
        abstract: "Checks what the running kernel's iommufd and VFIO uAPI do, case by case.",
        subcommands: [Run.self, List.self, Summarize.self, Expect.self, Soak.self],
        defaultSubcommand: Run.self)
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List case ids with the rule each checks.")
    @Argument(help: "Glob patterns on case ids (default: all).") var patterns: [String] = []

    func run() {
        for c in Catalog.matching(patterns) {
            print("\(c.id)\t\(c.mode)\tsince \(c.since)\t\(c.rule)")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run cases; TAP on stdout.")
    @Argument(help: "Glob patterns on case ids (default: all).") var patterns: [String] = []
    @Option(help: "Profile name recorded in results (default: $SWIFT_IOMMUFD_PROFILE or 'host').")
    var profile: String?
    @Option(help: "Profile name recorded in results instead of --profile (the main job uses e.g. 'intel-6.1' for a second kernel); cases still see --profile.")
    var label: String?
    @Option(help: "Per-case timeout in seconds.") var timeout = 60
    @Option(help: "Write TAP to this file as well.") var tap: String?
    @Option(help: "Write JUnit XML to this file.") var junit: String?
    @Option(help: "Write the JSON results here ('-' for stdout between @@JSON markers).") var json: String?

    func run() throws {
        let name = profile ?? ProcessInfo.processInfo.environment["SWIFT_IOMMUFD_PROFILE"] ?? "host"
        let machine = Machine.probe(profile: name)
        let runner = Runner(machine: machine, timeoutSeconds: timeout, label: label)
        let cases = Catalog.matching(patterns)
        guard !cases.isEmpty else { throw ValidationError("no case matches \(patterns)") }
        print("# kernel \(machine.kernelRelease), profile \(runner.label), \(cases.count) cases, edu devices: "
              + machine.eduDevices.map(\.address).joined(separator: " "))
        print("TAP version 13\n1..\(cases.count)")
        var results: [CaseResult] = []
        for (i, c) in cases.enumerated() {
            let r = runner.run(c)
            results.append(r)
            let label = "\(c.id)\(c.mode == "-" ? "" : " [\(c.mode)]")"
            switch r.status {
            case .pass: print("ok \(i + 1) \(label) (\(r.ms) ms)")
            case .skip: print("ok \(i + 1) \(label) # SKIP \(r.reason)")
            case .fail: print("not ok \(i + 1) \(label) (\(r.ms) ms)\n# \(r.reason)")
            }
            fflush(nil)
        }
        let counts = Reports.counts(results)
        print("# \(runner.label): \(counts.pass) passed, \(counts.fail) failed, \(counts.skip) skipped")
        if let tap { try write(Reports.tap(results), to: tap) }
        if let junit { try write(Reports.junit(results, suite: "iommufd-conformance.\(runner.label)"), to: junit) }
        if let json {
            let text = Reports.json(.init(kernel: machine.kernelRelease, cases: results))
            if json == "-" { print("@@JSON-BEGIN@@\n\(text)\n@@JSON-END@@") } else { try write(text, to: json) }
        }
        if counts.fail > 0 { throw ExitCode(1) }
    }
}

struct Summarize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge per-profile JSON results; print the cases × profiles table and the differential table.")
    @Argument(help: "Per-profile JSON result files.") var inputs: [String]
    @Option(help: "Write the merged JSON here.") var json: String?
    @Option(help: "Write the merged results as JUnit XML here.") var junit: String?
    @Option(help: "Write the merged results as TAP here.") var tap: String?
    @Option(name: .customLong("kernel-source"),
            help: "SERIES=PACKAGE VERSION the kernel was built from (recorded in the JSON); repeatable.")
    var kernelSources: [String] = []

    func run() throws {
        var docs: [Reports.Document] = []
        for path in inputs {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            docs.append(try JSONDecoder().decode(Reports.Document.self, from: data))
        }
        // The top-level kernel is the newest one merged (the 6.12 the three profiles
        // ran on); cases run on an older one carry their own "kernel".
        let newest = docs.map(\.kernel).max { KernelVersion(parsing: $0) < KernelVersion(parsing: $1) }
        var merged = Reports.Document(kernel: newest ?? "unknown", cases: docs.flatMap(\.cases))
        let pairs = kernelSources.compactMap { s -> (String, String)? in
            guard let eq = s.firstIndex(of: "=") else { return nil }
            return (String(s[..<eq]), String(s[s.index(after: eq)...]))
        }
        if !pairs.isEmpty { merged.kernelSources = Dictionary(pairs, uniquingKeysWith: { a, _ in a }) }
        print(Summary.render(merged))
        let c = Reports.counts(merged.cases)
        print("conformance: \(c.pass) passed, \(c.fail) failed, \(c.skip) skipped")
        if let json { try write(Reports.json(merged), to: json) }
        if let junit { try write(Reports.junit(merged.cases, suite: "iommufd-conformance"), to: junit) }
        if let tap { try write(Reports.tap(merged.cases), to: tap) }
        if merged.cases.contains(where: { $0.status == .fail }) { throw ExitCode(1) }
    }
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

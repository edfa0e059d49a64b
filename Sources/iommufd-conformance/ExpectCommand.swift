import ArgumentParser
import Conformance
import Foundation

/// The verdict of Scripts/conformance: each run's results against its checked-in
/// expectation file, so a case that stops passing (even as a SKIP) fails the job.
struct Expect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare per-run JSON results with the expectation files (or rewrite them with --update).",
        discussion: """
            Each results file is one run; its label ("intel-7.3") names the file DIR/7.3-intel.txt. \
            Exits 1 when any run differs from its file or has none.
            """)
    @Argument(help: "Per-run JSON result files (iommufd-conformance run --json).") var inputs: [String]
    @Option(name: .customLong("dir"), help: "The directory of expectation files.") var directory: String
    @Option(name: .customLong("only"),
            help: "A CASE-GLOB the runs were limited to (repeatable): only expected ids it matches are compared or rewritten.")
    var scope: [String] = []
    @Flag(help: "Rewrite the files from the results (within --only, when given) instead of comparing.")
    var update = false

    func run() throws {
        var failed = false
        let partial = scope.isEmpty ? "" : "; partial run: only ids matching \(scope.joined(separator: " ")) \(update ? "rewritten" : "compared")"
        print("\nexpectations (\(directory)\(partial))")
        for path in inputs {
            let doc = try JSONDecoder().decode(Reports.Document.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            let labels = Set(doc.cases.map(\.profile))
            guard labels.count == 1, let label = labels.first else {
                throw ExpectError("\(path): want the results of one run, found labels \(labels.sorted())")
            }
            let name = Expectations.fileName(label: label)
            let file = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            var existing: Expectations?
            if FileManager.default.fileExists(atPath: file) {
                do { existing = try Expectations(parsing: String(contentsOfFile: file, encoding: .utf8)) } catch {
                    throw ExpectError("\(file): \(error)")
                }
            }
            if update {
                let before = existing ?? Expectations()
                let after = ExpectationCheck.updated(before, results: doc.cases, scope: scope)
                let changed = Set(after.entries.keys).union(before.entries.keys).filter { after.entries[$0] != before.entries[$0] }.count
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try write(after.render(comments: Expectations.header(label: label, kernel: doc.kernel)), to: file)
                print("  \(label): wrote \(name) (\(after.entries.count) case variants, "
                      + (existing == nil ? "new file)" : "\(changed) changed)"))
                continue
            }
            guard let existing else {
                print("  \(label): no expectation file \(name): every case is new; run Scripts/conformance --update-expectations and review it")
                failed = true
                continue
            }
            let check = ExpectationCheck(label: label, expected: existing, results: doc.cases, scope: scope)
            print(check.render(file: name), terminator: "")
            failed = failed || !check.differences.isEmpty
        }
        if failed {
            print("""
                A difference is a regression to fix, unless the change is intended (a new case, a kernel or
                profile that now does more): then rerun with --update-expectations and commit the file's diff.
                """)
            throw ExitCode(1)
        }
    }
}

/// A file that cannot be used: said in one line, without the usage text.
struct ExpectError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

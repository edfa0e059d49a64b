// The conformance results readers: `iommufd-conformance summarize` decodes each
// profile's JSON (Reports.Document), merges them (KernelDiff over kernel releases)
// and renders the summary, TAP, JUnit and JSON; the runner decodes each forked
// case's outcome (ChildOutcome) from its pipe. Any bytes must decode or be refused
// with a DecodingError; a decoded document must render.
import Foundation
import FuzzSupport
@testable import Conformance

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzResultsJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = Data(inputBytes(data, size))
    if let doc = try? JSONDecoder().decode(Reports.Document.self, from: bytes) {
        // What summarize does with the files it read: merge (the newest kernel on top), render.
        let newest = ([doc.kernel] + doc.cases.compactMap(\.kernel))
            .max { KernelVersion(parsing: $0) < KernelVersion(parsing: $1) }
        var merged = Reports.Document(kernel: newest ?? "unknown", cases: doc.cases + doc.cases.prefix(8))
        merged.kernelSources = doc.kernelSources
        _ = Summary.render(merged)
        _ = Reports.tap(merged.cases)
        _ = Reports.junit(merged.cases, suite: "fuzz")
        let written = Reports.json(merged)
        // What we write, we read back.
        let reread = try? JSONDecoder().decode(Reports.Document.self, from: Data(written.utf8))
        invariant(reread?.cases == merged.cases, "the JSON written does not decode to the same cases")
    }
    if let outcome = try? JSONDecoder().decode(Runner.ChildOutcome.self, from: bytes) {
        _ = (outcome.status.rawValue, outcome.reason, outcome.trail.count)
    }
    return 0
}

exit(runFuzzer(fuzzResultsJSON))

// iommufdctl's step-file parser (StepFile.parse: StepParser, StepArguments,
// LegacyVFIOSteps) and the number and expectation parsers it uses. Any text must
// parse or fail with a StepFileError naming a line of the file; never trap.
import FuzzSupport
import Glibc
import IOMMUFDCtlKit

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzStepFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: inputBytes(data, size), as: UTF8.self)
    let lineCount = text.split(separator: "\n", omittingEmptySubsequences: false).count
    do throws(StepFileError) {
        let file = try StepFile.parse(text, name: "fuzz.steps")
        for step in file.steps {
            invariant(step.line >= 1 && step.line <= lineCount, "step line \(step.line) outside 1...\(lineCount)")
            // What `iommufdctl run` prints for each step.
            _ = "\(step.text) \(step.expect?.description ?? "-") \(step.needsDevice)"
        }
        _ = file.summary.joined(separator: "\n")
    } catch {
        invariant(error.line >= 1 && error.line <= lineCount, "error line \(error.line) outside 1...\(lineCount)")
        _ = error.description
    }
    // The value parsers on every word, as step arguments reach them.
    for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "=" }).prefix(64) {
        let w = String(word)
        if let v = Numbers.parse(w) { _ = Numbers.hex(v) }
        _ = Expectation.parse(w)?.description
    }
    return 0
}

exit(runFuzzer(fuzzStepFile))

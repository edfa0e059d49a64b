import Foundation

/// Result writers: kselftest-style TAP, JUnit XML, and the main job's JSON.
public enum Reports {
    public static func tap(_ results: [CaseResult]) -> String {
        var out = "TAP version 13\n1..\(results.count)\n"
        for (i, r) in results.enumerated() {
            let name = "\(r.id) [\(r.profile)\(r.mode == "-" ? "" : ",\(r.mode)")]"
            switch r.status {
            case .pass: out += "ok \(i + 1) \(name)\n"
            case .skip: out += "ok \(i + 1) \(name) # SKIP \(r.reason)\n"
            case .fail: out += "not ok \(i + 1) \(name)\n# \(r.reason)\n"
            }
        }
        let c = counts(results)
        out += "# Totals: pass:\(c.pass) fail:\(c.fail) xfail:0 xpass:0 skip:\(c.skip) error:0\n"
        return out
    }

    public static func junit(_ results: [CaseResult], suite: String) -> String {
        let c = counts(results)
        let seconds = Double(results.reduce(0) { $0 + $1.ms }) / 1000
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuite name=\"\(xml(suite))\" tests=\"\(results.count)\" failures=\"\(c.fail)\" skipped=\"\(c.skip)\" time=\"\(seconds)\">\n"
        for r in results {
            out += "  <testcase classname=\"\(xml(r.profile)).\(xml(r.mode))\" name=\"\(xml(r.id))\" time=\"\(Double(r.ms) / 1000)\""
            switch r.status {
            case .pass: out += "/>\n"
            case .skip: out += "><skipped message=\"\(xml(r.reason))\"/></testcase>\n"
            case .fail: out += "><failure message=\"\(xml(r.reason))\"/></testcase>\n"
            }
        }
        return out + "</testsuite>\n"
    }

    /// The main job's schema: {"kernel": ..., "cases": [{"id","profile","mode","status","reason","ms"}]},
    /// plus per case the optional "observed" and "kernel" (the release that case ran on;
    /// the top-level "kernel" is the newest one merged, e.g. 6.12 next to "intel-6.1").
    public struct Document: Codable, Sendable {
        public var kernel: String
        public var cases: [CaseResult]
        /// Cases whose answer differs between kernels on one profile (KernelDiff).
        public var kernelChanges: [KernelChange]?
        /// Per kernel series, the source package and version it was built from.
        public var kernelSources: [String: String]?
        public init(kernel: String, cases: [CaseResult]) {
            self.kernel = kernel; self.cases = cases
            let changes = KernelDiff.changes(cases)
            self.kernelChanges = changes.isEmpty ? nil : changes
        }
    }

    public static func json(_ doc: Document) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(doc) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func counts(_ results: [CaseResult]) -> (pass: Int, fail: Int, skip: Int) {
        (results.filter { $0.status == .pass }.count,
         results.filter { $0.status == .fail }.count,
         results.filter { $0.status == .skip }.count)
    }

    static func xml(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }
}

/// What one run (a profile on a kernel series) is expected to do, case variant by case
/// variant: the checked-in vm/conformance/expected/<series>-<profile>.txt. Without it a
/// case that starts to SKIP is compared to nothing and the run stays green.
///
/// One line per case id × mode, sorted, so a review diff shows exactly what moved:
///     dma.native.round-trip pass
///     cdev.attach.pasid[native] skip kernel-too-new
///     some.case skip other: the reason text, kept because no class names it
///     a.known.failure fail: the failure message (informative; only the status is compared)
public struct Expectations: Equatable, Sendable {
    public struct Outcome: Equatable, Sendable {
        public var status: CaseResult.Status
        /// SkipClass of a skip, nil otherwise.
        public var skipClass: String?
        /// The reason text, kept for "other" skips (compared) and failures (not compared).
        public var message: String?

        public init(status: CaseResult.Status, skipClass: String? = nil, message: String? = nil) {
            self.status = status; self.skipClass = skipClass; self.message = message
        }

        public init(_ r: CaseResult) {
            let cls = r.skipClass
            self.init(status: r.status, skipClass: cls,
                      message: r.status == .fail || cls == SkipClass.other ? r.reason.trimmingTrailingSpaces : nil)
        }

        /// "pass", "skip no-hugepages", "skip other: <text>", "fail: <text>".
        public var text: String {
            var s = status.rawValue
            if let skipClass { s += " \(skipClass)" }
            if let message { s += ": \(message)" }
            return s
        }

        /// Whether a run's outcome matches this expected one. A failure's text is not
        /// compared (it names addresses and errnos); an unclassified skip's text is.
        func matches(_ got: Outcome) -> Bool {
            guard status == got.status, skipClass == got.skipClass else { return false }
            return skipClass != SkipClass.other || message == got.message
        }
    }

    /// Keyed like the summary table: "id" or "id[mode]".
    public var entries: [String: Outcome]

    public init(entries: [String: Outcome] = [:]) { self.entries = entries }

    public init(results: [CaseResult]) {
        self.init(entries: Dictionary(results.map { (Self.key($0), Outcome($0)) }, uniquingKeysWith: { _, b in b }))
    }

    public static func key(_ r: CaseResult) -> String { r.mode == "-" ? r.id : "\(r.id)[\(r.mode)]" }

    /// The case id of a key ("a.b[native]" → "a.b").
    public static func id(ofKey key: String) -> String {
        guard key.hasSuffix("]"), let open = key.firstIndex(of: "[") else { return key }
        return String(key[..<open])
    }

    public struct ParseError: Error, CustomStringConvertible {
        public let line: Int
        public let text: String
        public var description: String { "line \(line): cannot read \"\(text)\" (want: ID[MODE] pass|fail|skip CLASS)" }
    }

    /// Reads a file's text; '#' lines and blank lines are comments.
    public init(parsing text: String) throws {
        var entries: [String: Outcome] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw).trimmingTrailingSpaces
            if line.isEmpty || line.hasPrefix("#") { continue }
            // The message, when there is one, is everything after the first ": ".
            var head = Substring(line), message: String?
            if let colon = line.range(of: ": ") {
                head = line[..<colon.lowerBound]; message = String(line[colon.upperBound...])
            } else if line.hasSuffix(":") {
                head = line.dropLast(); message = ""
            }
            let words = head.split(separator: " ")
            guard words.count >= 2, let status = CaseResult.Status(rawValue: String(words[1])),
                  words.count == (status == .skip ? 3 : 2) else { throw ParseError(line: n + 1, text: line) }
            entries[String(words[0])] = Outcome(status: status, skipClass: status == .skip ? String(words[2]) : nil,
                                                message: message)
        }
        self.init(entries: entries)
    }

    /// The file's text: a header of `comments`, then one sorted line per key.
    public func render(comments: [String]) -> String {
        let counts = Dictionary(grouping: entries.values, by: \.status).mapValues(\.count)
        var out = comments.map { "# \($0)\n" }.joined()
        out += "# \(entries.count) case variants: \(counts[.pass] ?? 0) pass, \(counts[.fail] ?? 0) fail, \(counts[.skip] ?? 0) skip\n"
        for key in entries.keys.sorted() {
            if let o = entries[key] { out += "\(key) \(o.text)\n" }
        }
        return out
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}

extension Expectations {
    /// The file of a run label: "intel-7.3" → "7.3-intel.txt" (series first, like
    /// vm/kselftest/expected/, so a listing groups by kernel); a label without a series
    /// ("host") → "host.txt".
    public static func fileName(label: String) -> String {
        let profile = KernelDiff.baseProfile(label)
        guard profile != label else { return "\(label).txt" }
        return "\(label.dropFirst(profile.count + 1))-\(profile).txt"
    }

    /// The header of a file written for `label`.
    public static func header(label: String, kernel: String) -> [String] {
        let profile = KernelDiff.baseProfile(label)
        return [
            "Expected outcome of every conformance case variant on the \(profile) profile, run \(label) (recorded on kernel \(kernel)).",
            "Scripts/conformance fails on any difference; Scripts/conformance --update-expectations rewrites",
            "this file from a run (review the diff). A line: ID[MODE] pass | skip CLASS | fail: MESSAGE;",
            "skip classes are derived from the reason (Sources/Conformance/Framework/SkipClass.swift), and",
            "an \"other\" skip keeps its reason text, which is compared too.",
        ]
    }
}

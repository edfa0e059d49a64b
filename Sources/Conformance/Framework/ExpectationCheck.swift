/// One run compared with its expectation file: every difference, each of a kind that
/// says what to do about it. Any difference fails Scripts/conformance.
public struct ExpectationCheck: Sendable {
    public struct Difference: Equatable, Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            /// Worse than expected: a pass that skips or fails, a skip that fails.
            case regression = "REGRESSION"
            /// Still a skip, for another reason (class, or the text of an "other" skip).
            case skipReasonChanged = "SKIP REASON CHANGED"
            /// An expected failure that now skips.
            case statusChanged = "STATUS CHANGED"
            /// Better than expected: promote it in the file.
            case nowPasses = "NOW PASSES"
            case newCase = "NEW CASE"
            case goneCase = "GONE"
        }
        public let kind: Kind
        public let key: String
        public let expected: Expectations.Outcome?
        public let got: Expectations.Outcome?
        /// The run's reason text for a skip or failure (the outcome keeps only the class).
        public var reason: String? = nil
    }

    public let label: String
    /// Expected keys compared (those in scope), and the run's keys.
    public let compared: Int
    public let differences: [Difference]

    /// Compares `results` with `expected`. `scope`, when given (the CASE-GLOBs of a partial
    /// run), limits the expected side to the ids it matches: the rest did not run.
    public init(label: String, expected: Expectations, results: [CaseResult], scope: [String] = []) {
        let got = Expectations(results: results)
        let reasons = Dictionary(results.map { (Expectations.key($0), $0.reason) }, uniquingKeysWith: { _, b in b })
        let wanted = expected.entries.filter { Self.inScope($0.key, scope) }
        var diffs: [Difference] = []
        for key in Set(wanted.keys).union(got.entries.keys).sorted() {
            let e = wanted[key], g = got.entries[key]
            guard let g else { diffs.append(.init(kind: .goneCase, key: key, expected: e, got: nil)); continue }
            guard let e else { diffs.append(.init(kind: .newCase, key: key, expected: nil, got: g, reason: reasons[key])); continue }
            if e.matches(g) { continue }
            let kind: Difference.Kind
            switch (e.status, g.status) {
            case (.skip, .skip): kind = .skipReasonChanged
            case (_, .pass): kind = .nowPasses
            case (.fail, .skip): kind = .statusChanged
            default: kind = .regression
            }
            diffs.append(.init(kind: kind, key: key, expected: e, got: g, reason: g.status == .pass ? nil : reasons[key]))
        }
        self.label = label
        self.compared = wanted.count
        self.differences = diffs
    }

    static func inScope(_ key: String, _ scope: [String]) -> Bool {
        scope.isEmpty || scope.contains { Catalog.glob($0, Expectations.id(ofKey: key)) }
    }

    /// `expected` with the entries in `scope` replaced by `results` (all of it when the
    /// scope is empty): what --update-expectations writes.
    public static func updated(_ expected: Expectations, results: [CaseResult], scope: [String]) -> Expectations {
        var entries = expected.entries.filter { !inScope($0.key, scope) }
        entries.merge(Expectations(results: results).entries) { _, new in new }
        return Expectations(entries: entries)
    }

    /// The readable diff: one group per kind and change, with what to do and every key.
    public func render(file: String) -> String {
        if differences.isEmpty { return "  \(label): \(compared) case variants as expected in \(file)\n" }
        var out = "  \(label): \(differences.count) of \(compared) case variants differ from \(file)\n"
        var groups: [String: [Difference]] = [:]
        var order: [String] = []
        for d in differences {
            let head = "\(d.kind.rawValue) \(Self.change(d))"
            if groups[head] == nil { order.append(head) }
            groups[head, default: []].append(d)
        }
        // Regressions first, then the rest in Kind order; within a kind, as they came.
        let heads = Difference.Kind.allCases.flatMap { kind in order.filter { groups[$0]?.first?.kind == kind } }
        for head in heads {
            let members = groups[head] ?? []
            out += "    \(head) — \(members.count) case variant\(members.count == 1 ? "" : "s"):\n"
            // The class alone does not say what happened: show the run's own words.
            if let first = members.first, let reason = first.reason, first.got?.status == .skip,
               first.got?.skipClass != SkipClass.other {
                let distinct = Set(members.compactMap(\.reason)).count
                out += "      reason\(distinct > 1 ? " (first of \(distinct) different)" : ""): \(reason.prefix(240))\n"
            }
            out += Self.wrap(members.map(\.key), indent: "      ")
        }
        return out
    }

    /// "pass → skip mock-refused" and the like, with the advice for the kind.
    static func change(_ d: Difference) -> String {
        func show(_ o: Expectations.Outcome?) -> String { o.map { String($0.text.prefix(160)) } ?? "-" }
        switch d.kind {
        case .newCase: return "(got \(show(d.got))): no expectation; run --update-expectations"
        case .goneCase: return "(expected \(show(d.expected))): did not run; if it was removed or renamed, run --update-expectations"
        case .nowPasses: return "\(show(d.expected)) → pass: promote it: run with --update-expectations"
        default: return "\(show(d.expected)) → \(show(d.got))"
        }
    }

    /// Keys several to a line, so 150 of them stay a screenful.
    static func wrap(_ keys: [String], indent: String, width: Int = 110) -> String {
        var out = "", line = indent
        for k in keys {
            if line.count > indent.count && line.count + 1 + k.count > width { out += line + "\n"; line = indent }
            line += (line.count > indent.count ? " " : "") + k
        }
        return out + line + "\n"
    }
}

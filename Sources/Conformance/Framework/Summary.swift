/// The main job's human summary: counts per profile, the cases × profiles table
/// (failures and skips only, to stay readable), and the differential table.
public enum Summary {
    public static func render(_ doc: Reports.Document) -> String {
        let profiles = ordered(doc.cases.map(\.profile))
        var out = "kernel: \(doc.kernel)\n"
        for (series, source) in (doc.kernelSources ?? [:]).sorted(by: { $0.key < $1.key }) {
            out += "  \(series) built from \(source)\n"
        }
        out += "\n" + pad("profile", 13) + pad("pass", 7) + pad("fail", 7) + pad("skip", 7) + "kernel\n"
        for p in profiles {
            let rows = doc.cases.filter { $0.profile == p }
            let c = Reports.counts(rows)
            let kernels = ordered(rows.map { $0.kernel ?? doc.kernel }).joined(separator: ",")
            out += pad(p, 13) + pad("\(c.pass)", 7) + pad("\(c.fail)", 7) + pad("\(c.skip)", 7) + kernels + "\n"
        }
        let ids = ordered(doc.cases.map { key($0) })
        let byKey = Dictionary(doc.cases.map { ("\(key($0))|\($0.profile)", $0) }, uniquingKeysWith: { a, _ in a })
        let width = max(30, ids.map(\.count).max() ?? 0) + 2
        // An older kernel (the intel-6.1 column) skips most cases by `since`; those
        // cells read "old" and do not make a row worth showing on their own.
        out += "\ncases × profiles (\(ids.count) case ids; rows where every profile passed, or skipped only"
            + " for being older than the case's kernel version (\"old\"), are omitted)\n"
        out += pad("case", width) + profiles.map { pad($0, 13) }.joined() + "\n"
        var shown = 0
        for id in ids {
            let results = profiles.map { byKey["\(id)|\($0)"] }
            if results.allSatisfy({ $0?.status == .pass || $0?.isVersionSkip == true }) { continue }
            shown += 1
            let cells = results.map { r in r.map { $0.isVersionSkip ? "old" : $0.status.rawValue } ?? "-" }
            out += pad(id, width) + cells.map { pad($0, 13) }.joined() + "\n"
        }
        if shown == 0 { out += "(all cases passed on every profile, or were too new for its kernel)\n" }
        for r in doc.cases where r.status != .pass && !r.isVersionSkip {
            out += "  \(r.status.rawValue.uppercased()) \(key(r)) [\(r.profile)]: \(r.reason)\n"
        }
        // Version skips, one line per profile and required version.
        for p in profiles {
            let old = doc.cases.filter { $0.profile == p && $0.isVersionSkip }
            for since in ordered(old.map(\.reason)) {
                let n = old.filter { $0.reason == since }.count
                out += "  SKIP \(n) case\(n == 1 ? "" : "s") [\(p)]: \(since)\n"
            }
        }
        out += differential(doc.cases, profiles: profiles)
        out += KernelDiff.render(doc.kernelChanges ?? [])
        return out
    }

    /// Cases that record an observation, one row per case id and one column per mode.
    static func differential(_ cases: [CaseResult], profiles: [String]) -> String {
        let observed = cases.filter { $0.observed != nil && $0.id.hasPrefix("diff.") }
        guard !observed.isEmpty else { return "" }
        let modes = ordered(observed.map(\.mode))
        var out = "\ndifferential (what each path returned; differences are findings, not failures)\n"
        out += pad("case", 36) + pad("profile", 9) + modes.map { pad($0, 16) }.joined() + "\n"
        for id in ordered(observed.map(\.id)) {
            for p in profiles {
                let row = observed.filter { $0.id == id && $0.profile == p }
                if row.isEmpty { continue }
                let cells = modes.map { m in row.first { $0.mode == m }?.observed ?? "-" }
                out += pad(id, 36) + pad(p, 9) + cells.map { pad($0, 16) }.joined() + "\n"
            }
        }
        return out
    }

    static func key(_ r: CaseResult) -> String { r.mode == "-" ? r.id : "\(r.id)[\(r.mode)]" }

    static func ordered(_ items: [String]) -> [String] {
        var seen = Set<String>()
        return items.filter { seen.insert($0).inserted }
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}

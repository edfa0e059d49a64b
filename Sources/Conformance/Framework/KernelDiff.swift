/// What changed between kernels on the same IOMMU profile: every case whose status,
/// or whose answer at some step (its trail), differs between two kernels. The report
/// a kernel or VMM developer wants before upgrading.
public struct KernelChange: Codable, Sendable, Equatable {
    public let id: String
    public let mode: String
    /// The IOMMU profile both runs used ("intel"), without the kernel suffix.
    public let profile: String
    public let from: String
    public let to: String
    /// "status: pass → skip" or "<step>: EINVAL → EOVERFLOW", one entry per difference.
    public let changes: [String]
}

public enum KernelDiff {
    /// The profile a result label names: "intel-6.1" and "intel-7.3" are both "intel".
    public static func baseProfile(_ label: String) -> String {
        guard let dash = label.firstIndex(where: { $0 == "-" }),
              label[label.index(after: dash)...].first?.isNumber == true else { return label }
        return String(label[..<dash])
    }

    /// Series ("7.3") of a release ("7.3.4"), for grouping.
    static func series(_ release: String) -> String {
        let v = KernelVersion(parsing: release)
        return "\(v.major).\(v.minor)"
    }

    /// Changes between consecutive kernels, per profile. Cases too new for the older
    /// kernel (version skips) are not changes: the case simply did not exist there.
    public static func changes(_ cases: [CaseResult]) -> [KernelChange] {
        var byKey: [String: [CaseResult]] = [:]
        var order: [String] = []
        for r in cases {
            let key = "\(baseProfile(r.profile))|\(r.id)|\(r.mode)"
            if byKey[key] == nil { order.append(key) }
            byKey[key, default: []].append(r)
        }
        var out: [KernelChange] = []
        for key in order {
            let runs = (byKey[key] ?? []).sorted {
                KernelVersion(parsing: $0.kernel ?? "") < KernelVersion(parsing: $1.kernel ?? "")
            }
            for (old, new) in zip(runs, runs.dropFirst()) where !old.isVersionSkip && !new.isVersionSkip {
                let diff = difference(old, new)
                if diff.isEmpty { continue }
                out.append(KernelChange(id: new.id, mode: new.mode, profile: baseProfile(new.profile),
                                        from: old.kernel ?? "?", to: new.kernel ?? "?", changes: diff))
            }
        }
        return out
    }

    static func difference(_ a: CaseResult, _ b: CaseResult) -> [String] {
        if a.status != b.status {
            func label(_ r: CaseResult) -> String {
                r.status == .pass ? "pass" : "\(r.status.rawValue) (\(r.reason.prefix(100)))"
            }
            return ["status: \(label(a)) → \(label(b))"]
        }
        var out: [String] = []
        // The differential cases' observation is their answer; elsewhere it is a
        // free-form note (a fail-nth histogram) that varies with allocation paths.
        if a.id.hasPrefix("diff."), a.observed != b.observed {
            out.append("observed: \(a.observed ?? "-") → \(b.observed ?? "-")")
        }
        // Steps are compared by answer, position by position: a label that names a random
        // IOVA differs between runs, the answer at that step does not.
        let ta = a.trail ?? [], tb = b.trail ?? []
        for i in 0..<max(ta.count, tb.count) {
            let x = i < ta.count ? ta[i] : nil, y = i < tb.count ? tb[i] : nil
            if let x, let y, answer(x) == answer(y) { continue }
            out.append(step(x, y))
            if out.count >= 3 { out.append("…"); break }
        }
        return out
    }

    /// "unmap page 0x1000: ENOENT" → "ENOENT".
    static func answer(_ entry: String) -> Substring {
        guard let colon = entry.range(of: ": ", options: .backwards) else { return Substring(entry) }
        return entry[colon.upperBound...]
    }

    /// "map: EINVAL" vs "map: EOVERFLOW" reads "map: EINVAL → EOVERFLOW".
    static func step(_ x: String?, _ y: String?) -> String {
        guard let x, let y else { return "\(x ?? "(no step)") → \(y ?? "(no step)")" }
        let px = x.split(separator: ":", maxSplits: 1), py = y.split(separator: ":", maxSplits: 1)
        if px.count == 2, py.count == 2, px[0] == py[0] {
            return "\(px[0]):\(px[1]) →\(py[1])"
        }
        return "\(x) → \(y)"
    }

    /// The table for the summary. Many cases with the very same change (a whole fixture
    /// that starts to run) fold into one line with a count; the JSON keeps every case.
    public static func render(_ changes: [KernelChange]) -> String {
        guard !changes.isEmpty else { return "" }
        var groups: [String: [KernelChange]] = [:]
        var order: [String] = []
        for c in changes {
            let key = "\(c.profile)|\(series(c.from))|\(series(c.to))|\(c.changes.joined(separator: "; "))"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(c)
        }
        var out = "\nuAPI behaviour changes between kernels (same profile; \(changes.count) case variants)\n"
        for key in order {
            guard let members = groups[key], let c = members.first else { continue }
            let ids = members.map { $0.mode == "-" ? $0.id : "\($0.id)[\($0.mode)]" }
            let what = "[\(c.profile)] \(series(c.from)) → \(series(c.to)): \(c.changes.joined(separator: "; "))"
            if ids.count <= 3 {
                for id in ids { out += "  \(id) \(what)\n" }
            } else {
                out += "  \(ids.count) cases \(what)\n      \(ids.prefix(4).joined(separator: ", ")), …\n"
            }
        }
        return out
    }
}

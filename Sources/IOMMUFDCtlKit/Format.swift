import Foundation
import IOMMUFD

/// Text and JSON rendering for every subcommand.
public enum Format {
    public static func json(_ value: some Encodable, pretty: Bool = true) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// One trace event as a JSON line (for --trace-json).
    public static func jsonLine(_ record: TraceRecord) -> String { json(record, pretty: false) }

    /// A left-aligned table.
    public static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.rightPadded(to: widths[i]) }
                .joined(separator: "  ")
        }
        return ([line(header), line(widths.map { String(repeating: "-", count: $0) })] + rows.map(line))
            .joined(separator: "\n")
    }

    /// The lines for one ioctl: decoded input, outcome with errno meaning, duration.
    public static func ioctlLines(_ r: TraceRecord, indent: String = "    ") -> [String] {
        ["\(indent)\(r.inputLine)", "\(indent)\(r.outcomeLine)  [\(r.durationText)]"]
    }

    /// `ENOENT (2): meaning` lines for an error, saying where it came from.
    public static func errorLine(_ e: StepResult.ErrorInfo) -> String {
        switch e.origin {
        case "kernel": return "\(e.ioctl): \(e.errnoName) (\(e.errno)): \(e.meaning)"
        case "validation":
            return "\(e.ioctl)\(e.argument.map { " [\($0)]" } ?? ""): \(e.errnoName), rejected before the syscall: \(e.meaning)"
        default: return "\(e.origin) for \(e.ioctl): \(e.errnoName) (\(e.errno)): \(e.meaning)"
        }
    }

    public static func step(_ r: StepResult, file: String) -> String {
        var lines = ["\(file):\(r.line): \(r.step)"]
        if r.status == .notRun { return lines[0] + "\n    (not run)" }
        for io in r.ioctls { lines += ioctlLines(io) }
        if let e = r.error, e.origin != "kernel" || r.ioctls.isEmpty { lines.append("    " + errorLine(e)) }
        if !r.values.isEmpty { lines.append("    => " + r.values.map { "\($0.name)=\($0.value)" }.joined(separator: " ")) }
        let verdict: String
        switch (r.status, r.expect) {
        case (.passed, let e?): verdict = "PASS expected \(e), got \(r.outcome ?? "?")"
        case (.passed, nil): verdict = "ok"
        case (.failed, let e?): verdict = "FAIL expected \(e), got \(r.outcome ?? "?")"
        case (.failed, nil): verdict = "FAIL \(r.outcome ?? "?") (no expect= on this step)"
        case (.notRun, _): verdict = "not run"
        }
        lines.append("    " + verdict)
        return lines.joined(separator: "\n")
    }

    public static func runSummary(_ report: RunReport) -> String {
        "\(report.file): \(report.passed) passed, \(report.failed) failed, \(report.notRun) not run"
            + (report.ok ? " — all expectations held" : "")
    }

    public static func probe(_ report: ProbeReport) -> String {
        var out: [String] = []
        if let h = report.host {
            out.append("kernel: \(h.kernel) (\(h.machine))")
            out.append("/dev/iommu: \(h.iommufdNode ? "present" : "missing")   /dev/vfio/vfio: \(h.vfioContainerNode ? "present" : "missing")   VFIO cdevs: \(h.vfioCdevs.isEmpty ? "none" : h.vfioCdevs.joined(separator: " "))")
            if !h.moduleParameters.isEmpty {
                out.append("module parameters:")
                for k in h.moduleParameters.keys.sorted() { out.append("  \(k) = \(h.moduleParameters[k] ?? "")") }
            }
        }
        if let t = report.testCommand {
            out.append("IOMMU_TEST_CMD: \(t ? "present (CONFIG_IOMMUFD_TEST)" : "absent")")
        }
        out.append("")
        out.append(table(["ioctl", "nr", "fd", "state", "answer", "note"],
                         report.entries.map { [$0.request, $0.number, $0.target, $0.state.rawValue, $0.answer, $0.note ?? ""] }))
        for e in report.errors { out.append("note: \(e)") }
        return out.joined(separator: "\n")
    }

    public static func hwInfo(_ r: HWInfoReport) -> String {
        var out: [String] = ["device: \(r.device)" + (r.cdev.map { " (\($0))" } ?? "")]
        if let d = r.devID { out.append("dev_id: \(d)") }
        if let t = r.iommuType {
            out.append("iommu type: \(t)   data_len: \(r.dataLength ?? 0)   max PASID log2: \(r.maxPASIDLog2 ?? 0)")
            out.append("capabilities: \(r.capabilities.isEmpty ? "none" : r.capabilities.joined(separator: " "))")
        }
        if !r.summary.isEmpty { out.append("summary: " + r.summary.map { "\($0.name)=\($0.value)" }.joined(separator: " ")) }
        if !r.fields.isEmpty {
            out.append("")
            out.append(table(["register", "field", "bits", "value", "meaning"],
                             r.fields.map { [$0.register, $0.name, $0.bits, $0.value, $0.meaning] }))
        }
        if let i = r.ioasID { out.append("\nioas: \(i)" + (r.hwptID.map { "   attached hwpt: \($0)" } ?? "")) }
        if !r.iovaRanges.isEmpty {
            out.append("iova ranges (alignment \(r.iovaAlignment ?? "?")):")
            out += r.iovaRanges.map { "  \($0)" }
        }
        if let e = r.error { out.append("error: " + errorLine(e)) }
        return out.joined(separator: "\n")
    }

    public static func devices(_ list: [PCIDeviceInfo]) -> String {
        table(["address", "vendor:device", "class", "driver", "group", "vfio cdev", "iommu"],
              list.map { d in
                  [d.address, "\(d.vendor.dropFirst(2)):\(d.device.dropFirst(2))", d.classCode, d.driver ?? "-",
                   d.iommuGroup.map(String.init) ?? "-", d.vfioCdev ?? "-",
                   (d.iommuModel ?? "-") + (d.groupType.map { " [\($0)]" } ?? "")]
              })
    }
}

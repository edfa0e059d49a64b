import Foundation
import Testing
@testable import Conformance

/// vm/kselftest/crossref/<series>.txt maps every test of the kernel's iommu selftests
/// (<series>.tests, written from the kernel source by Scripts/kselftest-crossref) to our
/// case ids. A test with no row, a row for no test or at another line, an id (or
/// id[mode]) the catalog lacks, or a coverage that is not `full`, `partial: <what>` or
/// `none: <why>` fails here; so does any `none` for 6.12 and 7.3.
@Suite struct CrossReferenceTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../vm/kselftest/crossref").standardizedFileURL
    static let series = ["6.12", "7.3"]

    @Test(arguments: series) func everyKernelTestHasAValidRow(_ series: String) throws {
        let tests = try CrossReference.tests(Self.read("\(series).tests"))
        let rows = try CrossReference.rows(Self.read("\(series).txt"))
        #expect(tests.count > 50, "\(series).tests lists only \(tests.count) tests")
        let problems = CrossReference.problems(tests: tests, rows: rows, catalog: Catalog.all, forbidNone: true)
        #expect(problems.isEmpty, "\(series).txt:\n\(problems.joined(separator: "\n"))")
    }

    @Test func theCheckCatchesMissingRowsUnknownIDsAndBadCoverage() throws {
        let tests = try CrossReference.tests("""
            # header
            iommufd.simple_close iommufd.c:74
            iommufd.cmd_fail iommufd.c:78
            basic_fail_nth.basic iommufd_fail_nth.c:239
            """)
        let rows = try CrossReference.rows("""
            # comment
            iommufd.simple_close | iommufd.c:75 | generic.open-close | full
            basic_fail_nth.basic | iommufd_fail_nth.c:239 | failnth.sweep[basic], failnth.sweep[nope], no.such.* | partial:
            iommufd.gone | iommufd.c:1 | - | none: removed
            """)
        let problems = CrossReference.problems(tests: tests, rows: rows, catalog: Catalog.all, forbidNone: true)
        let text = problems.joined(separator: "\n")
        #expect(text.contains("iommufd.cmd_fail (iommufd.c:78) has no row"))
        #expect(text.contains("iommufd.simple_close cites iommufd.c:75, the test is at iommufd.c:74"))
        #expect(text.contains("failnth.sweep[nope]"))
        #expect(text.contains("no.such.*"))
        #expect(!text.contains("failnth.sweep[basic]"))
        #expect(text.contains("basic_fail_nth.basic: coverage"))
        #expect(text.contains("iommufd.gone is no test"))
        #expect(text.contains("iommufd.gone: none"))
        #expect(problems.count == 7, "\(problems)")
    }

    static func read(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }
}

/// The cross-reference formats: `.tests` lines "FIXTURE.test file:line"; `.txt` rows
/// "FIXTURE.test | file:line | id, id[mode], glob* | coverage [| note: ...]", `#` comments.
enum CrossReference {
    struct Test: Equatable { let name: String, location: String }
    struct Row { let name: String, location: String, ids: [String], coverage: String, line: Int }
    struct FormatError: Error, CustomStringConvertible { let description: String }

    static func lines(_ text: String) -> [(Int, String)] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { ($0.offset + 1, $0.element.trimmingCharacters(in: .whitespaces)) }
            .filter { !$0.1.isEmpty && !$0.1.hasPrefix("#") }
    }

    static func tests(_ text: String) throws -> [Test] {
        try lines(text).map { n, line in
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { throw FormatError(description: ".tests line \(n): \(line)") }
            return Test(name: String(parts[0]), location: String(parts[1]))
        }
    }

    static func rows(_ text: String) throws -> [Row] {
        try lines(text).map { n, line in
            let fields = line.components(separatedBy: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 4 || (fields.count == 5 && fields[4].hasPrefix("note: ")) else {
                throw FormatError(description: "row \(n) has \(fields.count) fields: \(line)")
            }
            let ids = fields[2].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return Row(name: fields[0], location: fields[1], ids: ids, coverage: fields[3], line: n)
        }
    }

    /// Every problem, one line each; empty when the rows match the tests and the catalog.
    static func problems(tests: [Test], rows: [Row], catalog: [ConformanceCase], forbidNone: Bool) -> [String] {
        var out: [String] = []
        let byName = Dictionary(grouping: rows, by: \.name)
        for test in tests {
            guard let found = byName[test.name] else { out.append("\(test.name) (\(test.location)) has no row"); continue }
            if found.count > 1 { out.append("\(test.name) has \(found.count) rows") }
            if let row = found.first, row.location != test.location {
                out.append("\(test.name) cites \(row.location), the test is at \(test.location)")
            }
        }
        let known = Set(tests.map(\.name))
        for row in rows {
            if !known.contains(row.name) { out.append("row \(row.line): \(row.name) is no test of the source") }
            let none = row.coverage.hasPrefix("none: ") && row.coverage.count > 6
            let partial = row.coverage.hasPrefix("partial: ") && row.coverage.count > 9
            if !(row.coverage == "full" || partial || none) {
                out.append("\(row.name): coverage must be full, partial: <what is missing> or none: <why>, not '\(row.coverage)'")
            }
            if none && forbidNone { out.append("\(row.name): none — every kernel test needs a counterpart") }
            if !none && (row.ids.isEmpty || row.ids == ["-"]) { out.append("\(row.name): no case ids for \(row.coverage)") }
            for id in row.ids where id != "-" && !matches(id, catalog) {
                out.append("\(row.name): \(id) names no case of the catalog")
            }
        }
        return out
    }

    /// `glob` or `glob[mode]` matches at least one case (of that mode).
    static func matches(_ id: String, _ catalog: [ConformanceCase]) -> Bool {
        var pattern = id, mode: String?
        if id.hasSuffix("]"), let open = id.firstIndex(of: "[") {
            pattern = String(id[..<open])
            mode = String(id[id.index(after: open)..<id.index(before: id.endIndex)])
        }
        return catalog.contains { Catalog.glob(pattern, $0.id) && (mode == nil || $0.mode == mode) }
    }
}

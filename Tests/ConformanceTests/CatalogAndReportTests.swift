import Foundation
import FoundationXML
import Testing
@testable import Conformance

@Suite struct CatalogTests {
    @Test func idsAreUniquePerModeAndEveryCaseStatesItsRule() {
        let cases = Catalog.all
        var seen = Set<String>()
        for c in cases {
            #expect(seen.insert("\(c.id)[\(c.mode)]").inserted, "duplicate case \(c.id)[\(c.mode)]")
            #expect(!c.rule.isEmpty, "\(c.id) has no rule")
            #expect(c.id.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) }, "odd id \(c.id)")
        }
        #expect(Set(cases.map(\.id)).count >= 150, "the issue asks for at least 150 distinct case ids")
    }

    @Test func globsSelectCases() {
        #expect(Catalog.glob("dma.*", "dma.roundtrip.anon-4k"))
        #expect(Catalog.glob("*.overlap", "ioas.map.overlap"))
        #expect(Catalog.glob("generic.size.?ero-tail.*", "generic.size.zero-tail.destroy"))
        #expect(!Catalog.glob("dma.*", "diff.unmap-split"))
        #expect(Catalog.matching(["diff.unmap-split"]).allSatisfy { $0.id == "diff.unmap-split" })
        #expect(Catalog.matching([]).count == Catalog.all.count)
    }
}

@Suite struct ReportTests {
    let results = [
        CaseResult(id: "a.pass", profile: "intel", mode: "-", status: .pass, reason: "3 assertions", ms: 4),
        CaseResult(id: "a.fail", profile: "intel", mode: "-", status: .fail, reason: "got <1> & \"2\"", ms: 5),
        CaseResult(id: "a.skip", profile: "amd", mode: "native", status: .skip, reason: "no edu", ms: 0),
        CaseResult(id: "diff.x", profile: "intel", mode: "type1", status: .pass, reason: "1 assertions", ms: 1,
                   observed: "EINVAL"),
        CaseResult(id: "diff.x", profile: "intel", mode: "native", status: .pass, reason: "1 assertions", ms: 1,
                   observed: "ENOENT"),
    ]

    @Test func tapHasPlanDirectivesAndTotals() {
        let tap = Reports.tap(results)
        #expect(tap.hasPrefix("TAP version 13\n1..5\n"))
        #expect(tap.contains("not ok 2 a.fail [intel]\n# got <1> & \"2\""))
        #expect(tap.contains("ok 3 a.skip [amd,native] # SKIP no edu"))
        #expect(tap.contains("# Totals: pass:3 fail:1 xfail:0 xpass:0 skip:1 error:0"))
    }

    @Test func junitIsWellFormedAndEscaped() throws {
        let xml = Reports.junit(results, suite: "s")
        #expect(xml.contains("tests=\"5\" failures=\"1\" skipped=\"1\""))
        #expect(xml.contains("message=\"got &lt;1&gt; &amp; &quot;2&quot;\""))
        _ = try XMLDocument(xmlString: xml)
    }

    @Test func jsonRoundTripsWithTheDocumentedKeys() throws {
        let text = Reports.json(.init(kernel: "6.12.117", cases: results))
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let first = (object?["cases"] as? [[String: Any]])?.first
        #expect(object?["kernel"] as? String == "6.12.117")
        let keys = Set(first.map { Array($0.keys) } ?? [])
        #expect(keys.isSuperset(of: ["id", "profile", "mode", "status", "reason", "ms"]))
        let back = try JSONDecoder().decode(Reports.Document.self, from: Data(text.utf8))
        #expect(back.cases == results)
    }

    @Test func summaryCountsProfilesAndTabulatesTheDifferential() {
        let text = Summary.render(.init(kernel: "6.12.117", cases: results))
        #expect(text.contains("intel        3      1      0"))
        #expect(text.contains("amd          0      0      1"))
        #expect(text.contains("FAIL a.fail [intel]"))
        let diffRow = text.split(separator: "\n").first { $0.hasPrefix("diff.x") && $0.contains("intel") }
        #expect(diffRow.map { $0.contains("EINVAL") && $0.contains("ENOENT") } == true)
    }
}

/// Every case of the suite. Each Cases/ file contributes one list.
public enum Catalog {
    public static var all: [ConformanceCase] {
        var cases: [ConformanceCase] = []
        cases += GenericCases.all
        cases += DMACases.all
        cases += SharedGroupCases.all
        cases += LibraryCases.all
        cases += FailNthDeviceCases.all
        cases += IOASCases.all
        cases += HWPTCases.all
        cases += MockDomainCases.all
        cases += DirtyTrackingCases.all
        cases += CompatMockCases.all
        cases += VFIOCompatCases.all
        cases += FailNthCases.all
        cases += PrivilegeCases.all
        cases += VFIOCdevCases.all
        cases += DifferentialCases.all
        cases += DMAAdvancedCases.all
        cases += IRQCases.all
        cases += GroupCases.all
        cases += HWInfoCases.all
        cases += NoIOMMUCases.all
        cases += VIOMMUCases.all
        cases += VEventQueueCases.all
        cases += HWQueueCases.all
        cases += PASIDCases.all
        cases += FaultQueueCases.all
        cases += MapFileCases.all
        cases += ChangeProcessCases.all
        return cases
    }

    /// Cases whose id matches a glob (`*` and `?`), or all when no pattern is given.
    public static func matching(_ patterns: [String]) -> [ConformanceCase] {
        guard !patterns.isEmpty else { return all }
        return all.filter { c in patterns.contains { glob($0, c.id) } }
    }

    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return j == t.count }
            if p[i] == "*" { return (j...t.count).contains { match(i + 1, $0) } }
            guard j < t.count, p[i] == "?" || p[i] == t[j] else { return false }
            return match(i + 1, j + 1)
        }
        return match(0, 0)
    }
}

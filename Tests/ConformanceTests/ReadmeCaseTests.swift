import IOMMUFD
import Testing
@testable import Conformance

/// The README's "Adding a conformance case" example, kept compiling; on the host
/// (no /dev/iommu) it must SKIP with the requirement's reason.
@Suite struct ReadmeCaseTests {
    static let readmeCase = ConformanceCase("ioas.unmap.split", rule: "IOAS_UNMAP of part of a mapping fails ENOENT",
                                            since: "6.2", requires: [.iommufd]) { ctx in
        let iommufd = try ctx.openIOMMUFD()
        let ioas = try ctx.expectOK("alloc") { try iommufd.allocIOAS() }
        let buffer = try DMABuffer(size: 0x4000)
        try ctx.expectOK("map") { try ioas.map(buffer.bytes, at: 0x10_0000) }
        try ctx.expectErrno(.noSuchFileOrDirectory, "unmap half") {
            try ioas.unmap(iova: 0x10_0000, length: 0x2000)
        }
    }

    @Test func skipsWithoutIOMMUFD() {
        let r = Runner(machine: RunnerTests.machine(), timeoutSeconds: 5).run(Self.readmeCase)
        #expect(r.status == .skip && r.reason.contains("/dev/iommu"))
    }
}

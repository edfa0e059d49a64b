import ArgumentParser
import CIOMMUFD
import Glibc
import IOMMUFD

/// Costs of the library's ioctl path against a baseline measured in the same run:
/// raw ioctl(2) calls with hand-filled structs, the same calls through IOAS.map/unmap,
/// and again with a tracing handler installed.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark IOAS map+unmap through the library against raw ioctl calls (needs /dev/iommu).")
    @Option(help: "Map+unmap pairs per variant.") var iterations = 20_000
    @Option(help: "Rounds; the median round is reported.") var rounds = 5

    func run() throws {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        _ = try ioas.iovaRanges()
        let page = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        page.initializeMemory(as: UInt8.self, repeating: 1)
        guard let raw = iommufd.fd.rawValue else { throw ValidationError("iommufd closed") }
        let iova: UInt64 = 0x100_0000
        let n = iterations
        let ioasID = ioas.id.rawValue

        let baseline = median(rounds) {
            var map = iommu_ioas_map()
            map.size = UInt32(MemoryLayout<iommu_ioas_map>.size)
            map.flags = UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue | IOMMU_IOAS_MAP_READABLE.rawValue
                               | IOMMU_IOAS_MAP_WRITEABLE.rawValue)
            map.ioas_id = ioasID
            map.user_va = userPointer(page.baseAddress)
            map.length = 4096
            var unmap = iommu_ioas_unmap()
            unmap.size = UInt32(MemoryLayout<iommu_ioas_unmap>.size)
            unmap.ioas_id = ioasID
            unmap.length = 4096
            for _ in 0..<n {
                map.iova = iova
                unmap.iova = iova
                precondition(ciommufd_ioctl(raw, CIOMMUFD_REQ_IOMMU_IOAS_MAP, &map) == 0, "raw map failed")
                precondition(ciommufd_ioctl(raw, CIOMMUFD_REQ_IOMMU_IOAS_UNMAP, &unmap) == 0, "raw unmap failed")
            }
        }
        let library = try medianThrowing(rounds) { () throws(IOMMUFDError) in
            for _ in 0..<n {
                try ioas.map(page, at: iova)
                try ioas.unmap(iova: iova, length: 4096)
            }
        }
        let traced = try IoctlTracer.with({ _ in }) { () throws(IOMMUFDError) -> Duration in
            try medianThrowing(rounds) { () throws(IOMMUFDError) in
                for _ in 0..<n {
                    try ioas.map(page, at: iova)
                    try ioas.unmap(iova: iova, length: 4096)
                }
            }
        }
        let base = perPair(baseline, n)
        print("iommufd-bench: \(n) IOAS_MAP+IOAS_UNMAP pairs of 4 KiB, median of \(rounds) rounds")
        print(row("raw ioctl (baseline)", base, base))
        print(row("IOAS.map/unmap", perPair(library, n), base))
        print(row("IOAS.map/unmap, tracing on", perPair(traced, n), base))
    }

    func perPair(_ d: Duration, _ n: Int) -> Double { Double(d / .nanoseconds(1)) / Double(n) }

    func row(_ name: String, _ ns: Double, _ base: Double) -> String {
        let ratio = (ns / base * 100).rounded() / 100
        return name.padding(28) + "\(Int(ns.rounded())) ns/pair".padding(16) + "ratio \(ratio)x"
    }

    func median(_ rounds: Int, _ body: () -> Void) -> Duration {
        let clock = ContinuousClock()
        let times = (0..<max(rounds, 1)).map { _ in clock.measure(body) }
        return times.sorted()[times.count / 2]
    }

    func medianThrowing(_ rounds: Int, _ body: () throws(IOMMUFDError) -> Void) throws(IOMMUFDError) -> Duration {
        let clock = ContinuousClock()
        var times: [Duration] = []
        for _ in 0..<max(rounds, 1) {
            let start = clock.now
            try body()
            times.append(clock.now - start)
        }
        return times.sorted()[times.count / 2]
    }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
}

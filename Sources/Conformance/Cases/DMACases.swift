import IOMMUFD
import VFIO

/// Real DMA through each VFIO mode with QEMU's edu device: data lands where the
/// IOMMU maps it, and nowhere the IOMMU does not.
enum DMACases {
    // 2 MiB-aligned and 4 MiB apart, so hugetlb buffers fit and may use huge IOMMU pages.
    static let src: UInt64 = 0x40_0000
    static let dst: UInt64 = 0x80_0000
    /// Buffers and mappings are one page; each DMA moves less (QEMU 7.2 edu cannot copy its whole buffer).
    static let page = 4096
    static let length = 2048

    static var all: [ConformanceCase] {
        var cases: [ConformanceCase] = []
        for mode in VFIOMode.allCases {
            for backing in DMABuffer.Backing.allCases {
                cases.append(roundTrip(mode, backing))
            }
            cases += [unmappedDestination(mode), unmappedSource(mode), readOnlyDestination(mode), stopsAfterUnmap(mode)]
        }
        return cases
    }

    static func firstEdu(_ ctx: CaseContext) throws -> PCIDevice {
        guard let pci = ctx.machine.eduDevices.first else { try ctx.skip("no edu device bound to vfio-pci") }
        return pci
    }

    static func dma(_ ctx: CaseContext, _ what: String, _ body: () throws -> Void) throws {
        try ctx.expectOK(what, body)
    }

    /// RAM → device → RAM through two mapped buffers; the bytes must arrive intact.
    static func roundTrip(_ mode: VFIOMode, _ backing: DMABuffer.Backing) -> ConformanceCase {
        var needs: Set<Requirement> = [.eduDevice]
        if backing == .hugetlb2m { needs.insert(.hugetlb) }
        if mode == .type1 || mode == .type1v2 { needs.insert(.vfioContainer) }
        if mode != .type1 && mode != .type1v2 { needs.insert(.iommufd) }
        return ConformanceCase("dma.roundtrip.\(backing.rawValue)",
                               rule: "a device's DMA through mapped IOVAs reads and writes exactly the mapped \(backing.rawValue) memory",
                               since: mode.since, requires: needs, mode: mode.rawValue) { ctx in
            let path = try DMAPath(mode: mode, pci: try firstEdu(ctx))
            let a = try DMABuffer(size: page, backing: backing)
            let b = try DMABuffer(size: page, backing: backing)
            a.fillPattern(seed: 7, length: length)
            try ctx.expectOK("map source") { try path.map(a, length: a.count, iova: src) }
            try ctx.expectOK("map destination") { try path.map(b, length: b.count, iova: dst) }
            try dma(ctx, "DMA round trip") { try path.roundTrip(from: src, to: dst, length: length) }
            try ctx.check(b.matchesPattern(seed: 7, length: length), "destination does not hold the source's bytes after DMA")
        }
    }

    /// A device write to an IOVA with no mapping is blocked: the buffer that would be there stays untouched.
    static func unmappedDestination(_ mode: VFIOMode) -> ConformanceCase {
        dmaCase("dma.blocked.unmapped-destination", "a device write to an unmapped IOVA does not reach memory", mode) { ctx in
            let (path, a, b) = try mappedPair(ctx, mode, seed: 3)
            // The target is one page past the destination. Memory mapped there first and then
            // unmapped is what a write that escaped the IOMMU would most likely hit, so it is
            // checked byte for byte, with the mapped neighbour and the source.
            let target = dst + UInt64(page)
            let former = try DMABuffer(size: page)
            try ctx.setup("map the target page") { try path.map(former, length: page, iova: target) }
            try ctx.setup("unmap the target page") { try path.unmap(iova: target, length: UInt64(page)) }
            // Control: the same path carries DMA, so a silent write below is the IOMMU's doing.
            try dma(ctx, "control round trip") { try path.roundTrip(from: src, to: dst, length: length) }
            try ctx.check(b.matchesPattern(seed: 3, length: length), "control DMA did not land")
            memsetZero(b)
            try writeOut(ctx, path, to: target, "DMA to the unmapped target IOVA")
            try ctx.check(former.isZero(length: page), "the memory last mapped at the target IOVA changed: the write landed")
            try ctx.check(b.isZero(length: length), "the mapped neighbour changed: the write to the unmapped IOVA landed in it")
            try ctx.check(a.matchesPattern(seed: 3, length: length), "the source buffer changed")
        }
    }

    /// After UNMAP, a device read from the old IOVA no longer returns the memory that was mapped there.
    static func unmappedSource(_ mode: VFIOMode) -> ConformanceCase {
        dmaCase("dma.blocked.unmapped-source",
                "a device read from an IOVA whose mapping was removed does not return that memory", mode) { ctx in
            let (path, _, b) = try mappedPair(ctx, mode, seed: 11)
            let filler = try DMABuffer(size: page)
            filler.fillPattern(seed: 13, length: length)
            try ctx.expectOK("map filler") { try path.map(filler, length: page, iova: dst + 0x10_0000) }
            // The edu buffer is not reachable from the CPU, so load it with a known pattern by DMA.
            try dma(ctx, "control: source → device → destination") {
                try path.roundTrip(from: src, to: dst, length: length)
            }
            try ctx.check(b.matchesPattern(seed: 11, length: length), "control DMA from the mapped source did not land")
            try dma(ctx, "load the device buffer from the filler") {
                try path.edu.copyToDevice(from: dst + 0x10_0000, deviceOffset: 0, length: length)
                try path.edu.wait(timeout: .seconds(10))
            }
            try ctx.expectOK("unmap source") { try path.unmap(iova: src, length: UInt64(page)) }
            memsetZero(b)
            try dma(ctx, "read the unmapped source, then device → destination") {
                try path.roundTrip(from: src, to: dst, length: length)
            }
            try ctx.check(!b.matchesPattern(seed: 11, length: length),
                          "the device still read the source's bytes through an unmapped IOVA")
            ctx.observation = b.matchesPattern(seed: 13, length: length) ? "device buffer unchanged" : "device buffer overwritten"
        }
    }

    /// A mapping without WRITE lets the device read but not write.
    static func readOnlyDestination(_ mode: VFIOMode) -> ConformanceCase {
        dmaCase("dma.blocked.read-only-mapping", "a device write to a read-only mapping does not land; a read from it does",
                mode) { ctx in
            let path = try DMAPath(mode: mode, pci: try firstEdu(ctx))
            let a = try DMABuffer(size: page), b = try DMABuffer(size: page), c = try DMABuffer(size: page)
            a.fillPattern(seed: 5, length: length)
            try ctx.expectOK("map source read-only") {
                try path.map(a, length: page, iova: src, write: false)
            }
            try ctx.expectOK("map destination read-only") {
                try path.map(b, length: page, iova: dst, write: false)
            }
            try ctx.expectOK("map control destination") {
                try path.map(c, length: page, iova: dst + 0x10_0000)
            }
            try dma(ctx, "read from read-only source, write to writable control") {
                try path.roundTrip(from: src, to: dst + 0x10_0000, length: length)
            }
            try ctx.check(c.matchesPattern(seed: 5, length: length), "device could not read a read-only mapping")
            try writeOut(ctx, path, to: dst, "write to read-only destination")
            try ctx.check(b.isZero(length: length), "the device wrote through a read-only mapping")
        }
    }

    /// After UNMAP, the same DMA no longer lands.
    static func stopsAfterUnmap(_ mode: VFIOMode) -> ConformanceCase {
        dmaCase("dma.blocked.after-unmap", "after the destination is unmapped, the same DMA no longer reaches it", mode) { ctx in
            let (path, _, b) = try mappedPair(ctx, mode, seed: 9)
            try dma(ctx, "round trip while mapped") { try path.roundTrip(from: src, to: dst, length: length) }
            try ctx.check(b.matchesPattern(seed: 9, length: length), "DMA did not land while mapped")
            let unmapped = try ctx.expectOK("unmap destination") {
                try path.unmap(iova: dst, length: UInt64(page))
            }
            try ctx.checkEqual(unmapped, UInt64(page), "bytes unmapped")
            memsetZero(b)
            try writeOut(ctx, path, to: dst, "same DMA after unmap")
            try ctx.check(b.isZero(length: length), "DMA still landed after the mapping was removed")
        }
    }

    /// A DMA case for one mode: the cdev needs 6.6, the container paths 6.2.
    static func dmaCase(_ id: String, _ rule: String, _ mode: VFIOMode,
                        _ body: @escaping @Sendable (CaseContext) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, since: mode.since, requires: requirements(mode),
                        mode: mode.rawValue, body: body)
    }

    /// Opens the first edu in `mode`, maps a source page holding the pattern `seed` at
    /// `src` and a zeroed destination page at `dst`.
    static func mappedPair(_ ctx: CaseContext, _ mode: VFIOMode, seed: UInt8) throws -> (DMAPath, DMABuffer, DMABuffer) {
        let path = try DMAPath(mode: mode, pci: try firstEdu(ctx))
        let a = try DMABuffer(size: page), b = try DMABuffer(size: page)
        a.fillPattern(seed: seed, length: length)
        try ctx.expectOK("map source") { try path.map(a, length: page, iova: src) }
        try ctx.expectOK("map destination") { try path.map(b, length: page, iova: dst) }
        return (path, a, b)
    }

    /// One device → RAM copy to `iova`, waited for.
    static func writeOut(_ ctx: CaseContext, _ path: DMAPath, to iova: UInt64, _ what: String) throws {
        try dma(ctx, what) {
            try path.edu.copyFromDevice(deviceOffset: 0, to: iova, length: length)
            try path.edu.wait(timeout: .seconds(10))
        }
    }

    static func requirements(_ mode: VFIOMode) -> Set<Requirement> {
        mode == .type1 || mode == .type1v2 ? [.eduDevice, .vfioContainer] : [.eduDevice, .iommufd]
    }

    static func memsetZero(_ b: DMABuffer) {
        for i in 0..<b.count { b.bytes[i] = 0 }
    }
}

// Real DMA with edu devices through native iommufd objects beyond one device + one IOAS:
// IOAS_COPY serving a second device, live page-table replacement, two devices in one
// IOAS, explicit HWPTs, unmap-all, hugetlb mappings at offsets, the reserved MSI window
// and kernel-chosen IOVAs.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// One edu bound through its cdev to a shared iommufd, ready to DMA once attached.
final class NativeEdu {
    let edu: EduDevice
    let id: IOMMUFDDeviceID
    init(_ ctx: CaseContext, _ rig: CdevRig, _ n: Int) throws {
        let path = try CdevRig.cdevPath(ctx, n)
        let dev = try ctx.step("open \(path)") { try VFIODevice.openCdev(path) }
        id = try ctx.step("BIND edu\(n)") { try dev.bind(iommufd: rig.iommufd) }
        do { edu = try EduDevice(dev, dmaMask: .max) } catch { throw CaseFailure("edu\(n) init: \(error)") }
    }

    /// RAM(src) → device → RAM(dst), waiting for each leg.
    func roundTrip(_ src: UInt64, _ dst: UInt64, length: Int = DMACases.length) throws(IOMMUFDError) {
        try edu.copyToDevice(from: src, deviceOffset: 0, length: length)
        try edu.wait(timeout: .seconds(10))
        try edu.copyFromDevice(deviceOffset: 0, to: dst, length: length)
        try edu.wait(timeout: .seconds(10))
    }

    /// device → RAM(dst) only.
    func toRAM(_ dst: UInt64, length: Int = DMACases.length) throws(IOMMUFDError) {
        try edu.copyFromDevice(deviceOffset: 0, to: dst, length: length)
        try edu.wait(timeout: .seconds(10))
    }
}

/// IOMMU_IOAS_IOVA_RANGES through the raw helper (no client checks).
func iovaRanges(_ fd: KernelFD, _ ioas: UInt32) throws(IOMMUFDError) -> [IOVARange] {
    var out = RawIOVARangesReply()
    try fd.raw.iovaRanges(ioas: ioas, capacity: 16, reply: &out)
    return Array(out.slots.prefix(Int(out.count)))
}

enum DMAAdvancedCases {
    static let S: UInt64 = 0x40_0000
    static let D: UInt64 = 0x80_0000
    static let page = 4096
    static let len = DMACases.length
    static let one: Set<Requirement> = [.iommufd, .eduDevice]
    static let two: Set<Requirement> = [.iommufd, .twoEduDevices]

    static func c(_ id: String, _ rule: String, requires: Set<Requirement> = one,
                  _ body: @escaping @Sendable (CaseContext) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, since: "6.6", requires: requires, body: body)
    }

    static func zero(_ b: DMABuffer) { for i in 0..<b.count { b.bytes[i] = 0 } }

    static var all: [ConformanceCase] {
        [copySecondDevice, replaceSwitches, twoDevicesOneIOAS, explicitHWPT, unmapAllStops, hugetlbOffset, reservedWindow, autoIOVA]
    }

    static let copySecondDevice = c("dma.native.ioas-copy-second-device",
        "pages IOAS_COPY'd from IOAS A into IOAS B serve a second device attached to B, and stay mapped in B after A unmaps them",
        requires: two) { ctx in
        let rig = try CdevRig(ctx)
        let e0 = try NativeEdu(ctx, rig, 0), e1 = try NativeEdu(ctx, rig, 1)
        let a = try ctx.step("IOAS A") { try rig.iommufd.allocIOAS() }
        let b = try ctx.step("IOAS B") { try rig.iommufd.allocIOAS() }
        let src = try DMABuffer(size: page), dst = try DMABuffer(size: page)
        src.fillPattern(seed: 21, length: len)
        try ctx.expectOK("map src in A") { try a.map(src.bytes, at: S) }
        try ctx.expectOK("map dst in A") { try a.map(dst.bytes, at: D) }
        try ctx.expectOK("attach edu0 to A") { try e0.edu.device.attach(a.id) }
        try ctx.expectOK("edu0 DMA through A") { try e0.roundTrip(S, D) }
        try ctx.check(dst.matchesPattern(seed: 21, length: len), "edu0's DMA through A did not land")
        try ctx.expectOK("IOAS_COPY src A→B") {
            try b.copy(from: a.id, sourceIOVA: S, length: UInt64(page), to: S)
        }
        try ctx.expectOK("IOAS_COPY dst A→B") {
            try b.copy(from: a.id, sourceIOVA: D, length: UInt64(page), to: D)
        }
        try ctx.expectOK("attach edu1 to B") { try e1.edu.device.attach(b.id) }
        zero(dst)
        src.fillPattern(seed: 22, length: len)
        try ctx.expectOK("edu1 DMA through B") { try e1.roundTrip(S, D) }
        try ctx.check(dst.matchesPattern(seed: 22, length: len), "edu1's DMA through the copied mapping did not land in the same pages")
        let gone = try ctx.expectOK("unmap all of A") { try a.unmapAll() }
        try ctx.checkEqual(gone, UInt64(2 * page), "bytes unmapped from A")
        zero(dst)
        src.fillPattern(seed: 23, length: len)
        try ctx.expectOK("edu1 DMA through B after A unmapped") { try e1.roundTrip(S, D) }
        try ctx.check(dst.matchesPattern(seed: 23, length: len), "B lost the pages when A unmapped them")
    }

    static let replaceSwitches = c("dma.native.replace-switches-translation",
        "re-attaching (replace) a device from IOAS A to IOAS B switches its translation live: the same IOVA then reaches B's page, not A's (6.12 virtio-iommu refuses the replace EADDRINUSE; after 6.12 it replaces)") { ctx in
        let rig = try CdevRig(ctx)
        let e = try NativeEdu(ctx, rig, 0)
        let a = try ctx.step("IOAS A") { try rig.iommufd.allocIOAS() }
        let b = try ctx.step("IOAS B") { try rig.iommufd.allocIOAS() }
        let srcA = try DMABuffer(size: page), x = try DMABuffer(size: page)
        let srcB = try DMABuffer(size: page), y = try DMABuffer(size: page)
        srcA.fillPattern(seed: 31, length: len)
        srcB.fillPattern(seed: 32, length: len)
        try ctx.step("map A") { try a.map(srcA.bytes, at: S); try a.map(x.bytes, at: D) }
        try ctx.step("map B") { try b.map(srcB.bytes, at: S); try b.map(y.bytes, at: D) }
        let hA = try ctx.expectOK("attach A") { try e.edu.device.attach(a.id) }
        try ctx.expectOK("DMA through A") { try e.roundTrip(S, D) }
        try ctx.check(x.matchesPattern(seed: 31, length: len) && y.isZero(length: len), "through A: X must hold A's data and Y nothing")
        zero(x)
        if ctx.profile == "virtio" && ctx.kernel < .after612 {
            // 6.12 virtio-iommu only has domain_alloc: a domain made for a replace is not finalised
            // (aperture 0-0) when iopt_table_add_domain checks B's existing areas, so the replace
            // fails EADDRINUSE (device.c:684-687 keeps immediate attach for plain attaches only).
            try ctx.expectErrno(.addressInUse, "replace with B (mapped) on virtio-iommu") {
                try e.edu.device.attach(b.id)
            }
            try ctx.expectOK("DMA after the failed replace") { try e.roundTrip(S, D) }
            try ctx.check(x.matchesPattern(seed: 31, length: len) && y.isZero(length: len), "a failed replace changed the translation")
            return
        }
        let hB = try ctx.expectOK("replace with B") { try e.edu.device.attach(b.id) }
        try ctx.check(hA != hB, "A and B got the same HWPT \(hA)")
        try ctx.expectOK("DMA through B") { try e.roundTrip(S, D) }
        try ctx.check(y.matchesPattern(seed: 32, length: len), "after replace, the DMA did not land in B's page")
        try ctx.check(x.isZero(length: len), "after replace, the DMA still reached A's page")
        zero(y)
        try ctx.expectOK("replace back with A") { try e.edu.device.attach(a.id) }
        try ctx.expectOK("DMA through A again") { try e.roundTrip(S, D) }
        try ctx.check(x.matchesPattern(seed: 31, length: len) && y.isZero(length: len), "after replacing back, DMA did not follow A")
    }

    static let twoDevicesOneIOAS = c("dma.native.two-devices-one-ioas",
        "two devices attached to one IOAS share its auto HWPT and its mappings: each DMAs into its own buffer, and one reads what the other wrote",
        requires: two) { ctx in
        let rig = try CdevRig(ctx)
        let e0 = try NativeEdu(ctx, rig, 0), e1 = try NativeEdu(ctx, rig, 1)
        let a = try ctx.step("IOAS") { try rig.iommufd.allocIOAS() }
        let src = try DMABuffer(size: page), d0 = try DMABuffer(size: page), d1 = try DMABuffer(size: page)
        src.fillPattern(seed: 41, length: len)
        try ctx.step("map") {
            try a.map(src.bytes, at: S); try a.map(d0.bytes, at: D); try a.map(d1.bytes, at: D + 0x10_0000)
        }
        let h0 = try ctx.expectOK("attach edu0") { try e0.edu.device.attach(a.id) }
        let h1 = try ctx.expectOK("attach edu1") { try e1.edu.device.attach(a.id) }
        try ctx.checkEqual(h1, h0, "auto HWPT of the second device (same IOMMU: the first one's is reused)")
        try ctx.expectOK("edu0: S → D") { try e0.roundTrip(S, D) }
        try ctx.check(d0.matchesPattern(seed: 41, length: len), "edu0's DMA did not land")
        try ctx.expectOK("edu1: D → D+1M (reads edu0's output)") { try e1.roundTrip(D, D + 0x10_0000) }
        try ctx.check(d1.matchesPattern(seed: 41, length: len), "edu1 did not see what edu0 wrote through the shared mapping")
        try ctx.expectErrno(.resourceBusy, "DESTROY the shared HWPT") { try rig.iommufd.destroy(h0) }
        try ctx.expectOK("detach edu0") { try e0.edu.device.detach() }
        zero(d1)
        try ctx.expectOK("edu1 still DMAs after edu0 detached") { try e1.roundTrip(S, D + 0x10_0000) }
        try ctx.check(d1.matchesPattern(seed: 41, length: len), "edu1 lost its translation when edu0 detached")
    }

    static let explicitHWPT = c("dma.native.explicit-hwpt",
        "a HWPT from IOMMU_HWPT_ALLOC on the IOAS, attached by id, translates DMA, including mappings added after the attach (6.12 virtio-iommu refuses HWPT_ALLOC on a non-empty IOAS EADDRINUSE; after 6.12 it allocates)") { ctx in
        let rig = try CdevRig(ctx)
        let e = try NativeEdu(ctx, rig, 0)
        let a = try ctx.step("IOAS") { try rig.iommufd.allocIOAS() }
        let src = try DMABuffer(size: page), dst = try DMABuffer(size: page)
        src.fillPattern(seed: 51, length: len)
        try ctx.step("map src before the HWPT exists") { try a.map(src.bytes, at: S) }
        if ctx.profile == "virtio" && ctx.kernel < .after612 {
            // 6.12 virtio-iommu has no domain_alloc_user/domain_alloc_paging: HWPT_ALLOC gets an
            // unfinalised domain (aperture 0-0), which cannot cover the existing mapping.
            try ctx.expectErrno(.addressInUse, "HWPT_ALLOC on a non-empty IOAS (virtio-iommu)") {
                try rig.iommufd.allocHWPT(device: e.id, ioas: a.id)
            }
            return
        }
        let hwpt = try ctx.expectOK("HWPT_ALLOC") { try rig.iommufd.allocHWPT(device: e.id, ioas: a.id) }
        let got = try ctx.expectOK("attach HWPT") { try e.edu.device.attach(hwpt.id) }
        try ctx.checkEqual(got, hwpt.id, "attached pt_id")
        try ctx.step("map dst after the attach") { try a.map(dst.bytes, at: D) }
        try ctx.expectOK("DMA") { try e.roundTrip(S, D) }
        try ctx.check(dst.matchesPattern(seed: 51, length: len), "DMA through the explicit HWPT did not land")
        try ctx.expectErrno(.resourceBusy, "DESTROY the IOAS under the HWPT") { try rig.iommufd.destroy(a.id) }
    }

    static let unmapAllStops = c("dma.native.unmap-all-stops",
        "IOAS_UNMAP of (0, U64_MAX) removes every mapping from the attached domain: the same DMA no longer lands") { ctx in
        let path = try DMAPath(mode: .native, pci: try DMACases.firstEdu(ctx))
        guard let n = path.native else { try ctx.skip("no native setup") }
        let src = try DMABuffer(size: page), dst = try DMABuffer(size: page)
        src.fillPattern(seed: 61, length: len)
        try ctx.step("map") { try path.map(src, length: page, iova: S); try path.map(dst, length: page, iova: D) }
        try ctx.expectOK("DMA while mapped") { try path.roundTrip(from: S, to: D, length: len) }
        try ctx.check(dst.matchesPattern(seed: 61, length: len), "DMA did not land while mapped")
        let all = try ctx.expectOK("unmap all") { try n.ioas.unmapAll() }
        try ctx.checkEqual(all, UInt64(2 * page), "bytes unmapped")
        zero(dst)
        try ctx.expectOK("same DMA after unmap-all") {
            try path.edu.copyFromDevice(deviceOffset: 0, to: D, length: len)
            try path.edu.wait(timeout: .seconds(10))
        }
        try ctx.check(dst.isZero(length: len), "DMA landed after unmap-all")
        let again = try ctx.expectOK("unmap all of an empty IOAS") { try n.ioas.unmapAll() }
        try ctx.checkEqual(again, 0, "bytes unmapped the second time")
    }

    static let hugetlbOffset = c("dma.native.hugetlb-offset",
        "a 2 MiB hugetlb page mapped at a 2 MiB-aligned IOVA: DMA between unaligned offsets inside it reads and writes exactly those bytes",
        requires: one.union([.hugetlb])) { ctx in
        let path = try DMAPath(mode: .native, pci: try DMACases.firstEdu(ctx))
        let huge = try DMABuffer(size: 2 << 20, backing: .hugetlb2m)
        let base: UInt64 = 0x4000_0000
        let srcOff = 0x1f_0400, dstOff = 0x12_3800
        for i in 0..<len { huge.bytes[srcOff + i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
        try ctx.expectOK("map 2 MiB at 1 GiB") { try path.map(huge, length: 2 << 20, iova: base) }
        try ctx.expectOK("DMA inside the huge page") {
            try path.roundTrip(from: base + UInt64(srcOff), to: base + UInt64(dstOff), length: len)
        }
        let landed = (0..<len).allSatisfy { huge.bytes[dstOff + $0] == UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try ctx.check(landed, "the bytes did not arrive at offset 0x\(String(dstOff, radix: 16))")
        try ctx.check(huge.bytes[dstOff - 1] == 0 && huge.bytes[dstOff + len] == 0, "DMA wrote outside the target range")
        let gone = try ctx.expectOK("unmap the whole 2 MiB") { try path.unmap(iova: base, length: 2 << 20) }
        try ctx.checkEqual(gone, UInt64(2 << 20), "bytes unmapped")
    }

    static let msiFirst: UInt64 = 0xfee0_0000, msiLast: UInt64 = 0xfeef_ffff

    static let reservedWindow = c("dma.native.reserved-msi-window",
        "with a device attached, IOVA_RANGES excludes the MSI window 0xfee00000-0xfeefffff (an empty IOAS does not), and a map into it fails EINVAL") { ctx in
        let rig = try CdevRig(ctx)
        let e = try NativeEdu(ctx, rig, 0)
        let a = try ctx.step("IOAS") { try rig.iommufd.allocIOAS() }
        let before = try ctx.expectOK("IOVA_RANGES before attach") { try iovaRanges(rig.iommufd.fd, a.id.rawValue) }
        try ctx.check(before.contains { $0.contains(msiFirst) && $0.contains(msiLast) }, "an unattached IOAS already excludes the MSI window: \(before)")
        try ctx.step("attach") { try e.edu.device.attach(a.id) }
        let after = try ctx.expectOK("IOVA_RANGES after attach") { try iovaRanges(rig.iommufd.fd, a.id.rawValue) }
        try ctx.check(!after.isEmpty, "no usable ranges")
        try ctx.check(!after.contains { $0.start <= msiLast && $0.last >= msiFirst }, "a usable range overlaps the MSI window: \(after)")
        try ctx.check(after.contains { $0.contains(0) && $0.contains(msiFirst - 1) }, "0..0xfedfffff not usable: \(after)")
        let buf = try DMABuffer(size: 2 * page)
        try ctx.expectErrno(.invalidArgument, "map at 0xfee00000") {
            try rig.iommufd.fd.raw.map(ioas: a.id.rawValue, userVA: buf.address, length: UInt64(page), iova: msiFirst)
        }
        try ctx.expectErrno(.invalidArgument, "8 KiB at 0xfedff000, straddling into the window") {
            try rig.iommufd.fd.raw.map(ioas: a.id.rawValue, userVA: buf.address, length: UInt64(2 * page), iova: msiFirst - UInt64(page))
        }
        try ctx.expectOK("4 KiB at 0xfedff000, just below the window") {
            try rig.iommufd.fd.raw.map(ioas: a.id.rawValue, userVA: buf.address, length: UInt64(page), iova: msiFirst - UInt64(page))
        }
    }

    static let autoIOVA = c("dma.native.auto-iova",
        "IOAS_MAP without FIXED_IOVA returns kernel-chosen IOVAs inside the reported ranges, distinct per mapping, and DMA through them works") { ctx in
        let path = try DMAPath(mode: .native, pci: try DMACases.firstEdu(ctx))
        guard let n = path.native else { try ctx.skip("no native setup") }
        let src = try DMABuffer(size: page), dst = try DMABuffer(size: page)
        src.fillPattern(seed: 71, length: len)
        let ranges = try ctx.expectOK("IOVA_RANGES") { try iovaRanges(n.iommufd.fd, n.ioas.id.rawValue) }
        let s = try ctx.expectOK("auto map src") { try n.ioas.map(src.bytes) }
        let d = try ctx.expectOK("auto map dst") { try n.ioas.map(dst.bytes) }
        for iova in [s, d] {
            try ctx.check(ranges.contains { $0.contains(iova) && $0.contains(iova + UInt64(page) - 1) },
                          "IOVA 0x\(String(iova, radix: 16)) is outside the usable ranges \(ranges)")
        }
        try ctx.check(s != d && (s + UInt64(page) <= d || d + UInt64(page) <= s), "the two auto IOVAs overlap: \(s), \(d)")
        try ctx.expectOK("DMA through auto IOVAs") { try path.roundTrip(from: s, to: d, length: len) }
        try ctx.check(dst.matchesPattern(seed: 71, length: len), "DMA through the kernel-chosen IOVAs did not land")
    }
}

// The same mapping sequence through the five VFIO modes (native type1 v1/v2 container,
// iommufd's type1 compat container v1/v2, and the native iommufd IOAS), with raw ioctls
// so no client-side check hides the kernel's answer. Each instance records what the
// kernel said (the differential table) AND asserts it equals what 6.12.117's
// vfio_iommu_type1.c / iommufd vfio_compat.c / ioas.c + io_pagetable.c return for that
// mode, so a kernel change fails the case.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

/// What one step returned: "OK" or the errno symbol, and the byte count an unmap reported.
struct DiffOutcome: Equatable, CustomStringConvertible {
    var result: String
    var size: UInt64?
    init(_ result: String, _ size: UInt64? = nil) { self.result = result; self.size = size }
    var description: String { size.map { "\(result) (size \($0))" } ?? result }

    static func of(_ body: () throws -> UInt64) -> DiffOutcome {
        do { return DiffOutcome("OK", try body()) } catch let error as IOMMUFDError {
            return DiffOutcome(error.origin == .kernel ? IOMMUFDError.symbol(error.errno) : "LIB:\(IOMMUFDError.symbol(error.errno))")
        } catch { return DiffOutcome("not an ioctl error: \(error)") }
    }
    static func of(_ body: () throws -> Void) -> DiffOutcome {
        of { () throws -> UInt64 in try body(); return 0 }.droppingSize
    }
    var droppingSize: DiffOutcome { DiffOutcome(result) }
}

/// Map/unmap through whichever uAPI a DMAPath uses, without the library's validation.
struct RawMaps {
    let path: DMAPath
    var native: Bool { path.native != nil }

    func map(_ buffer: DMABuffer, offset: Int = 0, length: UInt64, iova: UInt64, access: Bool = true) throws(IOMMUFDError) {
        let va = buffer.address + UInt64(offset)
        if let n = path.native {
            try n.iommufd.fd.raw.map(ioas: n.ioas.id.rawValue, userVA: va, length: length, iova: iova, flags: access ? MS.rw : 0)
        } else if let c = path.containerSetup {
            try c.container.mapDMARaw(vaddr: va, iova: iova, size: length,
                                      flags: access ? UInt32(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) : 0)
        }
    }

    func unmap(iova: UInt64, length: UInt64) throws(IOMMUFDError) -> UInt64 {
        if let n = path.native { return try n.iommufd.fd.raw.unmap(ioas: n.ioas.id.rawValue, iova: iova, length: length) }
        return try containerUnmap(flags: 0, iova: iova, size: length)
    }

    func unmapAll() throws(IOMMUFDError) -> UInt64 {
        if let n = path.native { return try n.iommufd.fd.raw.unmap(ioas: n.ioas.id.rawValue, iova: 0, length: .max) }
        return try containerUnmap(flags: UInt32(VFIO_DMA_UNMAP_FLAG_ALL), iova: 0, size: 0)
    }

    /// VFIO_IOMMU_UNMAP_DMA, optionally with a vfio_bitmap after the header (GET_DIRTY_BITMAP).
    func containerUnmap(flags: UInt32, iova: UInt64, size: UInt64,
                        bitmap: VFIOContainer.DirtyBitmapArea? = nil) throws(IOMMUFDError) -> UInt64 {
        guard let c = path.containerSetup else { throw .invalid(.vfioIOMMUUnmapDMA, argument: "fd", "not a container mode") }
        return try c.container.unmapDMARaw(iova: iova, size: size, flags: flags, bitmap: bitmap)
    }
}

enum DifferentialCases {
    static let x: UInt64 = 0x10_0000
    static let page: UInt64 = 4096

    /// What the kernel must answer in a mode, on this profile and kernel.
    typealias Expect = @Sendable (VFIOMode, CaseContext) -> DiffOutcome

    /// One instance per mode: sets up an edu DMAPath, runs `body`, records and checks its outcome.
    /// `knownBug` names a kernel bug the step triggers in a mode on this machine (a WARN
    /// fails the whole VM run), so that instance runs only with SWIFT_IOMMUFD_KNOWN_BUGS=1.
    static func d(_ name: String, _ rule: String, modes: [VFIOMode] = VFIOMode.allCases, expect: @escaping Expect,
                  knownBug: @escaping @Sendable (VFIOMode, CaseContext) -> String? = { _, _ in nil },
                  _ body: @escaping @Sendable (CaseContext, RawMaps) throws -> DiffOutcome) -> [ConformanceCase] {
        modes.map { mode in
            ConformanceCase("diff.\(name)", rule: rule, since: mode.since,
                            requires: DMACases.requirements(mode), mode: mode.rawValue) { ctx in
                if let bug = knownBug(mode, ctx) { try FailNthDeviceCases.skipKnownBug(ctx, bug) }
                let path = try openPath(ctx, mode)
                let got = try body(ctx, RawMaps(path: path))
                ctx.observation = got.result
                let want = expect(mode, ctx)
                try ctx.checkEqual(got.result, want.result, "\(name) through \(mode.rawValue)")
                if let size = want.size { try ctx.checkEqual(got.size, size, "\(name) through \(mode.rawValue): bytes unmapped") }
            }
        }
    }

    /// The mode's DMAPath; SKIP when native type1 refuses the group for lack of isolated MSI
    /// (virtio-iommu has no interrupt remapping; group.type1-isolated-msi asserts that EPERM).
    static func openPath(_ ctx: CaseContext, _ mode: VFIOMode) throws -> DMAPath {
        do { return try DMAPath(mode: mode, pci: try DMACases.firstEdu(ctx)) } catch let f as CaseFailure
            where (mode == .type1 || mode == .type1v2) && f.message.contains("SET_IOMMU") && f.message.contains("EPERM") {
            try ctx.skip("native type1 SET_IOMMU: EPERM, no isolated MSI on this IOMMU and vfio_iommu_type1.allow_unsafe_interrupts=0 (see group.type1-isolated-msi)")
        }
    }

    static func byMode(type1: DiffOutcome, type1v2: DiffOutcome, compatType1: DiffOutcome, compatType1v2: DiffOutcome,
                       native: DiffOutcome) -> Expect {
        { mode, _ in
            switch mode {
            case .type1: type1
            case .type1v2: type1v2
            case .compatType1: compatType1
            case .compatType1v2: compatType1v2
            case .native: native
            }
        }
    }

    static func buffer(_ pages: Int) throws -> DMABuffer { try DMABuffer(size: pages * 4096) }

    static var all: [ConformanceCase] {
        unmapSplit + mapOverlap + unmapEmpty + mapWrap + unmapWrap + unmapAll + mapNoAccess + mapZeroLength
            + dirtyStart + unmapDirtyBitmap + unsetContainerWithDevice
    }

    static let unmapSplit = d(
        "unmap-split",
        "unmapping the second page of a two-page mapping: type1 v1 succeeds unmapping nothing, compat v1 splits it (4096), type1v2 EINVAL, compat v2 and IOAS_UNMAP ENOENT",
        expect: byMode(type1: DiffOutcome("OK", 0), type1v2: DiffOutcome("EINVAL"), compatType1: DiffOutcome("OK", 4096),
                       compatType1v2: DiffOutcome("ENOENT"), native: DiffOutcome("ENOENT"))) { ctx, m in
        let b = try buffer(2)
        try ctx.step("map 8 KiB") { try m.map(b, length: 2 * page, iova: x) }
        return DiffOutcome.of { try m.unmap(iova: x + page, length: page) }
    }

    static let mapOverlap = d(
        "map-overlap",
        "a map overlapping an existing mapping fails EEXIST in every mode",
        expect: { _, _ in DiffOutcome("EEXIST") }) { ctx, m in
        let a = try buffer(2), b = try buffer(1)
        try ctx.step("map 8 KiB") { try m.map(a, length: 2 * page, iova: x) }
        return DiffOutcome.of { try m.map(b, length: page, iova: x + page) }
    }

    static let unmapEmpty = d(
        "unmap-empty",
        "unmapping a range with no mapping: every container succeeds with size 0, IOAS_UNMAP fails ENOENT (ioas.c:320)",
        expect: byMode(type1: DiffOutcome("OK", 0), type1v2: DiffOutcome("OK", 0), compatType1: DiffOutcome("OK", 0),
                       compatType1v2: DiffOutcome("OK", 0), native: DiffOutcome("ENOENT"))) { ctx, m in
        let a = try buffer(1)
        try ctx.step("map elsewhere") { try m.map(a, length: page, iova: x) }
        return DiffOutcome.of { try m.unmap(iova: x + 0x10_0000, length: page) }
    }

    static let wrapIOVA: UInt64 = 0xffff_ffff_ffff_f000

    /// Wrapping ranges: type1 answered EINVAL in 6.12 and EOVERFLOW after it, like iommufd.
    static let wrapOutcomes: Expect = { mode, ctx in
        let type1 = DiffOutcome(ctx.byKernel("EINVAL", from: .after612, "EOVERFLOW"))
        return byMode(type1: type1, type1v2: type1, compatType1: DiffOutcome("EOVERFLOW"),
                      compatType1v2: DiffOutcome("EOVERFLOW"), native: DiffOutcome("EOVERFLOW"))(mode, ctx)
    }

    static let mapWrap = d(
        "map-wrap",
        "a map whose iova + size wraps past 2^64: native type1 EINVAL in 6.12 (vfio_iommu_type1.c:1585) and EOVERFLOW after it, compat and IOAS_MAP EOVERFLOW",
        expect: wrapOutcomes) { _, m in
        let a = try buffer(2)
        return DiffOutcome.of { try m.map(a, length: 2 * page, iova: wrapIOVA) }
    }

    static let unmapWrap = d(
        "unmap-wrap",
        "an unmap whose iova + size wraps: native type1 EINVAL in 6.12 (vfio_iommu_type1.c:1303) and EOVERFLOW after it, compat and IOAS_UNMAP EOVERFLOW (io_pagetable.c iopt_unmap_iova)",
        expect: wrapOutcomes) { _, m in
        DiffOutcome.of { try m.unmap(iova: wrapIOVA, length: 2 * page) }
    }

    static let unmapAll = d(
        "unmap-all",
        "unmap-all (type1 FLAG_ALL with iova = size = 0; IOAS_UNMAP of (0, U64_MAX)) succeeds everywhere and reports every mapped byte",
        expect: { _, _ in DiffOutcome("OK", 3 * 4096) }) { ctx, m in
        let a = try buffer(1), b = try buffer(2)
        try ctx.step("map 4 KiB") { try m.map(a, length: page, iova: x) }
        try ctx.step("map 8 KiB") { try m.map(b, length: 2 * page, iova: x + 0x10_0000) }
        let all = DiffOutcome.of { try m.unmapAll() }
        if all.result == "OK" {
            // Nothing is left: mapping the same IOVAs again works.
            try ctx.step("map again at the same IOVA") { try m.map(a, length: page, iova: x) }
        }
        return all
    }

    static let mapNoAccess = d(
        "map-no-access",
        "a map with neither READ nor WRITE: type1 and IOAS_MAP EINVAL; compat passes it on and the IOMMU driver decides (VT-d and AMD refuse EINVAL, virtio-iommu maps it)",
        expect: { mode, ctx in
            switch mode {
            case .compatType1, .compatType1v2: ctx.profile == "virtio" ? DiffOutcome("OK") : DiffOutcome("EINVAL")
            default: DiffOutcome("EINVAL")
            }
        },
        knownBug: { mode, ctx in
            mode != .compatType1 && mode != .compatType1v2 || ctx.profile == "virtio" || ctx.kernel < .after612 ? nil
                : KnownBugs.mapNoAccessWarn
        }) { _, m in
        let a = try buffer(1)
        return DiffOutcome.of { try m.map(a, length: page, iova: x, access: false) }
    }

    static let mapZeroLength = d(
        "map-zero-length",
        "a map of zero bytes fails EINVAL in every mode",
        expect: { _, _ in DiffOutcome("EINVAL") }) { _, m in
        let a = try buffer(1)
        return DiffOutcome.of { try m.map(a, length: 0, iova: x) }
    }

    static let dirtyStart = d(
        "dirty-tracking-start",
        "starting dirty tracking: DIRTY_PAGES START is EACCES on type1 v1, OK on v2, ENOTTY on the compat container; native IOMMU_HWPT_SET_DIRTY_TRACKING on the attached HWPT of an IOMMU without dirty support is EOPNOTSUPP",
        expect: byMode(type1: DiffOutcome("EACCES"), type1v2: DiffOutcome("OK"), compatType1: DiffOutcome("ENOTTY"),
                       compatType1v2: DiffOutcome("ENOTTY"), native: DiffOutcome("EOPNOTSUPP"))) { ctx, m in
        if let n = m.path.native {
            return DiffOutcome.of { try n.iommufd.setDirtyTracking(n.attachedHWPT, enabled: true) }
        }
        guard let c = m.path.containerSetup else { try ctx.skip("no container") }
        return DiffOutcome.of { try c.container.startDirtyTracking() }
    }

    static let unmapDirtyBitmap = d(
        "unmap-dirty-bitmap",
        "UNMAP_DMA with GET_DIRTY_BITMAP after trying DIRTY_PAGES START: type1v2 succeeds and reports both pages dirty, type1 v1 (tracking refused) EINVAL, compat EINVAL (flag unsupported)",
        modes: [.type1, .type1v2, .compatType1, .compatType1v2],
        expect: byMode(type1: DiffOutcome("EINVAL"), type1v2: DiffOutcome("OK", 8192), compatType1: DiffOutcome("EINVAL"),
                       compatType1v2: DiffOutcome("EINVAL"), native: DiffOutcome("-"))) { ctx, m in
        guard let c = m.path.containerSetup else { try ctx.skip("no container") }
        let a = try buffer(2)
        try ctx.step("map 8 KiB") { try m.map(a, length: 2 * page, iova: x) }
        _ = DiffOutcome.of { try c.container.startDirtyTracking() }
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        defer { bits.deallocate() }
        bits.pointee = 0
        let out = DiffOutcome.of {
            try m.containerUnmap(flags: UInt32(VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP), iova: x, size: 2 * page,
                                 bitmap: .init(pageSize: page, size: 8, data: UInt64(UInt(bitPattern: bits))))
        }
        if out.result == "OK" {
            // No device in the container pins pages, so type1 reports every mapped page dirty.
            try ctx.checkEqual(bits.pointee, 0b11, "dirty bitmap of the two unmapped pages")
        }
        return out
    }

    static let unsetContainerWithDevice = d(
        "group-unset-container-open-device",
        "GROUP_UNSET_CONTAINER while a device fd of the group is open: EBUSY with a type1 container (container_users != 1), but the compat (iommufd) container is dropped without that check (group.c:57-80)",
        modes: [.type1, .type1v2, .compatType1, .compatType1v2],
        expect: byMode(type1: DiffOutcome("EBUSY"), type1v2: DiffOutcome("EBUSY"), compatType1: DiffOutcome("OK"),
                       compatType1v2: DiffOutcome("OK"), native: DiffOutcome("-"))) { ctx, m in
        guard let c = m.path.containerSetup else { try ctx.skip("no container") }
        let out = DiffOutcome.of { try c.group.unsetContainer() }
        // Either way the open device keeps working.
        let id = try ctx.expectOK("edu id register after the unset") {
            try m.path.edu.device.read32(.bar0, at: 0)
        }
        try ctx.checkEqual(id, EduDevice.expectedID, "edu id register")
        return out
    }
}

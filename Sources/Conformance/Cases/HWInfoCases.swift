// IOMMU_GET_HW_INFO and HWPT allocation on the real emulated IOMMUs (QEMU 7.2: intel-iommu
// caching-mode=on intremap=on, amd-iommu, virtio-iommu), per profile, as 6.12.117 answers:
// intel_iommu_hw_info / intel_iommu_domain_alloc_user, amd_iommu_domain_alloc_user (no
// hw_info op in 6.12), virtio-iommu (neither op), iommufd hw_pagetable.c and device.c.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import VFIO

enum HWInfoCases {
    static let needs: Set<Requirement> = [.iommufd, .eduDevice]

    static func c(_ id: String, _ rule: String, since: KernelVersion = "6.6",
                  _ body: @escaping @Sendable (CaseContext, CdevRig, BoundEdu) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, since: since, requires: needs) { ctx in
            let rig = try CdevRig(ctx)
            let edu = try BoundEdu(ctx, rig)
            try body(ctx, rig, edu)
        }
    }

    static func knownProfile(_ ctx: CaseContext) throws {
        guard ["intel", "amd", "virtio"].contains(ctx.profile) else { try ctx.skip("expectations exist for intel, amd and virtio, not \(ctx.profile)") }
    }

    static var all: [ConformanceCase] { [hwInfoType, vtdFields, dirtyAlloc, nestParent, nestedOnNonParent, setDirty, faultQueue] }

    static let hwInfoType = c("hwinfo.edu.type", "GET_HW_INFO on a VFIO device: INTEL_VTD with 24 bytes (flags = ERRATA_772415 bit, cap/ecap non-zero) under VT-d; NONE with no data under AMD and virtio-iommu (no hw_info op in 6.12); no capabilities in 6.12, and after it only PCI_ATS_NOT_SUPPORTED (the edu has no ATS; 7.3.4 device.c:1709-1711)") { ctx, rig, edu in
        try knownProfile(ctx)
        let info = try ctx.expectOK("GET_HW_INFO") { try rig.iommufd.hwInfo(device: edu.id) }
        try ctx.checkEqual(info.capabilities, ctx.byKernel([], from: .after612, [.pciATSNotSupported]),
                           "out_capabilities (no dirty tracking on these emulated IOMMUs)")
        if ctx.profile == "intel" {
            try ctx.checkEqual(info.type, .intelVTd, "out_data_type")
            try ctx.checkEqual(info.rawData.count, MemoryLayout<iommu_hw_info_vtd>.size, "data_len")
            guard let vtd = info.vtd else { throw CaseFailure("VT-d data did not decode") }
            try ctx.checkEqual(vtd.flags, UInt32(IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17.rawValue), "vtd flags (6.12 sets the erratum bit unconditionally)")
            try ctx.check(vtd.cap != 0 && vtd.ecap != 0, "cap 0x\(String(vtd.cap, radix: 16)) ecap 0x\(String(vtd.ecap, radix: 16))")
        } else {
            try ctx.checkEqual(info.type, .none, "out_data_type")
            try ctx.checkEqual(info.rawData.count, 0, "data_len")
        }
        // A zero-length buffer still reports the type and the length the driver has.
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { buf.deallocate() }
        buf.initializeMemory(as: UInt8.self, repeating: 0)
        let raw = try ctx.expectOK("GET_HW_INFO with data_len 0") {
            try rig.iommufd.fd.raw.hwInfo(device: edu.id.rawValue, data: buf.baseAddress, dataLength: 0)
        }
        try ctx.checkEqual(raw.dataLength, ctx.profile == "intel" ? 24 : 0, "data_len reported back for a 0-byte buffer")
        try ctx.checkEqual(Array(buf), [UInt8](repeating: 0, count: 8), "bytes written into a 0-length buffer")
    }

    static let vtdFields = c("hwinfo.edu.vtd-fields", "QEMU 7.2 VT-d (caching-mode=on, intremap=on): MGAW >= 39 with 39-bit SAGAW, caching mode, queued invalidation + interrupt remapping, no nesting, no scalable mode, no dirty bit") { ctx, rig, edu in
        guard ctx.profile == "intel" else { try ctx.skip("VT-d registers only on the intel profile") }
        let info = try ctx.expectOK("GET_HW_INFO") { try rig.iommufd.hwInfo(device: edu.id) }
        guard let vtd = info.vtd else { throw CaseFailure("no VT-d data (type \(info.type))") }
        try ctx.check(vtd.mgaw >= 39, "MGAW \(vtd.mgaw)")
        try ctx.check(vtd.supportedAddressWidths.contains(39), "SAGAW widths \(vtd.supportedAddressWidths)")
        try ctx.check(vtd.cachingMode, "caching mode off (QEMU runs with caching-mode=on)")
        try ctx.check(vtd.queuedInvalidation && vtd.interruptRemapping, "QI \(vtd.queuedInvalidation) IR \(vtd.interruptRemapping)")
        try ctx.check(!vtd.nested && !vtd.firstStage, "nesting/first-stage advertised")
        try ctx.check(!vtd.dirtyTracking, "second-stage dirty bit (SSADS) advertised")
        try ctx.check(!vtd.scalableMode, "scalable mode advertised (QEMU started without x-scalable-mode)")
        try ctx.check(vtd.domainCount >= 256, "domain ids \(vtd.domainCount)")
    }

    static let dirtyAlloc = c("hwpt.edu.alloc-dirty-tracking", "HWPT_ALLOC with DIRTY_TRACKING fails EOPNOTSUPP: no emulated IOMMU here reports IOMMU_CAP_DIRTY_TRACKING (virtio-iommu: no domain_alloc_user at all)") { ctx, rig, edu in
        try knownProfile(ctx)
        let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
        try ctx.expectErrno(.notSupported, "DIRTY_TRACKING") {
            try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id, flags: [.dirtyTracking])
        }
        let plain = try ctx.expectOK("flags 0 works") { try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id) }
        try ctx.check(plain.id.rawValue != 0, "hwpt id 0")
    }

    static let nestParent = c("hwpt.edu.alloc-nest-parent", "HWPT_ALLOC with NEST_PARENT fails EOPNOTSUPP: QEMU 7.2 VT-d has no nesting (ecap NEST), AMD 6.12 takes only DIRTY_TRACKING, virtio-iommu takes no flags") { ctx, rig, edu in
        try knownProfile(ctx)
        let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
        try ctx.expectErrno(.notSupported, "NEST_PARENT") {
            try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id, flags: [.nestParent])
        }
        try ctx.expectErrno(.notSupported, "NEST_PARENT|DIRTY_TRACKING") {
            try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id, flags: [.nestParent, .dirtyTracking])
        }
    }

    static let nestedOnNonParent = c("hwpt.edu.nested-on-non-parent", "a nested (VTD_S1) HWPT on a paging HWPT that is not a nest parent, or on the auto domain, fails EINVAL (hw_pagetable.c:232) where the driver has domain_alloc_user (VT-d, and AMD in 6.12); EOPNOTSUPP on virtio-iommu (none) and, after 6.12, on AMD-Vi") { ctx, rig, edu in
        try knownProfile(ctx)
        let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
        let plain = try ctx.step("paging HWPT") { try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id) }
        let auto = try ctx.step("attach the IOAS (auto HWPT)") { try edu.device.attach(ioas.id) }
        let amdRefuses = ctx.profile == "amd" && ctx.kernel >= .after612
        let want: Errno = ctx.profile == "virtio" || amdRefuses ? .notSupported : .invalidArgument
        let s1 = HWPTData.vtdStage1(flags: [], pgtblAddr: 0x1000, addrWidth: 48)
        try ctx.expectErrno(want, "VTD_S1 on a plain paging HWPT") {
            try rig.iommufd.allocNestedHWPT(device: edu.id, parent: .hwpt(plain.id), data: s1)
        }
        try ctx.expectErrno(want, "VTD_S1 on the auto HWPT") {
            try rig.iommufd.allocNestedHWPT(device: edu.id, parent: .hwpt(auto), data: s1)
        }
    }

    static let setDirty = c("hwpt.edu.set-dirty-tracking", "SET_DIRTY_TRACKING (enable or disable) and GET_DIRTY_BITMAP on a HWPT without dirty ops (the attached auto HWPT, an explicit one) fail EOPNOTSUPP (io_pagetable.c)") { ctx, rig, edu in
        try knownProfile(ctx)
        let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
        let auto = try ctx.step("attach (auto HWPT)") { try edu.device.attach(ioas.id) }
        let buf = try DMABuffer(size: 4096)
        try ctx.step("map a page") { try ioas.map(buf.bytes, at: 0x10_0000) }
        try ctx.expectErrno(.notSupported, "enable on the auto HWPT") { try rig.iommufd.setDirtyTracking(auto, enabled: true) }
        try ctx.expectErrno(.notSupported, "disable on the auto HWPT") { try rig.iommufd.setDirtyTracking(auto, enabled: false) }
        let bits = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        defer { bits.deallocate() }
        try ctx.expectErrno(.notSupported, "GET_DIRTY_BITMAP on the auto HWPT") {
            try rig.iommufd.fd.raw.getDirtyBitmap(hwpt: auto.rawValue, iova: 0x10_0000, length: 4096, pageSize: 4096, bitmap: UnsafeMutableRawPointer(bits))
        }
        let empty = try ctx.step("another IOAS") { try rig.iommufd.allocIOAS() }
        let hwpt = try ctx.step("explicit HWPT on it") { try rig.iommufd.allocHWPT(device: edu.id, ioas: empty.id) }
        try ctx.expectErrno(.notSupported, "enable on the explicit HWPT") { try hwpt.setDirtyTracking(enabled: true) }
    }

    static let faultQueue = c("hwpt.edu.fault-queue", "FAULT_QUEUE_ALLOC works (6.11+); a paging HWPT with FAULT_ID_VALID fails EOPNOTSUPP in 6.12 (iommufd_hwpt_paging_alloc's valid flags are NEST_PARENT|DIRTY_TRACKING); after 6.12 VT-d and AMD-Vi allocate it (7.3.4 hw_pagetable.c:122-125, the driver gets the flags without FAULT_ID_VALID, :161), virtio-iommu still refuses EOPNOTSUPP", since: "6.11") { ctx, rig, edu in
        try knownProfile(ctx)
        let ioas = try ctx.step("IOAS_ALLOC") { try rig.iommufd.allocIOAS() }
        let q = try ctx.expectOK("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
        try ctx.check(q.id.rawValue != 0, "fault id 0")
        // After 6.12 VT-d and AMD-Vi allocate it; virtio-iommu still refuses (EOPNOTSUPP).
        let refused = ctx.kernel < .after612 || ctx.profile == "virtio"
        try ctx.expect(refused ? .notSupported : nil, "paging HWPT with FAULT_ID_VALID") {
            try rig.iommufd.allocHWPT(device: edu.id, ioas: ioas.id, fault: q.id)
        }
    }
}

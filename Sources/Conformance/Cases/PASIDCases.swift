// PASID attach / replace / detach of a PASID-capable mock device (MOCK_FLAGS_DEVICE_PASID,
// 6.15+) through IOMMU_TEST_OP_PASID_*, and HWPT_ALLOC with IOMMU_HWPT_ALLOC_PASID, as 7.3's
// device.c (iommufd_hwpt_pasid_compat, iommufd_device_do_replace), iommu.c
// (iommu_attach_device_pasid) and selftest.c answer them (the kernel's
// iommufd_device_pasid.pasid_attach selftest).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

/// The HWPTs of the PASID selftest, on a rig whose device has MOCK_FLAGS_DEVICE_PASID.
struct PASIDHWPTs {
    /// Paging HWPT on the IOAS with ALLOC_PASID (PASID-compatible).
    let s2: HWPTID
    /// Two nested HWPTs on the NEST_PARENT with ALLOC_PASID.
    let nested0: HWPTID, nested1: HWPTID

    static func make(_ ctx: CaseContext, _ rig: NestRig) throws -> PASIDHWPTs {
        try ctx.step("HWPT_ALLOC: s2 (ALLOC_PASID), two nested (ALLOC_PASID) on the parent") {
            let dev = rig.device
            return PASIDHWPTs(s2: try rig.iommufd.allocHWPT(device: dev, ioas: rig.ioas, flags: .pasid).release(),
                              nested0: try rig.iommufd.allocNestedHWPT(device: dev, parent: .hwpt(rig.parent), data: NestRig.nestedData, flags: .pasid).release(),
                              nested1: try rig.iommufd.allocNestedHWPT(device: dev, parent: .hwpt(rig.parent), data: NestRig.nestedData, flags: .pasid).release())
        }
    }
}

enum PASIDCases {
    static var all: [ConformanceCase] { cases }

    static func c(_ id: String, _ rule: String, _ body: @escaping @Sendable (CaseContext, NestRig, PASIDHWPTs) throws -> Void) -> ConformanceCase {
        nestCase(id, rule, since: "6.15", .parentOnly, deviceFlags: .pasid) { ctx, rig in
            try body(ctx, rig, try PASIDHWPTs.make(ctx, rig))
        }
    }

    /// Moves the device's RID onto `pt`.
    static func rid(_ ctx: CaseContext, _ rig: NestRig, _ pt: some PageTableID, _ what: String) throws {
        try ctx.step("RID onto \(what)") { try rig.test.mockDomainReplace(rig.stdev, with: pt) }
    }

    /// PASID_CHECK_HWPT: `pasid` is attached to `hwpt` (nil: to nothing).
    static func check(_ ctx: CaseContext, _ rig: NestRig, _ pasid: UInt32, _ hwpt: HWPTID?, _ what: String, stdev: MockStdevID? = nil) throws {
        try ctx.expectOK("PASID_CHECK_HWPT \(pasid): \(what)") {
            try rig.test.pasidCheckHWPT(stdev ?? rig.stdev, pasid: pasid, attached: hwpt)
        }
    }

    static func attach(_ rig: NestRig, _ pasid: UInt32, _ pt: some PageTableID, stdev: MockStdevID? = nil) throws(IOMMUFDError) {
        try rig.test.pasidAttach(stdev ?? rig.stdev, pasid: pasid, to: pt)
    }

    // Every case detaches its PASIDs before teardown: 7.3's mock device destroy detaches only
    // the RID (selftest.c iommufd_selftest_destroy), so a PASID left attached would keep a
    // users reference on the idev and iommufd_device_unbind() would WARN (iommufd_private.h:241).
    static let cases: [ConformanceCase] = [
        c("pasid.hwpt-alloc", "HWPT_ALLOC takes IOMMU_HWPT_ALLOC_PASID for a paging HWPT, a nested HWPT on a NEST_PARENT or on a vIOMMU, and together with FAULT_ID_VALID; a device without PASID support can allocate and use such a HWPT") { ctx, rig, h in
            try ctx.check(h.s2.rawValue != 0 && h.nested0.rawValue != 0 && h.nested1.rawValue != 0, "zero HWPT id")
            let v = try ctx.step("VIOMMU_ALLOC") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: rig.parent).release()
            }
            try ctx.expectOK("nested on the vIOMMU with ALLOC_PASID") {
                _ = try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .viommu(v), data: NestRig.nestedData, flags: .pasid).release()
            }
            let q = try ctx.step("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
            try ctx.expectOK("nested with FAULT_ID_VALID | ALLOC_PASID") {
                _ = try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .hwpt(rig.parent), data: NestRig.nestedData,
                                                    flags: .pasid, fault: q.id).release()
            }
            let plain = try ctx.step("a mock device without PASID support") { try rig.test.mockDomain(rig.ioas) }
            let s2 = try ctx.expectOK("paging ALLOC_PASID HWPT for it") {
                try rig.iommufd.allocHWPT(device: plain.deviceID, ioas: rig.ioas, flags: .pasid).release()
            }
            try ctx.expectOK("its RID onto that HWPT") { try rig.test.mockDomainReplace(plain.stdevID, with: s2) }
            try ctx.expectOK("its RID onto the PASID nested HWPT") {
                try rig.test.mockDomainReplace(plain.stdevID, with: h.nested0)
            }
        },
        c("pasid.attach-detach", "with the RID on a PASID-compatible HWPT, PASID_ATTACH of a PASID-compatible nested or paging HWPT works and PASID_CHECK_HWPT sees it; PASID_DETACH leaves the PASID unattached; detaching an unattached PASID succeeds") { ctx, rig, h in
            try ctx.expectOK("PASID_DETACH 100 (never attached)") { try rig.test.pasidDetach(rig.stdev, pasid: 100) }
            try rid(ctx, rig, h.s2, "s2")
            try ctx.expectOK("PASID_ATTACH 100 -> nested0") { try attach(rig, 100, h.nested0) }
            try check(ctx, rig, 100, h.nested0, "nested0")
            try check(ctx, rig, 101, nil, "PASID 101 untouched")
            try ctx.expectOK("PASID_DETACH 100") { try rig.test.pasidDetach(rig.stdev, pasid: 100) }
            try check(ctx, rig, 100, nil, "detached")
            try ctx.expectOK("PASID_ATTACH 100 -> s2") { try attach(rig, 100, h.s2) }
            try check(ctx, rig, 100, h.s2, "s2")
            try ctx.expectErrno(.resourceBusy, "DESTROY s2 while a PASID and the RID use it") { try rig.iommufd.destroy(h.s2) }
            try ctx.expectOK("PASID_DETACH 100") { try rig.test.pasidDetach(rig.stdev, pasid: 100) }
            try check(ctx, rig, 100, nil, "detached again")
        },
        c("pasid.attach-busy", "PASID_ATTACH does not overwrite: attaching an attached PASID fails EBUSY, to another HWPT or the same one, and the PASID keeps its HWPT (use PASID_REPLACE)") { ctx, rig, h in
            try rid(ctx, rig, h.s2, "s2")
            try ctx.step("PASID_ATTACH 100 -> s2") { try attach(rig, 100, h.s2) }
            try ctx.expectErrno(.resourceBusy, "PASID_ATTACH 100 -> nested0") { try attach(rig, 100, h.nested0) }
            try ctx.expectErrno(.resourceBusy, "PASID_ATTACH 100 -> s2 again") { try attach(rig, 100, h.s2) }
            try check(ctx, rig, 100, h.s2, "still s2")
            try ctx.step("PASID_DETACH 100") { try rig.test.pasidDetach(rig.stdev, pasid: 100) }
        },
        c("pasid.attach-replace-detach", "PASID_REPLACE of an unattached PASID fails EINVAL (device.c iommufd_device_do_replace); on an attached one it moves the PASID between PASID-compatible HWPTs (and to the same HWPT is a no-op), while an IOAS fails EINVAL and leaves the old HWPT; PASID_DETACH ends it") { ctx, rig, h in
            try rid(ctx, rig, h.s2, "s2")
            try ctx.expectErrno(.invalidArgument, "PASID_REPLACE 200 (unattached) -> s2") {
                try rig.test.pasidReplace(rig.stdev, pasid: 200, with: h.s2)
            }
            try ctx.step("PASID_ATTACH 200 -> s2") { try attach(rig, 200, h.s2) }
            try ctx.expectErrno(.invalidArgument, "PASID_REPLACE 200 -> the IOAS") {
                try rig.test.pasidReplace(rig.stdev, pasid: 200, with: rig.ioas)
            }
            try check(ctx, rig, 200, h.s2, "s2 kept")
            for (name, hwpt) in [("nested0", h.nested0), ("nested1", h.nested1), ("nested1 again", h.nested1)] {
                let now = try ctx.expectOK("PASID_REPLACE 200 -> \(name)") {
                    try rig.test.pasidReplace(rig.stdev, pasid: 200, with: hwpt)
                }
                try ctx.checkEqual(now, hwpt, "pt_id back")
                try check(ctx, rig, 200, hwpt, name)
            }
            try ctx.step("DESTROY nested0 (no longer used)") { try rig.iommufd.destroy(h.nested0) }
            try ctx.expectOK("PASID_DETACH 200") { try rig.test.pasidDetach(rig.stdev, pasid: 200) }
            try check(ctx, rig, 200, nil, "detached")
            try ctx.expectOK("DESTROY nested1 after detach") { try rig.iommufd.destroy(h.nested1) }
        },
        c("pasid.compat", "PASID and RID attachments must agree (device.c iommufd_hwpt_pasid_compat): a PASID cannot attach while the RID is on a HWPT without ALLOC_PASID, a HWPT without ALLOC_PASID (or an IOAS) cannot go on a PASID, and the RID cannot move to such a HWPT while a PASID is attached — all EINVAL, leaving nothing attached") { ctx, rig, h in
            try rid(ctx, rig, rig.parent, "the NEST_PARENT (not PASID-compatible)")
            try ctx.expectErrno(.invalidArgument, "PASID_ATTACH 100 -> s2") { try attach(rig, 100, h.s2) }
            try check(ctx, rig, 100, nil, "nothing")
            try rid(ctx, rig, h.s2, "s2")
            try ctx.expectErrno(.invalidArgument, "PASID_ATTACH 100 -> the NEST_PARENT") { try attach(rig, 100, rig.parent) }
            try ctx.expectErrno(.invalidArgument, "PASID_ATTACH 100 -> the IOAS") { try attach(rig, 100, rig.ioas) }
            try check(ctx, rig, 100, nil, "still nothing")
            try ctx.step("PASID_ATTACH 100 -> nested0") { try attach(rig, 100, h.nested0) }
            try ctx.expectErrno(.invalidArgument, "RID -> the NEST_PARENT with PASID 100 attached") {
                try rig.test.mockDomainReplace(rig.stdev, with: rig.parent)
            }
            try ctx.step("PASID_DETACH 100") { try rig.test.pasidDetach(rig.stdev, pasid: 100) }
            try ctx.expectOK("RID -> the NEST_PARENT with no PASID attached") {
                try rig.test.mockDomainReplace(rig.stdev, with: rig.parent)
            }
        },
        c("pasid.bad-ids", "PASID_ATTACH: a stdev id that is no mock device or a pt_id naming nothing fails ENOENT; a pt_id that is no page table (a device, a vIOMMU) EINVAL; a PASID at or above the device's 2^20 PASIDs EINVAL (iommu.c iommu_attach_device_pasid)") { ctx, rig, h in
            try rid(ctx, rig, h.s2, "s2")
            try ctx.expectErrno(.noSuchFileOrDirectory, "stdev 0") { try attach(rig, 100, h.s2, stdev: MockStdevID(rawValue: 0)) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "pt_id 0") { try attach(rig, 100, RawPT(rawValue: 0)) }
            try ctx.expectErrno(.invalidArgument, "pt_id = the device") { try attach(rig, 100, RawPT(rawValue: rig.device.rawValue)) }
            let v = try ctx.step("VIOMMU_ALLOC") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: rig.parent).release()
            }
            try ctx.expectErrno(.invalidArgument, "pt_id = a vIOMMU") { try attach(rig, 100, RawPT(rawValue: v.rawValue)) }
            try ctx.expectErrno(.invalidArgument, "PASID 1 << 20") { try attach(rig, UInt32(1) << UInt32(MOCK_PASID_WIDTH), h.s2) }
            let top = (UInt32(1) << UInt32(MOCK_PASID_WIDTH)) - 1
            try ctx.expectOK("PASID (1 << 20) - 1") { try attach(rig, top, h.s2) }
            try ctx.step("PASID_DETACH it") { try rig.test.pasidDetach(rig.stdev, pasid: top) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "PASID_CHECK_HWPT on stdev 0") {
                try rig.test.pasidCheckHWPT(MockStdevID(rawValue: 0), pasid: 100, attached: nil)
            }
        },
        c("pasid.replace-rollback", "when the driver fails a PASID replacement (the mock driver fakes ENOMEM on PASID 1024's second set_dev_pasid, selftest.c:262) PASID_REPLACE fails with that errno and the PASID stays on its old HWPT") { ctx, rig, h in
            let pasid = UInt32(IOMMU_TEST_PASID_RESERVED)
            try rid(ctx, rig, h.s2, "s2")
            try ctx.step("PASID_ATTACH 1024 -> s2") { try attach(rig, pasid, h.s2) }
            try ctx.expectErrno(.noMemory, "PASID_REPLACE 1024 -> nested0") {
                try rig.test.pasidReplace(rig.stdev, pasid: pasid, with: h.nested0)
            }
            try check(ctx, rig, pasid, h.s2, "s2 kept")
            try ctx.expectOK("PASID_DETACH 1024") { try rig.test.pasidDetach(rig.stdev, pasid: pasid) }
            try check(ctx, rig, pasid, nil, "detached")
        },
        c("pasid.non-pasid-device", "a mock device without MOCK_FLAGS_DEVICE_PASID has one PASID slot (pasid-num-bits 0 gives max_pasids 1 << 0, iommu.c:450; GET_HW_INFO max_pasid_log2 0, the PASID device 20): PASID_ATTACH fails EINVAL on a non-PASID-compatible RID HWPT (device.c:537) and, on a compatible one, as PASID >= max_pasids (iommu.c:3666); its RID still attaches to PASID-compatible HWPTs") { ctx, rig, h in
            let plain = try ctx.step("a mock device without PASID support") { try rig.test.mockDomain(rig.ioas) }
            let log2 = try ctx.step("GET_HW_INFO of both") {
                [try rig.iommufd.hwInfo(device: rig.device).maxPASIDLog2, try rig.iommufd.hwInfo(device: plain.deviceID).maxPASIDLog2]
            }
            try ctx.checkEqual(log2, [UInt8(MOCK_PASID_WIDTH), 0], "out_max_pasid_log2 (PASID device, plain device)")
            try ctx.expectErrno(.invalidArgument, "PASID_ATTACH 100 -> the NEST_PARENT") {
                try attach(rig, 100, rig.parent, stdev: plain.stdevID)
            }
            try ctx.expectErrno(.invalidArgument, "PASID_ATTACH 100 -> s2 (RID on its auto domain)") {
                try attach(rig, 100, h.s2, stdev: plain.stdevID)
            }
            try ctx.expectOK("its RID onto s2") { try rig.test.mockDomainReplace(plain.stdevID, with: h.s2) }
            for pasid: UInt32 in [1, 100] {
                try ctx.expectErrno(.invalidArgument, "PASID_ATTACH \(pasid) -> nested0 (RID on s2)") {
                    try attach(rig, pasid, h.nested0, stdev: plain.stdevID)
                }
            }
            try check(ctx, rig, 100, nil, "nothing", stdev: plain.stdevID)
            try ctx.expectOK("its RID onto nested0") { try rig.test.mockDomainReplace(plain.stdevID, with: h.nested0) }
        },
        c("pasid.iopf", "a PASID attached to a HWPT with a fault queue gets its I/O page faults: TRIGGER_IOPF on that PASID queues a fault with PASID_VALID and the PASID, which can be answered; a fault read but unanswered when the PASID is replaced away is answered by the kernel (its cookie is gone: EINVAL, eventq.c:19)") { ctx, rig, h in
            let q = try ctx.step("FAULT_QUEUE_ALLOC") { try rig.iommufd.allocFaultQueue() }
            let iopf = try ctx.step("nested with FAULT_ID_VALID | ALLOC_PASID") {
                try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .hwpt(rig.parent), data: NestRig.nestedData, flags: .pasid, fault: q.id).release()
            }
            try rid(ctx, rig, h.s2, "s2")
            try ctx.expectOK("PASID_ATTACH 2048 -> the IOPF HWPT") { try attach(rig, 2048, iopf) }
            try check(ctx, rig, 2048, iopf, "IOPF HWPT")
            try ctx.expectErrno(.resourceBusy, "DESTROY the IOPF HWPT while attached") { try rig.iommufd.destroy(iopf) }
            // As the selftest does (test_cmd_trigger_iopf_pasid): a fault, read and answered while attached.
            try ctx.step("TRIGGER_IOPF on PASID 2048") {
                try rig.test.triggerIOPF(rig.device, pasid: 2048, groupID: 0x2, permissions: [.read, .write], address: 0xdeadbeaf)
            }
            let answered = try ctx.step("read the fault queue") { try q.readFaults(timeout: .seconds(1)) }
            try ctx.checkEqual(answered.map { $0.pasid ?? 0 }, [2048], "PASIDs of the faults read")
            try ctx.expectOK("respond SUCCESS while attached") { try q.respond(cookie: answered.first?.cookie ?? 0) }
            try ctx.step("TRIGGER_IOPF on PASID 2048 again") {
                try rig.test.triggerIOPF(rig.device, pasid: 2048, groupID: 0x2, permissions: [.read, .write], address: 0xdeadbeaf)
            }
            let faults = try ctx.step("read the fault queue") { try q.readFaults(timeout: .seconds(1)) }
            try ctx.checkEqual(faults.count, 1, "faults read")
            guard let f = faults.first else { return }
            try ctx.checkEqual([f.device.rawValue, f.pasid ?? 0, f.groupID], [rig.device.rawValue, 2048, 2], "dev_id, pasid, grpid")
            try ctx.check(f.isLastPage, "LAST_PAGE not set")
            try ctx.expectOK("PASID_REPLACE 2048 -> s2") { try rig.test.pasidReplace(rig.stdev, pasid: 2048, with: h.s2) }
            try ctx.checkEqual(rawWrite(q.queue, pageResponseBytes(cookie: f.cookie, code: 0)), "EINVAL", "response to the auto-answered fault")
            try ctx.expectOK("DESTROY the IOPF HWPT after replace") { try rig.iommufd.destroy(iopf) }
            try ctx.step("PASID_DETACH 2048") { try rig.test.pasidDetach(rig.stdev, pasid: 2048) }
            try closeAndDestroy(ctx, q, "close the fault fd, DESTROY the fault queue")
        },
    ]
}

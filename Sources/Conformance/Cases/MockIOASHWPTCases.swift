// `iommufd_ioas` selftest fixture, part 3: GET_HW_INFO and nested HWPTs (get_hw_info,
// alloc_hwpt_nested of tools/testing/selftests/iommu/iommufd.c, 7.3.4 :766 and :427; the
// 6.12 test is the same minus two invalidation bounds). Helpers: MockDomainCases.swift.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

extension MockDomainCases {
    static var ioasCasesHWPT: [ConformanceCase] {
        var out: [ConformanceCase] = []
        out += ioas("get-hw-info", "GET_HW_INFO on the mock device with no, exact, larger and shorter buffers: type SELFTEST, data_len 8, test_reg 0xdeadbeef, flags 0, the tail zeroed; an input type other than SELFTEST EOPNOTSUPP (6.17+); max_pasid_log2 0, 20 for the PASID device; ENOENT without a device", since: "6.6") { ctx, fx, _ in
            try checkMockHWInfo(ctx, fx)
        }
        out += ioas("alloc-hwpt-nested", "nested HWPTs on a NEST_PARENT mock HWPT: allocation refusals, IOTLB invalidation (bounds, bad entries, partial batches, FLAG_ALL), replacement and EBUSY while attached, an IOPF through a fault-queue HWPT; ENOENT for every step without a device",
                    since: "6.11") { ctx, fx, _ in
            if fx.hasDomain { try nestedWithDevice(ctx, fx) } else { try nestedWithoutDevice(ctx, fx) }
        }
        return out
    }

    /// struct iommu_test_hw_info: flags (u32), test_reg (u32).
    static let testHWInfoSize: UInt32 = 8

    /// get_hw_info, with _test_cmd_get_hw_info's checks on every answer (iommufd_utils.h:825-882).
    static func checkMockHWInfo(_ ctx: CaseContext, _ fx: Fx) throws {
        let bm = try needBuffer(Int(MS.page))
        guard fx.hasDomain else {
            for len in [testHWInfoSize, testHWInfoSize + 8] {
                try ctx.expectErrno(.noSuchFileOrDirectory, "dev 0, data_len \(len)") {
                    try fx.fd.raw.hwInfo(device: 0, data: bm.base, dataLength: len)
                }
            }
            return
        }
        let selftest = UInt32(IOMMU_HW_INFO_TYPE_SELFTEST), inputType = UInt32(IOMMU_HW_INFO_FLAG_INPUT_TYPE.rawValue)
        @discardableResult
        func query(_ what: String, _ len: UInt32, flags: UInt32 = 0, type: UInt32 = 0) throws -> RawHWInfoReply {
            memset(bm.base, 0xAA, bm.count)
            let r = try ctx.step("\(what): data_len \(len)") {
                try fx.fd.raw.hwInfo(device: fx.device, flags: flags, inputType: type, data: len == 0 ? nil : bm.base, dataLength: len)
            }
            try ctx.checkEqual(r.dataType, selftest, "\(what): out_data_type")
            try ctx.checkEqual(r.dataLength, testHWInfoSize, "\(what): data_len back")
            if len > testHWInfoSize {
                let tail = (Int(testHWInfoSize)..<Int(len)).map { bm.base.load(fromByteOffset: $0, as: UInt8.self) }
                try ctx.check(tail.allSatisfy { $0 == 0 }, "\(what): bytes past the kernel's data not zeroed: \(tail)")
            }
            if len >= 8 {
                try ctx.checkEqual(bm.base.load(fromByteOffset: 4, as: UInt32.self), UInt32(IOMMU_HW_INFO_SELFTEST_REGVAL), "\(what): test_reg")
            }
            if len >= 4 { try ctx.checkEqual(bm.base.load(fromByteOffset: 0, as: UInt32.self), 0, "\(what): flags") }
            if len > 0 { try ctx.checkEqual(bm.base.load(fromByteOffset: Int(len), as: UInt8.self), 0xAA, "\(what): byte past data_len") }
            return r
        }
        try query("no buffer", 0)
        try query("exact", testHWInfoSize)
        try ctx.expectErrno(.notSupported, "input type SELFTEST + 1") {
            try fx.fd.raw.hwInfo(device: fx.device, flags: inputType, inputType: selftest + 1, data: bm.base, dataLength: testHWInfoSize)
        }
        if ctx.kernel >= "6.17" {
            try query("input type SELFTEST", testHWInfoSize, flags: inputType, type: selftest)
        } else {
            // The INPUT_TYPE flag itself is 6.17+ (hw-info.flags pins the older answer).
            try ctx.expectErrno(.notSupported, "input type SELFTEST (no INPUT_TYPE before 6.17)") {
                try fx.fd.raw.hwInfo(device: fx.device, flags: inputType, inputType: selftest, data: bm.base, dataLength: testHWInfoSize)
            }
        }
        try query("larger", testHWInfoSize + 8)
        try query("shorter (flags only)", 4)
        try ctx.checkEqual(try query("max_pasid", 0).maxPASIDLog2, 0, "max_pasid_log2")
        if fx.pasidDevice != 0 {
            let r = try ctx.step("PASID device, no buffer") { try fx.fd.raw.hwInfo(device: fx.pasidDevice, data: nil, dataLength: 0) }
            try ctx.checkEqual(r.maxPASIDLog2, UInt8(MOCK_PASID_WIDTH), "PASID device max_pasid_log2")
        }
    }

    static func nestedWithoutDevice(_ ctx: CaseContext, _ fx: Fx) throws {
        let data = HWPTCases.selftestData, selftest = HWPTCases.selftestType
        try ctx.expectErrno(.noSuchFileOrDirectory, "HWPT_ALLOC dev 0") { try fx.fd.raw.allocHWPT(device: 0, pt: fx.ioas) }
        for i in 0..<2 {
            try ctx.expectErrno(.noSuchFileOrDirectory, "nested #\(i), dev 0") {
                try fx.fd.raw.allocHWPT(device: 0, pt: 0, dataType: selftest, data: data)
            }
        }
        for i in 0..<2 {
            try ctx.expectErrno(.noSuchFileOrDirectory, "MOCK_DOMAIN_REPLACE stdev 0 onto nested #\(i) (0)") {
                try fx.test.mockDomainReplace(MockStdevID(rawValue: 0), with: HWPTID(rawValue: 0))
            }
        }
    }

    static func nestedWithDevice(_ ctx: CaseContext, _ fx: Fx) throws {
        let data = HWPTCases.selftestData, selftest = HWPTCases.selftestType, dev = fx.device
        let nestParent = HWPTCases.nestParent, faultValid = HWPTCases.faultValid
        try ctx.expectErrno(.noSuchFileOrDirectory, "dev = IOAS") { try fx.fd.raw.allocHWPT(device: fx.ioas, pt: dev) }
        try ctx.expectErrno(.invalidArgument, "pt = device") { try fx.fd.raw.allocHWPT(device: dev, pt: dev) }
        try ctx.expectErrno(.notSupported, "NEST_PARENT | FAULT_ID_VALID") {
            try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas, flags: nestParent | faultValid)
        }
        let parent = try ctx.step("NEST_PARENT") { try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas, flags: nestParent) }
        let notParent = try ctx.step("flags 0") { try fx.fd.raw.allocHWPT(device: dev, pt: fx.ioas) }
        try ctx.expectErrno(.invalidArgument, "nested, type NONE") { try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: 0, data: data) }
        try ctx.expectErrno(.notSupported, "nested, type SELFTEST + 1") {
            try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest + 1, data: data)
        }
        try ctx.expectErrno(.invalidArgument, "nested, data_len below iotlb") {
            try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest, data: data, dataLength: UInt32(data.count) - 1)
        }
        try ctx.expectErrno(.badAddress, "nested, NULL data") {
            try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest, data: data, nullData: true)
        }
        try ctx.expectErrno(.notSupported, "nested with NEST_PARENT") {
            try fx.fd.raw.allocHWPT(device: dev, pt: parent, flags: nestParent, dataType: selftest, data: data)
        }
        try ctx.expectErrno(.invalidArgument, "nested on a non-parent") {
            try fx.fd.raw.allocHWPT(device: dev, pt: notParent, dataType: selftest, data: data)
        }
        let lib = IOMMUFD(adopting: dup(fx.fd.rawValue ?? -1))
        let faults = try ctx.step("FAULT_QUEUE_ALLOC") { try lib.allocFaultQueue() }
        let n0 = try ctx.step("nested #0") { try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest, data: data) }
        let n1 = try ctx.step("nested #1") { try fx.fd.raw.allocHWPT(device: dev, pt: parent, dataType: selftest, data: data) }
        try ctx.expectErrno(.noSuchFileOrDirectory, "IOPF HWPT, fault_id U32_MAX") {
            try fx.fd.raw.allocHWPT(device: dev, pt: parent, flags: faultValid, dataType: selftest, data: data, faultID: .max)
        }
        let iopf = try ctx.step("IOPF HWPT") {
            try fx.fd.raw.allocHWPT(device: dev, pt: parent, flags: faultValid, dataType: selftest, data: data, faultID: faults.id.rawValue)
        }
        try checkIOTLBs(ctx, fx, n0, [HWPTCases.iotlbDefault], "nested #0 fresh")
        try checkIOTLBs(ctx, fx, n1, [HWPTCases.iotlbDefault], "nested #1 fresh")
        try ctx.expectErrno(.invalidArgument, "nested on nested") { try fx.fd.raw.allocHWPT(device: dev, pt: n0, dataType: selftest, data: data) }
        try ctx.expectErrno(.resourceBusy, "destroy the parent in use") { try fx.fd.raw.destroy(parent) }
        try checkInvalidations(ctx, fx, parent: parent, n0: n0, n1: n1)
        let stdev = MockStdevID(rawValue: fx.stdev)
        try ctx.step("replace onto nested #0") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: n0)) }
        try ctx.expectErrno(.resourceBusy, "destroy attached nested #0") { try fx.fd.raw.destroy(n0) }
        try ctx.step("replace onto nested #1") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: n1)) }
        try ctx.expectErrno(.resourceBusy, "destroy attached nested #1") { try fx.fd.raw.destroy(n1) }
        try ctx.step("destroy nested #0") { try fx.fd.raw.destroy(n0) }
        try ctx.step("replace onto the IOPF HWPT") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: iopf)) }
        try ctx.expectErrno(.resourceBusy, "destroy attached IOPF HWPT") { try fx.fd.raw.destroy(iopf) }
        try ctx.step("TRIGGER_IOPF") {
            try fx.test.triggerIOPF(IOMMUFDDeviceID(rawValue: dev), pasid: 0x1, groupID: 0x2, permissions: [.read, .write], address: 0xdeadbeaf)
        }
        let got = try ctx.step("read the fault") { try faults.readFaults(max: 4) }
        try ctx.checkEqual(got.map { [$0.device.rawValue, $0.groupID] }, [[dev, 2]], "faults read (device, group)")
        try ctx.checkEqual(got.first?.address, 0xdeadbeaf, "fault address as triggered")
        try ctx.step("respond SUCCESS") { try faults.respond(cookie: got.first?.cookie ?? 0) }
        try ctx.step("replace onto the parent") { try fx.test.mockDomainReplace(stdev, with: HWPTID(rawValue: parent)) }
        try ctx.step("destroy nested #1") { try fx.fd.raw.destroy(n1) }
        try ctx.step("destroy IOPF HWPT") { try fx.fd.raw.destroy(iopf) }
        try ctx.step("replace back onto the IOAS") { try fx.test.mockDomainReplace(stdev, with: fx.ioasID) }
        try ctx.step("destroy parent") { try fx.fd.raw.destroy(parent) }
        try ctx.step("destroy non-parent") { try fx.fd.raw.destroy(notParent) }
        let destroyed: Result<Void, IOMMUFDError>
        do throws(IOMMUFDError) { try faults.destroy(); destroyed = .success(()) } catch { destroyed = .failure(error) }
        try ctx.step("close the fault fd, destroy the fault queue") { try destroyed.get() }
        _ = consume lib
    }

    /// MD_CHECK_IOTLB of entries 0...3: one expected value for all, or one per entry.
    static func checkIOTLBs(_ ctx: CaseContext, _ fx: Fx, _ hwpt: UInt32, _ expected: [UInt32], _ what: String) throws {
        let values = expected.count == 1 ? [UInt32](repeating: expected[0], count: 4) : expected
        try ctx.step("\(what): MD_CHECK_IOTLB \(values.map { String($0, radix: 16) })") {
            for (i, v) in values.enumerated() { try fx.test.checkIOTLB(HWPTID(rawValue: hwpt), id: UInt32(i), expected: v) }
        }
    }

    /// The invalidation half of alloc_hwpt_nested (7.3.4 iommufd.c:523-668).
    static func checkInvalidations(_ ctx: CaseContext, _ fx: Fx, parent: UInt32, n0: UInt32, n1: UInt32) throws {
        let type = HWPTCases.invSelftest, len = HWPTCases.invLen, def = HWPTCases.iotlbDefault
        let idMax = UInt32(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX), all = UInt32(IOMMU_TEST_INVALIDATE_FLAG_ALL)
        let inv = HWPTCases.inv
        /// One HWPT_INVALIDATE; `errno` nil expects success. entry_num must come back as `handled`.
        func invalidate(_ what: String, _ hwpt: UInt32, _ entries: [UInt8], count: UInt32, entryLength: UInt32? = nil,
                        dataType: UInt32? = nil, null: Bool = false, fails errno: Errno?, handled: UInt32) throws {
            var num = count
            try ctx.expect(errno, what) {
                try fx.fd.raw.invalidate(hwpt: hwpt, dataType: dataType ?? type, entryLength: entryLength ?? len,
                                         entries: entries, entryCount: &num, nullData: null)
            }
            try ctx.checkEqual(num, handled, "\(what): entry_num back")
        }
        let two = inv(0, 0) + inv(0, 0)
        try invalidate("the parent", parent, two, count: 1,
                       fails: ctx.byKernel(.noSuchFileOrDirectory, from: .after612, .invalidArgument), handled: 0)
        try invalidate("0 entries", n0, two, count: 0, fails: nil, handled: 0)
        try invalidate("type SELFTEST_INVALID", n0, two, count: 1, dataType: UInt32(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID),
                       fails: .invalidArgument, handled: 0)
        try invalidate("entry_len struct + 1", n0, two, count: 1, entryLength: len + 1, fails: .invalidArgument, handled: 0)
        try invalidate("entry_len 1", n0, two, count: 1, entryLength: 1, fails: .invalidArgument, handled: 0)
        try invalidate("entry_len PAGE_SIZE + 1", n0, two, count: 1, entryLength: UInt32(MS.page) + 1, fails: .invalidArgument, handled: 0)
        try invalidate("entry_num (1 << 19) + 1", n0, two, count: (1 << 19) + 1, fails: .invalidArgument, handled: 0)
        try invalidate("flags 0xffffffff", n0, inv(0xffff_ffff, 0) + inv(0, 0), count: 1, fails: .notSupported, handled: 0)
        try invalidate("NULL data_uptr", n0, two, count: 1, null: true, fails: .invalidArgument, handled: 0)
        try invalidate("entry_len 0", n0, two, count: 1, entryLength: 0, fails: .invalidArgument, handled: 0)
        try invalidate("iotlb_id MAX + 1", n0, inv(0, idMax + 1) + inv(0, 0), count: 1, fails: .invalidArgument, handled: 0)
        try checkIOTLBs(ctx, fx, n0, [def], "after the refused single entries")
        try invalidate("[iotlb 0, bad flags]", n0, inv(0, 0) + inv(0xffff_ffff, 1), count: 2, fails: .notSupported, handled: 1)
        try checkIOTLBs(ctx, fx, n0, [0, def, def, def], "after [iotlb 0, bad flags]")
        try invalidate("[iotlb 0, iotlb_id MAX + 1]", n0, inv(0, 0) + inv(0, idMax + 1), count: 2, fails: .invalidArgument, handled: 1)
        try checkIOTLBs(ctx, fx, n0, [0, def, def, def], "after [iotlb 0, bad id]")
        try invalidate("iotlb 1", n0, inv(0, 1), count: 1, fails: nil, handled: 1)
        try checkIOTLBs(ctx, fx, n0, [0, 0, def, def], "after iotlb 1")
        try invalidate("iotlbs 2 and 3", n0, inv(0, 2) + inv(0, 3), count: 2, fails: nil, handled: 2)
        try checkIOTLBs(ctx, fx, n0, [0], "after 2 and 3")
        try invalidate("FLAG_ALL on nested #1", n1, inv(all, 0), count: 1, fails: nil, handled: 1)
        try checkIOTLBs(ctx, fx, n1, [0], "nested #1 after FLAG_ALL")
    }
}

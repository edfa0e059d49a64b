// Errno rules of IOMMU_HWPT_ALLOC / HWPT_SET_DIRTY_TRACKING / HWPT_GET_DIRTY_BITMAP /
// HWPT_INVALIDATE / GET_HW_INFO and HWPT destruction, reached through mock devices
// (IOMMU_TEST_CMD), as 6.12.117's hw_pagetable.c, device.c and selftest.c answer them.
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum HWPTCases {
    static func c(_ id: String, _ rule: String, since: KernelVersion = "6.6", flags: MockDeviceFlags? = nil,
                  _ body: @escaping @Sendable (CaseContext, Fx) throws -> Void) -> ConformanceCase {
        ConformanceCase(id, rule: rule, since: since, requires: [.iommufd, .testModule]) { ctx in
            try withMockFixture(ctx, domains: 1, domainFlags: flags) { fx in try body(ctx, fx) }
        }
    }

    static let nestParent = UInt32(IOMMU_HWPT_ALLOC_NEST_PARENT.rawValue)
    static let dirtyFlag = UInt32(IOMMU_HWPT_ALLOC_DIRTY_TRACKING.rawValue)
    static let faultValid = UInt32(IOMMU_HWPT_FAULT_ID_VALID.rawValue)
    static let selftestType = UInt32(IOMMU_HWPT_DATA_SELFTEST)
    static let invSelftest = UInt32(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST)
    static let iotlbDefault = UInt32(IOMMU_TEST_IOTLB_DEFAULT)
    // The 6.12 payload (iotlb only, 4 bytes): 7.3 added pagetable_type and still takes the short form.
    static var selftestData: [UInt8] { Array(structBytesOf(iommu_hwpt_selftest(iotlb: iotlbDefault, pagetable_type: 0)).prefix(4)) }

    static func inv(_ flags: UInt32, _ id: UInt32) -> [UInt8] {
        structBytesOf(iommu_hwpt_invalidate_selftest(flags: flags, iotlb_id: id))
    }
    static var invLen: UInt32 { UInt32(MemoryLayout<iommu_hwpt_invalidate_selftest>.size) }

    /// A nest parent on the fixture IOAS and one nested HWPT on it.
    static func nested(_ ctx: CaseContext, _ fx: Fx) throws -> (parent: UInt32, nested: UInt32) {
        let parent = try ctx.step("alloc NEST_PARENT") {
            try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: nestParent)
        }
        let nested = try ctx.step("alloc nested (SELFTEST data)") {
            try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, dataType: selftestType, data: selftestData)
        }
        return (parent, nested)
    }

    static var all: [ConformanceCase] { alloc + dirty + invalidate + hwInfo }

    static let alloc: [ConformanceCase] = [
        c("hwpt.alloc.bad-pt-id", "HWPT_ALLOC with a pt_id that names nothing, or a non-page-table object, fails EINVAL (hw_pagetable.c:290)") { ctx, fx in
            try ctx.expectErrno(.invalidArgument, "pt_id 0xffff") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: 0xffff)
            }
            try ctx.expectErrno(.invalidArgument, "pt_id = device id") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.device)
            }
        },
        c("hwpt.alloc.bad-dev", "HWPT_ALLOC with a dev_id that is no device fails ENOENT") { ctx, fx in
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id = IOAS id") {
                try fx.fd.raw.allocHWPT(device: fx.ioas, pt: fx.ioas)
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id 0") {
                try fx.fd.raw.allocHWPT(device: 0, pt: fx.ioas)
            }
        },
        c("hwpt.alloc.unknown-flags", "HWPT_ALLOC with undefined flags fails EOPNOTSUPP (hw_pagetable.c:119)") { ctx, fx in
            try ctx.expectErrno(.notSupported, "flags ~NEST_PARENT") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: ~nestParent)
            }
            try ctx.expectErrno(.notSupported, "flags 1<<31") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: 1 << 31)
            }
            let plain = try ctx.step("flags 0") { try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas) }
            try ctx.check(plain != 0, "hwpt id 0")
        },
        c("hwpt.alloc.fault-id-with-nest-parent", "FAULT_ID_VALID together with NEST_PARENT fails EOPNOTSUPP", since: "6.11") { ctx, fx in
            try ctx.expectErrno(.notSupported, "NEST_PARENT|FAULT_ID_VALID") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: nestParent | faultValid)
            }
        },
        c("hwpt.alloc.data-mismatch", "data_type NONE with data_len, or a type with data_len 0, fails EINVAL (hw_pagetable.c:283)") { ctx, fx in
            try ctx.expectErrno(.invalidArgument, "NONE with 4 bytes") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, dataType: 0, data: selftestData)
            }
            try ctx.expectErrno(.invalidArgument, "SELFTEST with length 0") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, dataType: selftestType, data: selftestData, dataLength: 0)
            }
        },
        c("hwpt.alloc.paging-with-data", "a paging HWPT (pt = IOAS) with SELFTEST driver data fails EOPNOTSUPP in 6.12; after 6.12 the mock driver takes it (its data picks the page-table type)") { ctx, fx in
            try ctx.expect(ctx.byKernel(.notSupported, from: .after612, nil), "IOAS + SELFTEST data") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, dataType: selftestType, data: selftestData)
            }
        },
        c("hwpt.alloc.nested-non-parent", "a nested HWPT on a paging HWPT without NEST_PARENT (or an auto domain) fails EINVAL (hw_pagetable.c:233)") { ctx, fx in
            let plain = try ctx.step("alloc flags 0") { try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas) }
            try ctx.expectErrno(.invalidArgument, "nested on flags-0 HWPT") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: plain, dataType: selftestType, data: selftestData)
            }
            try ctx.expectErrno(.invalidArgument, "nested on the auto domain") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.hwpt, dataType: selftestType, data: selftestData)
            }
        },
        c("hwpt.alloc.nested-bad-data", "nested HWPT_ALLOC: NONE type EINVAL, unknown type EOPNOTSUPP, short data EINVAL, NULL data EFAULT, NEST_PARENT flag EOPNOTSUPP") { ctx, fx in
            let parent = try ctx.step("alloc NEST_PARENT") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: nestParent)
            }
            try ctx.expectErrno(.invalidArgument, "type NONE with data") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, dataType: 0, data: selftestData)
            }
            try ctx.expectErrno(.notSupported, "type SELFTEST+1") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, dataType: selftestType + 1, data: selftestData)
            }
            try ctx.expectErrno(.invalidArgument, "data_len min-1") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, dataType: selftestType, data: selftestData,
                                      dataLength: UInt32(selftestData.count) - 1)
            }
            try ctx.expectErrno(.badAddress, "NULL data_uptr") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, dataType: selftestType, data: selftestData, nullData: true)
            }
            try ctx.expectErrno(.notSupported, "NEST_PARENT on nested") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, flags: nestParent, dataType: selftestType, data: selftestData)
            }
        },
        c("hwpt.alloc.nested-on-nested", "a nested HWPT on a nested HWPT fails EINVAL") { ctx, fx in
            let (_, nested) = try nested(ctx, fx)
            try ctx.expectErrno(.invalidArgument, "nested on nested") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: nested, dataType: selftestType, data: selftestData)
            }
            try ctx.step("MD_CHECK_IOTLB default") {
                for i in 0..<4 { try fx.test.checkIOTLB(HWPTID(rawValue: nested), id: UInt32(i), expected: iotlbDefault) }
            }
        },
        c("hwpt.alloc.fault-id-bad", "nested HWPT_ALLOC with FAULT_ID_VALID and an id that is no fault queue fails ENOENT", since: "6.11") { ctx, fx in
            let parent = try ctx.step("alloc NEST_PARENT") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: nestParent)
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "fault_id U32_MAX") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: parent, flags: faultValid, dataType: selftestType,
                                      data: selftestData, faultID: .max)
            }
        },
        c("hwpt.alloc.dirty-unsupported", "DIRTY_TRACKING for a device without dirty support fails EOPNOTSUPP (hw_pagetable.c:124)",
          since: "6.7", flags: .noDirty) { ctx, fx in
            try ctx.expectErrno(.notSupported, "DIRTY_TRACKING on NO_DIRTY device") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: dirtyFlag)
            }
        },
        c("hwpt.alloc.dirty-attach-no-dirty-device", "a NO_DIRTY mock device cannot attach to a dirty-tracking HWPT (EINVAL); a normal one can", since: "6.7") { ctx, fx in
            let hwpt = try ctx.step("alloc DIRTY_TRACKING") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: dirtyFlag)
            }
            let md = try ctx.step("MOCK_DOMAIN on it") { try fx.test.mockDomain(HWPTID(rawValue: hwpt)) }
            try ctx.expectErrno(.invalidArgument, "MOCK_DOMAIN_FLAGS NO_DIRTY on it") {
                try fx.test.mockDomain(HWPTID(rawValue: hwpt), flags: .noDirty)
            }
            try ctx.step("destroy device") { try fx.fd.raw.destroy(md.stdevID.rawValue) }
            try ctx.step("destroy hwpt") { try fx.fd.raw.destroy(hwpt) }
        },
        c("hwpt.destroy.attached", "DESTROY of a HWPT a device is attached to fails EBUSY; after replacing the device away it succeeds") { ctx, fx in
            let hwpt = try ctx.step("alloc") { try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas) }
            try ctx.step("replace onto it") {
                try fx.test.mockDomainReplace(MockStdevID(rawValue: fx.stdev), with: HWPTID(rawValue: hwpt))
            }
            try ctx.expectErrno(.resourceBusy, "destroy attached HWPT") { try fx.fd.raw.destroy(hwpt) }
            try ctx.step("replace back to the IOAS") {
                try fx.test.mockDomainReplace(MockStdevID(rawValue: fx.stdev), with: fx.ioasID)
            }
            try ctx.step("destroy") { try fx.fd.raw.destroy(hwpt) }
        },
        c("hwpt.destroy.auto-attached", "DESTROY of the auto-created HWPT while its device is attached fails EBUSY") { ctx, fx in
            try ctx.expectErrno(.resourceBusy, "destroy auto HWPT") { try fx.fd.raw.destroy(fx.hwpt) }
        },
        c("hwpt.destroy.parent-with-nested", "DESTROY of a nest parent with a nested HWPT on it fails EBUSY") { ctx, fx in
            let (parent, nested) = try nested(ctx, fx)
            try ctx.expectErrno(.resourceBusy, "destroy parent") { try fx.fd.raw.destroy(parent) }
            try ctx.step("destroy nested") { try fx.fd.raw.destroy(nested) }
            try ctx.step("destroy parent") { try fx.fd.raw.destroy(parent) }
        },
    ]

    static let dirty: [ConformanceCase] = [
        c("hwpt.dirty.set-no-ops", "SET_DIRTY_TRACKING on a domain without dirty ops (the auto domain) fails EOPNOTSUPP (io_pagetable.c:600)", since: "6.7") { ctx, fx in
            try ctx.expectErrno(.notSupported, "enable on the auto HWPT") { try fx.fd.raw.setDirtyTracking(hwpt: fx.hwpt, flags: 1) }
        },
        c("hwpt.dirty.get-no-ops", "GET_DIRTY_BITMAP on a domain without dirty ops fails EOPNOTSUPP (io_pagetable.c:494)", since: "6.7") { ctx, fx in
            let bm = try needBuffer(Int(MS.page))
            try ctx.expectErrno(.notSupported, "auto HWPT") {
                try fx.fd.raw.getDirtyBitmap(hwpt: fx.hwpt, iova: MS.apertureStart, length: 8 * MS.mockPage, pageSize: MS.mockPage, bitmap: bm.base)
            }
        },
        c("hwpt.dirty.set-unknown-flags", "SET_DIRTY_TRACKING with undefined flags fails EOPNOTSUPP", since: "6.7") { ctx, fx in
            let hwpt = try ctx.step("alloc DIRTY_TRACKING") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: dirtyFlag)
            }
            try ctx.expectErrno(.notSupported, "flags 2") { try fx.fd.raw.setDirtyTracking(hwpt: hwpt, flags: 2) }
            try ctx.step("enable") { try fx.fd.raw.setDirtyTracking(hwpt: hwpt, flags: 1) }
            try ctx.step("enable again (no change)") { try fx.fd.raw.setDirtyTracking(hwpt: hwpt, flags: 1) }
            try ctx.step("disable") { try fx.fd.raw.setDirtyTracking(hwpt: hwpt, flags: 0) }
        },
        c("hwpt.dirty.get-bad-range", "GET_DIRTY_BITMAP: length 0, page_size 0, or iova/length off page_size or the IOAS alignment fail EINVAL; a wrapping range EOVERFLOW; unknown flags EOPNOTSUPP (io_pagetable.c:520-542)", since: "6.7") { ctx, fx in
            let hwpt = try ctx.step("alloc DIRTY_TRACKING") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: dirtyFlag)
            }
            try ctx.step("enable") { try fx.fd.raw.setDirtyTracking(hwpt: hwpt, flags: 1) }
            let bm = try needBuffer(Int(MS.page))
            let mp = MS.mockPage, a = MS.apertureStart
            let cases: [(Errno, String, UInt64, UInt64, UInt64, UInt32)] = [
                (.invalidArgument, "length 0", a, 0, mp, 0),
                (.invalidArgument, "page_size 0", a, 8 * mp, 0, 0),
                (.invalidArgument, "iova off page_size", a + mp, 8 * mp, 2 * mp, 0),
                (.invalidArgument, "length off page_size", a, 3 * mp, 2 * mp, 0),
                (.invalidArgument, "iova off the 2 KiB alignment", a + mp / 2, 8 * mp, mp / 2, 0),
                (.overflow, "iova + length wraps", 0 &- mp, 2 * mp, mp, 0),
                (.notSupported, "flags 1<<31", a, 8 * mp, mp, 1 << 31),
            ]
            for (e, what, iova, len, ps, flags) in cases {
                try ctx.expectErrno(e, what) {
                    try fx.fd.raw.getDirtyBitmap(hwpt: hwpt, iova: iova, length: len, pageSize: ps, flags: flags, bitmap: bm.base)
                }
            }
        },
    ]

    static let invalidate: [ConformanceCase] = [
        c("hwpt.invalidate.non-nested", "HWPT_INVALIDATE of a paging HWPT fails ENOENT in 6.12 (EINVAL in newer kernels) and reports 0 handled", since: "6.8") { ctx, fx in
            let parent = try ctx.step("alloc NEST_PARENT") {
                try fx.fd.raw.allocHWPT(device: fx.device, pt: fx.ioas, flags: nestParent)
            }
            var num: UInt32 = 1
            try ctx.expectErrno(ctx.byKernel(.noSuchFileOrDirectory, from: .after612, .invalidArgument), "invalidate parent") {
                try fx.fd.raw.invalidate(hwpt: parent, dataType: invSelftest, entryLength: invLen, entries: inv(0, 0), entryCount: &num)
            }
            try ctx.checkEqual(num, 0, "entry_num written back")
        },
        c("hwpt.invalidate.bad-array", "HWPT_INVALIDATE with entry_len 0, > PAGE_SIZE, below the minimum, or a NULL array fails EINVAL with 0 handled; 0 entries succeed", since: "6.8") { ctx, fx in
            let (_, nested) = try nested(ctx, fx)
            var num: UInt32 = 0
            try ctx.step("0 entries") {
                try fx.fd.raw.invalidate(hwpt: nested, dataType: invSelftest, entryLength: invLen, entries: inv(0, 0), entryCount: &num)
            }
            try ctx.checkEqual(num, 0, "entry_num for 0 entries")
            let bad: [(String, UInt32, Bool)] = [("entry_len 0", 0, false), ("entry_len PAGE_SIZE+1", UInt32(MS.page) + 1, false),
                                                 ("entry_len 1", 1, false), ("NULL data_uptr", invLen, true)]
            for (what, len, null) in bad {
                num = 1
                try ctx.expectErrno(.invalidArgument, what) {
                    try fx.fd.raw.invalidate(hwpt: nested, dataType: invSelftest, entryLength: len, entries: inv(0, 0), entryCount: &num, nullData: null)
                }
                try ctx.checkEqual(num, 0, "\(what): entry_num written back")
            }
        },
        c("hwpt.invalidate.bad-type", "HWPT_INVALIDATE with a data type the driver does not take fails EINVAL, 0 handled", since: "6.8") { ctx, fx in
            let (_, nested) = try nested(ctx, fx)
            var num: UInt32 = 1
            try ctx.expectErrno(.invalidArgument, "SELFTEST_INVALID") {
                try fx.fd.raw.invalidate(hwpt: nested, dataType: UInt32(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID), entryLength: invLen,
                                       entries: inv(0, 0), entryCount: &num)
            }
            try ctx.checkEqual(num, 0, "entry_num")
        },
        c("hwpt.invalidate.partial", "HWPT_INVALIDATE stops at the first bad entry: entry_num reports how many took effect", since: "6.8") { ctx, fx in
            let (_, nested) = try nested(ctx, fx)
            let id = HWPTID(rawValue: nested)
            var num: UInt32 = 2
            try ctx.expectErrno(.notSupported, "entry 1 with bad flags") {
                try fx.fd.raw.invalidate(hwpt: nested, dataType: invSelftest, entryLength: invLen, entries: inv(0, 0) + inv(0xffff_ffff, 1), entryCount: &num)
            }
            try ctx.checkEqual(num, 1, "entry_num after bad flags")
            num = 2
            try ctx.expectErrno(.invalidArgument, "entry 1 with iotlb_id 4") {
                try fx.fd.raw.invalidate(hwpt: nested, dataType: invSelftest, entryLength: invLen, entries: inv(0, 0) + inv(0, 4), entryCount: &num)
            }
            try ctx.checkEqual(num, 1, "entry_num after bad id")
            try ctx.step("IOTLB 0 cleared, 1-3 default") {
                try fx.test.checkIOTLB(id, id: 0, expected: 0)
                for i in 1..<4 { try fx.test.checkIOTLB(id, id: UInt32(i), expected: iotlbDefault) }
            }
            num = 2
            try ctx.step("invalidate 2 and 3") {
                try fx.fd.raw.invalidate(hwpt: nested, dataType: invSelftest, entryLength: invLen, entries: inv(0, 2) + inv(0, 3), entryCount: &num)
            }
            try ctx.checkEqual(num, 2, "entry_num")
            num = 1
            try ctx.step("invalidate ALL") {
                try fx.fd.raw.invalidate(hwpt: nested, dataType: invSelftest, entryLength: invLen,
                                       entries: inv(UInt32(IOMMU_TEST_INVALIDATE_FLAG_ALL), 0), entryCount: &num)
            }
            try ctx.step("all IOTLB entries 0") {
                for i in 0..<4 { try fx.test.checkIOTLB(id, id: UInt32(i), expected: 0) }
            }
        },
    ]

    static let hwInfo: [ConformanceCase] = [
        c("hw-info.flags", "GET_HW_INFO with any flag set fails EOPNOTSUPP in 6.12 (device.c:1320); from 6.17 flag 1 (INPUT_TYPE) is accepted and flag 2 is still EOPNOTSUPP") { ctx, fx in
            let bm = try needBuffer(Int(MS.page))
            try ctx.expect(ctx.byKernel(.notSupported, from: "6.17", nil), "flags 1") {
                try fx.fd.raw.hwInfo(device: fx.device, flags: 1, data: bm.base, dataLength: 8)
            }
            try ctx.expectErrno(.notSupported, "flags 2") {
                try fx.fd.raw.hwInfo(device: fx.device, flags: 2, data: bm.base, dataLength: 8)
            }
        },
        c("hw-info.bad-dev", "GET_HW_INFO of an id that is no device fails ENOENT") { ctx, fx in
            let bm = try needBuffer(Int(MS.page))
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id = IOAS") {
                try fx.fd.raw.hwInfo(device: fx.ioas, data: bm.base, dataLength: 8)
            }
        },
        c("hw-info.selftest", "GET_HW_INFO of a mock device: type SELFTEST, test_reg 0xdeadbeef, data_len 8; a larger buffer's tail is zeroed, a shorter one gets the prefix") { ctx, fx in
            let bm = try needBuffer(Int(MS.page))
            let zero = try ctx.step("data_len 0, NULL") { try fx.fd.raw.hwInfo(device: fx.device, data: nil, dataLength: 0) }
            try ctx.checkEqual(zero.dataType, UInt32(IOMMU_HW_INFO_TYPE_SELFTEST), "type with no buffer")
            try ctx.checkEqual(zero.dataLength, 8, "data_len reported with no buffer")
            memset(bm.base, 0xAA, bm.count)
            let big = try ctx.step("data_len 16") { try fx.fd.raw.hwInfo(device: fx.device, data: bm.base, dataLength: 16) }
            try ctx.checkEqual(big.dataLength, 8, "data_len")
            try ctx.checkEqual(bm.base.load(fromByteOffset: 4, as: UInt32.self), UInt32(IOMMU_HW_INFO_SELFTEST_REGVAL), "test_reg")
            try ctx.checkEqual(bm.base.load(fromByteOffset: 8, as: UInt64.self), 0, "trailing bytes zeroed")
            try ctx.checkEqual(bm.base.load(fromByteOffset: 16, as: UInt8.self), 0xAA, "byte past data_len untouched")
            memset(bm.base, 0xAA, bm.count)
            _ = try ctx.step("data_len 4") { try fx.fd.raw.hwInfo(device: fx.device, data: bm.base, dataLength: 4) }
            try ctx.checkEqual(bm.base.load(fromByteOffset: 0, as: UInt32.self), 0, "flags field filled")
            try ctx.checkEqual(bm.base.load(fromByteOffset: 4, as: UInt32.self), 0xAAAA_AAAA, "test_reg not written past data_len")
            try ctx.checkEqual(big.maxPASIDLog2, 0, "max_pasid_log2")
        },
        c("hw-info.dirty-capability", "a mock device reports IOMMU_HW_CAP_DIRTY_TRACKING; a NO_DIRTY one does not", since: "6.7") { ctx, fx in
            let info = try ctx.step("GET_HW_INFO") { try fx.fd.raw.hwInfo(device: fx.device, data: nil, dataLength: 0) }
            let cap = UInt64(IOMMU_HW_CAP_DIRTY_TRACKING.rawValue)
            try ctx.check(info.capabilities & cap != 0, "DIRTY_TRACKING missing: caps 0x\(String(info.capabilities, radix: 16))")
            let nd = try ctx.step("NO_DIRTY mock device") { try fx.test.mockDomain(fx.ioasID, flags: .noDirty) }
            let info2 = try ctx.step("GET_HW_INFO NO_DIRTY") {
                try fx.fd.raw.hwInfo(device: nd.deviceID.rawValue, data: nil, dataLength: 0)
            }
            try ctx.check(info2.capabilities & cap == 0, "NO_DIRTY device reports DIRTY_TRACKING")
        },
        c("hw-info.library", "HWInfo decodes a mock device as the selftest type") { ctx, fx in
            let iommufd = IOMMUFD(adopting: dup(fx.fd.rawValue ?? -1))
            let info = try ctx.step("hwInfo(device:)") { try iommufd.hwInfo(device: IOMMUFDDeviceID(rawValue: fx.device)) }
            try ctx.checkEqual(info.type, .selftest, "type")
            try ctx.checkEqual(info.rawData.count, 8, "raw data length")
        },
    ]
}

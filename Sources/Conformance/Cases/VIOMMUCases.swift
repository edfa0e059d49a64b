// IOMMU_VIOMMU_ALLOC and IOMMU_VDEVICE_ALLOC (6.13+), nested HWPTs on a vIOMMU, and
// IOMMU_HWPT_INVALIDATE sent to a vIOMMU, through the mock driver, as 7.3's viommu.c,
// hw_pagetable.c, device.c and selftest.c answer them (the kernel's iommufd_viommu
// selftest: viommu_negative_tests, viommu_alloc_with_data, vdevice_alloc, vdevice_cache,
// vdevice_tombstone).
import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

enum VIOMMUCases {
    static var all: [ConformanceCase] { alloc + vdevice + invalidate }

    static let selftestType = UInt32(IOMMU_HWPT_DATA_SELFTEST)
    static let devCacheDefault = UInt32(IOMMU_TEST_DEV_CACHE_DEFAULT)
    static let iotlbDefault = UInt32(IOMMU_TEST_IOTLB_DEFAULT)

    /// Every DEV_CHECK_CACHE entry of `device` holds `expected` (one value per entry).
    static func checkCaches(_ ctx: CaseContext, _ rig: NestRig, _ device: IOMMUFDDeviceID, _ expected: [UInt32], _ what: String) throws {
        for (i, value) in expected.enumerated() {
            try ctx.step("\(what): DEV_CHECK_CACHE[\(i)] == 0x\(String(value, radix: 16))") {
                try rig.test.checkDevCache(device, id: UInt32(i), expected: value)
            }
        }
    }

    /// A vDEVICE for the rig's device with `virtID`, its device moved onto the fixture's nested HWPT.
    static func attachNested(_ ctx: CaseContext, _ rig: NestRig, virtID: UInt64 = 0x99) throws -> VDeviceID {
        let vdev = try ctx.step("VDEVICE_ALLOC virt_id 0x\(String(virtID, radix: 16))") {
            try rig.iommufd.allocVDevice(viommu: rig.fixtureVIOMMU, device: rig.device, virtID: virtID).release()
        }
        try ctx.step("replace onto the nested HWPT") {
            try rig.test.mockDomainReplace(rig.stdev, with: rig.fixtureNested)
        }
        return vdev
    }

    // MARK: - VIOMMU_ALLOC

    static let alloc: [ConformanceCase] = [
        nestCase("viommu.alloc", "VIOMMU_ALLOC of the SELFTEST type on a NEST_PARENT HWPT returns a vIOMMU; HWPT_ALLOC with pt_id = the vIOMMU makes a mock nested domain (every IOTLB entry IOMMU_TEST_IOTLB_DEFAULT); closing the fd frees them (viommu_auto_destroy)", since: "6.13", .parentOnly) { ctx, rig in
            let v = try ctx.expectOK("VIOMMU_ALLOC SELFTEST") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: rig.parent).release()
            }
            try ctx.check(v.rawValue != 0, "vIOMMU id 0")
            let nested = try ctx.expectOK("HWPT_ALLOC nested on the vIOMMU") {
                try rig.iommufd.allocNestedHWPT(device: rig.device, parent: .viommu(v), data: NestRig.nestedData).release()
            }
            try ctx.step("MD_CHECK_IOTLB 0...3 default") {
                for i in 0..<4 { try rig.test.checkIOTLB(nested, id: UInt32(i), expected: iotlbDefault) }
            }
        },
        nestCase("viommu.alloc.bad-hwpt", "VIOMMU_ALLOC: hwpt_id 0, an IOAS or a nested HWPT fails ENOENT (iommufd_get_hwpt_paging); a paging HWPT without NEST_PARENT fails EINVAL (viommu.c:72)", since: "6.13") { ctx, rig in
            try ctx.expectErrno(.noSuchFileOrDirectory, "hwpt_id 0") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: HWPTID(rawValue: 0)).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "hwpt_id = the IOAS") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: HWPTID(rawValue: rig.ioas.rawValue)).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "hwpt_id = a nested HWPT") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: rig.fixtureNested).release()
            }
            let plain = try ctx.step("HWPT_ALLOC flags 0") {
                try rig.iommufd.allocHWPT(device: rig.device, ioas: rig.ioas).release()
            }
            try ctx.expectErrno(.invalidArgument, "hwpt_id = a non-NEST_PARENT HWPT") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: plain).release()
            }
        },
        nestCase("viommu.alloc.bad-type", "VIOMMU_ALLOC: type DEFAULT or any flag fails EOPNOTSUPP (viommu.c:33); a type the mock driver does not size (0xdead, ARM_SMMUV3) fails EOPNOTSUPP (viommu.c:52)", since: "6.13") { ctx, rig in
            for (name, type) in [("DEFAULT", VIOMMUType.default), ("0xdead", VIOMMUType(rawValue: 0xdead)), ("ARM_SMMUV3", .armSMMUv3)] {
                try ctx.expectErrno(.notSupported, "type \(name)") {
                    try rig.iommufd.allocVIOMMU(type: type, device: rig.device, parent: rig.parent).release()
                }
            }
            try ctx.expectErrno(.notSupported, "flags 1 (raw)") {
                try sendRaw(iommu_viommu_alloc.self, .viommuAlloc, on: rig.fd,
                            u32: [(\.flags, 1), (\.type, UInt32(IOMMU_VIOMMU_TYPE_SELFTEST)),
                                  (\.dev_id, rig.device.rawValue), (\.hwpt_id, rig.parent.rawValue)])
            }
        },
        nestCase("viommu.alloc.bad-dev", "VIOMMU_ALLOC with dev_id 0 or an id that is no device (the IOAS) fails ENOENT", since: "6.13") { ctx, rig in
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id 0") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: IOMMUFDDeviceID(rawValue: 0), parent: rig.parent).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id = the IOAS") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: IOMMUFDDeviceID(rawValue: rig.ioas.rawValue), parent: rig.parent).release()
            }
        },
        nestCase("viommu.destroy-busy", "a vIOMMU with a nested HWPT on it cannot be destroyed (EBUSY), nor can its NEST_PARENT HWPT (viommu.c:88 holds it); destroying nested, vIOMMU, parent in that order works", since: "6.13") { ctx, rig in
            try ctx.expectErrno(.resourceBusy, "DESTROY the vIOMMU") { try rig.iommufd.destroy(rig.fixtureVIOMMU) }
            try ctx.expectErrno(.resourceBusy, "DESTROY the parent") { try rig.iommufd.destroy(rig.parent) }
            try ctx.expectOK("DESTROY the nested HWPT") { try rig.iommufd.destroy(rig.fixtureNested) }
            try ctx.expectErrno(.resourceBusy, "DESTROY the parent while the vIOMMU lives") { try rig.iommufd.destroy(rig.parent) }
            try ctx.expectOK("DESTROY the vIOMMU") { try rig.iommufd.destroy(rig.fixtureVIOMMU) }
            try ctx.expectOK("DESTROY the parent") { try rig.iommufd.destroy(rig.parent) }
        },
        nestCase("viommu.alloc-with-data", "VIOMMU_ALLOC with iommu_viommu_selftest data echoes in_data into out_data and offers a 2-page mmap of the iommufd at out_mmap_offset holding in_data; any other offset or length fails ENXIO (main.c:614); the vIOMMU cannot be destroyed while mapped (EBUSY); data shorter than out_data fails EINVAL", since: "6.17", .parentOnly) { ctx, rig in
            try ctx.expectErrno(.invalidArgument, "4-byte data (up to in_data only)") {
                var short = [UInt8](repeating: 0, count: 4)
                return try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: rig.parent, data: &short).release()
            }
            var bytes = SelftestVIOMMUData(inData: 0xbeef).bytes
            let v = try ctx.expectOK("VIOMMU_ALLOC with data") {
                try rig.iommufd.allocVIOMMU(type: .selftest, device: rig.device, parent: rig.parent, data: &bytes).release()
            }
            guard let out = SelftestVIOMMUData(returned: bytes) else { throw CaseFailure("no data back") }
            try ctx.checkEqual(out.outData, 0xbeef, "out_data")
            try ctx.checkEqual(out.mmapLength, 2 * MS.page, "out_mmap_length")
            guard let raw = rig.fd.rawValue else { throw CaseFailure("iommufd closed") }
            func mapResult(_ length: UInt64, _ offset: UInt64) -> (UnsafeMutableRawPointer?, String) {
                let p = mmap(nil, Int(length), PROT_READ | PROT_WRITE, MAP_SHARED, raw, off_t(Int64(bitPattern: offset)))
                if p == MAP_FAILED { return (nil, IOMMUFDError.symbol(Errno(rawValue: errno))) }
                return (p, "OK")
            }
            let length = out.mmapLength, offset = out.mmapOffset
            for (what, l, o) in [("offset + 1 page", length, offset + MS.page), ("offset + 2 pages", length, offset + 2 * MS.page),
                                 ("half the length", length / 2, offset), ("twice the length", length * 2, offset)] {
                let (p, r) = mapResult(l, o)
                if let p { munmap(p, Int(l)) }
                try ctx.checkEqual(r, "ENXIO", "mmap at \(what)")
            }
            let (p, r) = mapResult(length, offset)
            try ctx.checkEqual(r, "OK", "mmap at out_mmap_offset")
            guard let p else { return }
            try ctx.checkEqual(p.load(as: UInt32.self), 0xbeef, "first word of the mapping")
            try ctx.expectErrno(.resourceBusy, "DESTROY the vIOMMU while mapped") { try rig.iommufd.destroy(v) }
            munmap(p, Int(length))
            try ctx.expectOK("DESTROY the vIOMMU after munmap") { try rig.iommufd.destroy(v) }
        },
        nestCase("viommu.nested.bad-alloc", "nested HWPT_ALLOC on a vIOMMU: NEST_PARENT or DIRTY_TRACKING flags and data_len 0 fail EOPNOTSUPP (hw_pagetable.c:305-308), an unknown data type EOPNOTSUPP, data shorter than iotlb EINVAL", since: "6.13") { ctx, rig in
            let v = rig.fixtureVIOMMU.rawValue, dev = rig.device.rawValue
            let data = NestRig.nestedData.bytes
            try ctx.expectErrno(.notSupported, "flags NEST_PARENT") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v, flags: HWPTCases.nestParent, dataType: selftestType, data: data)
            }
            try ctx.expectErrno(.notSupported, "flags DIRTY_TRACKING") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v, flags: HWPTCases.dirtyFlag, dataType: selftestType, data: data)
            }
            try ctx.expectErrno(.notSupported, "data type NONE, no data") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v)
            }
            try ctx.expectErrno(.notSupported, "data type SELFTEST + 1") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v, dataType: selftestType + 1, data: data)
            }
            try ctx.expectErrno(.invalidArgument, "data_len 3") {
                try rig.fd.raw.allocHWPT(device: dev, pt: v, dataType: selftestType, data: data, dataLength: 3)
            }
        },
    ]

    // MARK: - VDEVICE_ALLOC

    static let vdevice: [ConformanceCase] = [
        nestCase("viommu.vdevice.alloc", "a device cannot attach to a vIOMMU-based nested HWPT before it has a vDEVICE on that vIOMMU (ENOENT, selftest.c mock_domain_nop_attach); after VDEVICE_ALLOC it can; the vIOMMU is then busy (EBUSY) and the vDEVICE is destroyable once the device left", since: "6.13") { ctx, rig in
            try ctx.expectErrno(.noSuchFileOrDirectory, "replace onto the nested HWPT without a vDEVICE") {
                try rig.test.mockDomainReplace(rig.stdev, with: rig.fixtureNested)
            }
            let vdev = try ctx.expectOK("VDEVICE_ALLOC virt_id 0x99") {
                try rig.iommufd.allocVDevice(viommu: rig.fixtureVIOMMU, device: rig.device, virtID: 0x99).release()
            }
            try ctx.check(vdev.rawValue != 0, "vDEVICE id 0")
            try ctx.expectOK("replace onto the nested HWPT") {
                try rig.test.mockDomainReplace(rig.stdev, with: rig.fixtureNested)
            }
            try ctx.expectErrno(.resourceBusy, "DESTROY the nested HWPT while attached") {
                try rig.iommufd.destroy(rig.fixtureNested)
            }
            try ctx.expectErrno(.resourceBusy, "DESTROY the vIOMMU with a vDEVICE") {
                try rig.iommufd.destroy(rig.fixtureVIOMMU)
            }
            try ctx.step("replace back onto the IOAS") { try rig.test.mockDomainReplace(rig.stdev, with: rig.ioas) }
            try ctx.expectOK("DESTROY the vDEVICE") { try rig.iommufd.destroy(vdev) }
            try ctx.expectOK("DESTROY the nested HWPT") { try rig.iommufd.destroy(rig.fixtureNested) }
            try ctx.expectOK("DESTROY the vIOMMU") { try rig.iommufd.destroy(rig.fixtureVIOMMU) }
        },
        nestCase("viommu.vdevice.duplicate-virt-id", "a device has at most one vDEVICE (a second VDEVICE_ALLOC fails EEXIST, viommu.c:186) and a virt_id names one device per vIOMMU (EEXIST, viommu.c:234); after DESTROY both are free again", since: "6.13") { ctx, rig in
            let v = rig.fixtureVIOMMU
            let first = try ctx.step("VDEVICE 0x99") {
                try rig.iommufd.allocVDevice(viommu: v, device: rig.device, virtID: 0x99).release()
            }
            try ctx.expectErrno(.fileExists, "same device, virt_id 0x88") {
                try rig.iommufd.allocVDevice(viommu: v, device: rig.device, virtID: 0x88).release()
            }
            try ctx.expectErrno(.fileExists, "same device, same virt_id") {
                try rig.iommufd.allocVDevice(viommu: v, device: rig.device, virtID: 0x99).release()
            }
            let other = try ctx.step("a second mock device") { try rig.test.mockDomain(rig.ioas) }
            try ctx.expectErrno(.fileExists, "second device, virt_id 0x99") {
                try rig.iommufd.allocVDevice(viommu: v, device: other.deviceID, virtID: 0x99).release()
            }
            try ctx.expectOK("second device, virt_id 0x77") {
                try rig.iommufd.allocVDevice(viommu: v, device: other.deviceID, virtID: 0x77).release()
            }
            try ctx.step("DESTROY the first vDEVICE") { try rig.iommufd.destroy(first) }
            try ctx.expectOK("first device again, virt_id 0x88") {
                try rig.iommufd.allocVDevice(viommu: v, device: rig.device, virtID: 0x88).release()
            }
        },
        nestCase("viommu.vdevice.bad-ids", "VDEVICE_ALLOC with a viommu_id that is no vIOMMU (0, a HWPT) or a dev_id that is no device (0, the IOAS) fails ENOENT", since: "6.13") { ctx, rig in
            try ctx.expectErrno(.noSuchFileOrDirectory, "viommu_id 0") {
                try rig.iommufd.allocVDevice(viommu: VIOMMUID(rawValue: 0), device: rig.device, virtID: 0x99).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "viommu_id = the parent HWPT") {
                try rig.iommufd.allocVDevice(viommu: VIOMMUID(rawValue: rig.parent.rawValue), device: rig.device, virtID: 0x99).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id 0") {
                try rig.iommufd.allocVDevice(viommu: rig.fixtureVIOMMU, device: IOMMUFDDeviceID(rawValue: 0), virtID: 0x99).release()
            }
            try ctx.expectErrno(.noSuchFileOrDirectory, "dev_id = the IOAS") {
                try rig.iommufd.allocVDevice(viommu: rig.fixtureVIOMMU, device: IOMMUFDDeviceID(rawValue: rig.ioas.rawValue), virtID: 0x99).release()
            }
        },
        nestCase("viommu.vdevice.tombstone", "destroying a device that has a vDEVICE succeeds and destroys the vDEVICE, leaving its id a tombstone (DESTROY fails ENOENT, device.c:194); the vIOMMU is no longer held by it", since: "6.17") { ctx, rig in
            let vdev = try ctx.step("VDEVICE 0x99") {
                try rig.iommufd.allocVDevice(viommu: rig.fixtureVIOMMU, device: rig.device, virtID: 0x99).release()
            }
            try ctx.expectOK("DESTROY the mock device") { try rig.iommufd.destroy(rig.stdev) }
            try ctx.expectErrno(.noSuchFileOrDirectory, "DESTROY the vDEVICE") { try rig.iommufd.destroy(vdev) }
            try ctx.step("DESTROY the nested HWPT") { try rig.iommufd.destroy(rig.fixtureNested) }
            try ctx.expectOK("DESTROY the vIOMMU") { try rig.iommufd.destroy(rig.fixtureVIOMMU) }
        },
    ]

    // MARK: - HWPT_INVALIDATE on a vIOMMU

    /// HWPT_INVALIDATE on the rig's vIOMMU; `errno` nil expects success. Checks entry_num written back.
    static func invalidate(_ ctx: CaseContext, _ rig: NestRig, _ what: String, _ request: InvalidationRequest,
                           fails errno: Errno? = nil, handled: Int) throws {
        var done = -1
        let run = { () throws -> Void in
            do throws(InvalidationError) { done = try rig.iommufd.invalidate(viommu: rig.fixtureVIOMMU, request) } catch {
                done = error.handled
                throw error.error
            }
        }
        if let errno { try ctx.expectErrno(errno, what, run) } else { try ctx.expectOK(what, run) }
        try ctx.checkEqual(done, handled, "\(what): entry_num back")
    }

    static func entry(_ cache: UInt32, virt: UInt32 = 0x99) -> SelftestVIOMMUInvalidation {
        SelftestVIOMMUInvalidation(virtID: virt, cacheID: cache)
    }

    static let invalidate: [ConformanceCase] = [
        nestCase("viommu.invalidate.zero-entries", "HWPT_INVALIDATE on a vIOMMU with no entries checks only the data type: SELFTEST succeeds with entry_num 0, another type fails EINVAL (selftest.c mock_viommu_cache_invalidate)", since: "6.13") { ctx, rig in
            _ = try attachNested(ctx, rig)
            try invalidate(ctx, rig, "0 entries, SELFTEST", .viommuSelftest([]), handled: 0)
            try invalidate(ctx, rig, "0 entries, SELFTEST_INVALID", .viommuSelftest([], dataType: UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID)),
                           fails: .invalidArgument, handled: 0)
            try checkCaches(ctx, rig, rig.device, [UInt32](repeating: devCacheDefault, count: 4), "untouched")
        },
        nestCase("viommu.invalidate.bad-array", "HWPT_INVALIDATE on a vIOMMU with entries: a wrong data type, NULL data_uptr, entry_len 0 or above PAGE_SIZE fail EINVAL with entry_num 0 (hw_pagetable.c:530)", since: "6.13") { ctx, rig in
            _ = try attachNested(ctx, rig)
            try invalidate(ctx, rig, "SELFTEST_INVALID type", .viommuSelftest([entry(0)], dataType: UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID)),
                           fails: .invalidArgument, handled: 0)
            let one = InvalidationRequest.viommuSelftest([entry(0)]).bytes
            let len = UInt32(SelftestVIOMMUInvalidation.entryLength), type = UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
            for (what, entryLen, null) in [("NULL data_uptr", len, true), ("entry_len 0", 0, false), ("entry_len PAGE_SIZE + 1", UInt32(MS.page) + 1, false)] {
                var num: UInt32 = 1
                try ctx.expectErrno(.invalidArgument, what) {
                    try rig.fd.raw.invalidate(hwpt: rig.fixtureVIOMMU.rawValue, dataType: type, entryLength: entryLen, entries: one, entryCount: &num, nullData: null)
                }
                try ctx.checkEqual(num, 0, "\(what): entry_num back")
            }
            try checkCaches(ctx, rig, rig.device, [UInt32](repeating: devCacheDefault, count: 4), "untouched")
        },
        nestCase("viommu.invalidate.entry-len", "entry_len need not be the struct size: a longer entry with zero tail bytes is used (copy_struct_from_user), a non-zero tail fails E2BIG, a shorter one is zero-extended (here to vdev_id 0, no vDEVICE: EINVAL)", since: "6.13") { ctx, rig in
            _ = try attachNested(ctx, rig)
            let len = SelftestVIOMMUInvalidation.entryLength, type = UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
            let e0 = InvalidationRequest.viommuSelftest([entry(0)]).bytes
            try invalidate(ctx, rig, "entry_len + 1, zero tail", .raw(type: type, entryLength: len + 1, data: e0 + [0]), handled: 1)
            try checkCaches(ctx, rig, rig.device, [0, devCacheDefault, devCacheDefault, devCacheDefault], "cache 0 cleared")
            let e1 = InvalidationRequest.viommuSelftest([entry(1)]).bytes
            try invalidate(ctx, rig, "entry_len + 1, tail 0xff", .raw(type: type, entryLength: len + 1, data: e1 + [0xff]),
                           fails: .argListTooLong, handled: 0)
            try invalidate(ctx, rig, "entry_len 4 (flags only)", .raw(type: type, entryLength: 4, data: Array(e1.prefix(4))),
                           fails: .invalidArgument, handled: 0)
            // The selftest's "structure size sanity" inputs (vdevice_cache, 7.3.4 iommufd.c:3100-3110):
            // an all-zero entry names vdev_id 0, so both fail EINVAL whatever the size rule.
            for (what, entryLength) in [("entry_len + 1, all-zero entries", UInt32(len + 1)), ("entry_len 1, all-zero entries", 1)] {
                var num: UInt32 = 1
                try ctx.expectErrno(.invalidArgument, what) {
                    try rig.fd.raw.invalidate(hwpt: rig.fixtureVIOMMU.rawValue, dataType: type, entryLength: entryLength,
                                              entries: [UInt8](repeating: 0, count: 2 * len), entryCount: &num)
                }
                try ctx.checkEqual(num, 0, "\(what): entry_num back")
            }
            try checkCaches(ctx, rig, rig.device, [0, devCacheDefault, devCacheDefault, devCacheDefault], "cache 1 kept")
        },
        nestCase("viommu.invalidate.bad-entry", "a vIOMMU invalidation entry with undefined flags fails EOPNOTSUPP, a cache_id above MOCK_DEV_CACHE_ID_MAX or a vdev_id no vDEVICE has fails EINVAL; entry_num 0, caches untouched", since: "6.13") { ctx, rig in
            _ = try attachNested(ctx, rig)
            try invalidate(ctx, rig, "flags 0xffffffff", .viommuSelftest([SelftestVIOMMUInvalidation(virtID: 0x99, cacheID: 0, flags: .max)]),
                           fails: .notSupported, handled: 0)
            try invalidate(ctx, rig, "cache_id 4", .viommuSelftest([entry(UInt32(MOCK_DEV_CACHE_ID_MAX) + 1)]), fails: .invalidArgument, handled: 0)
            try invalidate(ctx, rig, "vdev_id 0x9", .viommuSelftest([entry(0, virt: 0x9)]), fails: .invalidArgument, handled: 0)
            try checkCaches(ctx, rig, rig.device, [UInt32](repeating: devCacheDefault, count: 4), "untouched")
        },
        nestCase("viommu.invalidate.partial", "vIOMMU invalidation handles entries in order and stops at the first bad one: entry_num comes back as the count handled, and only those took effect", since: "6.13") { ctx, rig in
            _ = try attachNested(ctx, rig)
            let badFlags = SelftestVIOMMUInvalidation(virtID: 0x99, cacheID: 1, flags: .max)
            try invalidate(ctx, rig, "[cache 0, bad flags]", .viommuSelftest([entry(0), badFlags]), fails: .notSupported, handled: 1)
            try checkCaches(ctx, rig, rig.device, [0, devCacheDefault, devCacheDefault, devCacheDefault], "after bad flags")
            try invalidate(ctx, rig, "[cache 0, cache_id 4]", .viommuSelftest([entry(0), entry(4)]), fails: .invalidArgument, handled: 1)
            try checkCaches(ctx, rig, rig.device, [0, devCacheDefault, devCacheDefault, devCacheDefault], "after bad cache_id")
        },
        nestCase("viommu.invalidate.dev-cache", "vIOMMU invalidations clear the named cache entries of the device behind the vDEVICE (DEV_CHECK_CACHE), and FLAG_ALL clears all of them; FLAG_ALL still range-checks cache_id (EINVAL above MOCK_DEV_CACHE_ID_MAX), though iommufd_test.h says it is ignored", since: "6.13") { ctx, rig in
            _ = try attachNested(ctx, rig)
            try checkCaches(ctx, rig, rig.device, [UInt32](repeating: devCacheDefault, count: 4), "fresh")
            try invalidate(ctx, rig, "cache 1", .viommuSelftest([entry(1)]), handled: 1)
            try checkCaches(ctx, rig, rig.device, [devCacheDefault, 0, devCacheDefault, devCacheDefault], "after cache 1")
            try invalidate(ctx, rig, "caches 2 and 3", .viommuSelftest([entry(2), entry(3)]), handled: 2)
            try checkCaches(ctx, rig, rig.device, [devCacheDefault, 0, 0, 0], "after 2 and 3")
            // iommufd_test.h says cache_id is ignored with FLAG_ALL, but mock_viommu_cache_invalidate
            // range-checks it first (selftest.c:671 before :686).
            try invalidate(ctx, rig, "FLAG_ALL with cache_id 7", .viommuSelftest([SelftestVIOMMUInvalidation(virtID: 0x99, cacheID: 7, all: true)]),
                           fails: .invalidArgument, handled: 0)
            try checkCaches(ctx, rig, rig.device, [devCacheDefault, 0, 0, 0], "after the rejected FLAG_ALL")
            try invalidate(ctx, rig, "FLAG_ALL with cache_id 1", .viommuSelftest([SelftestVIOMMUInvalidation(virtID: 0x99, cacheID: 1, all: true)]), handled: 1)
            try checkCaches(ctx, rig, rig.device, [0, 0, 0, 0], "after FLAG_ALL")
        },
        nestCase("viommu.invalidate.target", "HWPT_INVALIDATE takes a nested HWPT or a vIOMMU: a paging HWPT or an IOAS fails EINVAL, id 0 ENOENT (hw_pagetable.c:537-564); a nested HWPT on a vIOMMU still takes its own IOTLB invalidations", since: "6.13") { ctx, rig in
            let vtype = UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
            let bytes = InvalidationRequest.viommuSelftest([entry(0)]).bytes
            for (what, id, errno) in [("the parent HWPT", rig.parent.rawValue, Errno.invalidArgument), ("the IOAS", rig.ioas.rawValue, .invalidArgument),
                                      ("id 0", 0, .noSuchFileOrDirectory)] {
                var num: UInt32 = 1
                try ctx.expectErrno(errno, "hwpt_id = \(what)") {
                    try rig.fd.raw.invalidate(hwpt: id, dataType: vtype, entryLength: UInt32(SelftestVIOMMUInvalidation.entryLength), entries: bytes, entryCount: &num)
                }
            }
            try ctx.expectOK("IOTLB invalidation of the nested HWPT, iotlb 2") {
                do throws(InvalidationError) { try rig.iommufd.invalidate(rig.fixtureNested, .selftest([SelftestInvalidation(iotlbID: 2)])) } catch { throw error.error }
            }
            try ctx.step("MD_CHECK_IOTLB: only entry 2 cleared") {
                for i in 0..<4 { try rig.test.checkIOTLB(rig.fixtureNested, id: UInt32(i), expected: i == 2 ? 0 : iotlbDefault) }
            }
        },
    ]
}

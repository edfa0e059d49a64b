import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

@Suite struct HWPTTests {
    @Test func pagingHWPTFlagsFaultAndDestroy() throws {
        let mock = MockIoctlDriver()
        mock.script(.hwptAlloc, .u32(21, at: offset(\iommu_hwpt_alloc.out_hwpt_id)))
        let iommufd = IOMMUFD(adopting: 301, driver: mock)
        do {
            let hwpt = try iommufd.allocHWPT(device: IOMMUFDDeviceID(rawValue: 3), ioas: IOASID(rawValue: 2),
                                             flags: [.dirtyTracking], fault: FaultQueueID(rawValue: 9))
            #expect(hwpt.id == HWPTID(rawValue: 21))
        }
        let calls = mock.calls
        #expect(calls.map(\.request) == [CIOMMUFD_REQ_IOMMU_HWPT_ALLOC, CIOMMUFD_REQ_IOMMU_DESTROY])
        let cmd = calls[0].decode(iommu_hwpt_alloc.self)
        #expect(cmd.size == UInt32(MemoryLayout<iommu_hwpt_alloc>.size))
        #expect(cmd.flags == UInt32(IOMMU_HWPT_ALLOC_DIRTY_TRACKING.rawValue | IOMMU_HWPT_FAULT_ID_VALID.rawValue))
        #expect(cmd.dev_id == 3)
        #expect(cmd.pt_id == 2)
        #expect(cmd.fault_id == 9)
        #expect(cmd.data_type == 0 && cmd.data_len == 0 && cmd.data_uptr == 0)
        #expect(calls[1].decode(iommu_destroy.self).id == 21)
    }

    @Test func nestedVTdStage1SendsTypedData() throws {
        let mock = MockIoctlDriver()
        let data = Captured<[UInt8]>([])
        mock.script(.hwptAlloc, .edit { p in
            let cmd = p.load(as: iommu_hwpt_alloc.self)
            data.set(userBytes(cmd.data_uptr, Int(cmd.data_len)))
        })
        let iommufd = IOMMUFD(adopting: 302, driver: mock)
        let hwpt = try iommufd.allocNestedHWPT(device: IOMMUFDDeviceID(rawValue: 1), parent: .hwpt(HWPTID(rawValue: 5)),
                                               data: .vtdStage1(flags: [.supervisorRequests, .writeProtect],
                                                                pgtblAddr: 0x1234_5000, addrWidth: 48))
        let cmd = try #require(mock.calls(.hwptAlloc).first).decode(iommu_hwpt_alloc.self)
        #expect(cmd.data_type == UInt32(IOMMU_HWPT_DATA_VTD_S1.rawValue))
        #expect(cmd.data_len == UInt32(MemoryLayout<iommu_hwpt_vtd_s1>.size))
        #expect(cmd.pt_id == 5)
        let s1 = data.get.withUnsafeBytes { $0.loadUnaligned(as: iommu_hwpt_vtd_s1.self) }
        #expect(s1.flags == 0b101)
        #expect(s1.pgtbl_addr == 0x1234_5000)
        #expect(s1.addr_width == 48)
        _ = hwpt.release()
    }

    @Test func nestedDataEncodings() {
        #expect(HWPTData.selftest(iotlb: 0xbadbeef).bytes == [0xef, 0xbe, 0xad, 0x0b])
        #expect(HWPTData.selftest(iotlb: 1).type == 0xdead)
        #expect(HWPTData.armSMMUv3(ste0: 1, ste1: 2).bytes == [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0])
        #expect(HWPTData.amdGuest(dte: SIMD4(1, 2, 3, 4)).bytes.count == 32)
        #expect(HWPTData.raw(type: 77, bytes: [9]).type == 77)
    }

    @Test func faultFlagWithoutQueueIsRejected() {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 303, driver: mock)
        let error = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.allocHWPT(device: IOMMUFDDeviceID(rawValue: 1), ioas: IOASID(rawValue: 2), flags: .faultIDValid)
        }
        #expect(error?.origin == .validation)
        #expect(mock.calls.isEmpty)
    }

    @Test func setDirtyTracking() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 304, driver: mock)
        try iommufd.setDirtyTracking(HWPTID(rawValue: 8), enabled: true)
        try iommufd.setDirtyTracking(HWPTID(rawValue: 8), enabled: false)
        let calls = mock.calls(.hwptSetDirtyTracking).map { $0.decode(iommu_hwpt_set_dirty_tracking.self) }
        #expect(calls.map(\.flags) == [1, 0])
        #expect(calls.allSatisfy { $0.hwpt_id == 8 && $0.size == 16 })
    }

    @Test func dirtyBitmapValidationMakesNoSyscall() {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 305, driver: mock)
        let hwpt = HWPTID(rawValue: 1)
        let zeroPage = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.dirtyBitmap(hwpt, iova: 0, length: 0x1000, pageSize: 0)
        }
        #expect(zeroPage?.argument == "page_size")
        let notPow2 = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.dirtyBitmap(hwpt, iova: 0, length: 3000 * 4, pageSize: 3000)
        }
        #expect(notPow2?.meaning.contains("power of two") == true)
        #expect(throws: IOMMUFDError.self) { _ = try iommufd.dirtyBitmap(hwpt, iova: 0, length: 0, pageSize: 4096) }
        #expect(throws: IOMMUFDError.self) { _ = try iommufd.dirtyBitmap(hwpt, iova: 0x800, length: 4096, pageSize: 4096) }
        #expect(throws: IOMMUFDError.self) { _ = try iommufd.dirtyBitmap(hwpt, iova: 0, length: 6000, pageSize: 4096) }
        let wrap = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.dirtyBitmap(hwpt, iova: .max - 0xfff, length: 0x2000, pageSize: 4096)
        }
        #expect(wrap?.errno == .overflow)
        #expect(mock.calls.isEmpty)
    }

    @Test func dirtyBitmapReadsKernelBits() throws {
        let mock = MockIoctlDriver()
        mock.script(.hwptGetDirtyBitmap, .edit { p in
            let cmd = p.load(as: iommu_hwpt_get_dirty_bitmap.self)
            let words = UnsafeMutablePointer<UInt64>(bitPattern: UInt(cmd.data))
            words?[0] = (1 << 0) | (1 << 3)
            words?[1] = 1 << 1  // page 65
        })
        let iommufd = IOMMUFD(adopting: 306, driver: mock)
        let base: UInt64 = 0x100_0000
        let bitmap = try iommufd.dirtyBitmap(HWPTID(rawValue: 4), iova: base, length: 128 * 4096, pageSize: 4096,
                                             clear: false)
        let sent = try #require(mock.calls.first).decode(iommu_hwpt_get_dirty_bitmap.self)
        #expect(sent.size == 48)
        #expect(sent.flags == UInt32(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR.rawValue))
        #expect(sent.hwpt_id == 4 && sent.iova == base && sent.length == 128 * 4096 && sent.page_size == 4096)
        #expect(bitmap.bits.count == 2)
        #expect(bitmap.dirtyPages == [base, base + 3 * 4096, base + 65 * 4096])
        #expect(bitmap.isDirty(base + 3 * 4096 + 17))
        #expect(!bitmap.isDirty(base + 4096))
        #expect(!bitmap.isDirty(base - 1))
        #expect(bitmap.dirtyCount == 3)
    }

    @Test func invalidateReturnsHandledCount() throws {
        let mock = MockIoctlDriver()
        let sent = Captured<[UInt8]>([])
        mock.script(.hwptInvalidate, .edit { p in
            let cmd = p.load(as: iommu_hwpt_invalidate.self)
            sent.set(userBytes(cmd.data_uptr, Int(cmd.entry_len * cmd.entry_num)))
        })
        let iommufd = IOMMUFD(adopting: 307, driver: mock)
        let handled = try iommufd.invalidate(HWPTID(rawValue: 6),
                                             .vtdStage1([VTdStage1Invalidation(addr: 0x4000, npages: 2, leaf: true), .all]))
        #expect(handled == 2)
        let cmd = try #require(mock.calls.first).decode(iommu_hwpt_invalidate.self)
        #expect(cmd.size == 32)
        #expect(cmd.hwpt_id == 6)
        #expect(cmd.data_type == UInt32(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1.rawValue))
        #expect(cmd.entry_len == 24 && cmd.entry_num == 2)
        let first = sent.get.withUnsafeBytes { $0.loadUnaligned(as: iommu_hwpt_vtd_s1_invalidate.self) }
        #expect(first.addr == 0x4000 && first.npages == 2 && first.flags == UInt32(IOMMU_VTD_INV_FLAGS_LEAF.rawValue))
    }

    @Test func invalidateFailureTellsHowManyWereHandled() {
        let mock = MockIoctlDriver()
        mock.script(.hwptInvalidate, .edit({ p in
            p.storeBytes(of: 2, toByteOffset: offset(\iommu_hwpt_invalidate.entry_num), as: UInt32.self)
        }, then: .invalidArgument))
        let iommufd = IOMMUFD(adopting: 308, driver: mock)
        let entries = (0..<5).map { SelftestInvalidation(iotlbID: UInt32($0)) }
        let error = #expect(throws: InvalidationError.self) {
            try iommufd.invalidate(HWPTID(rawValue: 6), .selftest(entries))
        }
        #expect(error?.handled == 2)
        #expect(error?.requested == 5)
        #expect(error?.failedIndex == 2)
        #expect(error?.error.errno == .invalidArgument)
        #expect(error?.error.ioctl == "IOMMU_HWPT_INVALIDATE")
        #expect(error?.error.argument?.contains("entry 2 of 5") == true)
        let cmd = mock.calls.first?.decode(iommu_hwpt_invalidate.self)
        #expect(cmd?.data_type == 0xdead_beef)
        #expect(cmd?.entry_len == 8)
    }

    @Test func invalidateRawValidation() {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 309, driver: mock)
        let error = #expect(throws: InvalidationError.self) {
            try iommufd.invalidate(HWPTID(rawValue: 1), .raw(type: 0, entryLength: 24, data: [UInt8](repeating: 0, count: 30)))
        }
        #expect(error?.error.origin == .validation)
        #expect(mock.calls.isEmpty)
    }
}

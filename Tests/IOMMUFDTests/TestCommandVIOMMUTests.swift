import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// The TEST-ONLY vIOMMU / vEVENT / PASID test ops and mock data types, against the MOCK ioctl driver.
@Suite struct TestCommandVIOMMUTests {
    @Test func opPayloads() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 601, driver: mock)
        let t = iommufd.testCommands
        try t.checkDevCache(IOMMUFDDeviceID(rawValue: 5), id: 2, expected: 0xbaddad)
        try t.triggerVEvent(IOMMUFDDeviceID(rawValue: 5))
        try t.pasidAttach(MockStdevID(rawValue: 7), pasid: 100, to: HWPTID(rawValue: 9))
        try t.pasidReplace(MockStdevID(rawValue: 7), pasid: 100, with: IOASID(rawValue: 3))
        try t.pasidDetach(MockStdevID(rawValue: 7), pasid: 100)
        try t.pasidCheckHWPT(MockStdevID(rawValue: 7), pasid: 100, attached: nil)
        try t.pasidCheckHWPT(MockStdevID(rawValue: 7), pasid: 100, attached: HWPTID(rawValue: 9))
        let cmds = mock.calls.map { $0.decode(iommu_test_cmd.self) }
        #expect(cmds.map(\.op) == [16, 17, 18, 19, 20, 21, 21].map(UInt32.init))
        #expect(cmds[0].id == 5 && cmds[0].check_dev_cache.id == 2 && cmds[0].check_dev_cache.cache == 0xbaddad)
        #expect(cmds[1].trigger_vevent.dev_id == 5)
        #expect(cmds[2].id == 7 && cmds[2].pasid_attach.pasid == 100 && cmds[2].pasid_attach.pt_id == 9)
        #expect(cmds[3].pasid_replace.pasid == 100 && cmds[3].pasid_replace.pt_id == 3)
        #expect(cmds[4].pasid_detach.pasid == 100)
        #expect(cmds[5].pasid_check.hwpt_id == 0 && cmds[6].pasid_check.hwpt_id == 9)
    }

    @Test func viommuInvalidationEntries() throws {
        let request = InvalidationRequest.viommuSelftest([
            SelftestVIOMMUInvalidation(virtID: 0x99, cacheID: 3),
            SelftestVIOMMUInvalidation(virtID: 0x88, cacheID: 0, all: true),
        ])
        #expect(request.dataType == UInt32(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST))
        #expect(request.entryLength == 12 && request.count == 2)
        let words = request.bytes.withUnsafeBytes { raw in (0..<6).map { raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self) } }
        #expect(words == [0, 0x99, 3, UInt32(IOMMU_TEST_INVALIDATE_FLAG_ALL), 0x88, 0])

        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 602, driver: mock)
        let handled = try iommufd.invalidate(viommu: VIOMMUID(rawValue: 12), request)
        #expect(handled == 2)
        let cmd = try #require(mock.calls.first).decode(iommu_hwpt_invalidate.self)
        #expect(cmd.hwpt_id == 12 && cmd.entry_len == 12 && cmd.entry_num == 2)
    }

    @Test func viommuSelftestDataRoundTrip() throws {
        let sent = SelftestVIOMMUData(inData: 0xbeef)
        var bytes = sent.bytes
        #expect(bytes.count == MemoryLayout<iommu_viommu_selftest>.size)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(0xbeef), toByteOffset: 4, as: UInt32.self)
            raw.storeBytes(of: UInt64(0x1000), toByteOffset: 8, as: UInt64.self)
            raw.storeBytes(of: UInt64(0x2000), toByteOffset: 16, as: UInt64.self)
        }
        let back = try #require(SelftestVIOMMUData(returned: bytes))
        #expect(back.inData == 0xbeef && back.outData == 0xbeef && back.mmapOffset == 0x1000 && back.mmapLength == 0x2000)
        #expect(SelftestVIOMMUData(returned: [0, 0, 0]) == nil)
    }
}

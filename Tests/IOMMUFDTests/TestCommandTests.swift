import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// The TEST-ONLY IOMMU_TEST_CMD API, against the MOCK ioctl driver.
@Suite struct TestCommandTests {
    /// The union of iommu_test_cmd starts after size, op, id, __reserved.
    let union = 16

    @Test func mockDomainSendsOpAndReadsIDs() throws {
        let mock = MockIoctlDriver()
        let u = union
        mock.script(.testCmd, .edit { p in
            p.storeBytes(of: 50, toByteOffset: u, as: UInt32.self)
            p.storeBytes(of: 51, toByteOffset: u + 4, as: UInt32.self)
            p.storeBytes(of: 52, toByteOffset: u + 8, as: UInt32.self)
        })
        let iommufd = IOMMUFD(adopting: 501, driver: mock)
        let domain = try iommufd.testCommands.mockDomain(IOASID(rawValue: 3))
        #expect(domain == MockDomain(stdevID: MockStdevID(rawValue: 50), hwptID: HWPTID(rawValue: 51),
                                     deviceID: IOMMUFDDeviceID(rawValue: 52)))
        let cmd = try #require(mock.calls.first).decode(iommu_test_cmd.self)
        #expect(cmd.size == UInt32(MemoryLayout<iommu_test_cmd>.size))
        #expect(cmd.op == UInt32(IOMMU_TEST_OP_MOCK_DOMAIN))
        #expect(cmd.id == 3)
        #expect(mock.calls.first?.request == CIOMMUFD_REQ_IOMMU_TEST_CMD)
    }

    @Test func opPayloads() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 502, driver: mock)
        let t = iommufd.testCommands
        try t.addReserved(IOASID(rawValue: 1), start: 0x1000, length: 0x2000)
        _ = try t.mockDomain(IOASID(rawValue: 1), flags: [.noDirty, .hugeIOVA])
        try t.mockDomainReplace(MockStdevID(rawValue: 4), with: HWPTID(rawValue: 9))
        try t.checkMap(HWPTID(rawValue: 9), iova: 0x4000, length: 0x800, userVA: 0x7000)
        try t.checkRefs(userVA: 0x7000, length: 0x1000, refs: 1)
        try t.checkIOTLB(HWPTID(rawValue: 9), id: 3, expected: 0xbadbeef)
        try t.triggerIOPF(IOMMUFDDeviceID(rawValue: 2), pasid: 1, groupID: 2, permissions: [.read], address: 0xdead_beaf)
        try t.setTempMemoryLimit(16)
        let cmds = mock.calls.map { $0.decode(iommu_test_cmd.self) }
        #expect(cmds.map(\.op) == [1, 12, 10, 3, 4, 14, 15, 9].map(UInt32.init))
        #expect(cmds[0].add_reserved.start == 0x1000 && cmds[0].add_reserved.length == 0x2000)
        #expect(cmds[1].mock_domain_flags.dev_flags == 0b11)
        #expect(cmds[2].id == 4 && cmds[2].mock_domain_replace.pt_id == 9)
        #expect(cmds[3].check_map.iova == 0x4000 && cmds[3].check_map.uptr == 0x7000)
        #expect(cmds[4].check_refs.refs == 1 && cmds[4].check_refs.length == 0x1000)
        #expect(cmds[5].check_iotlb.id == 3 && cmds[5].check_iotlb.iotlb == 0xbadbeef)
        #expect(cmds[6].trigger_iopf.dev_id == 2 && cmds[6].trigger_iopf.addr == 0xdead_beaf)
        #expect(cmds[7].memory_limit.limit == 16)
    }

    @Test func accessOwnsItsFD() throws {
        let mock = MockIoctlDriver()
        let u = union
        mock.script(.testCmd, .edit { $0.storeBytes(of: 66, toByteOffset: u, as: UInt32.self) })
        let iommufd = IOMMUFD(adopting: 503, driver: mock)
        do {
            let access = try iommufd.testCommands.createAccess(IOASID(rawValue: 2), flags: .needsPinPages)
            #expect(access.id == AccessID(rawValue: 66))
            var buffer = [UInt8](repeating: 0, count: 64)
            try buffer.withUnsafeMutableBytes { raw in
                try iommufd.testCommands.accessRW(access.id, iova: 0x1000, buffer: raw, flags: .write)
            }
            _ = try iommufd.testCommands.accessPages(access.id, iova: 0x1000, length: 0x1000, userVA: 0)
        }
        let cmds = mock.calls.map { $0.decode(iommu_test_cmd.self) }
        #expect(cmds[0].op == UInt32(IOMMU_TEST_OP_CREATE_ACCESS) && cmds[0].create_access.flags == 1)
        #expect(cmds[1].id == 66 && cmds[1].access_rw.length == 64 && cmds[1].access_rw.flags == 1)
        #expect(cmds[2].op == UInt32(IOMMU_TEST_OP_ACCESS_PAGES) && cmds[2].id == 66)
        #expect(mock.closed == [66])
    }

    @Test func dirtyValidatesAndSendsBitmap() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 504, driver: mock)
        #expect(throws: IOMMUFDError.self) {
            try iommufd.testCommands.dirty(HWPTID(rawValue: 1), iova: 0, length: 128 * 4096, pageSize: 4096, bitmap: [1])
        }
        #expect(throws: IOMMUFDError.self) {
            try iommufd.testCommands.dirty(HWPTID(rawValue: 1), iova: 0, length: 4096, pageSize: 0, bitmap: [1])
        }
        #expect(mock.calls.isEmpty)
        try iommufd.testCommands.dirty(HWPTID(rawValue: 1), iova: 0, length: 64 * 4096, pageSize: 4096, bitmap: [0b101])
        let cmd = try #require(mock.calls.first).decode(iommu_test_cmd.self)
        #expect(cmd.op == UInt32(IOMMU_TEST_OP_DIRTY) && cmd.dirty.page_size == 4096 && cmd.dirty.uptr != 0)
    }

    @Test func enottyMeansNoSelftestKernel() {
        let mock = MockIoctlDriver()
        mock.script(.testCmd, .fail(.inappropriateIOCTLForDevice))
        let iommufd = IOMMUFD(adopting: 505, driver: mock)
        let error = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.testCommands.mockDomain(IOASID(rawValue: 1))
        }
        #expect(error?.meaning == "kernel built without CONFIG_IOMMUFD_TEST")
        #expect(error?.argument == "IOMMU_TEST_OP_MOCK_DOMAIN")
    }
}

import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// The raw layer sends exactly what it is given (the MOCK driver records it) and returns
/// what the kernel wrote back, also on failure; the typed owners validate, then call it.
@Suite struct RawLayerTests {
    @Test func rawMapSendsWhatTheValidatedMapRefuses() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 201, driver: mock)
        // Zero length and no access bits: IOAS.map refuses before the syscall...
        let ioas = IOAS(id: IOASID(rawValue: 4), fd: iommufd.fd)
        #expect(throws: IOMMUFDError.self) { try ioas.map(userVA: 0x1000, length: 0, at: 0x2000) }
        #expect(mock.calls(.ioasMap).isEmpty)
        // ...the raw entry sends it, and adds FIXED_IOVA only because an iova was given.
        mock.script(.ioasMap, .fail(.invalidArgument))
        let error = try #require(throws: IOMMUFDError.self) {
            try iommufd.raw.map(ioas: 4, userVA: 0x1000, length: 0, iova: 0x2000, flags: 0)
        }
        #expect(error.origin == .kernel && error.errno == .invalidArgument)
        let sent = try #require(mock.calls(.ioasMap).first).decode(iommu_ioas_map.self)
        #expect(sent.flags == UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue))
        #expect(sent.length == 0 && sent.iova == 0x2000 && sent.ioas_id == 4)
        _ = consume ioas
    }

    @Test func iovaRangesReplyIsFilledOnEMSGSIZE() throws {
        let mock = MockIoctlDriver()
        let count = offset(\iommu_ioas_iova_ranges.num_iovas)
        let align = offset(\iommu_ioas_iova_ranges.out_iova_alignment)
        mock.script(.ioasIOVARanges, .edit({ p in
            p.storeBytes(of: UInt32(3), toByteOffset: count, as: UInt32.self)
            p.storeBytes(of: UInt64(4096), toByteOffset: align, as: UInt64.self)
        }, then: .messageTooLong))
        let iommufd = IOMMUFD(adopting: 202, driver: mock)
        var reply = RawIOVARangesReply()
        #expect(throws: IOMMUFDError.self) { try iommufd.raw.iovaRanges(ioas: 1, capacity: 2, reply: &reply) }
        #expect(reply.count == 3)
        #expect(reply.alignment == 4096)
        // Slots the kernel did not write keep the marker (start > last), so a case can see them untouched.
        #expect(reply.slots.count == 2 && reply.slots.allSatisfy { $0.start == .max && $0.last == 0 })
    }

    @Test func iovaRangesCanPassMoreSlotsThanItDeclares() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasIOVARanges, .fail(.messageTooLong))
        let iommufd = IOMMUFD(adopting: 204, driver: mock)
        var reply = RawIOVARangesReply()
        #expect(throws: IOMMUFDError.self) { try iommufd.raw.iovaRanges(ioas: 1, capacity: 0, arrayCount: 4, reply: &reply) }
        let sent = try #require(mock.calls(.ioasIOVARanges).first).decode(iommu_ioas_iova_ranges.self)
        // num_iovas 0, yet a real array: the kernel must leave every slot alone.
        #expect(sent.num_iovas == 0 && sent.allowed_iovas != 0)
        #expect(reply.slots.count == 4 && reply.slots.allSatisfy { $0.start == .max && $0.last == 0 })
    }

    @Test func invalidateReportsEntriesHandledOnFailure() throws {
        let mock = MockIoctlDriver()
        let num = offset(\iommu_hwpt_invalidate.entry_num)
        mock.script(.hwptInvalidate, .edit({ $0.storeBytes(of: UInt32(1), toByteOffset: num, as: UInt32.self) },
                                           then: .invalidArgument))
        let iommufd = IOMMUFD(adopting: 203, driver: mock)
        var entries: UInt32 = 3
        #expect(throws: IOMMUFDError.self) {
            try iommufd.raw.invalidate(hwpt: 9, dataType: 0xdead, entryLength: 0, entries: [1, 2, 3], entryCount: &entries)
        }
        #expect(entries == 1)
        let sent = try #require(mock.calls(.hwptInvalidate).first).decode(iommu_hwpt_invalidate.self)
        #expect(sent.entry_len == 0 && sent.data_type == 0xdead && sent.entry_num == 3 && sent.data_uptr != 0)
    }

    @Test func typedOwnersGoThroughTheRawLayer() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasAlloc, .u32(6, at: offset(\iommu_ioas_alloc.out_ioas_id)))
        let iommufd = IOMMUFD(adopting: 204, driver: mock)
        do {
            let ioas = try iommufd.allocIOAS()
            try ioas.allowIOVAs([IOVARange(start: 0x1000, last: 0x1fff)])
            try iommufd.raw.allowIOVAs(ioas: 6, [IOVARange(start: 2, last: 1)])  // start > last: sent anyway
        }
        let allows = mock.calls(.ioasAllowIOVAs).map { $0.decode(iommu_ioas_allow_iovas.self) }
        #expect(allows.map(\.num_iovas) == [1, 1])
        #expect(mock.calls.map(\.request).last == CIOMMUFD_REQ_IOMMU_DESTROY)
    }
}

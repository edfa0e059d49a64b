import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// IOAS, errno mapping, validation, ownership and tracing, against the MOCK driver.
@Suite struct IOASMockTests {
    @Test func allocSendsSizeAndDeinitDestroys() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasAlloc, .u32(7, at: offset(\iommu_ioas_alloc.out_ioas_id)))
        let iommufd = IOMMUFD(adopting: 101, driver: mock)
        do {
            let ioas = try iommufd.allocIOAS()
            #expect(ioas.id == IOASID(rawValue: 7))
        }
        let calls = mock.calls
        #expect(calls.map(\.request) == [CIOMMUFD_REQ_IOMMU_IOAS_ALLOC, CIOMMUFD_REQ_IOMMU_DESTROY])
        #expect(calls[0].u32(at: 0) == UInt32(MemoryLayout<iommu_ioas_alloc>.size))
        let destroy = calls[1].decode(iommu_destroy.self)
        #expect(destroy.size == 8)
        #expect(destroy.id == 7)
        #expect(calls.allSatisfy { $0.fd == 101 })
    }

    @Test func droppedIOASAfterCloseIssuesNothing() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasAlloc, .u32(3, at: offset(\iommu_ioas_alloc.out_ioas_id)))
        let iommufd = IOMMUFD(adopting: 102, driver: mock)
        let ioas = try iommufd.allocIOAS()
        try iommufd.close()
        _ = consume ioas
        #expect(mock.calls.count == 1)
        #expect(mock.closed == [102])
    }

    @Test func mapSendsFieldsAndMapsEEXIST() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 103, driver: mock)
        let ioas = IOAS(id: IOASID(rawValue: 5), fd: iommufd.fd)
        try ioas.map(userVA: 0x7f00_0000_0000, length: 0x20_0000, at: 0x100_0000, access: .readWrite)
        let map = try #require(mock.calls(.ioasMap).first).decode(iommu_ioas_map.self)
        #expect(map.size == UInt32(MemoryLayout<iommu_ioas_map>.size))
        #expect(map.flags == UInt32(IOMMU_IOAS_MAP_FIXED_IOVA.rawValue | IOMMU_IOAS_MAP_READABLE.rawValue
                                        | IOMMU_IOAS_MAP_WRITEABLE.rawValue))
        #expect(map.ioas_id == 5)
        #expect(map.user_va == 0x7f00_0000_0000)
        #expect(map.length == 0x20_0000)
        #expect(map.iova == 0x100_0000)

        mock.script(.ioasMap, .fail(.fileExists))
        let error = #expect(throws: IOMMUFDError.self) {
            try ioas.map(userVA: 0x7f00_0000_0000, length: 0x1000, at: 0x100_0000)
        }
        #expect(error?.ioctl == "IOMMU_IOAS_MAP")
        #expect(error?.errno == .fileExists)
        #expect(error?.origin == .kernel)
        #expect(error?.meaning == "range overlaps an existing mapping")
        _ = ioas.release()
    }

    @Test func enottyMeansNotSupported() throws {
        let mock = MockIoctlDriver()
        mock.script(.viommuAlloc, .fail(.inappropriateIOCTLForDevice))
        let iommufd = IOMMUFD(adopting: 104, driver: mock)
        let error = #expect(throws: IOMMUFDError.self) {
            _ = try iommufd.allocVIOMMU(type: .armSMMUv3, device: IOMMUFDDeviceID(rawValue: 1), parent: HWPTID(rawValue: 2))
        }
        #expect(error?.ioctl == "IOMMU_VIOMMU_ALLOC")
        #expect(error?.meaning.contains("not supported by this kernel") == true)
        #expect(error?.isNotSupported == true)
    }

    @Test func validationRejectsWithoutSyscall() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 105, driver: mock)
        let ioas = IOAS(id: IOASID(rawValue: 1), fd: iommufd.fd)
        let zero = #expect(throws: IOMMUFDError.self) { try ioas.map(userVA: 0x1000, length: 0, at: 0x1000) }
        #expect(zero?.origin == .validation)
        #expect(zero?.argument == "length")
        let wrap = #expect(throws: IOMMUFDError.self) { try ioas.map(userVA: 0x1000, length: 0x2000, at: .max - 0xfff) }
        #expect(wrap?.errno == .overflow)
        let noAccess = #expect(throws: IOMMUFDError.self) { try ioas.map(userVA: 0x1000, length: 0x1000, access: []) }
        #expect(noAccess?.argument == "flags")
        #expect(throws: IOMMUFDError.self) { try ioas.unmap(iova: 0x1000, length: 0) }
        #expect(throws: IOMMUFDError.self) { try ioas.allowIOVAs([IOVARange(start: 2, last: 1)]) }
        #expect(mock.calls.isEmpty)
        _ = ioas.release()
    }

    @Test func misalignmentAfterIOVARangesAlignment() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasIOVARanges, .edit { p in
            p.storeBytes(of: 1, toByteOffset: offset(\iommu_ioas_iova_ranges.num_iovas), as: UInt32.self)
            p.storeBytes(of: 0x1000, toByteOffset: offset(\iommu_ioas_iova_ranges.out_iova_alignment), as: UInt64.self)
        })
        let iommufd = IOMMUFD(adopting: 106, driver: mock)
        var ioas = IOAS(id: IOASID(rawValue: 1), fd: iommufd.fd)
        #expect(ioas.iovaAlignment == nil, "no alignment is assumed until the caller sets one")
        ioas.iovaAlignment = try ioas.iovaRanges().alignment
        #expect(ioas.iovaAlignment == 0x1000)
        let error = #expect(throws: IOMMUFDError.self) { try ioas.map(userVA: 0x1000, length: 0x1000, at: 0x1800) }
        #expect(error?.origin == .validation)
        #expect(error?.argument == "iova")
        #expect(throws: IOMMUFDError.self) { try ioas.map(userVA: 0x1000, length: 0x800, at: 0x2000) }
        #expect(mock.calls.count == 1)
        _ = ioas.release()
    }

    @Test func iovaRangesTwoPassOnEMSGSIZE() throws {
        let mock = MockIoctlDriver()
        let numOffset = offset(\iommu_ioas_iova_ranges.num_iovas)
        // First mock reply: too small, 6 needed. Second: the 6 ranges.
        mock.script(.ioasIOVARanges,
                    .edit({ $0.storeBytes(of: 6, toByteOffset: numOffset, as: UInt32.self) }, then: .messageTooLong),
                    .edit { p in
                        let cmd = p.assumingMemoryBound(to: iommu_ioas_iova_ranges.self)
                        let ranges = UnsafeMutablePointer<iommu_iova_range>(bitPattern: UInt(cmd.pointee.allowed_iovas))
                        for i in 0..<6 {
                            ranges?[i] = iommu_iova_range(start: UInt64(i) << 32, last: (UInt64(i) << 32) + 0xffff)
                        }
                        cmd.pointee.out_iova_alignment = 0x1000
                    })
        let iommufd = IOMMUFD(adopting: 107, driver: mock)
        let ioas = IOAS(id: IOASID(rawValue: 9), fd: iommufd.fd)
        let result = try ioas.iovaRanges()
        let calls = mock.calls(.ioasIOVARanges)
        #expect(calls.count == 2)
        #expect(calls[1].decode(iommu_ioas_iova_ranges.self).num_iovas == 6)
        #expect(calls[1].decode(iommu_ioas_iova_ranges.self).ioas_id == 9)
        #expect(result.ranges.count == 6)
        #expect(result.ranges[5] == IOVARange(start: 5 << 32, last: (5 << 32) + 0xffff))
        #expect(result.alignment == 0x1000)
        _ = ioas.release()
    }

    @Test func tracerSeesNameInputOutputAndError() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasAlloc, .u32(11, at: offset(\iommu_ioas_alloc.out_ioas_id)))
        mock.script(.ioasUnmap, .fail(.noSuchFileOrDirectory))
        let iommufd = IOMMUFD(adopting: 4242, driver: mock)
        let events = Captured<[IoctlTraceEvent]>([])
        // The hook is process-wide: keep only this test's fd.
        try IoctlTracer.with({ e in if e.fd == 4242 { events.set(events.get + [e]) } }) { () throws(IOMMUFDError) in
            let ioas = try iommufd.allocIOAS()
            _ = try? ioas.unmap(iova: 0x1000, length: 0x1000)
            _ = ioas.release()
        }
        let seen = events.get
        #expect(seen.map(\.request) == ["IOMMU_IOAS_ALLOC", "IOMMU_IOAS_UNMAP"])
        #expect(seen[0].output.contains(TraceField("out_ioas_id", 11)))
        #expect(seen[0].error == nil)
        #expect(seen[1].input.contains(TraceField("iova", hex: 0x1000)))
        #expect(seen[1].error?.errno == .noSuchFileOrDirectory)
        #expect(seen[1].error?.meaning.contains("nothing mapped") == true)
        let line = seen[1].description
        #expect(line.hasPrefix("IOMMU_IOAS_UNMAP (0x3b86) fd 4242 in: "), "\(line)")
        #expect(line.contains("iova=0x1000") && line.contains("-> ENOENT (2): nothing mapped"), "\(line)")
        #expect(!line.contains("Optional"), "\(line)")
        #expect(seen[0].description.contains("-> ok (0)"), "\(seen[0].description)")
    }

    /// Regression: the handler used to be re-wrapped in a thunk on every read, so a long
    /// traced run overflowed the stack (found by Scripts/bench at ~20k traced ioctls).
    @Test func longTracedRunKeepsAFlatHandler() throws {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 4343, driver: mock)
        let ioas = IOAS(id: IOASID(rawValue: 1), fd: iommufd.fd)
        let page = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { page.deallocate() }
        let count = Captured<Int>(0)
        try IoctlTracer.with({ e in if e.fd == 4343 { count.set(count.get + 1) } }) { () throws(IOMMUFDError) in
            for _ in 0..<100_000 { try ioas.map(page, at: 0x10_0000) }
        }
        #expect(count.get == 100_000)
        _ = ioas.release()
    }
}

import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// What the fuzz targets (Fuzz/, Scripts/fuzz) found in the IOMMUFD module: each of
/// these trapped or allocated without bound before, and must now answer an IOMMUFDError
/// (or, for plain values, a safe result). Against the MOCK driver.
@Suite struct FuzzFindingsTests {
    /// hwInfo(bufferSize: -1) trapped in `[UInt8](repeating:count:)`; one past UInt32 in `UInt32(_:)`.
    @Test func hwInfoBufferSizeOutsideRangeIsRefused() {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 601, driver: mock)
        for size in [-1, Int.min, IOMMUFD.maximumHWInfoBuffer + 1, 1 << 40] {
            let error = #expect(throws: IOMMUFDError.self) { _ = try iommufd.hwInfo(device: IOMMUFDDeviceID(rawValue: 1), bufferSize: size) }
            #expect(error?.origin == .validation && error?.argument == "data_len")
        }
        #expect(mock.calls.isEmpty)
    }

    /// A kernel claiming UINT32_MAX IOVA ranges made iovaRanges() allocate 64 GiB.
    @Test func iovaRangesRefusesAHugeCount() {
        let mock = MockIoctlDriver()
        let numIOVAs = offset(\iommu_ioas_iova_ranges.num_iovas)
        mock.script(.ioasIOVARanges, .edit({ $0.storeBytes(of: UInt32.max, toByteOffset: numIOVAs, as: UInt32.self) },
                                           then: .messageTooLong))
        let ioas = IOAS(id: IOASID(rawValue: 1), fd: KernelFD(adopting: 602, driver: mock))
        let error = #expect(throws: IOMMUFDError.self) { _ = try ioas.iovaRanges() }
        #expect(error?.errno == .argListTooLong && error?.argument == "num_iovas")
        #expect(mock.calls(.ioasIOVARanges).count == 1)
        _ = ioas.release()
    }

    /// A kernel whose count kept growing made iovaRanges() loop forever.
    @Test func iovaRangesStopsWhenTheCountKeepsGrowing() {
        let mock = MockIoctlDriver()
        let numIOVAs = offset(\iommu_ioas_iova_ranges.num_iovas)
        for n in 5...12 {
            mock.script(.ioasIOVARanges, .edit({ $0.storeBytes(of: UInt32(n), toByteOffset: numIOVAs, as: UInt32.self) },
                                               then: .messageTooLong))
        }
        let ioas = IOAS(id: IOASID(rawValue: 1), fd: KernelFD(adopting: 603, driver: mock))
        let error = #expect(throws: IOMMUFDError.self) { _ = try ioas.iovaRanges() }
        #expect(error?.errno == .argListTooLong)
        #expect(mock.calls(.ioasIOVARanges).count == 4)
        _ = ioas.release()
    }

    /// readFaults/readEvents(max: Int.max) allocated max records; eventSize Int.max overflowed.
    @Test func queueReadsRefuseOutOfRangeCounts() throws {
        let mock = MockIoctlDriver()
        mock.script(.faultQueueAlloc, .u32(77, at: offset(\iommu_fault_alloc.out_fault_fd)))
        mock.script(.veventqAlloc, .u32(78, at: offset(\iommu_veventq_alloc.out_veventq_fd)))
        let iommufd = IOMMUFD(adopting: 604, driver: mock)
        let faults = try iommufd.allocFaultQueue()
        var events = try iommufd.allocVEventQueue(viommu: VIOMMUID(rawValue: 2), type: .selftest, depth: 4)
        for max in [0, -1, maximumQueueRead + 1, Int.max] {
            let f = #expect(throws: IOMMUFDError.self) { _ = try faults.readFaults(max: max) }
            #expect(f?.origin == .validation && f?.argument == "max")
            let e = #expect(throws: IOMMUFDError.self) { _ = try events.readEvents(max: max) }
            #expect(e?.origin == .validation && e?.argument == "max")
        }
        #expect(try faults.readFaults(max: maximumQueueRead).isEmpty)
        for size in [-1, VEventQueue.maximumEventSize + 1, Int.max] {
            #expect(throws: IOMMUFDError.self) {
                _ = try iommufd.allocVEventQueue(viommu: VIOMMUID(rawValue: 2), type: .default, depth: 4, eventSize: size)
            }
        }
        #expect(mock.calls(.veventqAlloc).count == 1)
    }

    /// A timeout of Int64.max seconds overflowed `s * 1000`; a negative one became poll's "forever".
    @Test func queueTimeoutsAreClampedToWhatPollTakes() throws {
        let mock = MockIoctlDriver()
        mock.script(.faultQueueAlloc, .u32(79, at: offset(\iommu_fault_alloc.out_fault_fd)))
        let iommufd = IOMMUFD(adopting: 605, driver: mock)
        let faults = try iommufd.allocFaultQueue()
        for timeout: Duration in [.seconds(Int64.max), .milliseconds(-500), .seconds(-3), .milliseconds(1500)] {
            #expect(try faults.readFaults(timeout: timeout).isEmpty)
        }
        #expect(mock.pollTimeouts == [Int32.max, 0, 0, 1500])
    }

    /// An entry length past UInt32 trapped in `UInt32(entryLength)` when the data was empty.
    @Test func invalidateRefusesAnEntryLengthPastU32() {
        let mock = MockIoctlDriver()
        let iommufd = IOMMUFD(adopting: 606, driver: mock)
        let error = #expect(throws: InvalidationError.self) {
            _ = try iommufd.invalidate(HWPTID(rawValue: 3), .raw(type: 1, entryLength: 1 << 33, data: []))
        }
        #expect(error?.error.origin == .validation && error?.handled == 0)
        #expect(mock.calls.isEmpty)
    }

    /// A hand-built bitmap over 2^64 bytes of 1-byte pages trapped in `Int(length / pageSize)`,
    /// and listing its dirty pages walked 2^64 pages.
    @Test func handBuiltBitmapsAreBoundedByTheirBits() {
        let bitmap = DirtyBitmap(iova: 0x1000, length: .max, pageSize: 1, bits: [0b101])
        #expect(bitmap.pageCount == Int.max)
        #expect(bitmap.dirtyPages == [0x1000, 0x1002])
        #expect(bitmap.dirtyCount == 2)
        #expect(bitmap.isDirty(0x1002) && !bitmap.isDirty(0x1001) && !bitmap.isDirty(.max - 1))
        let wrapping = DirtyBitmap(iova: .max - 1, length: 4, pageSize: 1, bits: [0b1100])
        #expect(wrapping.dirtyPages == [0, 1])
    }
}

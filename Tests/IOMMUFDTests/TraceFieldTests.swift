import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing

/// Traced ioctls keep a copy of the argument and decode its fields when read, against the
/// MOCK driver: inline (small plain data), boxed (large), raw bytes (no field names), and
/// eagerly decoded (not plain data).
@Suite struct TraceFieldTests {
    /// A plain struct the library has no field names for: traced as its own bytes.
    struct Unnamed { var size: UInt32 = 8; var value: UInt32 = 0x1122_3344 }
    /// Not plain data (holds a reference): decoded when the ioctl runs.
    struct WithReference { var size: UInt32 = 24; var padding: UInt32 = 0; var tag = "kept" }

    private func traced<T>(_ fd: Int32, _ mock: MockIoctlDriver, _ request: IoctlRequest,
                           _ argument: inout T) throws -> IoctlTraceEvent? {
        let iommufd = IOMMUFD(adopting: fd, driver: mock)
        let seen = Captured<[IoctlTraceEvent]>([])
        try IoctlTracer.with({ e in if e.fd == fd { seen.set(seen.get + [e]) } }) { () throws(IOMMUFDError) in
            try iommufd.fd.perform(request, &argument)
        }
        return seen.get.first
    }

    @Test func smallArgumentIsKeptInlineAndDecodedWhenRead() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasMap, .edit { $0.storeBytes(of: 0xabc000, toByteOffset: offset(\iommu_ioas_map.iova), as: UInt64.self) })
        var cmd = iommu_ioas_map()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_map>.size)
        cmd.length = 0x1000
        let event = try #require(try traced(4501, mock, .ioasMap, &cmd))
        cmd.length = 0x2000  // the event keeps its own copy
        #expect(event.input.contains(TraceField("length", hex: 0x1000)))
        #expect(event.input.contains(TraceField("iova", hex: 0)))
        #expect(event.output.contains(TraceField("iova", hex: 0xabc000)))
    }

    @Test func largeArgumentIsBoxed() throws {
        #expect(MemoryLayout<iommu_test_cmd>.size > 64)
        var cmd = iommu_test_cmd()
        cmd.size = UInt32(MemoryLayout<iommu_test_cmd>.size)
        cmd.op = 7
        let event = try #require(try traced(4502, MockIoctlDriver(), .testCmd, &cmd))
        #expect(event.input == cmd.traceFields)
        #expect(event.output == cmd.traceFields)
    }

    @Test func unnamedStructShowsItsOwnBytes() throws {
        var plain = Unnamed()
        let event = try #require(try traced(4503, MockIoctlDriver(), .ioasMap, &plain))
        #expect(event.input == [TraceField("bytes", "0800000044332211")])
    }

    @Test func nonPlainArgumentIsDecodedEagerly() throws {
        var argument = WithReference()
        let event = try #require(try traced(4504, MockIoctlDriver(), .ioasMap, &argument))
        #expect(event.input.count == 1 && event.input[0].name == "bytes")
        #expect(event.input == event.output)
    }

    @Test func failedIoctlHasNoOutput() throws {
        let mock = MockIoctlDriver()
        mock.script(.ioasUnmap, .fail(.noSuchFileOrDirectory))
        var cmd = iommu_ioas_unmap()
        cmd.size = UInt32(MemoryLayout<iommu_ioas_unmap>.size)
        let iommufd = IOMMUFD(adopting: 4505, driver: mock)
        let seen = Captured<[IoctlTraceEvent]>([])
        IoctlTracer.with({ e in if e.fd == 4505 { seen.set(seen.get + [e]) } }) {
            _ = try? iommufd.fd.perform(.ioasUnmap, &cmd)
        }
        let event = try #require(seen.get.first)
        #expect(event.output.isEmpty && event.result == nil && event.error?.errno == .noSuchFileOrDirectory)
        #expect(!event.input.isEmpty)
    }
}

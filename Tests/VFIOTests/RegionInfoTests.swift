import CIOMMUFD
import Glibc
import IOMMUFD
import Testing
@testable import VFIO

/// The argsz two-pass for region capability chains, and region I/O, against the MOCK kernel.
@Suite struct RegionInfoTests {
    let mock = MockVFIOKernel()

    /// A chain: sparse mmap (2 areas) → region type → MSI-X mappable, offsets from the info start (32).
    static func capChain() -> [UInt8] {
        var c = [UInt8](repeating: 0, count: 16 + 32 + 16 + 8)
        c.putLE(UInt16(VFIO_REGION_INFO_CAP_SPARSE_MMAP), at: 0)
        c.putLE(UInt16(1), at: 2)
        c.putLE(UInt32(32 + 48), at: 4)
        c.putLE(UInt32(2), at: 8)
        c.putLE(UInt64(0), at: 16); c.putLE(UInt64(0x2000), at: 24)
        c.putLE(UInt64(0x3000), at: 32); c.putLE(UInt64(0x1000), at: 40)
        c.putLE(UInt16(VFIO_REGION_INFO_CAP_TYPE), at: 48)
        c.putLE(UInt16(1), at: 50)
        c.putLE(UInt32(32 + 64), at: 52)
        c.putLE(UInt32(VFIO_REGION_TYPE_GFX), at: 56)
        c.putLE(UInt32(VFIO_REGION_SUBTYPE_GFX_EDID), at: 60)
        c.putLE(UInt16(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE), at: 64)
        c.putLE(UInt16(1), at: 66)
        c.putLE(UInt32(0), at: 68)
        return c
    }

    func boundDevice() throws -> VFIODevice {
        mock.add(2000, .iommufd)
        mock.add(2001, .cdev)
        let iommufd = IOMMUFD(adopting: 2000, driver: mock)
        let device = VFIODevice(adopting: 2001, name: "vfio0", driver: mock)
        _ = try device.bind(iommufd: iommufd)
        return device
    }

    @Test func twoPassDecodesSparseAreasTypeAndMSIX() throws {
        mock.regions[2] = .init(flags: 0x7, size: 0x4000, caps: Self.capChain())
        let device = try boundDevice()
        let info = try device.regionInfo(.bar(2))
        let sent = mock.calls(.vfioDeviceGetRegionInfo)
        #expect(sent.count == 2)
        #expect(sent[0].bytes.le(UInt32.self, at: 0) == 32)
        #expect(sent[0].bytes.le(UInt32.self, at: 8) == 2)
        #expect(sent[1].bytes.le(UInt32.self, at: 0) == UInt32(32 + Self.capChain().count))
        #expect(info.flags.contains(.caps) && info.flags.contains(.mmap))
        #expect(info.size == 0x4000 && info.offset == 2 << 40)
        #expect(info.sparseAreas == [SparseMmapArea(offset: 0, size: 0x2000), SparseMmapArea(offset: 0x3000, size: 0x1000)])
        #expect(info.type?.type == UInt32(VFIO_REGION_TYPE_GFX) && info.type?.subtype == UInt32(VFIO_REGION_SUBTYPE_GFX_EDID))
        #expect(info.msixMappable)
        #expect(info.capabilities.map(\.id) == [1, 2, 3])
    }

    @Test func regionWithoutCapsIsOnePass() throws {
        let device = try boundDevice()
        let info = try device.regionInfo(.config)
        #expect(mock.calls(.vfioDeviceGetRegionInfo).count == 1)
        #expect(info.sparseAreas == nil && info.capabilities.isEmpty && info.size == 256)
    }

    @Test func malformedChainsEndWithoutTrapping() {
        var loop = [UInt8](repeating: 0, count: 48)
        loop.putLE(UInt16(1), at: 32)
        loop.putLE(UInt32(32), at: 36) // points at itself
        #expect(InfoCapability.chain(in: loop, first: 32, headerSize: 32).count == 1)
        #expect(InfoCapability.chain(in: loop, first: 4000, headerSize: 32).isEmpty)
        #expect(InfoCapability.chain(in: loop, first: 8, headerSize: 32).isEmpty)
        // A sparse cap claiming 1000 areas with room for none decodes to none.
        var cap = [UInt8](repeating: 0, count: 32 + 16)
        cap.putLE(UInt16(VFIO_REGION_INFO_CAP_SPARSE_MMAP), at: 32)
        cap.putLE(UInt32(1000), at: 40)
        let caps = InfoCapability.chain(in: cap, first: 32, headerSize: 32)
        let info = RegionInfo(index: .bar0, raw: vfio_region_info(), capabilities: caps)
        #expect(info.sparseAreas == [])
    }

    @Test func configReadWriteAndBounds() throws {
        let device = try boundDevice()
        #expect(try device.read16(.config, at: PCIConfig.vendorID) == 0x1234)
        #expect(try device.read16(.config, at: PCIConfig.deviceID) == 0x11e8)
        #expect(try device.read32(.config, at: 0) == 0x11e8_1234)
        try device.setPCIBusMaster(true)
        #expect(try device.read16(.config, at: PCIConfig.command) & 0x6 == 0x6)
        try device.write8(.config, at: 0x3c, 0x0b)
        #expect(try device.read8(.config, at: 0x3c) == 0x0b)
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.read32(.config, at: 254) })
        #expect(e.origin == .validation && e.argument == "offset")
    }

    @Test func mapRegionChecksSparseAreasAndMapsARealFile() throws {
        mock.regions[2] = .init(flags: 0x7, size: 0x4000, caps: Self.capChain())
        // A temp file stands in for the device fd: the mock answers the ioctls, the kernel the mmap.
        var path = Array("/tmp/vfio-mock-XXXXXX".utf8CString)
        let real = mkstemp(&path)
        try #require(real >= 0)
        unlink(path)
        #expect(ftruncate(real, 0x4000) == 0)
        mock.realFDs.insert(real)
        mock.add(real, .groupDevice) // group devices need no bind
        let device = VFIODevice(adopting: real, name: "memfile", origin: .group, driver: mock)
        // The mock reports offset index<<40; remap index 2 at offset 0 by using a region at 0.
        mock.regions[0] = .init(flags: 0x7, size: 0x4000, caps: Self.capChain())
        let outside = try #require(#expect(throws: IOMMUFDError.self) { _ = try device.mapRegion(.bar0, offset: 0x2000, length: 0x1000) })
        #expect(outside.meaning.contains("sparse"))
        let m = try device.mapRegion(.bar0, offset: 0, length: 0x2000)
        try m.store32(0xdead_beef, at: 0x10)
        try m.store64(0x0123_4567_89ab_cdef, at: 0x18)
        #expect(try m.load32(at: 0x10) == 0xdead_beef)
        #expect(try m.load64(at: 0x18) == 0x0123_4567_89ab_cdef)
        // Outside or misaligned: a typed error, not a fault.
        #expect(throws: IOMMUFDError.self) { try m.load32(at: m.length) }
        #expect(throws: IOMMUFDError.self) { try m.store64(1, at: 0x1c) }
        #expect(throws: IOMMUFDError.self) { try m.load32(at: -4) }
        #expect(try device.read32(.bar0, at: 0x10) == 0xdead_beef) // through pread on the same file
    }
}

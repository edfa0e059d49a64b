import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing
@testable import VFIO

/// Legacy type1 and iommufd-compat containers + groups, against the MOCK kernel.
@Suite struct ContainerGroupTests {
    let mock = MockVFIOKernel()

    func openContainer(compat: Bool) -> VFIOContainer {
        mock.add(3000, .container(compat: compat))
        return VFIOContainer(adopting: 3000, kind: compat ? .iommufdCompat : .vfio, driver: mock)
    }

    func openGroup() -> VFIOGroup {
        mock.add(3001, .group)
        return VFIOGroup(adopting: 3001, number: 5, driver: mock)
    }

    @Test(arguments: [false, true])
    func setIOMMUBeforeGroupFailsPerKind(compat: Bool) throws {
        let container = openContainer(compat: compat)
        #expect(try container.apiVersion() == 0)
        #expect(try container.checkExtension(.type1v2))
        #expect(try container.checkExtension(.updateVaddr) == false)
        #expect(mock.last(.vfioCheckExtension)?.value == UInt(VFIO_UPDATE_VADDR))
        let e = try #require(#expect(throws: IOMMUFDError.self) { try container.setIOMMU(.type1v2) })
        #expect(e.errno == (compat ? .operationNotSupportedByDevice : .invalidArgument))
        #expect(e.meaning.contains("no group"))
    }

    @Test(arguments: [VFIOExtension.type1, .type1v2], [false, true])
    func groupFlowMapUnmap(type: VFIOExtension, compat: Bool) throws {
        let container = openContainer(compat: compat)
        let group = openGroup()
        #expect(try group.status() == GroupStatus(viable: true, containerSet: false))
        try group.setContainer(container)
        #expect(mock.last(.vfioGroupSetContainer)?.bytes == [0xb8, 0x0b, 0, 0]) // int 3000
        #expect(try group.status().containerSet)
        try container.setIOMMU(type)
        #expect(mock.last(.vfioSetIOMMU)?.value == type.rawValue)

        let info = try container.iommuInfo()
        #expect(mock.calls(.vfioIOMMUGetInfo).map { $0.bytes.le(UInt32.self, at: 0) } == [24, 84])
        #expect(info.pageSizes == 0x4020_1000)
        #expect(info.iovaRanges == [IOVARange(start: 0, last: 0xfedf_ffff), IOVARange(start: 0xfef0_0000, last: 0x7f_ffff_ffff)])
        #expect(info.dmaAvailable == 65535)

        try container.mapDMA(vaddr: 0x7000_0000, iova: 0x10_0000, size: 0x2000, access: .read)
        let m = try #require(mock.last(.vfioIOMMUMapDMA))
        #expect(m.bytes.count == 32)
        #expect(m.bytes.le(UInt32.self, at: 0) == 32 && m.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_DMA_MAP_FLAG_READ))
        #expect(m.bytes.le(UInt64.self, at: 8) == 0x7000_0000 && m.bytes.le(UInt64.self, at: 16) == 0x10_0000)
        #expect(m.bytes.le(UInt64.self, at: 24) == 0x2000)
        let overlap = try #require(#expect(throws: IOMMUFDError.self) { try container.mapDMA(vaddr: 0x7000_0000, iova: 0x10_1000, size: 0x1000) })
        #expect(overlap.errno == .fileExists && overlap.meaning.contains("overlaps"))
        let wrap = try #require(#expect(throws: IOMMUFDError.self) { try container.mapDMA(vaddr: 0x1000, iova: .max - 0xfff, size: 0x2000) })
        #expect(wrap.errno == (compat ? .overflow : .invalidArgument))
        try container.mapDMA(vaddr: 0x7100_0000, iova: 0x20_0000, size: 0x1000)

        #expect(try container.unmapDMA(iova: 0x10_0000, size: 0x2000) == 0x2000)
        let u = try #require(mock.last(.vfioIOMMUUnmapDMA))
        #expect(u.bytes.count == 24 && u.bytes.le(UInt32.self, at: 4) == 0)
        #expect(try container.unmapDMA(iova: 0x50_0000, size: 0x1000) == 0) // empty range: OK, 0 bytes
        #expect(try container.unmapAll() == 0x1000)
        #expect(mock.last(.vfioIOMMUUnmapDMA)?.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_DMA_UNMAP_FLAG_ALL))

        if compat {
            let d = try #require(#expect(throws: IOMMUFDError.self) { try container.startDirtyTracking() })
            #expect(d.errno == .inappropriateIOCTLForDevice && d.meaning.contains("compat"))
        } else {
            try container.startDirtyTracking()
            #expect(mock.last(.vfioIOMMUDirtyPages)?.bytes == [8, 0, 0, 0, 1, 0, 0, 0])
            let bitmap = try container.dirtyBitmap(iova: 0, size: 0x10_0000, pageSize: 4096)
            #expect(bitmap.count == 4)
            let g = try #require(mock.last(.vfioIOMMUDirtyPages))
            #expect(g.bytes.le(UInt32.self, at: 0) == 48 && g.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP))
            #expect(g.bytes.le(UInt64.self, at: 16) == 0x10_0000 && g.bytes.le(UInt64.self, at: 24) == 4096)
            #expect(g.bytes.le(UInt64.self, at: 32) == 32) // bitmap bytes
            try container.stopDirtyTracking()
        }

        // Device from the group: GET_DEVICE_FD takes the name; cdev-only ioctls refuse it.
        let device = try group.deviceFD("0000:00:03.0")
        #expect(mock.last(.vfioGroupGetDeviceFD)?.bytes == Array("0000:00:03.0".utf8))
        #expect(device.origin == .group)
        #expect(try device.info().numRegions == 9)
        mock.add(3002, .iommufd)
        let iommufd = IOMMUFD(adopting: 3002, driver: mock)
        let b = try #require(#expect(throws: IOMMUFDError.self) { try device.bind(iommufd: iommufd) })
        #expect(b.errno == .invalidArgument && b.meaning.contains("group"))
        let a = try #require(#expect(throws: IOMMUFDError.self) { try device.attach(IOASID(rawValue: 1)) })
        #expect(a.errno == .inappropriateIOCTLForDevice && a.meaning.contains("group"))
        let missing = try #require(#expect(throws: IOMMUFDError.self) { _ = try group.deviceFD("0000:00:09.0") })
        #expect(missing.errno == .operationNotSupportedByDevice)
        #expect(throws: IOMMUFDError.self) { _ = try group.deviceFD("") }
        try group.unsetContainer()
    }

    @Test func compatSharesAnIOMMUFD() throws {
        mock.add(3100, .container(compat: true))
        let iommufd = IOMMUFD(adopting: 3100, driver: mock)
        let container = VFIOContainer(compat: iommufd)
        #expect(container.kind == .iommufdCompat)
        #expect(container.fd === iommufd.fd)
        #expect(try container.apiVersion() == 0)
    }
}

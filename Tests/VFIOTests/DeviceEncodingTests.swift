import CIOMMUFD
import IOMMUFD
import SystemPackage
import Testing
@testable import VFIO

/// Struct encodings and errno mapping of the cdev device API, against the MOCK kernel.
@Suite struct DeviceEncodingTests {
    let mock = MockVFIOKernel()
    static let iommufdFD: Int32 = 1000
    static let deviceFD: Int32 = 1001

    init() {
        mock.add(Self.iommufdFD, .iommufd)
        mock.add(Self.deviceFD, .cdev)
    }

    // Tuples of noncopyable values are not supported: one helper per object.
    func openIOMMUFD() -> IOMMUFD { IOMMUFD(adopting: Self.iommufdFD, driver: mock) }
    func openDevice() -> VFIODevice { VFIODevice(adopting: Self.deviceFD, name: "/dev/vfio/devices/vfio0", driver: mock) }

    @Test func bindSends16ByteFormWithoutToken() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        let id = try device.bind(iommufd: iommufd)
        let call = try #require(mock.last(.vfioDeviceBindIOMMUFD))
        #expect(call.bytes.count == 16)
        #expect(call.bytes.le(UInt32.self, at: 0) == 16)        // argsz
        #expect(call.bytes.le(UInt32.self, at: 4) == 0)         // flags
        #expect(call.bytes.le(UInt32.self, at: 8) == UInt32(Self.iommufdFD))
        #expect(id.rawValue == 1)
    }

    @Test func bindWithTokenSends24BytesAndFlag() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        let e = #expect(throws: IOMMUFDError.self) { try device.bind(iommufd: iommufd, token: Array(repeating: 7, count: 16)) }
        // The mock plays 6.12: the token flag is unknown → EINVAL.
        #expect(e?.errno == .invalidArgument)
        let call = try #require(mock.last(.vfioDeviceBindIOMMUFD))
        #expect(call.bytes.le(UInt32.self, at: 0) == 24)
        #expect(call.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_DEVICE_BIND_FLAG_TOKEN))
        #expect(call.bytes.le(UInt64.self, at: 16) != 0)       // token_uuid_ptr
        #expect(throws: IOMMUFDError.self) { try device.bind(iommufd: iommufd, token: [1, 2, 3]) }
    }

    @Test func bindTwiceIsEINVALWithVFIOMeaning() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.bind(iommufd: iommufd) })
        #expect(e.errno == .invalidArgument)
        #expect(e.ioctl == "VFIO_DEVICE_BIND_IOMMUFD")
        #expect(e.origin == .kernel)
        #expect(e.meaning.contains("already bound"))
        #expect(e.description.contains("EINVAL"))
    }

    @Test func bindBadIOMMUFDFails() throws {
        let device = openDevice()
        let neg = try #require(#expect(throws: IOMMUFDError.self) { try device.bind(iommufdDescriptor: FileDescriptor(rawValue: -1)) })
        #expect(neg.errno == .invalidArgument)
        let bad = try #require(#expect(throws: IOMMUFDError.self) { try device.bind(iommufdDescriptor: FileDescriptor(rawValue: 77)) })
        #expect(bad.errno == .badFileDescriptor)
    }

    @Test func attachBeforeBindIsEINVALDeviceNotBound() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        let ioas = try iommufd.allocIOAS()
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.attach(ioas.id) })
        #expect(e.errno == .invalidArgument)
        #expect(e.ioctl == "VFIO_DEVICE_ATTACH_IOMMUFD_PT")
        #expect(e.meaning.contains("not bound"))
        #expect(e.argument == "pt_id")
        // Every other device ioctl as well (vfio_main.c:1280).
        #expect((try? device.info()) == nil)
    }

    @Test func attachEncodesAndReturnsHWPT() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        let ioas = try iommufd.allocIOAS()
        let hwpt = try device.attach(ioas.id)
        let call = try #require(mock.last(.vfioDeviceAttachIOMMUFDPT))
        #expect(call.bytes.count == 12)
        #expect(call.bytes.le(UInt32.self, at: 0) == 12)
        #expect(call.bytes.le(UInt32.self, at: 4) == 0)
        #expect(call.bytes.le(UInt32.self, at: 8) == ioas.id.rawValue)
        #expect(hwpt.rawValue == ioas.id.rawValue + 100)
        // Replace = attach again; bad id → ENOENT.
        _ = try device.attach(ioas.id)
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.attach(IOASID(rawValue: 999)) })
        #expect(e.errno == .noSuchFileOrDirectory)
        try device.detach()
        let d = try #require(mock.last(.vfioDeviceDetachIOMMUFDPT))
        #expect(d.bytes == [8, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func pasidAttachOnOldKernelSaysNotSupported() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        let ioas = try iommufd.allocIOAS()
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.attach(pasid: 5, to: ioas.id) })
        #expect(e.errno == .invalidArgument)
        #expect(e.meaning.contains("not supported by this kernel"))
        let call = try #require(mock.last(.vfioDeviceAttachIOMMUFDPT))
        #expect(call.bytes.le(UInt32.self, at: 0) == 16)
        #expect(call.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_DEVICE_ATTACH_PASID))
        #expect(call.bytes.le(UInt32.self, at: 12) == 5)
        #expect(throws: IOMMUFDError.self) { try device.detach(pasid: 5) }
        #expect(mock.last(.vfioDeviceDetachIOMMUFDPT)?.bytes.le(UInt32.self, at: 0) == 12)
    }

    @Test func infoDecodesFlags() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        let info = try device.info()
        #expect(info.flags.contains(.reset) && info.flags.contains(.pci))
        #expect(info.numRegions == 9 && info.numIRQs == 5)
        #expect(mock.last(.vfioDeviceGetInfo)?.bytes.le(UInt32.self, at: 0) == 24)
    }

    @Test func badRegionIndexIsEINVAL() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.regionInfo(.vga) })
        #expect(e.errno == .invalidArgument)
        #expect(e.meaning.contains("no region with that index"))
        #expect(mock.last(.vfioDeviceGetRegionInfo)?.bytes.le(UInt32.self, at: 8) == 8)
        let irq = try #require(#expect(throws: IOMMUFDError.self) { try device.irqInfo(rawIndex: 9) })
        #expect(irq.errno == .invalidArgument)
    }

    @Test func irqInfoAndSetIRQsEncoding() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        let msi = try device.irqInfo(.msi)
        #expect(msi.count == 1 && msi.flags.contains(.eventfd))
        #expect(mock.last(.vfioDeviceGetIRQInfo)?.bytes == [16, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])

        try device.enableIRQs(.msi, eventFDs: [FileDescriptor(rawValue: 33), FileDescriptor(rawValue: 34)])
        var c = try #require(mock.last(.vfioDeviceSetIRQs))
        #expect(c.bytes.count == 28)
        #expect(c.bytes.le(UInt32.self, at: 0) == 28)
        #expect(c.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER))
        #expect(c.bytes.le(UInt32.self, at: 8) == 1)  // index
        #expect(c.bytes.le(UInt32.self, at: 12) == 0) // start
        #expect(c.bytes.le(UInt32.self, at: 16) == 2) // count
        #expect(c.bytes.le(UInt32.self, at: 20) == 33 && c.bytes.le(UInt32.self, at: 24) == 34)

        try device.triggerIRQ(.intx)
        c = try #require(mock.last(.vfioDeviceSetIRQs))
        let expected: [UInt8] = [20, 0, 0, 0, UInt8(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER), 0, 0, 0,
                                 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]
        #expect(c.bytes == expected)
        try device.maskIRQ(.intx)
        #expect(mock.last(.vfioDeviceSetIRQs)?.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK))
        try device.unmaskIRQ(.intx)
        #expect(mock.last(.vfioDeviceSetIRQs)?.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK))
        try device.setIRQs(0, action: .unmask, data: .bools([true, false]))
        c = try #require(mock.last(.vfioDeviceSetIRQs))
        #expect(c.bytes.count == 22 && c.bytes[20] == 1 && c.bytes[21] == 0)
        #expect(c.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK))
        try device.disableIRQs(.msi)
        c = try #require(mock.last(.vfioDeviceSetIRQs))
        #expect(c.bytes.le(UInt32.self, at: 16) == 0) // count 0 = disable
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.setIRQs(7, action: .trigger, count: 0) })
        #expect(e.ioctl == "VFIO_DEVICE_SET_IRQS" && e.errno == .invalidArgument)
    }

    @Test func resetFeatureAndHotResetInfo() throws {
        let iommufd = openIOMMUFD(); let device = openDevice()
        _ = try device.bind(iommufd: iommufd)
        try device.reset()
        #expect(mock.last(.vfioDeviceReset) != nil)

        try device.setBusMasterFeature(true)
        let f = try #require(mock.last(.vfioDeviceFeature))
        #expect(f.bytes.count == 12)
        #expect(f.bytes.le(UInt32.self, at: 4) == UInt32(VFIO_DEVICE_FEATURE_BUS_MASTER) | UInt32(VFIO_DEVICE_FEATURE_SET))
        #expect(f.bytes.le(UInt32.self, at: 8) == 1)
        #expect(try device.supports(.busMaster, .set))
        #expect(try device.supports(.migration, .get) == false)
        #expect(mock.last(.vfioDeviceFeature)?.bytes.le(UInt32.self, at: 4)
                == UInt32(VFIO_DEVICE_FEATURE_MIGRATION) | UInt32(VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
        let e = try #require(#expect(throws: IOMMUFDError.self) { try device.startDMALogging(pageSize: 4096, ranges: [(0, 1 << 20)]) })
        #expect(e.errno == .inappropriateIOCTLForDevice && e.meaning.contains("not supported"))
        let log = try #require(mock.last(.vfioDeviceFeature))
        #expect(log.bytes.count == 8 + 24)
        #expect(log.bytes.le(UInt64.self, at: 8) == 4096 && log.bytes.le(UInt32.self, at: 16) == 1)

        // Hot reset: ENOSPC two-pass when more devices than room.
        mock.state.withLock { $0.hotResetDevices = 10 }
        let info = try device.hotResetInfo()
        #expect(info.devices.count == 10 && info.usesDeviceIDs)
        #expect(info.devices[1].address == "0000:00:03.1")
        let sizes = mock.calls(.vfioDeviceGetPCIHotResetInfo).map { $0.bytes.le(UInt32.self, at: 0) }
        let expected: [UInt32?] = [76, 92] // 12 + 8*8, 12 + 8*10
        #expect(sizes == expected)
    }

    @Test func closedDeviceClosesOnceAndNeverReusesTheNumber() throws {
        do {
            let iommufd = openIOMMUFD(); let device = openDevice()
            _ = iommufd.fd; _ = device.fd
        }
        #expect(mock.state.withLock { $0.closed }.sorted() == [Self.iommufdFD, Self.deviceFD])
    }
}

import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage
import Testing
@testable import VFIO

/// The whole userspace-driver path the VM smoke test runs, against the MOCK kernel's
/// emulated edu: bind → IOAS → attach → map two buffers → DMA RAM→device→RAM.
@Suite struct EduSmokeTests {
    let mock = MockVFIOKernel()

    func buffers() -> (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer) {
        (UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096),
         UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096))
    }

    func same(_ a: UnsafeMutableRawBufferPointer, _ b: UnsafeMutableRawBufferPointer, _ n: Int) -> Bool {
        a.prefix(n).elementsEqual(b.prefix(n))
    }

    @Test func cdevFlowCopiesThroughTheDevice() throws {
        mock.add(5000, .iommufd)
        mock.add(5001, .cdev)
        let iommufd = IOMMUFD(adopting: 5000, driver: mock)
        let device = VFIODevice(adopting: 5001, name: "/dev/vfio/devices/vfio0", driver: mock)
        _ = try device.bind(iommufd: iommufd)
        let ioas = try iommufd.allocIOAS()
        _ = try device.attach(ioas.id)
        let (src, dst) = buffers()
        defer { src.deallocate(); dst.deallocate() }
        for i in 0..<4096 { src[i] = UInt8(truncatingIfNeeded: i * 7 + 1); dst[i] = 0 }
        try ioas.map(src, at: 0x10_0000)
        try ioas.map(dst, at: 0x20_0000)

        let edu = try EduDevice(device)
        // Bus Master got set in the PCI command register.
        #expect(mock.state.withLock { $0.config.le(UInt16.self, at: 4) ?? 0 } & 4 != 0)
        try edu.copyToDevice(from: 0x10_0000, deviceOffset: 0, length: 4095)
        #expect(try edu.status().busy)
        try edu.wait(timeout: .seconds(1))
        try edu.copyFromDevice(deviceOffset: 0, to: 0x20_0000, length: 4095)
        try edu.wait(timeout: .seconds(1))
        #expect(same(src, dst, 4095))
        let regs = mock.state.withLock { $0.edu }
        #expect(regs.src == 0x40000 && regs.dst == 0x20_0000 && regs.cnt == 4095 && regs.cmd & 2 != 0)
    }

    @Test(arguments: [VFIOExtension.type1, .type1v2], [false, true])
    func containerFlowCopiesThroughTheDevice(type: VFIOExtension, compat: Bool) throws {
        mock.add(6000, .container(compat: compat))
        mock.add(6001, .group)
        let container = VFIOContainer(adopting: 6000, kind: compat ? .iommufdCompat : .vfio, driver: mock)
        let group = VFIOGroup(adopting: 6001, number: 5, driver: mock)
        try group.setContainer(container)
        try container.setIOMMU(type)
        let (src, dst) = buffers()
        defer { src.deallocate(); dst.deallocate() }
        for i in 0..<64 { src[i] = UInt8(i); dst[i] = 0xff }
        try container.mapDMA(src, iova: 0x10_0000)
        try container.mapDMA(dst, iova: 0x20_0000)
        let edu = try EduDevice(try group.deviceFD("0000:00:03.0"), interruptOnCompletion: true)
        try edu.copyToDevice(from: 0x10_0000, deviceOffset: 128, length: 64)
        try edu.wait()
        try edu.copyFromDevice(deviceOffset: 128, to: 0x20_0000, length: 64)
        try edu.wait()
        #expect(same(src, dst, 64))
        #expect(try edu.status().interruptStatus & EduDevice.dmaInterrupt != 0)
        try edu.acknowledgeInterrupt(EduDevice.dmaInterrupt)
        #expect(try edu.status().interruptStatus == 0)

        // After unmap the DMA must not land (the mock IOMMU records a fault).
        try container.unmapDMA(iova: 0x20_0000, size: 4096)
        for i in 0..<64 { dst[i] = 0xee }
        try edu.copyFromDevice(deviceOffset: 128, to: 0x20_0000, length: 64)
        try edu.wait()
        #expect(dst[0] == 0xee)
        #expect(mock.state.withLock { $0.faults } == [0x20_0000])
    }

    @Test func eduChecksItsInputs() throws {
        mock.add(7001, .groupDevice)
        mock.dmaPolls = 1_000_000
        let edu = try EduDevice(VFIODevice(adopting: 7001, name: "edu", origin: .group, driver: mock))
        let big = try #require(#expect(throws: IOMMUFDError.self) { try edu.copyToDevice(from: 0x1000, deviceOffset: 4000, length: 200) })
        #expect(big.argument == "length")
        // The buffer's last byte is off limits (QEMU 7.2's edu aborts the VM on a copy reaching it).
        let whole = try #require(#expect(throws: IOMMUFDError.self) { try edu.copyToDevice(from: 0x1000, deviceOffset: 0, length: 4096) })
        #expect(whole.argument == "length")
        let masked = try #require(#expect(throws: IOMMUFDError.self) { try edu.copyToDevice(from: 1 << 30, deviceOffset: 0, length: 16) })
        #expect(masked.meaning.contains("dma_mask"))
        try edu.copyToDevice(from: 0x1000, deviceOffset: 0, length: 16)
        let busy = try #require(#expect(throws: IOMMUFDError.self) { try edu.copyToDevice(from: 0x1000, deviceOffset: 0, length: 16) })
        #expect(busy.errno == .resourceBusy)
        let timeout = try #require(#expect(throws: IOMMUFDError.self) { try edu.wait(timeout: .milliseconds(20)) })
        #expect(timeout.errno == .timedOut)
        try edu.raiseInterrupt(0x1)
        #expect(try edu.status().interruptStatus == 1)
    }

    @Test func nonEduIsRejectedAndItsFDClosed() throws {
        mock.add(7002, .groupDevice)
        mock.eduID = 0x0100_00ee
        let e = try #require(#expect(throws: IOMMUFDError.self) {
            _ = try EduDevice(VFIODevice(adopting: 7002, name: "x", origin: .group, driver: mock))
        })
        #expect(e.meaning.contains("not an edu device") && e.argument == "BAR0[0x00]")
        #expect(mock.state.withLock { $0.closed }.contains(7002)) // consumed device closed on the error path
    }

    @Test func unreadableBAR0IsAValidationError() throws {
        mock.add(7003, .groupDevice)
        mock.regions[0] = .init(flags: 0x2, size: 1 << 20) // write-only
        let e = try #require(#expect(throws: IOMMUFDError.self) {
            _ = try EduDevice(VFIODevice(adopting: 7003, name: "y", origin: .group, driver: mock))
        })
        #expect(e.origin == .validation && e.meaning.contains("not readable"))
    }
}

import CIOMMUFD
import Glibc
import IOMMUFD
import Synchronization
import Testing
@testable import VFIO

/// What the fuzz targets (Fuzz/, Scripts/fuzz) found in the VFIO module: each of these
/// trapped or allocated without bound before, and must now answer an IOMMUFDError (or a
/// bounded decode). Against the MOCK kernel.
@Suite struct VFIOFuzzFindingsTests {
    /// A `next` inside the capability's own header made the payload range end before it started.
    @Test func chainWithANextInsideTheHeaderDoesNotTrap() {
        var bytes = [UInt8](repeating: 0, count: 24)
        bytes.putLE(UInt16(3), at: 8)
        bytes.putLE(UInt32(12), at: 12)  // next = 12: inside the header at 8...15
        let caps = InfoCapability.chain(in: bytes, first: 8, headerSize: 8)
        #expect(caps.first?.id == 3 && caps.first?.payload.count == 8)
        #expect(caps.count <= 64)
    }

    /// A kernel asking for room for 2^20 hot-reset devices made the library allocate 8 MiB
    /// per pass, and for UINT32_MAX 32 GiB.
    @Test func hotResetInfoRefusesAHugeCount() throws {
        let mock = MockVFIOKernel()
        mock.add(2101, .groupDevice)  // no bind needed
        mock.state.withLock { $0.hotResetDevices = VFIODevice.maximumHotResetDevices + 1 }
        let device = VFIODevice(adopting: 2101, name: "0000:00:03.0", origin: .group, driver: mock)
        let error = #expect(throws: IOMMUFDError.self) { _ = try device.hotResetInfo() }
        #expect(error?.errno == .argListTooLong && error?.argument == "count")
        #expect(mock.calls(.vfioDeviceGetPCIHotResetInfo).count == 1)
    }

    /// `(size + pageSize - 1) / pageSize` overflowed for sizes near 2^64.
    @Test func bitmapSizesNear2To64AreRefused() throws {
        let mock = MockVFIOKernel()
        mock.add(2102, .container(compat: false))
        mock.add(2103, .cdev)
        let container = VFIOContainer(adopting: 2102, kind: .vfio, driver: mock)
        let device = VFIODevice(adopting: 2103, name: "vfio0", driver: mock)
        for (size, page) in [(UInt64.max, UInt64(2)), (.max, 1), (1 << 50, 1)] {
            let c = #expect(throws: IOMMUFDError.self) { _ = try container.dirtyBitmap(iova: 0, size: size, pageSize: page) }
            #expect(c?.origin == .validation && c?.argument == "size")
            let d = #expect(throws: IOMMUFDError.self) { _ = try device.dmaLoggingReport(iova: 0, length: size, pageSize: page) }
            #expect(d?.origin == .validation && d?.argument == "length")
        }
        #expect(mock.calls.isEmpty)
    }

    /// readBytes(count: -1) trapped in `buf[0..<count]`; a huge count was allocated before
    /// the region's bounds were checked.
    @Test func readBytesRefusesCountsOutsideRange() throws {
        let mock = MockVFIOKernel()
        mock.add(2104, .cdev)
        let device = VFIODevice(adopting: 2104, name: "vfio0", driver: mock)
        for count in [-1, Int.min, VFIODevice.maximumReadBytes + 1] {
            let error = #expect(throws: IOMMUFDError.self) { _ = try device.readBytes(.config, at: 0, count: count) }
            #expect(error?.origin == .validation && error?.argument == "count")
        }
        #expect(mock.calls.isEmpty)
    }

    /// A region whose (kernel-reported) file offset is near 2^64 trapped in `info.offset + offset`.
    @Test func regionFileOffsetThatWrapsIsRefused() throws {
        let kernel = HugeOffsetKernel()
        let device = VFIODevice(adopting: 2105, name: "vfio0", driver: kernel)
        let error = #expect(throws: IOMMUFDError.self) { _ = try device.read32(.bar0, at: 0x10) }
        #expect(error?.origin == .validation && error?.argument == "offset")
        #expect(kernel.preads.withLock { $0 } == 0)
    }
}

/// Answers GET_REGION_INFO with a readable 4 KiB region at file offset 2^64 - 8.
final class HugeOffsetKernel: IoctlDriver, DeviceFileIO, Sendable {
    let preads = Mutex(0)

    func ioctl(fd: Int32, request: UInt, argument: UnsafeMutableRawPointer?) -> Int32 {
        guard request == IoctlRequest.vfioDeviceGetRegionInfo.number, let argument else { return -EINVAL }
        var info = argument.load(as: vfio_region_info.self)
        info.flags = UInt32(VFIO_REGION_INFO_FLAG_READ)
        info.size = 0x1000
        info.offset = .max - 7
        argument.storeBytes(of: info, as: vfio_region_info.self)
        return 0
    }

    func close(fd: Int32) -> Int32 { 0 }

    func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offset: UInt64) -> Int {
        preads.withLock { $0 += 1 }
        return buffer.count
    }

    func pwrite(fd: Int32, from buffer: UnsafeRawBufferPointer, offset: UInt64) -> Int { buffer.count }
}

import Glibc
import IOMMUFD
import Testing
import VFIO

/// The README's library example, kept compiling against the real API. It needs
/// /dev/iommu and a VFIO device, so on the host it only runs when they exist.
@Suite struct ReadmeExampleTests {
    // Keep in step with README.md "Library example".
    static func readmeExample() throws {
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        let ranges = try ioas.iovaRanges()            // handles the EMSGSIZE two-pass
        print(ranges.ranges, "alignment", ranges.alignment)

        let device = try VFIODevice.openCdev("/dev/vfio/devices/vfio0")
        let devID = try device.bind(iommufd: iommufd)  // IOMMUFDDeviceID, not an Int32
        try device.attach(ioas.id)

        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
        defer { buffer.deallocate() }                // after the unmap below: the device may DMA until then
        let iova = try ioas.map(buffer, at: 0x10_0000, access: .readWrite)
        do {
            try ioas.map(buffer, at: 0x10_0000)
        } catch {
            print(error)  // IOMMU_IOAS_MAP: EEXIST (17): range overlaps an existing mapping
        }
        try ioas.unmap(iova: iova, length: 4096)
        _ = devID
    }

    @Test(.enabled(if: access("/dev/vfio/devices/vfio0", 0) == 0, "needs /dev/iommu and a VFIO device (runs in the VM)"))
    func runs() throws { try Self.readmeExample() }
}

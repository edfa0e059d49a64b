import IOMMUFD
import Testing

// This file imports IOMMUFD only (no SystemPackage): `Errno` must be reachable through it,
// and the bound-device id type must not clash with SystemPackage's `DeviceID`.
@Suite struct SingleImportTests {
    @Test func errnoAndDeviceIDNeedOneImport() {
        let error = IOMMUFDError.kernel(.ioasMap, .fileExists)
        #expect(error.errno == Errno.fileExists)
        let device = IOMMUFDDeviceID(rawValue: 3)
        #expect(device.rawValue == 3)
        // SystemPackage's own DeviceID stays usable beside it.
        #expect(MemoryLayout<DeviceID>.size > 0)
    }
}

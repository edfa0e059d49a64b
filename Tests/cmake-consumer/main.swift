// Consumer of the CMake-built IOMMUFD and VFIO modules (Scripts/cmake-build).
// Exits non-zero unless IOMMU_IOAS_MAP has request number 0x3b85 and
// IOMMUFD's errno table says what EEXIST means for it.
import IOMMUFD
import SystemPackage
import VFIO

#if canImport(Glibc)
import Glibc
#endif

let map = IoctlRequest.ioasMap
let meaning = map.meaning(of: .fileExists)
let vfioMap = IoctlRequest.vfioIOMMUMapDMA  // declared in VFIO
print("\(map.name) = 0x\(String(map.number, radix: 16))")
print("\(map.name) EEXIST: \(meaning)")
print("\(vfioMap.name) = 0x\(String(vfioMap.number, radix: 16))")

var ok = true
if map.number != 0x3b85 {
    print("FAIL: expected IOMMU_IOAS_MAP = 0x3b85")
    ok = false
}
if meaning != "range overlaps an existing mapping" {
    print("FAIL: unexpected meaning of EEXIST for IOMMU_IOAS_MAP")
    ok = false
}
if vfioMap.number != 0x3b71 {  // _IO(';', 100 + 13)
    print("FAIL: expected VFIO_IOMMU_MAP_DMA = 0x3b71")
    ok = false
}
exit(ok ? 0 : 1)

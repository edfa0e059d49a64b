// iommu-probe: what IOMMU each VFIO device sits behind, and what the kernel reports of it
// through IOMMU_GET_HW_INFO (the decoded VT-d or SMMUv3 registers, capabilities, PASID width).
//   iommu-probe
import Glibc
import IOMMUFD
import VFIO

func probe() throws(IOMMUFDError) -> Int {
    let iommufd = try IOMMUFD.open()
    var probed = 0
    for pci in PCIDevice.all() {
        guard let cdev = pci.vfioCdevPath else { continue }
        print("\(pci.address) \(String(pci.vendor, radix: 16)):\(String(pci.device, radix: 16)) "
              + "group \(pci.iommuGroup.map(String.init) ?? "-") iommu \(pci.iommuModel ?? "none")")
        do {
            let device = try VFIODevice.openCdev(cdev)
            let id = try device.bind(iommufd: iommufd)
            let info = try iommufd.hwInfo(device: id)
            print("  GET_HW_INFO: type \(info.type), capabilities \(info.capabilities), max PASID bits \(info.maxPASIDLog2)")
            if let vtd = info.vtd {
                print("  VT-d: address widths \(vtd.supportedAddressWidths), MGAW \(vtd.mgaw), caching mode \(vtd.cachingMode)")
            }
            probed += 1
        } catch {
            // One device's refusal (no-IOMMU mode, a busy group) does not stop the others.
            print("  \(error)")
        }
    }
    return probed
}

do {
    let count = try probe()
    print("iommu-probe: \(count) device(s) answered GET_HW_INFO")
    exit(count > 0 ? 0 : 1)
} catch {
    print("iommu-probe: \(error)")
    exit(1)
}

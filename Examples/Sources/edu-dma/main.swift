// edu-dma: a RAM -> device -> RAM round trip through QEMU's edu device, over iommufd.
//   edu-dma [PCI-ADDRESS]    (default: the first edu bound to vfio-pci with a VFIO cdev)
// Exits 0 when the bytes came back intact; prints the library's error and exits 1 otherwise.
import Glibc
import IOMMUFD
import VFIO

let length = 1024
let sourceIOVA: UInt64 = 0x10_0000       // inside edu's 28-bit default DMA mask
let destinationIOVA: UInt64 = 0x20_0000

func findEdu() throws(IOMMUFDError) -> PCIDevice {
    if CommandLine.arguments.count > 1 { return try PCIDevice.find(CommandLine.arguments[1]) }
    guard let edu = PCIDevice.all().first(where: { $0.isEdu && $0.vfioCdevPath != nil && !$0.isNoIOMMU }) else {
        throw IOMMUFDError(ioctl: "edu-dma", errno: .operationNotSupportedByDevice, origin: .validation, argument: "PCI-ADDRESS",
                           meaning: "no edu device bound to vfio-pci with an IOMMU-backed VFIO cdev")
    }
    return edu
}

func roundTrip() throws(IOMMUFDError) {
    let pci = try findEdu()
    guard let cdev = pci.vfioCdevPath else {
        throw IOMMUFDError(ioctl: "edu-dma", errno: .operationNotSupportedByDevice, origin: .validation, argument: pci.address,
                           meaning: "not bound to vfio-pci (no VFIO cdev)")
    }
    print("edu \(pci.address) (\(pci.iommuModel ?? "no IOMMU")), \(cdev)")

    let iommufd = try IOMMUFD.open()
    let ioas = try iommufd.allocIOAS()
    let device = try VFIODevice.openCdev(cdev)
    let deviceID = try device.bind(iommufd: iommufd)
    let hwpt = try device.attach(ioas.id)
    print("bound as \(deviceID), attached through \(hwpt)")
    let edu = try EduDevice(device)

    // Page-aligned host memory; freed only after the unmaps below, since the device may
    // DMA to it while it is mapped.
    let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
    let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 4096)
    defer { source.deallocate(); destination.deallocate() }
    for i in 0..<source.count { source[i] = UInt8(truncatingIfNeeded: i &* 7 &+ 3) }
    destination.initializeMemory(as: UInt8.self, repeating: 0)

    try ioas.map(source, at: sourceIOVA, access: .read)
    try ioas.map(destination, at: destinationIOVA, access: .write)
    try edu.copyToDevice(from: sourceIOVA, deviceOffset: 0, length: length)
    try edu.wait()
    try edu.copyFromDevice(deviceOffset: 0, to: destinationIOVA, length: length)
    try edu.wait()
    try ioas.unmap(iova: sourceIOVA, length: 4096)
    try ioas.unmap(iova: destinationIOVA, length: 4096)

    let intact = (0..<length).allSatisfy { destination[$0] == source[$0] }
    guard intact else {
        throw IOMMUFDError(ioctl: "edu-dma", errno: .ioError, origin: .validation, argument: "destination",
                           meaning: "the bytes that came back differ from the ones sent")
    }
    print("edu-dma: \(length) bytes RAM -> edu -> RAM intact")
}

do {
    try roundTrip()
} catch {
    print("edu-dma: \(error)")
    exit(1)
}

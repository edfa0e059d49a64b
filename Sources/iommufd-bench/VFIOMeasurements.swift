import IOMMUFD
import VFIO

/// 4-byte BAR0 accesses on an edu (its liveness register) and the MSI round trip:
/// raise edu's interrupt, wait for it on the eventfd, acknowledge it.
enum VFIOMeasurements {
    static func run(_ bench: Bench, address: String) throws(IOMMUFDError) {
        let pci = try PCIDevice.find(address)
        guard let cdev = pci.vfioCdevPath else {
            throw IOMMUFDError(ioctl: "iommufd-bench", errno: .noSuchFileOrDirectory, origin: .validation,
                               argument: address, meaning: "not bound to vfio-pci (no VFIO cdev)")
        }
        let iommufd = try IOMMUFD.open()
        let ioas = try iommufd.allocIOAS()
        let device = try VFIODevice.openCdev(cdev)
        _ = try device.bind(iommufd: iommufd)
        try device.attach(ioas.id)
        let edu = try EduDevice(device)

        let probe: UInt32 = 0x5a5a_1234
        try bench.measure("region-write-4b") { () throws(IOMMUFDError) in
            try edu.device.write32(.bar0, at: EduDevice.Register.liveness, probe)
        }
        var back: UInt32 = 0
        try bench.measure("region-read-4b") { () throws(IOMMUFDError) in
            back = try edu.device.read32(.bar0, at: EduDevice.Register.liveness)
        }
        guard back == ~probe else {
            throw IOMMUFDError(ioctl: "iommufd-bench", errno: .ioError, origin: .validation, argument: "BAR0[0x04]",
                               meaning: "edu liveness: read 0x\(String(back, radix: 16)) after writing 0x\(String(probe, radix: 16))")
        }

        let eventFD = try EventFD.create()
        try edu.device.enableIRQs(.msi, eventFDs: [eventFD.descriptor])
        try bench.measure("irq-roundtrip-msi") { () throws(IOMMUFDError) in
            try edu.raiseInterrupt(1)
            guard try eventFD.wait(timeout: .seconds(10)) != nil else {
                throw IOMMUFDError(ioctl: "iommufd-bench", errno: .timedOut, origin: .validation, argument: "MSI",
                                   meaning: "no MSI within 10 s of raising edu's interrupt")
            }
            try edu.acknowledgeInterrupt(1)
        }
        try edu.device.disableIRQs(.msi)
    }
}

import CIOMMUFD

extension IOMMUFD {
    /// IOMMU_VDEVICE_ALLOC (6.13+): tell `viommu` that `device` is known to the guest as
    /// `virtID` (a vSID on SMMUv3, a vRID on VT-d/AMD).
    public func allocVDevice(viommu: VIOMMUID, device: DeviceID, virtID: UInt64) throws(IOMMUFDError) -> VDevice {
        var cmd = iommu_vdevice_alloc()
        cmd.size = UInt32(MemoryLayout<iommu_vdevice_alloc>.size)
        cmd.viommu_id = viommu.rawValue
        cmd.dev_id = device.rawValue
        cmd.virt_id = virtID
        try fd.perform(.vdeviceAlloc, &cmd)
        return VDevice(id: VDeviceID(rawValue: cmd.out_vdevice_id), fd: fd)
    }
}

extension iommu_vdevice_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("viommu_id", viommu_id), TraceField("dev_id", dev_id),
         TraceField("out_vdevice_id", out_vdevice_id), TraceField("virt_id", hex: virt_id)]
    }
}

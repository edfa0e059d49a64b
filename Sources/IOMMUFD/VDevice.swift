import CIOMMUFD

extension IOMMUFD {
    /// IOMMU_VDEVICE_ALLOC (6.13+): tell `viommu` that `device` is known to the guest as
    /// `virtID` (a vSID on SMMUv3, a vRID on VT-d/AMD).
    public func allocVDevice(viommu: VIOMMUID, device: IOMMUFDDeviceID, virtID: UInt64) throws(IOMMUFDError) -> VDevice {
        let id = try fd.raw.allocVDevice(viommu: viommu.rawValue, device: device.rawValue, virtID: virtID)
        return VDevice(id: VDeviceID(rawValue: id), fd: fd)
    }
}

extension iommu_vdevice_alloc: TraceableArgument {
    public var traceFields: [TraceField] {
        [TraceField("size", size), TraceField("viommu_id", viommu_id), TraceField("dev_id", dev_id),
         TraceField("out_vdevice_id", out_vdevice_id), TraceField("virt_id", hex: virt_id)]
    }
}

/// The owner of one iommufd object: destroyed with IOMMU_DESTROY on deinit.
///
/// `destroy()` does the same but reports the kernel's answer (EBUSY while in use);
/// `release()` gives up ownership, leaving the object to live until the fd closes.
public struct KernelObject<ID: ObjectID>: ~Copyable {
    public let id: ID
    public let fd: KernelFD
    private var owned = true

    public init(id: ID, fd: KernelFD) {
        self.id = id
        self.fd = fd
    }

    public consuming func destroy() throws(IOMMUFDError) {
        owned = false
        try fd.raw.destroy(id.rawValue)
    }

    public consuming func release() -> ID {
        owned = false
        return id
    }

    deinit {
        if owned { try? fd.raw.destroy(id.rawValue) }
    }
}

public typealias HWPT = KernelObject<HWPTID>
public typealias VIOMMU = KernelObject<VIOMMUID>
public typealias VDevice = KernelObject<VDeviceID>

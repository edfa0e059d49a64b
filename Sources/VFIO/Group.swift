import CIOMMUFD
import IOMMUFD

/// A VFIO group, `/dev/vfio/N` (the legacy, container-based flow). Closed on deinit.
public struct VFIOGroup: ~Copyable {
    public let fd: KernelFD
    public let number: Int

    /// Opens `/dev/vfio/<number>` (see `PCIDevice.iommuGroup`).
    public static func open(_ number: Int, devRoot: String = "/dev/vfio") throws(IOMMUFDError) -> VFIOGroup {
        VFIOGroup(adopting: try openNode("\(devRoot)/\(number)"), number: number)
    }

    public init(adopting raw: Int32, number: Int, driver: any IoctlDriver = SystemIoctlDriver()) {
        fd = KernelFD(adopting: raw, driver: driver)
        self.number = number
    }
}

public struct GroupStatus: Sendable, Hashable {
    /// Every device of the group is bound to a VFIO driver (or none at all).
    public let viable: Bool
    public let containerSet: Bool
}

extension VFIOGroup {
    /// VFIO_GROUP_GET_STATUS.
    public func status() throws(IOMMUFDError) -> GroupStatus {
        var cmd = vfio_group_status()
        cmd.argsz = UInt32(MemoryLayout<vfio_group_status>.size)
        try fd.perform(.vfioGroupGetStatus, &cmd)
        return GroupStatus(viable: cmd.flags & UInt32(VFIO_GROUP_FLAGS_VIABLE) != 0,
                           containerSet: cmd.flags & UInt32(VFIO_GROUP_FLAGS_CONTAINER_SET) != 0)
    }

    /// VFIO_GROUP_SET_CONTAINER: the argument is a pointer to the container's fd
    /// (a /dev/vfio/vfio fd or an iommufd).
    public func setContainer(_ container: borrowing VFIOContainer) throws(IOMMUFDError) {
        guard var raw = container.fd.rawValue else {
            throw .invalid(.vfioGroupSetContainer, argument: "container", "the container is closed", errno: .badFileDescriptor)
        }
        try fd.perform(.vfioGroupSetContainer, &raw, argumentName: "container")
    }

    /// VFIO_GROUP_UNSET_CONTAINER.
    public func unsetContainer() throws(IOMMUFDError) {
        try fd.perform(.vfioGroupUnsetContainer, value: 0)
    }

    /// VFIO_GROUP_GET_DEVICE_FD: opens the device named `address` ("0000:00:03.0").
    /// Needs the container set and SET_IOMMU done. The new fd uses this group's driver.
    public func deviceFD(_ address: String) throws(IOMMUFDError) -> VFIODevice {
        var name = Array(address.utf8)
        if name.isEmpty || name.contains(0) {
            throw .invalid(.vfioGroupGetDeviceFD, argument: "name", "not a device name: \"\(address)\"")
        }
        name.append(0)
        let raw = try withArrayBuffer(name) { (buf) throws(IOMMUFDError) in
            try fd.perform(.vfioGroupGetDeviceFD, bytes: UnsafeMutableRawBufferPointer(buf), argumentName: "name")
        }
        return VFIODevice(adopting: raw, name: address, origin: .group, driver: fd.driver)
    }
}

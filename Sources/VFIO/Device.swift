import CIOMMUFD
import Glibc
import IOMMUFD
import SystemPackage

/// An open VFIO device fd: from its cdev (`/dev/vfio/devices/vfioN`, iommufd flow)
/// or from its group (`VFIO_GROUP_GET_DEVICE_FD`, container flow). Closed on deinit.
public struct VFIODevice: ~Copyable {
    public let fd: KernelFD
    /// Region reads/writes go through this (the kernel, or a mock playing the device).
    public let io: any DeviceFileIO
    /// The cdev path or PCI address, for messages.
    public let name: String
    /// How it was opened: cdev devices bind to iommufd; group devices use the container.
    public let origin: Origin
    let regions = RegionCache()

    public enum Origin: Sendable, Equatable { case cdev, group }

    /// Opens a VFIO device cdev, e.g. `/dev/vfio/devices/vfio0` (see `PCIDevice.vfioCdevPath`).
    public static func openCdev(_ path: String) throws(IOMMUFDError) -> VFIODevice {
        VFIODevice(adopting: try openNode(path), name: path, origin: .cdev)
    }

    /// Takes ownership of an open device fd (or a fake one, with a mock driver).
    public init(adopting raw: Int32, name: String, origin: Origin = .cdev,
                driver: any IoctlDriver = SystemIoctlDriver()) {
        fd = KernelFD(adopting: raw, driver: driver)
        io = fileIO(for: driver)
        self.name = name
        self.origin = origin
    }

    /// Closes the fd now and reports close(2)'s error (deinit closes it silently otherwise).
    public consuming func close() throws(IOMMUFDError) {
        try fd.closeReportingErrors(name)
    }
}

// MARK: - iommufd cdev: bind, attach, detach

extension VFIODevice {
    /// VFIO_DEVICE_BIND_IOMMUFD: binds this cdev to `iommufd`; returns the device's id there.
    /// `token` is the 16-byte VF token UUID (6.17+). Without one the 16-byte 6.12 form is
    /// sent, so this works on every cdev kernel.
    public func bind(iommufd: borrowing IOMMUFD, token: [UInt8]? = nil) throws(IOMMUFDError) -> IOMMUFDDeviceID {
        guard let raw = iommufd.fd.rawValue else {
            throw .invalid(.vfioDeviceBindIOMMUFD, argument: "iommufd", "the iommufd is closed", errno: .badFileDescriptor)
        }
        return try bind(iommufdDescriptor: FileDescriptor(rawValue: raw), token: token)
    }

    /// BIND with a raw descriptor, for negative tests (a closed fd, a non-iommufd fd).
    public func bind(iommufdDescriptor descriptor: FileDescriptor, token: [UInt8]? = nil) throws(IOMMUFDError) -> IOMMUFDDeviceID {
        var cmd = vfio_device_bind_iommufd()
        cmd.iommufd = descriptor.rawValue
        if let token {
            guard token.count == 16 else {
                throw .invalid(.vfioDeviceBindIOMMUFD, argument: "token_uuid_ptr", "a VF token is a 16-byte UUID")
            }
            cmd.argsz = UInt32(MemoryLayout<vfio_device_bind_iommufd>.size)
            cmd.flags = UInt32(VFIO_DEVICE_BIND_FLAG_TOKEN)
            try withArrayBuffer(token) { (buf) throws(IOMMUFDError) in
                cmd.token_uuid_ptr = userPointer(buf.baseAddress)
                try fd.perform(.vfioDeviceBindIOMMUFD, &cmd, argumentName: "iommufd")
            }
        } else {
            // offsetofend(out_devid): the size every cdev kernel (6.6+) accepts.
            cmd.argsz = 16
            try fd.perform(.vfioDeviceBindIOMMUFD, &cmd, argumentName: "iommufd")
        }
        return IOMMUFDDeviceID(rawValue: cmd.out_devid)
    }

    /// VFIO_DEVICE_ATTACH_IOMMUFD_PT: attaches to an IOAS (the kernel picks or makes a
    /// HWPT) or a HWPT; returns the attached HWPT. Attaching again replaces it.
    @discardableResult
    public func attach(_ pt: some PageTableID) throws(IOMMUFDError) -> HWPTID {
        var cmd = vfio_device_attach_iommufd_pt()
        cmd.argsz = 12 // 6.12 size; the pasid field is only sent with the PASID flag
        cmd.pt_id = pt.rawValue
        try fd.perform(.vfioDeviceAttachIOMMUFDPT, &cmd, argumentName: "pt_id")
        return HWPTID(rawValue: cmd.pt_id)
    }

    /// VFIO_DEVICE_DETACH_IOMMUFD_PT: the device goes to blocking-DMA state.
    public func detach() throws(IOMMUFDError) {
        var cmd = vfio_device_detach_iommufd_pt()
        cmd.argsz = 8
        try fd.perform(.vfioDeviceDetachIOMMUFDPT, &cmd)
    }

    /// ATTACH with VFIO_DEVICE_ATTACH_PASID (6.15+). On older kernels this fails with
    /// EINVAL, reported as "not supported by this kernel".
    @discardableResult
    public func attach(pasid: UInt32, to pt: some PageTableID) throws(IOMMUFDError) -> HWPTID {
        var cmd = vfio_device_attach_iommufd_pt()
        cmd.argsz = UInt32(MemoryLayout<vfio_device_attach_iommufd_pt>.size)
        cmd.flags = UInt32(VFIO_DEVICE_ATTACH_PASID)
        cmd.pt_id = pt.rawValue
        cmd.pasid = pasid
        try fd.perform(.vfioDeviceAttachPASID, &cmd, argumentName: "pasid")
        return HWPTID(rawValue: cmd.pt_id)
    }

    /// DETACH with VFIO_DEVICE_DETACH_PASID (6.15+).
    public func detach(pasid: UInt32) throws(IOMMUFDError) {
        var cmd = vfio_device_detach_iommufd_pt()
        cmd.argsz = UInt32(MemoryLayout<vfio_device_detach_iommufd_pt>.size)
        cmd.flags = UInt32(VFIO_DEVICE_DETACH_PASID)
        cmd.pasid = pasid
        try fd.perform(.vfioDeviceDetachPASID, &cmd, argumentName: "pasid")
    }
}

// MARK: - info, reset

/// VFIO_DEVICE_FLAGS_*.
public struct DeviceFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let reset = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_RESET))
    public static let pci = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_PCI))
    public static let platform = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_PLATFORM))
    public static let amba = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_AMBA))
    public static let ccw = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_CCW))
    public static let ap = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_AP))
    public static let fslMC = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_FSL_MC))
    public static let caps = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_CAPS))
    public static let cdx = DeviceFlags(rawValue: UInt32(VFIO_DEVICE_FLAGS_CDX))
}

/// What VFIO_DEVICE_GET_INFO reports.
public struct DeviceInfo: Sendable, Hashable {
    public let flags: DeviceFlags
    public let numRegions: UInt32
    public let numIRQs: UInt32
    public let capabilities: [InfoCapability]
}

extension VFIODevice {
    /// VFIO_DEVICE_GET_INFO, with the capability chain (argsz two-pass).
    public func info() throws(IOMMUFDError) -> DeviceInfo {
        let size = MemoryLayout<vfio_device_info>.size
        let out = try fd.performGrowing(.vfioDeviceGetInfo, header: bytes(of: vfio_device_info()))
        let info = load(vfio_device_info.self, from: out, initial: vfio_device_info())
        let hasCaps = info.flags & UInt32(VFIO_DEVICE_FLAGS_CAPS) != 0
        return DeviceInfo(flags: DeviceFlags(rawValue: info.flags), numRegions: info.num_regions,
                          numIRQs: info.num_irqs,
                          capabilities: hasCaps ? InfoCapability.chain(in: out, first: info.cap_offset, headerSize: size) : [])
    }

    /// VFIO_DEVICE_RESET (FLR, PM or bus reset, whichever the kernel has for the device).
    public func reset() throws(IOMMUFDError) {
        try fd.perform(.vfioDeviceReset, value: 0)
    }
}

import CIOMMUFD
import IOMMUFD
import SystemPackage

/// Every VFIO ioctl (container, group, device), with what each errno means for it
/// (6.12 sources: vfio_main.c, vfio_pci_core.c, vfio_iommu_type1.c, iommufd vfio_compat.c).
///
/// VFIO answers bad flags with EINVAL (not EOPNOTSUPP like iommufd), and every
/// device ioctl but BIND fails with EINVAL on a cdev that is not bound yet.
extension IoctlRequest {
    // ---- container (/dev/vfio/vfio, or /dev/iommu as the compat container) ----
    public static let vfioGetAPIVersion = IoctlRequest("VFIO_GET_API_VERSION", CIOMMUFD_REQ_VFIO_GET_API_VERSION)
    public static let vfioCheckExtension = IoctlRequest("VFIO_CHECK_EXTENSION", CIOMMUFD_REQ_VFIO_CHECK_EXTENSION)
    public static let vfioSetIOMMU = IoctlRequest("VFIO_SET_IOMMU", CIOMMUFD_REQ_VFIO_SET_IOMMU, meanings: [
        .invalidArgument: "no group is attached to the container yet (native type1), the IOMMU type is unknown, or it is already set",
        .operationNotSupportedByDevice: "no group is attached to the compat (iommufd) container yet",
        .resourceBusy: "the container already has an IOMMU model set",
    ])
    public static let vfioIOMMUGetInfo = IoctlRequest("VFIO_IOMMU_GET_INFO", CIOMMUFD_REQ_VFIO_IOMMU_GET_INFO, meanings: [
        .invalidArgument: "argsz too small, or SET_IOMMU has not been done on this container",
    ])
    public static let vfioIOMMUMapDMA = IoctlRequest("VFIO_IOMMU_MAP_DMA", CIOMMUFD_REQ_VFIO_IOMMU_MAP_DMA, meanings: [
        .fileExists: "the IOVA range overlaps an existing mapping",
        .invalidArgument: "no READ/WRITE flag, size 0, misaligned vaddr/iova/size, iova + size wraps (native type1 6.12), an unsupported flag (VADDR under compat), or SET_IOMMU not done",
        .overflow: "iova + size wraps (iommufd compat; newest native type1)",
        .noSpace: "the container's DMA mapping limit (dma_entry_limit) is reached",
        .badAddress: "vaddr is not mapped memory of this process, or is MMIO that iommufd cannot pin",
        .noMemory: "pinning would exceed RLIMIT_MEMLOCK (or out of memory)",
    ])
    public static let vfioIOMMUUnmapDMA = IoctlRequest("VFIO_IOMMU_UNMAP_DMA", CIOMMUFD_REQ_VFIO_IOMMU_UNMAP_DMA, meanings: [
        .invalidArgument: "misaligned range, a type1v2 unmap that would split a mapping (native), an unsupported flag (dirty bitmap / VADDR under compat), or FLAG_ALL with a non-zero range",
        .noSuchFileOrDirectory: "the unmap would split an existing mapping (iommufd compat)",
        .overflow: "iova + size wraps",
    ])
    public static let vfioIOMMUDirtyPages = IoctlRequest("VFIO_IOMMU_DIRTY_PAGES", CIOMMUFD_REQ_VFIO_IOMMU_DIRTY_PAGES, meanings: [
        .inappropriateIOCTLForDevice: "dirty page tracking is not supported by this container (always so under iommufd compat)",
        .invalidArgument: "more than one of START/STOP/GET_BITMAP, tracking not started, or a bad range/page size",
    ])

    // ---- group (/dev/vfio/N) ----
    public static let vfioGroupGetStatus = IoctlRequest("VFIO_GROUP_GET_STATUS", CIOMMUFD_REQ_VFIO_GROUP_GET_STATUS)
    public static let vfioGroupSetContainer = IoctlRequest("VFIO_GROUP_SET_CONTAINER", CIOMMUFD_REQ_VFIO_GROUP_SET_CONTAINER, meanings: [
        .invalidArgument: "the group already has a container, or the fd is neither a VFIO container nor an iommufd",
        .notPermitted: "the group is not viable: another device in it is bound to a host driver",
        .resourceBusy: "a device of this group is opened through its cdev",
        .badFileDescriptor: "the container fd is closed or invalid",
    ])
    public static let vfioGroupUnsetContainer = IoctlRequest("VFIO_GROUP_UNSET_CONTAINER", CIOMMUFD_REQ_VFIO_GROUP_UNSET_CONTAINER, meanings: [
        .invalidArgument: "the group has no container",
        .resourceBusy: "a device fd of this group is still open",
    ])
    public static let vfioGroupGetDeviceFD = IoctlRequest("VFIO_GROUP_GET_DEVICE_FD", CIOMMUFD_REQ_VFIO_GROUP_GET_DEVICE_FD, meanings: [
        .invalidArgument: "the group has no container with an IOMMU set (SET_CONTAINER + SET_IOMMU first)",
        .operationNotSupportedByDevice: "no device with that name in this group",
        .resourceBusy: "the device is already open through its cdev",
    ])

    // ---- device (cdev /dev/vfio/devices/vfioN, or from a group) ----
    public static let vfioDeviceGetInfo = IoctlRequest("VFIO_DEVICE_GET_INFO", CIOMMUFD_REQ_VFIO_DEVICE_GET_INFO, meanings: [
        .invalidArgument: "the cdev is not bound to an iommufd yet (BIND_IOMMUFD first), or argsz too small",
    ])
    public static let vfioDeviceGetRegionInfo = IoctlRequest("VFIO_DEVICE_GET_REGION_INFO", CIOMMUFD_REQ_VFIO_DEVICE_GET_REGION_INFO, meanings: [
        .invalidArgument: "no region with that index, argsz too small, or the cdev is not bound yet",
    ])
    public static let vfioDeviceGetIRQInfo = IoctlRequest("VFIO_DEVICE_GET_IRQ_INFO", CIOMMUFD_REQ_VFIO_DEVICE_GET_IRQ_INFO, meanings: [
        .invalidArgument: "no IRQ index with that number, argsz too small, or the cdev is not bound yet",
    ])
    public static let vfioDeviceSetIRQs = IoctlRequest("VFIO_DEVICE_SET_IRQS", CIOMMUFD_REQ_VFIO_DEVICE_SET_IRQS, meanings: [
        .invalidArgument: "bad IRQ index, start/count beyond the index's vectors, not exactly one DATA_ and one ACTION_ flag, argsz not matching the data, a descriptor in the data that is not an eventfd, disabling an index that is not enabled, or the cdev is not bound yet",
        .badFileDescriptor: "a descriptor in the data is closed",
        .inappropriateIOCTLForDevice: "the action is not supported for this index (MASK/UNMASK on MSI or MSI-X, ERR on a non-PCIe device)",
    ])
    public static let vfioDeviceReset = IoctlRequest("VFIO_DEVICE_RESET", CIOMMUFD_REQ_VFIO_DEVICE_RESET, meanings: [
        .invalidArgument: "the device has no reset method (no FLR, PM reset or slot/bus reset), or the cdev is not bound yet",
        .resourceBusy: "the reset would affect other devices that are in use",
    ])
    public static let vfioDeviceGetPCIHotResetInfo = IoctlRequest("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO", CIOMMUFD_REQ_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, meanings: [
        .noSpace: "the devices array is too small; count holds the number needed",
        .operationNotSupportedByDevice: "the device cannot be hot reset (neither a slot nor a bus reset is possible, e.g. on the root bus)",
        .invalidArgument: "argsz too small, or the cdev is not bound yet",
    ])
    public static let vfioDevicePCIHotReset = IoctlRequest("VFIO_DEVICE_PCI_HOT_RESET", CIOMMUFD_REQ_VFIO_DEVICE_PCI_HOT_RESET, meanings: [
        .invalidArgument: "group fds given for a cdev device, a group fd is not a group, or argsz mismatch",
        .notPermitted: "the caller does not own every affected device",
        .resourceBusy: "an affected device is in use elsewhere",
    ])
    public static let vfioDeviceIOEventFD = IoctlRequest("VFIO_DEVICE_IOEVENTFD", CIOMMUFD_REQ_VFIO_DEVICE_IOEVENTFD)
    public static let vfioDeviceFeature = IoctlRequest("VFIO_DEVICE_FEATURE", CIOMMUFD_REQ_VFIO_DEVICE_FEATURE, meanings: [
        .invalidArgument: "unknown flags, GET and SET together without PROBE, a bad payload size or value (e.g. 0 DMA logging ranges), or the cdev is not bound yet",
        .inappropriateIOCTLForDevice: "the feature is not supported by this device or kernel",
        .argListTooLong: "more DMA logging ranges than the device can track",
        .overflow: "a DMA logging range overflows",
    ])
    public static let vfioDeviceBindIOMMUFD = IoctlRequest("VFIO_DEVICE_BIND_IOMMUFD", CIOMMUFD_REQ_VFIO_DEVICE_BIND_IOMMUFD, meanings: [
        .invalidArgument: "the device is already bound (second bind), it was opened through a group, argsz < 16, unknown flags (the VF token flag needs 6.17+), a negative iommufd, or the IOMMU lacks cache coherency",
        .resourceBusy: "a group fd of this device's group is open",
        .fileDescriptorInBadState: "the fd is not an iommufd",
        .badFileDescriptor: "the iommufd is closed or invalid",
        .notPermitted: "the IOMMU has no isolated MSI (interrupt remapping); set iommufd.allow_unsafe_interrupts=1 to override",
    ])
    public static let vfioDeviceAttachIOMMUFDPT = IoctlRequest("VFIO_DEVICE_ATTACH_IOMMUFD_PT", CIOMMUFD_REQ_VFIO_DEVICE_ATTACH_IOMMUFD_PT, meanings: [
        .invalidArgument: "the device is not bound (BIND_IOMMUFD first), argsz < 12, flags != 0, pt_id is not an IOAS or HWPT, or the IOMMU cannot use this page table",
        .noSuchFileOrDirectory: "pt_id names no object",
        .inappropriateIOCTLForDevice: "the device fd was opened through a group (use the container), or the kernel has no VFIO cdev",
    ])
    public static let vfioDeviceDetachIOMMUFDPT = IoctlRequest("VFIO_DEVICE_DETACH_IOMMUFD_PT", CIOMMUFD_REQ_VFIO_DEVICE_DETACH_IOMMUFD_PT, meanings: [
        .invalidArgument: "the device is not bound, argsz < 8, or flags != 0",
        .inappropriateIOCTLForDevice: "the device fd was opened through a group",
    ])
    /// ATTACH with VFIO_DEVICE_ATTACH_PASID: same number, PASID-specific meanings.
    public static let vfioDeviceAttachPASID = IoctlRequest("VFIO_DEVICE_ATTACH_IOMMUFD_PT(PASID)", CIOMMUFD_REQ_VFIO_DEVICE_ATTACH_IOMMUFD_PT, meanings: [
        .invalidArgument: "PASID attach is not supported by this kernel (before 6.15 flags must be 0), or the device is not bound, or the pasid is out of range",
        .notSupported: "the device's driver or IOMMU does not support PASID",
        .noSuchFileOrDirectory: "pt_id names no object",
    ])
    public static let vfioDeviceDetachPASID = IoctlRequest("VFIO_DEVICE_DETACH_IOMMUFD_PT(PASID)", CIOMMUFD_REQ_VFIO_DEVICE_DETACH_IOMMUFD_PT, meanings: [
        .invalidArgument: "PASID detach is not supported by this kernel (before 6.15 flags must be 0), or the device is not bound",
        .notSupported: "the device's driver or IOMMU does not support PASID",
    ])

    public static let allVFIO: [IoctlRequest] = [
        .vfioGetAPIVersion, .vfioCheckExtension, .vfioSetIOMMU, .vfioIOMMUGetInfo, .vfioIOMMUMapDMA,
        .vfioIOMMUUnmapDMA, .vfioIOMMUDirtyPages, .vfioGroupGetStatus, .vfioGroupSetContainer,
        .vfioGroupUnsetContainer, .vfioGroupGetDeviceFD, .vfioDeviceGetInfo, .vfioDeviceGetRegionInfo,
        .vfioDeviceGetIRQInfo, .vfioDeviceSetIRQs, .vfioDeviceReset, .vfioDeviceGetPCIHotResetInfo,
        .vfioDevicePCIHotReset, .vfioDeviceIOEventFD, .vfioDeviceFeature, .vfioDeviceBindIOMMUFD,
        .vfioDeviceAttachIOMMUFDPT, .vfioDeviceDetachIOMMUFDPT,
    ]
}

import CIOMMUFD
import SystemPackage

/// Every iommufd ioctl, with what each errno means for it (6.12 and 7.3 kernel sources).
extension IoctlRequest {
    public static let destroy = IoctlRequest("IOMMU_DESTROY", CIOMMUFD_REQ_IOMMU_DESTROY, meanings: [
        .resourceBusy: "object is still in use (an IOAS with HWPTs, an attached HWPT, a bound device)",
        .noSuchFileOrDirectory: "no object with that id",
    ])
    public static let ioasAlloc = IoctlRequest("IOMMU_IOAS_ALLOC", CIOMMUFD_REQ_IOMMU_IOAS_ALLOC)
    public static let ioasAllowIOVAs = IoctlRequest("IOMMU_IOAS_ALLOW_IOVAS", CIOMMUFD_REQ_IOMMU_IOAS_ALLOW_IOVAS, meanings: [
        .invalidArgument: "a range has start > last, or the ranges overlap",
        .addressInUse: "a range intersects a reserved region or an existing mapping outside the allowed set",
    ])
    public static let ioasCopy = IoctlRequest("IOMMU_IOAS_COPY", CIOMMUFD_REQ_IOMMU_IOAS_COPY, meanings: [
        .noSuchFileOrDirectory: "source range is not fully mapped by whole areas, or an IOAS id is wrong",
        .fileExists: "destination range overlaps an existing mapping",
        .invalidArgument: "no READ/WRITE flag, zero length, misaligned IOVA, or IOVA outside the domain's aperture",
        .overflow: "iova + length overflows",
        .noSpace: "no free IOVA space for a kernel-chosen destination",
    ])
    public static let ioasIOVARanges = IoctlRequest("IOMMU_IOAS_IOVA_RANGES", CIOMMUFD_REQ_IOMMU_IOAS_IOVA_RANGES, meanings: [
        .messageTooLong: "the ranges array is too small; num_iovas holds the count needed",
    ])
    public static let ioasMap = IoctlRequest("IOMMU_IOAS_MAP", CIOMMUFD_REQ_IOMMU_IOAS_MAP, meanings: [
        .fileExists: "range overlaps an existing mapping",
        .invalidArgument: "no READ/WRITE flag, zero or misaligned length/IOVA/user_va, or IOVA reserved or outside the domain's aperture",
        .overflow: "iova or length too large, or iova + length wraps",
        .noSpace: "no free IOVA space for a kernel-chosen IOVA",
        .badAddress: "user_va is not mapped memory of this process",
        .noMemory: "pinning would exceed RLIMIT_MEMLOCK (or out of memory)",
    ])
    public static let ioasUnmap = IoctlRequest("IOMMU_IOAS_UNMAP", CIOMMUFD_REQ_IOMMU_IOAS_UNMAP, meanings: [
        .noSuchFileOrDirectory: "nothing mapped in the range, or the range would split an existing mapping",
        .invalidArgument: "zero length, or misaligned range",
        .resourceBusy: "range is pinned by an object (a HW queue)",
    ])
    public static let option = IoctlRequest("IOMMU_OPTION", CIOMMUFD_REQ_IOMMU_OPTION, meanings: [
        .notPermitted: "changing the rlimit mode needs CAP_SYS_RESOURCE",
        .resourceBusy: "the rlimit mode cannot change while objects exist",
        .invalidArgument: "value out of range for this option, or unknown operation",
        .notSupported: "unknown option, or object_id given for a global option",
        .noSuchFileOrDirectory: "the option needs an IOAS id and none or a wrong one was given",
    ])
    public static let vfioIOAS = IoctlRequest("IOMMU_VFIO_IOAS", CIOMMUFD_REQ_IOMMU_VFIO_IOAS, meanings: [
        .operationNotSupportedByDevice: "no compat IOAS has been set or created yet",
        .noSuchFileOrDirectory: "ioas_id names no IOAS",
    ])
    public static let hwptAlloc = IoctlRequest("IOMMU_HWPT_ALLOC", CIOMMUFD_REQ_IOMMU_HWPT_ALLOC, meanings: [
        .invalidArgument: "data_type and data_len disagree, pt_id is not an IOAS/usable parent, or nesting on a non-parent HWPT",
        .notSupported: "unknown flag, or the IOMMU cannot do what the flags ask (dirty tracking, nest parent, fault id)",
        .noSuchFileOrDirectory: "dev_id or pt_id names no such object",
    ])
    public static let getHWInfo = IoctlRequest("IOMMU_GET_HW_INFO", CIOMMUFD_REQ_IOMMU_GET_HW_INFO, meanings: [
        .notSupported: "flags or reserved fields set that this kernel does not know",
        .noSuchFileOrDirectory: "dev_id names no bound device",
    ])
    public static let hwptSetDirtyTracking = IoctlRequest("IOMMU_HWPT_SET_DIRTY_TRACKING", CIOMMUFD_REQ_IOMMU_HWPT_SET_DIRTY_TRACKING, meanings: [
        .notSupported: "this HWPT was not allocated with dirty tracking, or unknown flags",
    ])
    public static let hwptGetDirtyBitmap = IoctlRequest("IOMMU_HWPT_GET_DIRTY_BITMAP", CIOMMUFD_REQ_IOMMU_HWPT_GET_DIRTY_BITMAP, meanings: [
        .notSupported: "this HWPT has no dirty tracking",
        .invalidArgument: "zero or misaligned length or page size, or no bitmap",
        .overflow: "iova + length overflows",
    ])
    public static let hwptInvalidate = IoctlRequest("IOMMU_HWPT_INVALIDATE", CIOMMUFD_REQ_IOMMU_HWPT_INVALIDATE, meanings: [
        .invalidArgument: "entries pointer NULL with entries, entry_len 0 or > PAGE_SIZE, or a bad entry",
        .noSuchFileOrDirectory: "hwpt_id is not a nested HWPT (6.12) or names nothing",
        .notSupported: "data_type not supported by this HWPT",
    ])
    public static let faultQueueAlloc = IoctlRequest("IOMMU_FAULT_QUEUE_ALLOC", CIOMMUFD_REQ_IOMMU_FAULT_QUEUE_ALLOC)
    public static let ioasMapFile = IoctlRequest("IOMMU_IOAS_MAP_FILE", CIOMMUFD_REQ_IOMMU_IOAS_MAP_FILE, meanings: [
        .invalidArgument: "start/length outside the file, or a file that cannot be pinned",
        .fileExists: "range overlaps an existing mapping",
    ])
    public static let viommuAlloc = IoctlRequest("IOMMU_VIOMMU_ALLOC", CIOMMUFD_REQ_IOMMU_VIOMMU_ALLOC, meanings: [
        .noSuchFileOrDirectory: "hwpt_id or dev_id names nothing",
        .invalidArgument: "hwpt_id is not a nest-parent HWPT",
        .notSupported: "this vIOMMU type is not supported by the IOMMU driver",
    ])
    public static let vdeviceAlloc = IoctlRequest("IOMMU_VDEVICE_ALLOC", CIOMMUFD_REQ_IOMMU_VDEVICE_ALLOC, meanings: [
        .fileExists: "that virt_id or device already has a vDEVICE",
    ])
    public static let ioasChangeProcess = IoctlRequest("IOMMU_IOAS_CHANGE_PROCESS", CIOMMUFD_REQ_IOMMU_IOAS_CHANGE_PROCESS, meanings: [
        .invalidArgument: "some mapping was not made with MAP_FILE, so pages cannot move accounts",
    ])
    public static let veventqAlloc = IoctlRequest("IOMMU_VEVENTQ_ALLOC", CIOMMUFD_REQ_IOMMU_VEVENTQ_ALLOC, meanings: [
        .fileExists: "the vIOMMU already has an event queue of that type",
        .invalidArgument: "queue depth 0",
    ])
    public static let hwQueueAlloc = IoctlRequest("IOMMU_HW_QUEUE_ALLOC", CIOMMUFD_REQ_IOMMU_HW_QUEUE_ALLOC, meanings: [
        .notSupported: "this queue type is not supported",
        .invalidArgument: "length 0",
        .overflow: "base address + length wraps",
        .noSuchFileOrDirectory: "the queue's IOVA is not mapped",
    ])
    public static let ioasNoIOMMUGetPA = IoctlRequest("IOMMU_IOAS_NOIOMMU_GET_PA", CIOMMUFD_REQ_IOMMU_IOAS_NOIOMMU_GET_PA, meanings: [
        .notPermitted: "needs CAP_SYS_RAWIO (no-IOMMU DMA is unsafe)",
        .notSupported: "flags or __reserved set",
        .invalidArgument: "zero length",
        .overflow: "iova does not fit an unsigned long",
        .noSuchFileOrDirectory: "ioas_id names no IOAS, or nothing is mapped at iova",
    ])
    /// Test-only: the IOMMUFD_TEST mock driver's command (CONFIG_IOMMUFD_TEST kernels).
    public static let testCmd = IoctlRequest("IOMMU_TEST_CMD", CIOMMUFD_REQ_IOMMU_TEST_CMD, meanings: [
        .inappropriateIOCTLForDevice: "kernel built without CONFIG_IOMMUFD_TEST",
    ])

    /// Every iommufd ioctl of the newest ABI, in request-number order.
    public static let allIOMMUFD: [IoctlRequest] = [
        .destroy, .ioasAlloc, .ioasAllowIOVAs, .ioasCopy, .ioasIOVARanges, .ioasMap, .ioasUnmap, .option,
        .vfioIOAS, .hwptAlloc, .getHWInfo, .hwptSetDirtyTracking, .hwptGetDirtyBitmap, .hwptInvalidate,
        .faultQueueAlloc, .ioasMapFile, .viommuAlloc, .vdeviceAlloc, .ioasChangeProcess, .veventqAlloc,
        .hwQueueAlloc, .ioasNoIOMMUGetPA,
    ]
}

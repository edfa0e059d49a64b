# No emulated IOMMU: VFIO's unsafe no-IOMMU mode. On 7.3 the cdev path binds
# such devices to iommufd, backed by a software-only page table that
# IOMMU_IOAS_NOIOMMU_GET_PA reads (drivers/iommu/iommufd/hwpt_noiommu.c).
# DMA is not translated: only the noiommu.* cases drive the edu here.
PROFILE_QEMU_ARGS=(-machine q35)
PROFILE_KERNEL_ARGS="vfio.enable_unsafe_noiommu_mode=1"

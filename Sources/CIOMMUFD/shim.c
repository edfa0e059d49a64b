/* SPDX-License-Identifier: MIT */
/*
 * shim.c - C side of the CIOMMUFD target.
 *
 * (a) Request numbers for every ioctl, as constants Swift can import.
 * (b) Compile-time layout checks against the kernel's struct sizes.
 * (c) A non-variadic ioctl(2) wrapper and errno accessor for Swift.
 *
 * Scripts/check-uapi-layout (Tests/uapi-layout/check_layout.py) checks (a),
 * (b) and every field offset against the real 7.3, 6.12 and 6.1 headers;
 * every ioctl needs a request constant and every struct a size assertion
 * (7.3 sizes; a comment notes older sizes of structs that grew).
 */
#include <errno.h>
#include <sys/mman.h>
#include <sys/ioctl.h>

#include "CIOMMUFD.h"
/* ---- request numbers: ciommufd_iommufd.h ---- */
const unsigned long CIOMMUFD_REQ_IOMMU_DESTROY = IOMMU_DESTROY;
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_ALLOC = IOMMU_IOAS_ALLOC;
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_IOVA_RANGES = IOMMU_IOAS_IOVA_RANGES;
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_ALLOW_IOVAS = IOMMU_IOAS_ALLOW_IOVAS;
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_MAP = IOMMU_IOAS_MAP;
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_MAP_FILE = IOMMU_IOAS_MAP_FILE; /* since 6.13 */
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_COPY = IOMMU_IOAS_COPY;
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_UNMAP = IOMMU_IOAS_UNMAP;
const unsigned long CIOMMUFD_REQ_IOMMU_OPTION = IOMMU_OPTION;
const unsigned long CIOMMUFD_REQ_IOMMU_VFIO_IOAS = IOMMU_VFIO_IOAS;
const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_ALLOC = IOMMU_HWPT_ALLOC;
const unsigned long CIOMMUFD_REQ_IOMMU_GET_HW_INFO = IOMMU_GET_HW_INFO;
const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_SET_DIRTY_TRACKING = IOMMU_HWPT_SET_DIRTY_TRACKING;
const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_GET_DIRTY_BITMAP = IOMMU_HWPT_GET_DIRTY_BITMAP;
const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_INVALIDATE = IOMMU_HWPT_INVALIDATE;
const unsigned long CIOMMUFD_REQ_IOMMU_FAULT_QUEUE_ALLOC = IOMMU_FAULT_QUEUE_ALLOC;
const unsigned long CIOMMUFD_REQ_IOMMU_VIOMMU_ALLOC = IOMMU_VIOMMU_ALLOC; /* since 6.13 */
const unsigned long CIOMMUFD_REQ_IOMMU_VDEVICE_ALLOC = IOMMU_VDEVICE_ALLOC; /* since 6.13 */
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_CHANGE_PROCESS = IOMMU_IOAS_CHANGE_PROCESS; /* since 6.14 */
const unsigned long CIOMMUFD_REQ_IOMMU_VEVENTQ_ALLOC = IOMMU_VEVENTQ_ALLOC; /* since 6.15 */
const unsigned long CIOMMUFD_REQ_IOMMU_HW_QUEUE_ALLOC = IOMMU_HW_QUEUE_ALLOC; /* since 6.17 */
const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_NOIOMMU_GET_PA = IOMMU_IOAS_NOIOMMU_GET_PA; /* since 7.3? */

/* ---- request numbers: ciommufd_vfio.h ---- */
const unsigned long CIOMMUFD_REQ_VFIO_GET_API_VERSION = VFIO_GET_API_VERSION;
const unsigned long CIOMMUFD_REQ_VFIO_CHECK_EXTENSION = VFIO_CHECK_EXTENSION;
const unsigned long CIOMMUFD_REQ_VFIO_SET_IOMMU = VFIO_SET_IOMMU;
const unsigned long CIOMMUFD_REQ_VFIO_GROUP_GET_STATUS = VFIO_GROUP_GET_STATUS;
const unsigned long CIOMMUFD_REQ_VFIO_GROUP_SET_CONTAINER = VFIO_GROUP_SET_CONTAINER;
const unsigned long CIOMMUFD_REQ_VFIO_GROUP_UNSET_CONTAINER = VFIO_GROUP_UNSET_CONTAINER;
const unsigned long CIOMMUFD_REQ_VFIO_GROUP_GET_DEVICE_FD = VFIO_GROUP_GET_DEVICE_FD;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_INFO = VFIO_DEVICE_GET_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_REGION_INFO = VFIO_DEVICE_GET_REGION_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_IRQ_INFO = VFIO_DEVICE_GET_IRQ_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_SET_IRQS = VFIO_DEVICE_SET_IRQS;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_RESET = VFIO_DEVICE_RESET;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO = VFIO_DEVICE_GET_PCI_HOT_RESET_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_PCI_HOT_RESET = VFIO_DEVICE_PCI_HOT_RESET;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_QUERY_GFX_PLANE = VFIO_DEVICE_QUERY_GFX_PLANE;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_GFX_DMABUF = VFIO_DEVICE_GET_GFX_DMABUF;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_IOEVENTFD = VFIO_DEVICE_IOEVENTFD;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_FEATURE = VFIO_DEVICE_FEATURE;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_BIND_IOMMUFD = VFIO_DEVICE_BIND_IOMMUFD;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_ATTACH_IOMMUFD_PT = VFIO_DEVICE_ATTACH_IOMMUFD_PT;
const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_DETACH_IOMMUFD_PT = VFIO_DEVICE_DETACH_IOMMUFD_PT;
const unsigned long CIOMMUFD_REQ_VFIO_MIG_GET_PRECOPY_INFO = VFIO_MIG_GET_PRECOPY_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_GET_INFO = VFIO_IOMMU_GET_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_MAP_DMA = VFIO_IOMMU_MAP_DMA;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_UNMAP_DMA = VFIO_IOMMU_UNMAP_DMA;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_ENABLE = VFIO_IOMMU_ENABLE;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_DISABLE = VFIO_IOMMU_DISABLE;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_DIRTY_PAGES = VFIO_IOMMU_DIRTY_PAGES;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_TCE_GET_INFO = VFIO_IOMMU_SPAPR_TCE_GET_INFO;
const unsigned long CIOMMUFD_REQ_VFIO_EEH_PE_OP = VFIO_EEH_PE_OP;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_REGISTER_MEMORY = VFIO_IOMMU_SPAPR_REGISTER_MEMORY;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY = VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_TCE_CREATE = VFIO_IOMMU_SPAPR_TCE_CREATE;
const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_TCE_REMOVE = VFIO_IOMMU_SPAPR_TCE_REMOVE;

/* ---- request numbers: ciommufd_test.h ---- */
const unsigned long CIOMMUFD_REQ_IOMMU_TEST_CMD = IOMMU_TEST_CMD;

/* ---- struct sizes (kernel ABI, x86_64/arm64 LP64) ---- */
#define CIOMMUFD_SIZE(s, n) _Static_assert(sizeof(struct s) == (n), "sizeof(struct " #s ") != " #n)

CIOMMUFD_SIZE(iommu_destroy, 8);
CIOMMUFD_SIZE(iommu_ioas_alloc, 12);
CIOMMUFD_SIZE(iommu_iova_range, 16);
CIOMMUFD_SIZE(iommu_ioas_iova_ranges, 32);
CIOMMUFD_SIZE(iommu_ioas_allow_iovas, 24);
CIOMMUFD_SIZE(iommu_ioas_map, 40);
CIOMMUFD_SIZE(iommu_ioas_noiommu_get_pa, 40);
CIOMMUFD_SIZE(iommu_ioas_map_file, 40);
CIOMMUFD_SIZE(iommu_ioas_copy, 40);
CIOMMUFD_SIZE(iommu_ioas_unmap, 24);
CIOMMUFD_SIZE(iommu_option, 24);
CIOMMUFD_SIZE(iommu_vfio_ioas, 12);
CIOMMUFD_SIZE(iommu_hwpt_vtd_s1, 24);
CIOMMUFD_SIZE(iommu_hwpt_arm_smmuv3, 16);
CIOMMUFD_SIZE(iommu_hwpt_amd_guest, 32);
CIOMMUFD_SIZE(iommu_hwpt_alloc, 48);
CIOMMUFD_SIZE(iommu_hw_info_vtd, 24);
CIOMMUFD_SIZE(iommu_hw_info_arm_smmuv3, 40);
CIOMMUFD_SIZE(iommu_hw_info_tegra241_cmdqv, 8);
CIOMMUFD_SIZE(iommu_hw_info_amd, 16);
CIOMMUFD_SIZE(iommu_hw_info, 40);
CIOMMUFD_SIZE(iommu_hwpt_set_dirty_tracking, 16);
CIOMMUFD_SIZE(iommu_hwpt_get_dirty_bitmap, 48);
CIOMMUFD_SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
CIOMMUFD_SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
CIOMMUFD_SIZE(iommu_hwpt_invalidate, 32);
CIOMMUFD_SIZE(iommu_hwpt_pgfault, 40);
CIOMMUFD_SIZE(iommu_hwpt_page_response, 8);
CIOMMUFD_SIZE(iommu_fault_alloc, 16);
CIOMMUFD_SIZE(iommu_viommu_tegra241_cmdqv, 16);
CIOMMUFD_SIZE(iommu_viommu_alloc, 40);
CIOMMUFD_SIZE(iommu_vdevice_alloc, 24);
CIOMMUFD_SIZE(iommu_ioas_change_process, 8);
CIOMMUFD_SIZE(iommufd_vevent_header, 8);
CIOMMUFD_SIZE(iommu_vevent_arm_smmuv3, 32);
CIOMMUFD_SIZE(iommu_vevent_tegra241_cmdqv, 16);
CIOMMUFD_SIZE(iommu_veventq_alloc, 32);
CIOMMUFD_SIZE(iommu_hw_queue_alloc, 40);
CIOMMUFD_SIZE(vfio_info_cap_header, 8);
CIOMMUFD_SIZE(vfio_group_status, 8);
CIOMMUFD_SIZE(vfio_device_info, 24); /* 6.1: 20 */
CIOMMUFD_SIZE(vfio_device_info_cap_pci_atomic_comp, 16);
CIOMMUFD_SIZE(vfio_region_info, 32);
CIOMMUFD_SIZE(vfio_region_sparse_mmap_area, 16);
CIOMMUFD_SIZE(vfio_region_info_cap_sparse_mmap, 16);
CIOMMUFD_SIZE(vfio_region_info_cap_type, 16);
CIOMMUFD_SIZE(vfio_region_gfx_edid, 24);
CIOMMUFD_SIZE(vfio_device_migration_info, 32);
CIOMMUFD_SIZE(vfio_region_info_cap_nvlink2_ssatgt, 16);
CIOMMUFD_SIZE(vfio_region_info_cap_nvlink2_lnkspd, 16);
CIOMMUFD_SIZE(vfio_irq_info, 16);
CIOMMUFD_SIZE(vfio_irq_set, 20);
CIOMMUFD_SIZE(vfio_pci_dependent_device, 8);
CIOMMUFD_SIZE(vfio_pci_hot_reset_info, 12);
CIOMMUFD_SIZE(vfio_pci_hot_reset, 12);
CIOMMUFD_SIZE(vfio_device_gfx_plane_info, 64);
CIOMMUFD_SIZE(vfio_device_ioeventfd, 32);
CIOMMUFD_SIZE(vfio_device_feature, 8);
CIOMMUFD_SIZE(vfio_device_bind_iommufd, 24); /* 6.12: 16 */
CIOMMUFD_SIZE(vfio_device_attach_iommufd_pt, 16); /* 6.12: 12 */
CIOMMUFD_SIZE(vfio_device_detach_iommufd_pt, 12); /* 6.12: 8 */
CIOMMUFD_SIZE(vfio_device_feature_migration, 8);
CIOMMUFD_SIZE(vfio_device_feature_mig_state, 8);
CIOMMUFD_SIZE(vfio_precopy_info, 24);
CIOMMUFD_SIZE(vfio_device_low_power_entry_with_wakeup, 8);
CIOMMUFD_SIZE(vfio_device_feature_dma_logging_control, 24);
CIOMMUFD_SIZE(vfio_device_feature_dma_logging_range, 16);
CIOMMUFD_SIZE(vfio_device_feature_dma_logging_report, 32);
CIOMMUFD_SIZE(vfio_device_feature_mig_data_size, 8);
CIOMMUFD_SIZE(vfio_device_feature_bus_master, 4);
CIOMMUFD_SIZE(vfio_region_dma_range, 16);
CIOMMUFD_SIZE(vfio_device_feature_dma_buf, 16);
CIOMMUFD_SIZE(vfio_device_feature_zpci_err, 8);
CIOMMUFD_SIZE(vfio_iommu_type1_info, 24);
CIOMMUFD_SIZE(vfio_iova_range, 16);
CIOMMUFD_SIZE(vfio_iommu_type1_info_cap_iova_range, 16);
CIOMMUFD_SIZE(vfio_iommu_type1_info_cap_migration, 32);
CIOMMUFD_SIZE(vfio_iommu_type1_info_dma_avail, 12);
CIOMMUFD_SIZE(vfio_iommu_type1_dma_map, 32);
CIOMMUFD_SIZE(vfio_bitmap, 24);
CIOMMUFD_SIZE(vfio_iommu_type1_dma_unmap, 24);
CIOMMUFD_SIZE(vfio_iommu_type1_dirty_bitmap, 8);
CIOMMUFD_SIZE(vfio_iommu_type1_dirty_bitmap_get, 40);
CIOMMUFD_SIZE(vfio_iommu_spapr_tce_ddw_info, 16);
CIOMMUFD_SIZE(vfio_iommu_spapr_tce_info, 32);
CIOMMUFD_SIZE(vfio_eeh_pe_err, 24);
CIOMMUFD_SIZE(vfio_eeh_pe_op, 40);
CIOMMUFD_SIZE(vfio_iommu_spapr_register_memory, 24);
CIOMMUFD_SIZE(vfio_iommu_spapr_tce_create, 40);
CIOMMUFD_SIZE(vfio_iommu_spapr_tce_remove, 16);
CIOMMUFD_SIZE(iommu_test_cmd, 72);
CIOMMUFD_SIZE(iommu_test_hw_info, 8);
CIOMMUFD_SIZE(iommu_hwpt_selftest, 8); /* 6.12: 4 */
CIOMMUFD_SIZE(iommu_hwpt_invalidate_selftest, 8);
CIOMMUFD_SIZE(iommu_viommu_selftest, 24);
CIOMMUFD_SIZE(iommu_viommu_invalidate_selftest, 12);
CIOMMUFD_SIZE(iommu_viommu_event_selftest, 4);

int ciommufd_ioctl(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg);
}

int ciommufd_errno(void)
{
	return errno;
}

int ciommufd_memfd_create(const char *name, unsigned int flags)
{
	return memfd_create(name, flags);
}

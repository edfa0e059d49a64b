/* SPDX-License-Identifier: MIT */
/*
 * ciommufd_vfio.h - our own definitions of the Linux VFIO uAPI
 * (include/uapi/linux/vfio.h) at the newest ABI: container (type1), group,
 * device (incl. the iommufd cdev ioctls), region/IRQ info, PCI hot reset,
 * device features, plus the SPAPR/EEH bits for completeness.
 *
 * Names, values and layouts follow the kernel (7.3) exactly; only mainline
 * items. Anything that is not in every checked kernel (6.1, 6.12 and 7.3)
 * carries a trailing "since X.Y" tag ("X.Y?" when the first version is
 * estimated: the checker only knows which checked kernels have it); a value
 * that changed carries "value V before X.Y". Keep the format parseable by
 * Tests/uapi-layout/check_layout.py: one field / constant per line.
 *
 * Note: several request numbers are shared between container, group and
 * device fds (e.g. VFIO_IOMMU_GET_INFO == VFIO_DEVICE_GET_PCI_HOT_RESET_INFO);
 * the meaning depends on the fd.
 */
#ifndef CIOMMUFD_VFIO_H
#define CIOMMUFD_VFIO_H

#include <linux/types.h>
#include <linux/ioctl.h>

#if defined(VFIO_H) || defined(_UAPI_VFIO_H)
#error "ciommufd_vfio.h conflicts with <linux/vfio.h>; include only one"
#endif
/* Make a later #include <linux/vfio.h> a no-op. */
#define VFIO_H
#define _UAPI_VFIO_H

#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif

#define VFIO_API_VERSION 0

/* Extensions (VFIO_CHECK_EXTENSION / VFIO_SET_IOMMU arguments). */
#define VFIO_TYPE1_IOMMU 1
#define VFIO_SPAPR_TCE_IOMMU 2
#define VFIO_TYPE1v2_IOMMU 3
#define VFIO_DMA_CC_IOMMU 4
#define VFIO_EEH 5
/* Was VFIO_TYPE1_NESTING_IOMMU (removed in 6.13); the value stays reserved. */
#define __VFIO_RESERVED_TYPE1_NESTING_IOMMU 6 /* since 6.13 */
#define VFIO_SPAPR_TCE_v2_IOMMU 7
#define VFIO_NOIOMMU_IOMMU 8
#define VFIO_UNMAP_ALL 9
#define VFIO_UPDATE_VADDR 10

#define VFIO_TYPE (';')
#define VFIO_BASE 100

/* Header of every capability in an info chain; next = offset from info start, 0 = end. */
struct vfio_info_cap_header {
	__u16 id;
	__u16 version;
	__u32 next;
};

/* ---- container / group ioctls ---- */

#define VFIO_GET_API_VERSION _IO(VFIO_TYPE, VFIO_BASE + 0)
#define VFIO_CHECK_EXTENSION _IO(VFIO_TYPE, VFIO_BASE + 1)
#define VFIO_SET_IOMMU _IO(VFIO_TYPE, VFIO_BASE + 2)

/* VFIO_GROUP_GET_STATUS */
struct vfio_group_status {
	__u32 argsz;
	__u32 flags;
#define VFIO_GROUP_FLAGS_VIABLE (1 << 0)
#define VFIO_GROUP_FLAGS_CONTAINER_SET (1 << 1)
};
#define VFIO_GROUP_GET_STATUS _IO(VFIO_TYPE, VFIO_BASE + 3)
#define VFIO_GROUP_SET_CONTAINER _IO(VFIO_TYPE, VFIO_BASE + 4)
#define VFIO_GROUP_UNSET_CONTAINER _IO(VFIO_TYPE, VFIO_BASE + 5)
#define VFIO_GROUP_GET_DEVICE_FD _IO(VFIO_TYPE, VFIO_BASE + 6)

/* ---- device ioctls ---- */

/* VFIO_DEVICE_GET_INFO */
struct vfio_device_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_FLAGS_RESET (1 << 0)
#define VFIO_DEVICE_FLAGS_PCI (1 << 1)
#define VFIO_DEVICE_FLAGS_PLATFORM (1 << 2)
#define VFIO_DEVICE_FLAGS_AMBA (1 << 3)
#define VFIO_DEVICE_FLAGS_CCW (1 << 4)
#define VFIO_DEVICE_FLAGS_AP (1 << 5)
#define VFIO_DEVICE_FLAGS_FSL_MC (1 << 6)
#define VFIO_DEVICE_FLAGS_CAPS (1 << 7)
#define VFIO_DEVICE_FLAGS_CDX (1 << 8) /* since 6.6? */
	__u32 num_regions;
	__u32 num_irqs;
	__u32 cap_offset;
	__u32 pad; /* since 6.5? */
};
#define VFIO_DEVICE_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 7)

/* Strings for the vfio-dev "device_api" sysfs attribute. */
#define VFIO_DEVICE_API_PCI_STRING "vfio-pci"
#define VFIO_DEVICE_API_PLATFORM_STRING "vfio-platform"
#define VFIO_DEVICE_API_AMBA_STRING "vfio-amba"
#define VFIO_DEVICE_API_CCW_STRING "vfio-ccw"
#define VFIO_DEVICE_API_AP_STRING "vfio-ap"

/* Device info capability ids (zPCI payloads live in vfio_zdev.h). */
#define VFIO_DEVICE_INFO_CAP_ZPCI_BASE 1
#define VFIO_DEVICE_INFO_CAP_ZPCI_GROUP 2
#define VFIO_DEVICE_INFO_CAP_ZPCI_UTIL 3
#define VFIO_DEVICE_INFO_CAP_ZPCI_PFIP 4
#define VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP 5 /* since 6.5? */

/* PCIe AtomicOp completer support. */
struct vfio_device_info_cap_pci_atomic_comp { /* since 6.5? */
	struct vfio_info_cap_header header;
	__u32 flags;
#define VFIO_PCI_ATOMIC_COMP32 (1 << 0)
#define VFIO_PCI_ATOMIC_COMP64 (1 << 1)
#define VFIO_PCI_ATOMIC_COMP128 (1 << 2)
	__u32 reserved;
};

/* VFIO_DEVICE_GET_REGION_INFO: offset is the region's offset in the device fd. */
struct vfio_region_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_REGION_INFO_FLAG_READ (1 << 0)
#define VFIO_REGION_INFO_FLAG_WRITE (1 << 1)
#define VFIO_REGION_INFO_FLAG_MMAP (1 << 2)
#define VFIO_REGION_INFO_FLAG_CAPS (1 << 3)
	__u32 index;
	__u32 cap_offset;
	__aligned_u64 size;
	__aligned_u64 offset;
};
#define VFIO_DEVICE_GET_REGION_INFO _IO(VFIO_TYPE, VFIO_BASE + 8)

/* Region info capability: sparse mmap areas. */
#define VFIO_REGION_INFO_CAP_SPARSE_MMAP 1

struct vfio_region_sparse_mmap_area {
	__aligned_u64 offset;
	__aligned_u64 size;
};

struct vfio_region_info_cap_sparse_mmap {
	struct vfio_info_cap_header header;
	__u32 nr_areas;
	__u32 reserved;
	struct vfio_region_sparse_mmap_area areas[];
};

/* Region info capability: device-specific region type/subtype. */
#define VFIO_REGION_INFO_CAP_TYPE 2

struct vfio_region_info_cap_type {
	struct vfio_info_cap_header header;
	__u32 type;
	__u32 subtype;
};

#define VFIO_REGION_TYPE_PCI_VENDOR_TYPE (1 << 31)
#define VFIO_REGION_TYPE_PCI_VENDOR_MASK (0xffff)
#define VFIO_REGION_TYPE_GFX (1)
#define VFIO_REGION_TYPE_CCW (2)
#define VFIO_REGION_TYPE_MIGRATION_DEPRECATED (3)

/* Intel vendor sub-types. */
#define VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION (1)
#define VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG (2)
#define VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG (3)
/* NVIDIA / IBM vendor sub-types. */
#define VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM (1)
#define VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD (1)
/* GFX sub-types. */
#define VFIO_REGION_SUBTYPE_GFX_EDID (1)

/* Layout of the GFX EDID region. */
struct vfio_region_gfx_edid {
	__u32 edid_offset;
	__u32 edid_max_size;
	__u32 edid_size;
	__u32 max_xres;
	__u32 max_yres;
	__u32 link_state;
#define VFIO_DEVICE_GFX_LINK_STATE_UP 1
#define VFIO_DEVICE_GFX_LINK_STATE_DOWN 2
};

/* CCW sub-types. */
#define VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD (1)
#define VFIO_REGION_SUBTYPE_CCW_SCHIB (2)
#define VFIO_REGION_SUBTYPE_CCW_CRW (3)

/* Deprecated v1 migration region (kept for ABI completeness). */
#define VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED (1)

struct vfio_device_migration_info {
	__u32 device_state;
#define VFIO_DEVICE_STATE_V1_STOP (0)
#define VFIO_DEVICE_STATE_V1_RUNNING (1 << 0)
#define VFIO_DEVICE_STATE_V1_SAVING (1 << 1)
#define VFIO_DEVICE_STATE_V1_RESUMING (1 << 2)
#define VFIO_DEVICE_STATE_MASK (VFIO_DEVICE_STATE_V1_RUNNING | VFIO_DEVICE_STATE_V1_SAVING | VFIO_DEVICE_STATE_V1_RESUMING)
	__u32 reserved;
	__aligned_u64 pending_bytes;
	__aligned_u64 data_offset;
	__aligned_u64 data_size;
};

/* Region info capability: MSI-X table may be mmap'ed (no payload). */
#define VFIO_REGION_INFO_CAP_MSIX_MAPPABLE 3

/* NVLink2 capabilities. */
#define VFIO_REGION_INFO_CAP_NVLINK2_SSATGT 4

struct vfio_region_info_cap_nvlink2_ssatgt {
	struct vfio_info_cap_header header;
	__aligned_u64 tgt;
};

#define VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD 5

struct vfio_region_info_cap_nvlink2_lnkspd {
	struct vfio_info_cap_header header;
	__u32 link_speed;
	__u32 __pad;
};

/* VFIO_DEVICE_GET_IRQ_INFO */
struct vfio_irq_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IRQ_INFO_EVENTFD (1 << 0)
#define VFIO_IRQ_INFO_MASKABLE (1 << 1)
#define VFIO_IRQ_INFO_AUTOMASKED (1 << 2)
#define VFIO_IRQ_INFO_NORESIZE (1 << 3)
	__u32 index;
	__u32 count;
};
#define VFIO_DEVICE_GET_IRQ_INFO _IO(VFIO_TYPE, VFIO_BASE + 9)

/* VFIO_DEVICE_SET_IRQS: one DATA_* and one ACTION_* flag; data[] per flags. */
struct vfio_irq_set {
	__u32 argsz;
	__u32 flags;
#define VFIO_IRQ_SET_DATA_NONE (1 << 0)
#define VFIO_IRQ_SET_DATA_BOOL (1 << 1)
#define VFIO_IRQ_SET_DATA_EVENTFD (1 << 2)
#define VFIO_IRQ_SET_ACTION_MASK (1 << 3)
#define VFIO_IRQ_SET_ACTION_UNMASK (1 << 4)
#define VFIO_IRQ_SET_ACTION_TRIGGER (1 << 5)
	__u32 index;
	__u32 start;
	__u32 count;
	__u8 data[];
};
#define VFIO_DEVICE_SET_IRQS _IO(VFIO_TYPE, VFIO_BASE + 10)

#define VFIO_IRQ_SET_DATA_TYPE_MASK (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD)
#define VFIO_IRQ_SET_ACTION_TYPE_MASK (VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER)

#define VFIO_DEVICE_RESET _IO(VFIO_TYPE, VFIO_BASE + 11)

/* vfio-pci region indexes (fixed ABI; >= 9 are device specific). */
enum {
	VFIO_PCI_BAR0_REGION_INDEX,
	VFIO_PCI_BAR1_REGION_INDEX,
	VFIO_PCI_BAR2_REGION_INDEX,
	VFIO_PCI_BAR3_REGION_INDEX,
	VFIO_PCI_BAR4_REGION_INDEX,
	VFIO_PCI_BAR5_REGION_INDEX,
	VFIO_PCI_ROM_REGION_INDEX,
	VFIO_PCI_CONFIG_REGION_INDEX,
	VFIO_PCI_VGA_REGION_INDEX,
	VFIO_PCI_NUM_REGIONS = 9
};

/* vfio-pci IRQ indexes. */
enum {
	VFIO_PCI_INTX_IRQ_INDEX,
	VFIO_PCI_MSI_IRQ_INDEX,
	VFIO_PCI_MSIX_IRQ_INDEX,
	VFIO_PCI_ERR_IRQ_INDEX,
	VFIO_PCI_REQ_IRQ_INDEX,
	VFIO_PCI_NUM_IRQS
};

/* vfio-ccw region and IRQ indexes. */
enum {
	VFIO_CCW_CONFIG_REGION_INDEX,
	VFIO_CCW_NUM_REGIONS
};

enum {
	VFIO_CCW_IO_IRQ_INDEX,
	VFIO_CCW_CRW_IRQ_INDEX,
	VFIO_CCW_REQ_IRQ_INDEX,
	VFIO_CCW_NUM_IRQS
};

/* vfio-ap IRQ indexes. */
enum {
	VFIO_AP_REQ_IRQ_INDEX, /* since 6.12? */
	VFIO_AP_CFG_CHG_IRQ_INDEX, /* since 6.17? */
	VFIO_AP_NUM_IRQS /* since 6.12?, value 1 before 6.17? */
};

/* One affected device in VFIO_DEVICE_GET_PCI_HOT_RESET_INFO. */
struct vfio_pci_dependent_device {
	union {
		__u32 group_id;
		__u32 devid; /* since 6.6? */
#define VFIO_PCI_DEVID_OWNED 0 /* since 6.6? */
#define VFIO_PCI_DEVID_NOT_OWNED -1 /* since 6.6? */
	};
	__u16 segment;
	__u8 bus;
	__u8 devfn;
};

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: ENOSPC + count if devices[] too small. */
struct vfio_pci_hot_reset_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID (1 << 0) /* since 6.6? */
#define VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED (1 << 1) /* since 6.6? */
	__u32 count;
	struct vfio_pci_dependent_device devices[];
};
#define VFIO_DEVICE_GET_PCI_HOT_RESET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

/* VFIO_DEVICE_PCI_HOT_RESET: group fds; count 0 for cdev devices bound to iommufd. */
struct vfio_pci_hot_reset {
	__u32 argsz;
	__u32 flags;
	__u32 count;
	__s32 group_fds[];
};
#define VFIO_DEVICE_PCI_HOT_RESET _IO(VFIO_TYPE, VFIO_BASE + 13)

/* VFIO_DEVICE_QUERY_GFX_PLANE */
struct vfio_device_gfx_plane_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_GFX_PLANE_TYPE_PROBE (1 << 0)
#define VFIO_GFX_PLANE_TYPE_DMABUF (1 << 1)
#define VFIO_GFX_PLANE_TYPE_REGION (1 << 2)
	__u32 drm_plane_type;
	__u32 drm_format;
	__aligned_u64 drm_format_mod;
	__u32 width;
	__u32 height;
	__u32 stride;
	__u32 size;
	__u32 x_pos;
	__u32 y_pos;
	__u32 x_hot;
	__u32 y_hot;
	union {
		__u32 region_index;
		__u32 dmabuf_id;
	};
	__u32 reserved; /* since 6.12? */
};
#define VFIO_DEVICE_QUERY_GFX_PLANE _IO(VFIO_TYPE, VFIO_BASE + 14)
#define VFIO_DEVICE_GET_GFX_DMABUF _IO(VFIO_TYPE, VFIO_BASE + 15)

/* VFIO_DEVICE_IOEVENTFD: write data at offset when fd is signalled. */
struct vfio_device_ioeventfd {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_IOEVENTFD_8 (1 << 0)
#define VFIO_DEVICE_IOEVENTFD_16 (1 << 1)
#define VFIO_DEVICE_IOEVENTFD_32 (1 << 2)
#define VFIO_DEVICE_IOEVENTFD_64 (1 << 3)
#define VFIO_DEVICE_IOEVENTFD_SIZE_MASK (0xf)
	__aligned_u64 offset;
	__aligned_u64 data;
	__s32 fd;
	__u32 reserved; /* since 6.12? */
};
#define VFIO_DEVICE_IOEVENTFD _IO(VFIO_TYPE, VFIO_BASE + 16)

/* VFIO_DEVICE_FEATURE: flags = 16-bit feature index | GET/SET/PROBE. */
struct vfio_device_feature {
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_FEATURE_MASK (0xffff)
#define VFIO_DEVICE_FEATURE_GET (1 << 16)
#define VFIO_DEVICE_FEATURE_SET (1 << 17)
#define VFIO_DEVICE_FEATURE_PROBE (1 << 18)
	__u8 data[];
};
#define VFIO_DEVICE_FEATURE _IO(VFIO_TYPE, VFIO_BASE + 17)

/* VFIO_DEVICE_BIND_IOMMUFD (cdev only). */
struct vfio_device_bind_iommufd { /* since 6.6? */
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_BIND_FLAG_TOKEN (1 << 0) /* since 6.17 */
	__s32 iommufd;
	__u32 out_devid;
	__aligned_u64 token_uuid_ptr; /* since 6.17 */
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18) /* since 6.6? */

/* VFIO_DEVICE_ATTACH_IOMMUFD_PT: pt_id in = IOAS/HWPT, out = attached HWPT. */
struct vfio_device_attach_iommufd_pt { /* since 6.6? */
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_ATTACH_PASID (1 << 0) /* since 6.15 */
	__u32 pt_id;
	__u32 pasid; /* since 6.15 */
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19) /* since 6.6? */

/* VFIO_DEVICE_DETACH_IOMMUFD_PT: device (or pasid) goes to blocking DMA. */
struct vfio_device_detach_iommufd_pt { /* since 6.6? */
	__u32 argsz;
	__u32 flags;
#define VFIO_DEVICE_DETACH_PASID (1 << 0) /* since 6.15 */
	__u32 pasid; /* since 6.15 */
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20) /* since 6.6? */

/* ---- device features (VFIO_DEVICE_FEATURE index) ---- */

/* SET a 16-byte UUID shared between PF and VF drivers. */
#define VFIO_DEVICE_FEATURE_PCI_VF_TOKEN (0)

/* GET migration support flags. */
struct vfio_device_feature_migration {
	__aligned_u64 flags;
#define VFIO_MIGRATION_STOP_COPY (1 << 0)
#define VFIO_MIGRATION_P2P (1 << 1)
#define VFIO_MIGRATION_PRE_COPY (1 << 2) /* since 6.2 */
};
#define VFIO_DEVICE_FEATURE_MIGRATION 1

/* GET/SET the migration FSM state; data_fd for data transfer arcs. */
struct vfio_device_feature_mig_state {
	__u32 device_state;
	__s32 data_fd;
};
#define VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE 2

/* Migration FSM states. */
enum vfio_device_mig_state {
	VFIO_DEVICE_STATE_ERROR = 0,
	VFIO_DEVICE_STATE_STOP = 1,
	VFIO_DEVICE_STATE_RUNNING = 2,
	VFIO_DEVICE_STATE_STOP_COPY = 3,
	VFIO_DEVICE_STATE_RESUMING = 4,
	VFIO_DEVICE_STATE_RUNNING_P2P = 5,
	VFIO_DEVICE_STATE_PRE_COPY = 6, /* since 6.2 */
	VFIO_DEVICE_STATE_PRE_COPY_P2P = 7, /* since 6.2 */
	VFIO_DEVICE_STATE_NR, /* since 6.2 */
};

/* VFIO_MIG_GET_PRECOPY_INFO (on the migration data fd). */
struct vfio_precopy_info { /* since 6.2 */
	__u32 argsz;
	__u32 flags;
#define VFIO_PRECOPY_INFO_REINIT (1 << 0) /* since 7.3? */
	__aligned_u64 initial_bytes;
	__aligned_u64 dirty_bytes;
};
#define VFIO_MIG_GET_PRECOPY_INFO _IO(VFIO_TYPE, VFIO_BASE + 21) /* since 6.2 */

/* Low power entry/exit. */
#define VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY 3

struct vfio_device_low_power_entry_with_wakeup {
	__s32 wakeup_eventfd;
	__u32 reserved;
};
#define VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP 4
#define VFIO_DEVICE_FEATURE_LOW_POWER_EXIT 5

/* DMA logging START: ranges points to num_ranges dma_logging_range entries. */
struct vfio_device_feature_dma_logging_control {
	__aligned_u64 page_size;
	__u32 num_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
};

struct vfio_device_feature_dma_logging_range {
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define VFIO_DEVICE_FEATURE_DMA_LOGGING_START 6
#define VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP 7

/* DMA logging REPORT: bitmap points to u64s, one bit per page_size. */
struct vfio_device_feature_dma_logging_report {
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 bitmap;
};

#define VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT 8

/* GET the estimated stop-copy data length. */
struct vfio_device_feature_mig_data_size { /* since 6.2 */
	__aligned_u64 stop_copy_length;
};

#define VFIO_DEVICE_FEATURE_MIG_DATA_SIZE 9 /* since 6.2 */

/* SET bus master on/off (non-PCI devices, e.g. CDX). */
struct vfio_device_feature_bus_master { /* since 6.8? */
	__u32 op;
#define VFIO_DEVICE_FEATURE_CLEAR_MASTER 0
#define VFIO_DEVICE_FEATURE_SET_MASTER 1
};
#define VFIO_DEVICE_FEATURE_BUS_MASTER 10 /* since 6.8? */

/* GET a dma-buf fd for slices of a region; returns the fd. */
#define VFIO_DEVICE_FEATURE_DMA_BUF 11 /* since 6.19 */

struct vfio_region_dma_range { /* since 6.19 */
	__u64 offset;
	__u64 length;
};

struct vfio_device_feature_dma_buf { /* since 6.19 */
	__u32 region_index;
	__u32 open_flags;
	__u32 flags;
	__u32 nr_ranges;
	struct vfio_region_dma_range dma_ranges[];
};

/* SET: opt in to v2 precopy_info (vfio_precopy_info.flags becomes an output). */
#define VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2 12 /* since 7.3? */

/* GET the pending s390 zPCI error: data points to a zpci_ccdf_err-sized buffer
 * (length in the ZPCI_BASE capability); ENOMSG when none is pending. */
struct vfio_device_feature_zpci_err { /* since 7.3? */
	__aligned_u64 data;
};

#define VFIO_DEVICE_FEATURE_ZPCI_ERROR 13 /* since 7.3? */

/* ---- type1 container IOMMU ---- */

/* VFIO_IOMMU_GET_INFO: capability chain at cap_offset when FLAG_CAPS. */
struct vfio_iommu_type1_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_INFO_PGSIZES (1 << 0)
#define VFIO_IOMMU_INFO_CAPS (1 << 1)
	__aligned_u64 iova_pgsizes;
	__u32 cap_offset;
	__u32 pad; /* since 6.12? */
};

/* Capability: valid IOVA ranges (inclusive end). */
#define VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE 1

struct vfio_iova_range {
	__u64 start;
	__u64 end;
};

struct vfio_iommu_type1_info_cap_iova_range {
	struct vfio_info_cap_header header;
	__u32 nr_iovas;
	__u32 reserved;
	struct vfio_iova_range iova_ranges[];
};

/* Capability: dirty page logging support. */
#define VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION 2

struct vfio_iommu_type1_info_cap_migration {
	struct vfio_info_cap_header header;
	__u32 flags;
	__u64 pgsize_bitmap;
	__u64 max_dirty_bitmap_size;
};

/* Capability: number of DMA mappings still allowed. */
#define VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL 3

struct vfio_iommu_type1_info_dma_avail {
	struct vfio_info_cap_header header;
	__u32 avail;
};

#define VFIO_IOMMU_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

/* VFIO_IOMMU_MAP_DMA */
struct vfio_iommu_type1_dma_map {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_MAP_FLAG_READ (1 << 0)
#define VFIO_DMA_MAP_FLAG_WRITE (1 << 1)
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

#define VFIO_IOMMU_MAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 13)

/* Dirty bitmap descriptor; data is a user pointer. */
struct vfio_bitmap {
	__u64 pgsize;
	__u64 size;
	__u64 *data;
};

/* VFIO_IOMMU_UNMAP_DMA: size returns bytes unmapped; data[] = vfio_bitmap. */
struct vfio_iommu_type1_dma_unmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP (1 << 0)
#define VFIO_DMA_UNMAP_FLAG_ALL (1 << 1)
#define VFIO_DMA_UNMAP_FLAG_VADDR (1 << 2)
	__u64 iova;
	__u64 size;
	__u8 data[];
};

#define VFIO_IOMMU_UNMAP_DMA _IO(VFIO_TYPE, VFIO_BASE + 14)

#define VFIO_IOMMU_ENABLE _IO(VFIO_TYPE, VFIO_BASE + 15)
#define VFIO_IOMMU_DISABLE _IO(VFIO_TYPE, VFIO_BASE + 16)

/* VFIO_IOMMU_DIRTY_PAGES: one of START/STOP/GET_BITMAP; data[] = bitmap_get. */
struct vfio_iommu_type1_dirty_bitmap {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_START (1 << 0)
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP (1 << 1)
#define VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP (1 << 2)
	__u8 data[];
};

struct vfio_iommu_type1_dirty_bitmap_get {
	__u64 iova;
	__u64 size;
	struct vfio_bitmap bitmap;
};

#define VFIO_IOMMU_DIRTY_PAGES _IO(VFIO_TYPE, VFIO_BASE + 17)

/* ---- SPAPR TCE (POWER) ---- */

struct vfio_iommu_spapr_tce_ddw_info {
	__u64 pgsizes;
	__u32 max_dynamic_windows_supported;
	__u32 levels;
};

struct vfio_iommu_spapr_tce_info {
	__u32 argsz;
	__u32 flags;
#define VFIO_IOMMU_SPAPR_INFO_DDW (1 << 0)
	__u32 dma32_window_start;
	__u32 dma32_window_size;
	struct vfio_iommu_spapr_tce_ddw_info ddw;
};

#define VFIO_IOMMU_SPAPR_TCE_GET_INFO _IO(VFIO_TYPE, VFIO_BASE + 12)

struct vfio_eeh_pe_err {
	__u32 type;
	__u32 func;
	__u64 addr;
	__u64 mask;
};

struct vfio_eeh_pe_op {
	__u32 argsz;
	__u32 flags;
	__u32 op;
	union {
		struct vfio_eeh_pe_err err;
	};
};

#define VFIO_EEH_PE_DISABLE 0
#define VFIO_EEH_PE_ENABLE 1
#define VFIO_EEH_PE_UNFREEZE_IO 2
#define VFIO_EEH_PE_UNFREEZE_DMA 3
#define VFIO_EEH_PE_GET_STATE 4
#define VFIO_EEH_PE_STATE_NORMAL 0
#define VFIO_EEH_PE_STATE_RESET 1
#define VFIO_EEH_PE_STATE_STOPPED 2
#define VFIO_EEH_PE_STATE_STOPPED_DMA 4
#define VFIO_EEH_PE_STATE_UNAVAIL 5
#define VFIO_EEH_PE_RESET_DEACTIVATE 5
#define VFIO_EEH_PE_RESET_HOT 6
#define VFIO_EEH_PE_RESET_FUNDAMENTAL 7
#define VFIO_EEH_PE_CONFIGURE 8
#define VFIO_EEH_PE_INJECT_ERR 9

#define VFIO_EEH_PE_OP _IO(VFIO_TYPE, VFIO_BASE + 21)

struct vfio_iommu_spapr_register_memory {
	__u32 argsz;
	__u32 flags;
	__u64 vaddr;
	__u64 size;
};
#define VFIO_IOMMU_SPAPR_REGISTER_MEMORY _IO(VFIO_TYPE, VFIO_BASE + 17)
#define VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY _IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_iommu_spapr_tce_create {
	__u32 argsz;
	__u32 flags;
	__u32 page_shift;
	__u32 __resv1;
	__u64 window_size;
	__u32 levels;
	__u32 __resv2;
	__u64 start_addr;
};
#define VFIO_IOMMU_SPAPR_TCE_CREATE _IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_iommu_spapr_tce_remove {
	__u32 argsz;
	__u32 flags;
	__u64 start_addr;
};
#define VFIO_IOMMU_SPAPR_TCE_REMOVE _IO(VFIO_TYPE, VFIO_BASE + 20)

/* Request numbers exported by shim.c (Swift cannot import _IO() macros). */
extern const unsigned long CIOMMUFD_REQ_VFIO_GET_API_VERSION;
extern const unsigned long CIOMMUFD_REQ_VFIO_CHECK_EXTENSION;
extern const unsigned long CIOMMUFD_REQ_VFIO_SET_IOMMU;
extern const unsigned long CIOMMUFD_REQ_VFIO_GROUP_GET_STATUS;
extern const unsigned long CIOMMUFD_REQ_VFIO_GROUP_SET_CONTAINER;
extern const unsigned long CIOMMUFD_REQ_VFIO_GROUP_UNSET_CONTAINER;
extern const unsigned long CIOMMUFD_REQ_VFIO_GROUP_GET_DEVICE_FD;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_REGION_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_IRQ_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_SET_IRQS;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_RESET;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_PCI_HOT_RESET_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_PCI_HOT_RESET;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_QUERY_GFX_PLANE;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_GET_GFX_DMABUF;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_IOEVENTFD;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_FEATURE;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_BIND_IOMMUFD;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_ATTACH_IOMMUFD_PT;
extern const unsigned long CIOMMUFD_REQ_VFIO_DEVICE_DETACH_IOMMUFD_PT;
extern const unsigned long CIOMMUFD_REQ_VFIO_MIG_GET_PRECOPY_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_GET_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_MAP_DMA;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_UNMAP_DMA;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_ENABLE;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_DISABLE;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_DIRTY_PAGES;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_TCE_GET_INFO;
extern const unsigned long CIOMMUFD_REQ_VFIO_EEH_PE_OP;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_REGISTER_MEMORY;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_TCE_CREATE;
extern const unsigned long CIOMMUFD_REQ_VFIO_IOMMU_SPAPR_TCE_REMOVE;

#endif /* CIOMMUFD_VFIO_H */

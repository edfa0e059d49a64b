/* SPDX-License-Identifier: MIT */
/*
 * ciommufd_iommufd.h - our own definitions of the Linux iommufd uAPI
 * (include/uapi/linux/iommufd.h) at the newest ABI, for /dev/iommu.
 *
 * Names, values and layouts follow the kernel (7.3) exactly; only mainline
 * items. Anything that is not in every checked kernel that ships this header
 * (6.12 and 7.3) carries a trailing "since X.Y" tag ("X.Y?" when the first
 * version is estimated: the checker can only tell it lies after 6.12 and at or
 * before 7.3). Tests/uapi-layout/check_layout.py relies on those tags and on
 * this file's format: one field per line, one constant per line.
 *
 * Every struct starts with a __u32 size (when it is an ioctl argument); the
 * kernel accepts shorter (older) and zero-padded longer structs.
 */
#ifndef CIOMMUFD_IOMMUFD_H
#define CIOMMUFD_IOMMUFD_H

#include <linux/types.h>
#include <linux/ioctl.h>

#if defined(_IOMMUFD_H) || defined(_UAPI_IOMMUFD_H)
#error "ciommufd_iommufd.h conflicts with <linux/iommufd.h>; include only one"
#endif
/* Make a later #include <linux/iommufd.h> a no-op. */
#define _IOMMUFD_H
#define _UAPI_IOMMUFD_H

#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif
#ifndef __aligned_le64
#define __aligned_le64 __le64 __attribute__((aligned(8)))
#endif

#define IOMMUFD_TYPE (';')

/* Command numbers (ioctl nr). All iommufd ioctls are _IO(';', nr). */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f, /* since 6.13 */
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90, /* since 6.13 */
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91, /* since 6.13 */
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92, /* since 6.14 */
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93, /* since 6.15 */
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94, /* since 6.17 */
	IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA = 0x95, /* since 7.3? */
};

/* IOMMU_DESTROY: destroy any object by id. */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/* IOMMU_IOAS_ALLOC: new IO address space. */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/* An inclusive IOVA interval. */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/* IOMMU_IOAS_IOVA_RANGES: usable ranges; EMSGSIZE + num_iovas if too small. */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/* IOMMU_IOAS_ALLOW_IOVAS: replace the allowed-IOVA list. */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/* Flags for MAP, MAP_FILE and COPY. */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/* IOMMU_IOAS_MAP: map user memory; iova is output unless FIXED_IOVA. */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/*
 * IOMMU_IOAS_NOIOMMU_GET_PA: physical address behind a mapped IOVA (noiommu
 * devices doing unsafe DMA only); length in = max bytes (non-zero), out =
 * physically contiguous bytes from out_phys.
 */
struct iommu_ioas_noiommu_get_pa { /* since 7.3? */
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_phys;
};
#define IOMMU_IOAS_NOIOMMU_GET_PA _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA) /* since 7.3? */

/* IOMMU_IOAS_MAP_FILE: like MAP but from a memfd (or a supported dma-buf, e.g. a
 * VFIO_DEVICE_FEATURE_DMA_BUF one) at byte offset start. */
struct iommu_ioas_map_file { /* since 6.13 */
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE) /* since 6.13 */

/* IOMMU_IOAS_COPY: copy an existing mapping into another IOAS. */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/* IOMMU_IOAS_UNMAP: length returns bytes unmapped; (0, U64_MAX) = all. */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/* IOMMU_OPTION option ids. */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/* IOMMU_OPTION ops. */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/* IOMMU_OPTION: get/set a global or per-object option. */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/* IOMMU_VFIO_IOAS ops. */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/* IOMMU_VFIO_IOAS: the IOAS used by the VFIO container compat layer. */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/* IOMMU_HWPT_ALLOC flags. */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3, /* since 6.15 */
};

/* Intel VT-d stage-1 page table entry attributes. */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/* IOMMU_HWPT_DATA_VTD_S1: Intel VT-d stage-1 page table. */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/* IOMMU_HWPT_DATA_ARM_SMMUV3: first two little-endian STE words. */
struct iommu_hwpt_arm_smmuv3 { /* since 6.13 */
	__aligned_le64 ste[2];
};

/* IOMMU_HWPT_DATA_AMD_GUEST: the guest's 256-bit device table entry. */
struct iommu_hwpt_amd_guest { /* since 6.19? */
	__aligned_u64 dte[4];
};

/* HWPT_ALLOC data_type. */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2, /* since 6.13 */
	IOMMU_HWPT_DATA_AMD_GUEST = 3, /* since 6.19? */
};

/* IOMMU_HWPT_ALLOC: paging (from an IOAS) or nested (from a parent/vIOMMU). */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/* VT-d hw_info flags. */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/* IOMMU_HW_INFO_TYPE_INTEL_VTD data: raw VT-d capability registers. */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/* iommu_hw_info_arm_smmuv3 flags. */
enum iommu_hw_info_arm_smmuv3_flags { /* since 7.3? */
	IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI = 1 << 0, /* since 7.3? */
};

/* IOMMU_HW_INFO_TYPE_ARM_SMMUV3 data: raw SMMUv3 ID registers. */
struct iommu_hw_info_arm_smmuv3 { /* since 6.13 */
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/* IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV data. */
struct iommu_hw_info_tegra241_cmdqv { /* since 6.17 */
	__u32 flags;
	__u8 version;
	__u8 log2vcmdqs;
	__u8 log2vsids;
	__u8 __reserved;
};

/* IOMMU_HW_INFO_TYPE_AMD data: raw EFR and EFR2 registers. */
struct iommu_hw_info_amd { /* since 6.18? */
	__aligned_u64 efr;
	__aligned_u64 efr2;
};

/* GET_HW_INFO data type (out, or in with IOMMU_HW_INFO_FLAG_INPUT_TYPE). */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0, /* since 6.17 */
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2, /* since 6.13 */
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3, /* since 6.17 */
	IOMMU_HW_INFO_TYPE_AMD = 4, /* since 6.18? */
};

/* GET_HW_INFO out_capabilities bits. */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3, /* since 6.19? */
};

/* GET_HW_INFO flags. */
enum iommufd_hw_info_flags { /* since 6.17 */
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0, /* since 6.17 */
};

/* IOMMU_GET_HW_INFO: IOMMU type data, capabilities and PASID width. */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
	union {
		__u32 in_data_type; /* since 6.17 */
		__u32 out_data_type;
	};
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/* SET_DIRTY_TRACKING flags. */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/* IOMMU_HWPT_SET_DIRTY_TRACKING: toggle dirty tracking on a HWPT. */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/* GET_DIRTY_BITMAP flags. */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/* IOMMU_HWPT_GET_DIRTY_BITMAP: one bit per page_size from iova into data. */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/* HWPT_INVALIDATE data_type. */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1, /* since 6.13 */
};

/* VT-d stage-1 invalidation flags. */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/* IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 entry; addr 0 + npages U64_MAX = all. */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

/* IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 entry: one 128-bit CMDQ command. */
struct iommu_viommu_arm_smmuv3_invalidate { /* since 6.13 */
	__aligned_le64 cmd[2];
};

/* IOMMU_HWPT_INVALIDATE: entry_num in = count, out = entries handled. */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/* iommu_hwpt_pgfault flags. */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID = (1 << 0),
	IOMMU_PGFAULT_FLAGS_LAST_PAGE = (1 << 1),
};

/* iommu_hwpt_pgfault perm bits. */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ = (1 << 0),
	IOMMU_PGFAULT_PERM_WRITE = (1 << 1),
	IOMMU_PGFAULT_PERM_EXEC = (1 << 2),
	IOMMU_PGFAULT_PERM_PRIV = (1 << 3),
};

/* One page fault message read from a fault fd. */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/* Page response codes. */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/* Page response written to a fault fd. */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/* IOMMU_FAULT_QUEUE_ALLOC: fault object + fd. */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/* vIOMMU types. */
enum iommu_viommu_type { /* since 6.13 */
	IOMMU_VIOMMU_TYPE_DEFAULT = 0, /* since 6.13 */
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1, /* since 6.13 */
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2, /* since 6.17 */
};

/* IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV output data: VINTF page0 mmap args. */
struct iommu_viommu_tegra241_cmdqv { /* since 6.17 */
	__aligned_u64 out_vintf_mmap_offset;
	__aligned_u64 out_vintf_mmap_length;
};

/* IOMMU_VIOMMU_ALLOC: vIOMMU over a nest-parent HWPT. */
struct iommu_viommu_alloc { /* since 6.13 */
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_viommu_id;
	__u32 data_len; /* since 6.17 */
	__u32 __reserved; /* since 6.17 */
	__aligned_u64 data_uptr; /* since 6.17 */
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC) /* since 6.13 */

/* IOMMU_VDEVICE_ALLOC: virtual device id (vSID, vRID, ...) on a vIOMMU. */
struct iommu_vdevice_alloc { /* since 6.13 */
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC) /* since 6.13 */

/* IOMMU_IOAS_CHANGE_PROCESS: move pin accounting to the calling process. */
struct iommu_ioas_change_process { /* since 6.14 */
	__u32 size;
	__u32 __reserved;
};
#define IOMMU_IOAS_CHANGE_PROCESS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS) /* since 6.14 */

/* iommufd_vevent_header flags. */
enum iommu_veventq_flag { /* since 6.15 */
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0), /* since 6.15 */
};

/* Header before each vEVENT read from a vEVENTQ fd. */
struct iommufd_vevent_header { /* since 6.15 */
	__u32 flags;
	__u32 sequence;
};

/* vEVENTQ types. */
enum iommu_veventq_type { /* since 6.15 */
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0, /* since 6.15 */
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1, /* since 6.15 */
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2, /* since 6.17 */
};

/* IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 event: 256-bit little-endian event record. */
struct iommu_vevent_arm_smmuv3 { /* since 6.15 */
	__aligned_le64 evt[4];
};

/* IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV event: 128-bit LVCMDQ error map. */
struct iommu_vevent_tegra241_cmdqv { /* since 6.17 */
	__aligned_le64 lvcmdq_err_map[2];
};

/* IOMMU_VEVENTQ_ALLOC: vEVENTQ object + fd (one per type per vIOMMU). */
struct iommu_veventq_alloc { /* since 6.15 */
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 veventq_depth;
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC) /* since 6.15 */

/* HW queue types. */
enum iommu_hw_queue_type { /* since 6.17 */
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0, /* since 6.17 */
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1, /* since 6.17 */
};

/* IOMMU_HW_QUEUE_ALLOC: HW-accelerated vIOMMU queue in guest memory. */
struct iommu_hw_queue_alloc { /* since 6.17 */
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 index;
	__u32 out_hw_queue_id;
	__aligned_u64 nesting_parent_iova;
	__aligned_u64 length;
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC) /* since 6.17 */

/* Request numbers exported by shim.c (Swift cannot import _IO() macros). */
extern const unsigned long CIOMMUFD_REQ_IOMMU_DESTROY;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_ALLOC;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_ALLOW_IOVAS;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_COPY;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_IOVA_RANGES;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_MAP;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_UNMAP;
extern const unsigned long CIOMMUFD_REQ_IOMMU_OPTION;
extern const unsigned long CIOMMUFD_REQ_IOMMU_VFIO_IOAS;
extern const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_ALLOC;
extern const unsigned long CIOMMUFD_REQ_IOMMU_GET_HW_INFO;
extern const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_SET_DIRTY_TRACKING;
extern const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_GET_DIRTY_BITMAP;
extern const unsigned long CIOMMUFD_REQ_IOMMU_HWPT_INVALIDATE;
extern const unsigned long CIOMMUFD_REQ_IOMMU_FAULT_QUEUE_ALLOC;
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_MAP_FILE; /* since 6.13 */
extern const unsigned long CIOMMUFD_REQ_IOMMU_VIOMMU_ALLOC; /* since 6.13 */
extern const unsigned long CIOMMUFD_REQ_IOMMU_VDEVICE_ALLOC; /* since 6.13 */
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_CHANGE_PROCESS; /* since 6.14 */
extern const unsigned long CIOMMUFD_REQ_IOMMU_VEVENTQ_ALLOC; /* since 6.15 */
extern const unsigned long CIOMMUFD_REQ_IOMMU_HW_QUEUE_ALLOC; /* since 6.17 */
extern const unsigned long CIOMMUFD_REQ_IOMMU_IOAS_NOIOMMU_GET_PA; /* since 7.3? */

#endif /* CIOMMUFD_IOMMUFD_H */

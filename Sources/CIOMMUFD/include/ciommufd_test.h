/* SPDX-License-Identifier: MIT */
/*
 * ciommufd_test.h - the iommufd selftest ioctl (IOMMU_TEST_CMD) and the mock
 * driver's data types, as defined by drivers/iommu/iommufd/iommufd_test.h of
 * the 7.3 kernel. Only answered by kernels with CONFIG_IOMMUFD_TEST=y.
 *
 * Names and values follow the kernel exactly; only what 7.3 has. Ops, payloads
 * and constants that 6.12 lacks carry a "since X.Y" tag ("X.Y?": estimated,
 * known to be after 6.12). 6.12 also has the mock-domain device flag
 * MOCK_FLAGS_DEVICE_HUGE_IOVA (1 << 1), which 7.3 dropped (not defined here).
 * Keep the format parseable by Tests/uapi-layout/check_layout.py.
 */
#ifndef CIOMMUFD_TEST_H
#define CIOMMUFD_TEST_H

#include "ciommufd_iommufd.h"

/* iommu_test_cmd.op */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN,
	IOMMU_TEST_OP_MD_CHECK_MAP,
	IOMMU_TEST_OP_MD_CHECK_REFS,
	IOMMU_TEST_OP_CREATE_ACCESS,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
	IOMMU_TEST_OP_ACCESS_PAGES,
	IOMMU_TEST_OP_ACCESS_RW,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
	IOMMU_TEST_OP_DIRTY,
	IOMMU_TEST_OP_MD_CHECK_IOTLB,
	IOMMU_TEST_OP_TRIGGER_IOPF,
	IOMMU_TEST_OP_DEV_CHECK_CACHE, /* since 6.13 */
	IOMMU_TEST_OP_TRIGGER_VEVENT, /* since 6.15 */
	IOMMU_TEST_OP_PASID_ATTACH, /* since 6.15 */
	IOMMU_TEST_OP_PASID_REPLACE, /* since 6.15 */
	IOMMU_TEST_OP_PASID_DETACH, /* since 6.15 */
	IOMMU_TEST_OP_PASID_CHECK_HWPT, /* since 6.15 */
	IOMMU_TEST_OP_DMABUF_GET, /* since 6.19? */
	IOMMU_TEST_OP_DMABUF_REVOKE, /* since 6.19? */
};

/* iommu_hwpt_selftest.pagetable_type */
enum { /* since 6.19? */
	MOCK_IOMMUPT_DEFAULT = 0,
	MOCK_IOMMUPT_HUGE,
};

/* IOVA aperture of the mock domain. */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
	MOCK_PAGE_SIZE = 2048, /* since 6.19? */
	MOCK_HUGE_PAGE_SIZE = 512 * MOCK_PAGE_SIZE, /* since 6.19? */
};

/* create_access.flags */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
};

/* access_rw.flags */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/* create_access.flags */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/* mock_domain_flags.dev_flags */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_PASID = 1 << 2, /* since 6.15 */
};

/* Mock nested domain IOTLB entries. */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

/* Mock device cache entries. */
enum {
	MOCK_DEV_CACHE_ID_MAX = 3, /* since 6.13 */
	MOCK_DEV_CACHE_NUM = 4, /* since 6.13 */
};

/* PASID reserved for the special replace test. */
#define IOMMU_TEST_PASID_RESERVED 1024 /* since 6.15 */

/* IOMMU_TEST_CMD argument: id is the object the op acts on. */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		struct {
			__u32 id;
			__u32 iotlb;
		} check_iotlb;
		struct {
			__u32 dev_id;
			__u32 pasid;
			__u32 grpid;
			__u32 perm;
			__u64 addr;
		} trigger_iopf;
		struct {
			__u32 id;
			__u32 cache;
		} check_dev_cache; /* since 6.13 */
		struct {
			__u32 dev_id;
		} trigger_vevent; /* since 6.15 */
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_attach; /* since 6.15 */
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_replace; /* since 6.15 */
		struct {
			__u32 pasid;
		} pasid_detach; /* since 6.15 */
		struct {
			__u32 pasid;
			__u32 hwpt_id;
		} pasid_check; /* since 6.15 */
		struct {
			__u32 length;
			__u32 open_flags;
		} dmabuf_get; /* since 6.19? */
		struct {
			__s32 dmabuf_fd;
			__u32 revoked;
		} dmabuf_revoke; /* since 6.19? */
	};
	__u32 last;
};
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* Mock device/iommu PASID width. */
#define MOCK_PASID_WIDTH 20 /* since 6.15 */

/* Mock GET_HW_INFO data. */
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

/* Mock HWPT_ALLOC data type (nested mock domain). */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddad /* since 6.13 */

struct iommu_hwpt_selftest {
	__u32 iotlb;
	__u32 pagetable_type; /* since 6.19? */
};

/* Mock HWPT_INVALIDATE data type. */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* With IOMMU_TEST_INVALIDATE_FLAG_ALL, iotlb_id is ignored. */
struct iommu_hwpt_invalidate_selftest {
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1 << 0)
	__u32 flags;
	__u32 iotlb_id;
};

/* Mock vIOMMU type. */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef /* since 6.13 */

/* Mock vIOMMU data: out_data echoes in_data; mmap args for the MMIO page. */
struct iommu_viommu_selftest { /* since 6.17 */
	__u32 in_data;
	__u32 out_data;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_length;
};

/* Mock vIOMMU invalidation data type. */
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeef /* since 6.13 */
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef /* since 6.13 */

/* With IOMMU_TEST_INVALIDATE_FLAG_ALL, cache_id is ignored. */
struct iommu_viommu_invalidate_selftest { /* since 6.13 */
	__u32 flags;
	__u32 vdev_id;
	__u32 cache_id;
};

/* Mock vEVENTQ type and event. */
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef /* since 6.15 */

struct iommu_viommu_event_selftest { /* since 6.15 */
	__u32 virt_id;
};

/* Mock HW queue type. */
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef /* since 6.17 */
#define IOMMU_TEST_HW_QUEUE_MAX 2 /* since 6.17 */

extern const unsigned long CIOMMUFD_REQ_IOMMU_TEST_CMD;

#endif /* CIOMMUFD_TEST_H */

/* SPDX-License-Identifier: MIT */
/*
 * CIOMMUFD.h - umbrella header of the CIOMMUFD C target (swift-iommufd).
 *
 * Self-contained definitions of the iommufd (/dev/iommu) and VFIO uAPI at the
 * newest ABI, independent of the host's linux-libc-dev (never include the
 * host's <linux/iommufd.h> or <linux/vfio.h> together with this header).
 *
 * Swift cannot import _IO() request macros, so every request number is also
 * exported as `const unsigned long CIOMMUFD_REQ_<MACRO>` (see shim.c), and
 * ioctl(2) is wrapped non-variadically by ciommufd_ioctl(); read errno with
 * ciommufd_errno() right after a failing call.
 */
#ifndef CIOMMUFD_H
#define CIOMMUFD_H

#include <linux/types.h>
#include <linux/ioctl.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "ciommufd_iommufd.h"
#include "ciommufd_vfio.h"
#include "ciommufd_test.h"

/* ioctl(fd, request, arg); returns ioctl's result, errno untouched. */
int ciommufd_ioctl(int fd, unsigned long request, void *arg);

/* The calling thread's errno. */
int ciommufd_errno(void);

/* ioctl(fd, request, arg) retried on EINTR: its result, or -errno read right after the
 * call. Inline in the caller, so the library's hot path (SystemIoctlDriver) costs one
 * call fewer than through ciommufd_ioctl; under TCG every call and return counts. */
static inline __attribute__((always_inline)) int ciommufd_ioctl_retrying(int fd, unsigned long request, void *arg)
{
	for (;;) {
		int result = ioctl(fd, request, arg);
		if (result >= 0) return result;
		if (errno != EINTR) return -errno;
	}
}

/* memfd_create(2): glibc declares it only under _GNU_SOURCE, which Swift's Glibc module lacks. */
int ciommufd_memfd_create(const char *name, unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* CIOMMUFD_H */

/* SPDX-License-Identifier: MIT */
/*
 * CAllocationCounter.h - counts this process's heap allocations, for the bench only.
 *
 * Linking this target replaces the malloc family in the executable (every call still
 * goes to glibc's allocator through its __libc_* entry points) and counts each
 * allocating call. Only iommufd-bench links it.
 */
#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H

/* Allocating calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign,
 * valloc, pvalloc) made by any thread of this process so far. */
unsigned long bench_allocation_count(void);

#endif

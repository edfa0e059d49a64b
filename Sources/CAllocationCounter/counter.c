/* SPDX-License-Identifier: MIT */
/*
 * counter.c - the malloc family, counted, forwarding to glibc's allocator.
 *
 * glibc supports replacing malloc in the executable; its own __libc_* entry points
 * are the real allocator, so memory from either side may be freed by the other.
 * The Swift runtime (linked statically into the bench) binds to these at link time,
 * glibc and other shared objects through symbol interposition.
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "CAllocationCounter.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

static unsigned long allocations;

static void *counted(void *p) {
	__atomic_fetch_add(&allocations, 1, __ATOMIC_RELAXED);
	return p;
}

unsigned long bench_allocation_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }

void *malloc(size_t n) { return counted(__libc_malloc(n)); }
void *calloc(size_t count, size_t n) { return counted(__libc_calloc(count, n)); }
void *realloc(void *p, size_t n) { return counted(__libc_realloc(p, n)); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t align, size_t n) { return counted(__libc_memalign(align, n)); }
void *aligned_alloc(size_t align, size_t n) { return counted(__libc_memalign(align, n)); }
void *valloc(size_t n) { return counted(__libc_valloc(n)); }
void *pvalloc(size_t n) { return counted(__libc_pvalloc(n)); }

int posix_memalign(void **out, size_t align, size_t n) {
	if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0) return EINVAL;
	void *p = __libc_memalign(align, n);
	if (p == NULL) return ENOMEM;
	*out = counted(p);
	return 0;
}

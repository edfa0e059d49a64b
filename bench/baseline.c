/* SPDX-License-Identifier: MIT */
/*
 * baseline.c - the C side of Scripts/bench: the operations the Swift bench
 * (Sources/iommufd-bench) times, written the way a C program would, from the same
 * uAPI headers (Sources/CIOMMUFD/include).
 *
 * Both programs run the same list of measurements ("slots"), each as ROUNDS+1
 * batches of ITERATIONS operations; the first batch is a warm-up. With --turns the
 * two take turns through two FIFOs, one batch each (C, Swift, C, Swift, ...), so
 * each Swift batch is timed right after a C batch of the same slot, under the same
 * load. Results are printed at the end, one line per batch:
 *   @@BENCH <label> <session> <slot number> <slot name> <batch> <ns per op> <allocations per op>
 * The label is "c", or with --as another name: a second copy of this program in the
 * Swift bench's place measures the method's own bias (Scripts/bench's control rows).
 *   iommufd-bench-c [--iterations N] [--rounds R] [--device 0000:00:10.0] [--session N]
 *                   [--as LABEL] [--turns WAIT,SIGNAL [--first]]
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "CIOMMUFD.h"

#define IOVA 0x1000000ULL
#define HUGE_SIZE (2UL << 20)
#define EDU_LIVENESS 0x04
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK 0x64

static long iterations = 2000, rounds = 10, session = 1;
static const char *label = "c";

static void die(const char *what) {
	fprintf(stderr, "iommufd-bench-c: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* ---- turns: one batch each, passed through two FIFOs ---- */

static int wait_fd = -1, signal_fd = -1, my_turn = 1;

static void take_turn(void) {
	if (wait_fd < 0 || my_turn) return;
	struct pollfd p = { .fd = wait_fd, .events = POLLIN };
	char token;
	if (poll(&p, 1, 120000) != 1) { fprintf(stderr, "iommufd-bench-c: the Swift side stopped taking turns\n"); exit(1); }
	if (read(wait_fd, &token, 1) != 1) die("read turn");
	my_turn = 1;
}

static void pass_turn(void) {
	char token = 0;
	if (signal_fd < 0) return;
	if (write(signal_fd, &token, 1) != 1) die("write turn");
	my_turn = 0;
}

/* ---- results, printed after the last batch so printing never disturbs a timing ---- */

static char results[1 << 18];
static size_t used;
static int slots; /* slots run so far: the Swift side numbers its slots the same way */

static double now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* Runs one slot: ROUNDS+1 turns, each a batch of `op` (none when it is unavailable). */
static void slot(const char *name, void (*op)(void), const char *unavailable) {
	slots++;
	for (long batch = 0; batch <= rounds; batch++) {
		take_turn();
		double start = now_ns();
		if (!unavailable)
			for (long i = 0; i < iterations; i++) op();
		double ns = (now_ns() - start) / (double)iterations;
		pass_turn();
		if (batch > 0 && !unavailable && used < sizeof(results) - 128)
			used += snprintf(results + used, sizeof(results) - used, "@@BENCH %s %ld %d %s %ld %.1f 0\n", label, session, slots, name, batch, ns);
	}
	if (unavailable && used < sizeof(results) - 256)
		used += snprintf(results + used, sizeof(results) - used, "@@BENCH-SKIP %s %ld %d %s %s\n", label, session, slots, name, unavailable);
}

/* ---- iommufd: IOAS map/unmap and copy, no device attached ---- */

static int iommufd;
static unsigned int ioas, other_ioas;
static void *page, *huge;

static unsigned int alloc_ioas(void) {
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };
	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &cmd)) die("IOMMU_IOAS_ALLOC");
	return cmd.out_ioas_id;
}

static void map(unsigned int id, void *va, unsigned long length) {
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = id,
		.user_va = (unsigned long)va,
		.length = length,
		.iova = IOVA,
	};
	if (ioctl(iommufd, IOMMU_IOAS_MAP, &cmd)) die("IOMMU_IOAS_MAP");
}

static void unmap(unsigned int id, unsigned long length) {
	struct iommu_ioas_unmap cmd = { .size = sizeof(cmd), .ioas_id = id, .iova = IOVA, .length = length };
	if (ioctl(iommufd, IOMMU_IOAS_UNMAP, &cmd)) die("IOMMU_IOAS_UNMAP");
}

static void map_4k(void) { map(ioas, page, 4096); unmap(ioas, 4096); }
static void map_2m(void) { map(ioas, huge, HUGE_SIZE); unmap(ioas, HUGE_SIZE); }

static void copy_4k(void) {
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.dst_ioas_id = other_ioas,
		.src_ioas_id = ioas,
		.length = 4096,
		.dst_iova = IOVA,
		.src_iova = IOVA,
	};
	if (ioctl(iommufd, IOMMU_IOAS_COPY, &cmd)) die("IOMMU_IOAS_COPY");
	unmap(other_ioas, 4096);
}

static void bench_iommufd(void) {
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0) die("open /dev/iommu");
	ioas = alloc_ioas();
	other_ioas = alloc_ioas();
	/* Its own small mapping, never part of a transparent huge page (pinning one costs
	 * differently), exactly as the Swift side's. */
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) die("mmap");
	if (madvise(page, 4096, MADV_NOHUGEPAGE)) die("madvise");
	memset(page, 1, 4096);

	/* One C slot for each of the Swift bench's map-4k variants: each gets its own neighbours. */
	slot("map-4k", map_4k, NULL);
	slot("map-4k", map_4k, NULL);
	slot("map-4k", map_4k, NULL);
	slot("map-4k", map_4k, NULL);
	slot("map-4k", map_4k, NULL);

	map(ioas, page, 4096);
	slot("copy-4k", copy_4k, NULL);
	unmap(ioas, 4096);

	huge = mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (huge == MAP_FAILED) {
		slot("map-2m-hugetlb", map_2m, "mmap MAP_HUGETLB of 2 MiB failed");
	} else {
		memset(huge, 1, HUGE_SIZE);
		slot("map-2m-hugetlb", map_2m, NULL);
		munmap(huge, HUGE_SIZE);
	}
}

/* ---- VFIO: edu BAR0 registers and its MSI, through the device cdev ---- */

static int device, eventfd_fd;
static unsigned long long bar0;
static const unsigned int probe = 0x5a5a1234;
static unsigned int back;

static unsigned long long region_offset(unsigned int index) {
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info)) die("VFIO_DEVICE_GET_REGION_INFO");
	return info.offset;
}

static void open_device(const char *address) {
	char dir[256], path[300] = "";
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev", address);
	DIR *d = opendir(dir);
	if (!d) die(dir);
	for (struct dirent *e; (e = readdir(d));)
		if (!strncmp(e->d_name, "vfio", 4)) snprintf(path, sizeof(path), "/dev/vfio/devices/%s", e->d_name);
	closedir(d);
	device = open(path, O_RDWR | O_CLOEXEC);
	if (device < 0) die(path);
	struct vfio_device_bind_iommufd bind = { .argsz = 16, .iommufd = iommufd };
	if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) die("VFIO_DEVICE_BIND_IOMMUFD");
	struct vfio_device_attach_iommufd_pt attach = { .argsz = 12, .pt_id = alloc_ioas() };
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) die("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	/* Memory decoding and Bus Master (an MSI is a memory write by the device). */
	unsigned long long config = region_offset(VFIO_PCI_CONFIG_REGION_INDEX);
	unsigned short command;
	if (pread(device, &command, 2, config + 4) != 2) die("pread config");
	command |= 0x6;
	if (pwrite(device, &command, 2, config + 4) != 2) die("pwrite config");
	bar0 = region_offset(VFIO_PCI_BAR0_REGION_INDEX);
}

static void region_write(void) {
	if (pwrite(device, &probe, 4, bar0 + EDU_LIVENESS) != 4) die("pwrite BAR0");
}

static void region_read(void) {
	if (pread(device, &back, 4, bar0 + EDU_LIVENESS) != 4) die("pread BAR0");
}

/* Raise edu's interrupt, wait for its MSI the way the library's EventFD.wait does
 * (read the non-blocking eventfd, poll only when nothing is there yet), acknowledge it. */
static void irq_roundtrip(void) {
	unsigned int one = 1;
	unsigned long long count;
	if (pwrite(device, &one, 4, bar0 + EDU_IRQ_RAISE) != 4) die("pwrite raise");
	while (read(eventfd_fd, &count, 8) != 8) {
		if (errno != EAGAIN && errno != EINTR) die("read eventfd");
		struct pollfd p = { .fd = eventfd_fd, .events = POLLIN };
		if (poll(&p, 1, 10000) == 0) { fprintf(stderr, "iommufd-bench-c: no MSI within 10 s\n"); exit(1); }
	}
	if (pwrite(device, &one, 4, bar0 + EDU_IRQ_ACK) != 4) die("pwrite ack");
}

static void set_msi(int fd) {
	char buf[sizeof(struct vfio_irq_set) + sizeof(int)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;
	*set = (struct vfio_irq_set){ .argsz = sizeof(buf), .index = VFIO_PCI_MSI_IRQ_INDEX, .count = 1,
		.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER };
	if (fd < 0) *set = (struct vfio_irq_set){ .argsz = sizeof(*set), .index = VFIO_PCI_MSI_IRQ_INDEX,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER };
	memcpy(set->data, &fd, sizeof(int));
	if (ioctl(device, VFIO_DEVICE_SET_IRQS, set)) die("VFIO_DEVICE_SET_IRQS MSI");
}

static void bench_vfio(const char *address) {
	open_device(address);
	slot("region-write-4b", region_write, NULL);
	slot("region-read-4b", region_read, NULL);
	if (back != ~probe) { fprintf(stderr, "iommufd-bench-c: edu liveness check failed\n"); exit(1); }
	eventfd_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (eventfd_fd < 0) die("eventfd");
	set_msi(eventfd_fd);
	slot("irq-roundtrip-msi", irq_roundtrip, NULL);
	set_msi(-1);
	close(eventfd_fd);
	close(device);
}

static void open_turns(char *spec, int first) {
	char *comma = strchr(spec, ',');
	if (!comma) { fprintf(stderr, "iommufd-bench-c: --turns WAIT-FIFO,SIGNAL-FIFO\n"); exit(2); }
	*comma = 0;
	/* O_RDWR: opening a FIFO so never blocks waiting for the other side. */
	if ((wait_fd = open(spec, O_RDWR | O_CLOEXEC)) < 0) die(spec);
	if ((signal_fd = open(comma + 1, O_RDWR | O_CLOEXEC)) < 0) die(comma + 1);
	my_turn = first;
}

int main(int argc, char **argv) {
	const char *address = "0000:00:10.0";
	char *turns = NULL;
	int first = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc) iterations = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atol(argv[++i]);
		else if (!strcmp(argv[i], "--device") && i + 1 < argc) address = argv[++i];
		else if (!strcmp(argv[i], "--session") && i + 1 < argc) session = atol(argv[++i]);
		else if (!strcmp(argv[i], "--as") && i + 1 < argc) label = argv[++i];
		else if (!strcmp(argv[i], "--turns") && i + 1 < argc) turns = argv[++i];
		else if (!strcmp(argv[i], "--first")) first = 1;
		else {
			fprintf(stderr, "usage: iommufd-bench-c [--iterations N] [--rounds R] [--device PCI-ADDRESS] "
			                "[--session N] [--as LABEL] [--turns WAIT,SIGNAL [--first]]\n");
			return 2;
		}
	}
	if (iterations < 1) iterations = 1;
	if (rounds < 1) rounds = 1;
	if (turns) open_turns(turns, first);
	bench_iommufd();
	bench_vfio(address);
	if (first) take_turn(); /* the other side's last batch: wait for it before leaving */
	fputs(results, stdout);
	return 0;
}

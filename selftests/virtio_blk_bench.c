// SPDX-License-Identifier: GPL-2.0
/*
 * virtio_blk_bench [DIR]: minihv-run's virtio-blk backend
 * (userspace/virtio-blk.c) alone, natively, without a hypervisor: a driver
 * in this process keeps DEPTH requests in flight on a 256 MiB image in DIR
 * (default /dev/shm, a tmpfs), notifying the
 * device's thread through its eventfd as an ioeventfd would and taking
 * the interrupt from an eventfd as an irqfd would deliver it.  Prints one
 * line per workload:
 *
 *   BLK <workload> <IOPS> <MiB/s>
 *
 * for 4 KiB random reads and writes at depth 1 and 32, 1 MiB sequential
 * reads and writes at depth 1 and 4, and 4 KiB random reads at depth 1
 * and 32 with the image's pages dropped from the page cache first
 * ("cold": on a disk, each read waits for it; on a tmpfs nothing is
 * dropped), two seconds each.  It
 * measures what design.rst's "virtio-blk's I/O" compares (the backend's
 * cost and its parallelism), not the hypervisor: make bench's disk rows
 * measure the whole path in a guest.  A benchmark, not a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "virtio-dev.h"
#include "virtio_driver.h"

#define RAM_SIZE	(64ULL << 20)
#define DISK_SIZE	(256ULL << 20)
#define QSIZE		256
#define DESC		0x1000
#define AVAIL		0x2000
#define USED		0x3000
#define HDRS		0x8000		/* a header (16) and a status byte per request */
#define DATA		(1ULL << 20)	/* then each request's data, 1 MiB apart */
#define MAX_DEPTH	32
#define SECONDS		2

static int irq_efd;

/* The device's interrupt, as an irqfd would take it. */
static void irq(void *arg, uint32_t pin)
{
	uint64_t one = 1;

	(void)arg, (void)pin;
	if (write(irq_efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static void driver_init(struct virtio_dev *d)
{
	vd_init(d, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 9), QSIZE,	/* 9: FLUSH */
		DESC, AVAIL, USED);
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

/* Request @i (heads 3i, 3i+1, 3i+2) of @len bytes at @sector, offered. */
static void submit(uint8_t *ram, unsigned int i, bool out, uint64_t sector, uint32_t len)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { out, 0, sector };
	struct desc e[3] = {
		{ HDRS + i * 32, 16, 1, 3 * i + 1 },
		{ DATA + i * DATA, len, out ? 1 : 3, 3 * i + 2 },
		{ HDRS + i * 32 + 16, 1, 2, 0 },
	};
	uint16_t idx, head = 3 * i;

	memcpy(ram + HDRS + i * 32, &h, sizeof(h));
	memcpy(ram + DESC + head * 16, e, sizeof(e));
	memcpy(&idx, ram + AVAIL + 2, 2);
	memcpy(ram + AVAIL + 4 + (idx % QSIZE) * 2, &head, 2);
	__atomic_store_n((uint16_t *)(ram + AVAIL + 2), (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One workload: requests completed per second. */
static double run(struct virtio_dev *d, uint8_t *ram, bool out, bool seq, uint32_t len,
		  unsigned int depth)
{
	uint64_t sectors = DISK_SIZE / 512, per = len / 512, next = 0, one = 1, count;
	uint16_t used = __atomic_load_n((uint16_t *)(ram + USED + 2), __ATOMIC_ACQUIRE);
	unsigned int i, done = 0, inflight = depth;
	double t0 = now(), t;
	uint32_t elem[2];

	for (i = 0; i < depth; i++, next += per)
		submit(ram, i, out, seq ? next % sectors : random() % (sectors / per) * per, len);
	if (write(d->notify_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	for (;;) {
		if (read(irq_efd, &count, sizeof(count)) != sizeof(count))
			abort();
		/* Acknowledged before the ring is read, as Linux's vm_interrupt does. */
		vd_write(d, 0x64, vd_read(d, 0x60));
		t = now();
		while (used != __atomic_load_n((uint16_t *)(ram + USED + 2), __ATOMIC_ACQUIRE)) {
			memcpy(elem, ram + USED + 4 + (used % QSIZE) * 8, 8);
			used++;
			if (ram[HDRS + elem[0] / 3 * 32 + 16]) {
				fprintf(stderr, "virtio_blk_bench: request failed\n");
				exit(1);
			}
			done++;
			inflight--;
			if (t - t0 < SECONDS) {
				submit(ram, elem[0] / 3, out,
				       seq ? next % sectors : random() % (sectors / per) * per, len);
				next += per;
				inflight++;
			}
		}
		if (!inflight)
			break;
		if (write(d->notify_fd, &one, sizeof(one)) != sizeof(one))
			abort();
	}
	return done / (now() - t0);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		bool out, seq;
		uint32_t len;
		unsigned int depth;
		bool cold;
	} w[] = {
		{ "randread_4k_qd1", false, false, 4096, 1 },
		{ "randread_4k_qd32", false, false, 4096, 32 },
		{ "randwrite_4k_qd1", true, false, 4096, 1 },
		{ "randwrite_4k_qd32", true, false, 4096, 32 },
		{ "seqread_1m_qd1", false, true, 1 << 20, 1 },
		{ "seqread_1m_qd4", false, true, 1 << 20, 4 },
		{ "seqwrite_1m_qd1", true, true, 1 << 20, 1 },
		{ "seqwrite_1m_qd4", true, true, 1 << 20, 4 },
		{ "randread_4k_qd1_cold", false, false, 4096, 1, true },
		{ "randread_4k_qd32_cold", false, false, 4096, 32, true },
	};
	const char *dir = argc > 1 ? argv[1] : "/dev/shm";
	char path[PATH_MAX];
	struct virtio_dev d;
	unsigned int i;
	uint8_t *ram;
	double iops;
	int fd;

	ram = mmap(NULL, RAM_SIZE + MAX_DEPTH * DATA, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	snprintf(path, sizeof(path), "%s/virtio_blk_bench.XXXXXX", dir);
	fd = mkstemp(path);
	irq_efd = eventfd(0, EFD_CLOEXEC);
	if (ram == MAP_FAILED || fd < 0 || irq_efd < 0 || ftruncate(fd, DISK_SIZE)) {
		perror("virtio_blk_bench");
		return 1;
	}
	/* Every page of the image allocated: reads copy data, not zero pages. */
	for (i = 0; i < DISK_SIZE / DATA; i++) {
		memset(ram + DATA, i, DATA);
		if (pwrite(fd, ram + DATA, DATA, i * DATA) != (ssize_t)DATA) {
			perror("virtio_blk_bench: pwrite");
			return 1;
		}
	}
	if (fsync(fd)) {
		perror("virtio_blk_bench: fsync");
		return 1;
	}
	if (virtio_blk_init(&d, 0, path, false, ram, RAM_SIZE + MAX_DEPTH * DATA,
			    VIRTIO_MMIO_BASE, VIRTIO_FIRST_PIN)) {
		perror("virtio_blk_bench: virtio_blk_init");
		return 1;
	}
	d.irq_line = irq;
	driver_init(&d);
	if (virtio_dev_start(&d)) {
		fprintf(stderr, "virtio_blk_bench: no device thread\n");
		return 1;
	}
	srandom(1);
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (w[i].cold && (fdatasync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))) {
			perror("virtio_blk_bench: dropping the image's pages");
			return 1;
		}
		iops = run(&d, ram, w[i].out, w[i].seq, w[i].len, w[i].depth);
		printf("BLK %s %.0f %.1f\n", w[i].name, iops, iops * w[i].len / (1 << 20));
		fflush(stdout);
	}
	virtio_dev_stop(&d);
	close(fd);
	unlink(path);
	return 0;
}

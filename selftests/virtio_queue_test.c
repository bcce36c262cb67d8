// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-run's virtio transport and split virtqueue (userspace/virtio.c)
 * with its rng and blk devices, driven through their MMIO registers by a
 * hostile driver, without a hypervisor: guest RAM is a buffer between two
 * PROT_NONE pages, so a device access outside it faults the test.
 *
 *   rng_fills           a well-formed request is served: used ring, length,
 *                       InterruptStatus, the interrupt
 *   hostile_*           loops, indexes past the ring, addresses outside
 *                       RAM, buffers across its end, zero and huge lengths,
 *                       indirect tables unnegotiated, nested, or looping,
 *                       queue sizes not a power of 2: each ends in
 *                       DEVICE_NEEDS_RESET, a config interrupt and a
 *                       stopped queue; a reset brings the device back
 *   features_subset     FEATURES_OK refused for a feature not offered
 *   blk_*               reads and writes touch only their sectors; out of
 *                       range is IOERR; a read-only disk is never written;
 *                       requests in flight (the workers') complete before
 *                       a reset returns; more than the device's slots
 *                       wait, available, and none is lost
 *   fuzz                seeded random rings (MINIHV_FUZZ_SEED): no fault,
 *                       and each round ends served or in NEEDS_RESET
 *   net_*               virtio-net on a socket pair: a frame each way with
 *                       its header; a receive buffer waits for a frame
 *                       and a frame for a buffer (the backend's fd is
 *                       polled only with none in hand); a frame too big
 *                       for the buffer is dropped, the buffer kept;
 *                       offloads never negotiated, writable transmit and
 *                       readable or short receive buffers stop the queue;
 *                       net_fuzz: random descriptors on both queues and
 *                       random frames from the wire (MINIHV_FUZZ_SEED)
 */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "virtio-dev.h"
#include "virtio_driver.h"

#define PAGE		4096UL
#define RAM_SIZE	(64 * PAGE)
#define BASE		VIRTIO_MMIO_BASE
#define QSIZE		8
#define DESC		0x1000		/* the three areas of queue 0 */
#define AVAIL		0x2000
#define USED		0x3000
#define BUF		0x8000
#define DISK_SECTORS	16

/* A buffer of @len bytes between two PROT_NONE pages. */
static uint8_t *guarded(size_t len)
{
	size_t pages = (len + PAGE - 1) / PAGE;
	uint8_t *m = mmap(NULL, (pages + 2) * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED || mprotect(m + PAGE, pages * PAGE, PROT_READ | PROT_WRITE))
		return NULL;
	return m + PAGE;
}

/* The driver's side of 3.1.1 and 4.2.3.2 for queue 0 of @num entries. */
static void driver_init(struct virtio_dev *d, uint64_t features, uint32_t num)
{
	vd_init(d, features, num, DESC, AVAIL, USED);
}

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static void set_desc(uint8_t *ram, uint64_t table, unsigned int i, uint64_t addr,
		     uint32_t len, uint16_t flags, uint16_t next)
{
	struct desc e = { addr, len, flags, next };

	memcpy(ram + table + i * 16, &e, sizeof(e));
}

/* Makes head @head available in the ring at @avail (no device run). */
static void offer(struct virtio_dev *d, uint64_t avail, uint16_t head)
{
	uint16_t idx;

	memcpy(&idx, d->ram + avail + 2, 2);
	memcpy(d->ram + avail + 4 + (idx % QSIZE) * 2, &head, 2);
	idx++;
	memcpy(d->ram + avail + 2, &idx, 2);
}

/*
 * Makes head @head available on queue 0 and lets the device run, until
 * the requests it handed to its workers (virtio-blk) have completed.
 */
static void kick(struct virtio_dev *d, uint16_t head)
{
	offer(d, AVAIL, head);
	pthread_mutex_lock(&d->lock);
	virtio_process(d);
	virtio_drain(d);
	pthread_mutex_unlock(&d->lock);
}

static uint16_t used_idx_at(struct virtio_dev *d, uint64_t used)
{
	uint16_t v;

	memcpy(&v, d->ram + used + 2, 2);
	return v;
}

static uint32_t used_len_at(struct virtio_dev *d, uint64_t used, unsigned int i)
{
	uint32_t v;

	memcpy(&v, d->ram + used + 4 + (i % QSIZE) * 8 + 4, 4);
	return v;
}

static uint16_t used_idx(struct virtio_dev *d)
{
	return used_idx_at(d, USED);
}

static uint32_t used_len(struct virtio_dev *d, unsigned int i)
{
	return used_len_at(d, USED, i);
}

static int irqs;

static void count_irq(void *arg, uint32_t pin)
{
	(void)arg;
	(void)pin;
	irqs++;
}

FIXTURE(dev) {
	uint8_t *ram;
	struct virtio_dev d;
};

FIXTURE_SETUP(dev)
{
	self->ram = guarded(RAM_SIZE);
	ASSERT_NE(NULL, self->ram);
	ASSERT_EQ(0, virtio_rng_init(&self->d, self->ram, RAM_SIZE, BASE, 16));
	self->d.irq_line = count_irq;
	irqs = 0;
	driver_init(&self->d, 1ULL << VIRTIO_F_VERSION_1, QSIZE);
	ASSERT_EQ(0x74726976, vd_read(&self->d, 0));
	ASSERT_EQ(2, vd_read(&self->d, 4));
	ASSERT_EQ(VIRTIO_ID_RNG, vd_read(&self->d, 8));
	ASSERT_EQ(1, vd_read(&self->d, 0x44));
	ASSERT_TRUE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_FEATURES_OK);
}

FIXTURE_TEARDOWN(dev)
{
	close(self->d.notify_fd);
}

/* NEEDS_RESET, a config interrupt, the queue stopped, nothing used; then a reset heals it. */
static void expect_broken(struct __test_metadata *_metadata, struct virtio_dev *d)
{
	uint16_t before = used_idx(d);

	EXPECT_TRUE(vd_read(d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	EXPECT_TRUE(vd_read(d, 0x60) & VIRTIO_INT_CONFIG);
	EXPECT_LE(1, irqs);
	EXPECT_TRUE(d->s.q[0].broken || !d->s.q[0].ready);
	/* A good request now is not served: the queue is stopped. */
	set_desc(d->ram, DESC, 0, BUF, 64, 2, 0);
	kick(d, 0);
	EXPECT_EQ(before, used_idx(d));
	/* A reset, and the same request is. */
	memset(d->ram + AVAIL, 0, 0x1000);
	memset(d->ram + USED, 0, 0x1000);
	driver_init(d, 1ULL << VIRTIO_F_VERSION_1, QSIZE);
	EXPECT_FALSE(vd_read(d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	kick(d, 0);
	EXPECT_EQ(1, used_idx(d));
}

TEST_F(dev, rng_fills)
{
	memset(self->ram + BUF, 0, 64);
	set_desc(self->ram, DESC, 0, BUF, 32, 2, 1);		/* WRITE | NEXT */
	set_desc(self->ram, DESC, 0, BUF, 32, 3, 1);
	set_desc(self->ram, DESC, 1, BUF + 32, 32, 2, 0);
	kick(&self->d, 0);
	EXPECT_EQ(1, used_idx(&self->d));
	EXPECT_EQ(64, used_len(&self->d, 0));
	EXPECT_EQ(VIRTIO_INT_USED, vd_read(&self->d, 0x60));
	EXPECT_EQ(1, irqs);
	vd_write(&self->d, 0x64, VIRTIO_INT_USED);
	EXPECT_EQ(0, vd_read(&self->d, 0x60));
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
}

TEST_F(dev, hostile_loop)
{
	set_desc(self->ram, DESC, 0, BUF, 16, 3, 1);
	set_desc(self->ram, DESC, 1, BUF, 16, 3, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_next_past_ring)
{
	set_desc(self->ram, DESC, 0, BUF, 16, 3, QSIZE);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_head_past_ring)
{
	kick(&self->d, QSIZE + 3);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_avail_index)
{
	uint16_t idx = QSIZE + 1;

	set_desc(self->ram, DESC, 0, BUF, 16, 2, 0);
	memcpy(self->ram + AVAIL + 2, &idx, 2);
	pthread_mutex_lock(&self->d.lock);
	virtio_process(&self->d);
	pthread_mutex_unlock(&self->d.lock);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_outside_ram)
{
	set_desc(self->ram, DESC, 0, RAM_SIZE, 1, 2, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_across_ram_end)
{
	set_desc(self->ram, DESC, 0, RAM_SIZE - 8, 16, 2, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_wrapping_address)
{
	set_desc(self->ram, DESC, 0, ~0ULL - 4, 16, 2, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_zero_length)
{
	set_desc(self->ram, DESC, 0, BUF, 0, 2, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_huge_length)
{
	set_desc(self->ram, DESC, 0, 0, 0xffffffff, 2, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_indirect_not_negotiated)
{
	set_desc(self->ram, DESC, 0, BUF, 16, 4, 0);
	set_desc(self->ram, BUF, 0, BUF + 0x100, 16, 2, 0);
	kick(&self->d, 0);
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_queue_size)
{
	driver_init(&self->d, 1ULL << VIRTIO_F_VERSION_1, 3);
	EXPECT_EQ(0, vd_read(&self->d, 0x44));
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, hostile_rings_outside_ram)
{
	vd_write(&self->d, 0x70, 0);
	vd_write(&self->d, 0x38, QSIZE);
	vd_write(&self->d, 0xa0, RAM_SIZE - 8);
	vd_write(&self->d, 0x90, AVAIL);
	vd_write(&self->d, 0x80, DESC);
	vd_write(&self->d, 0x44, 1);
	EXPECT_EQ(0, vd_read(&self->d, 0x44));
	expect_broken(_metadata, &self->d);
}

TEST_F(dev, features_subset)
{
	vd_write(&self->d, 0x70, 0);
	vd_write(&self->d, 0x70, 3);
	vd_write(&self->d, 0x24, 0);
	vd_write(&self->d, 0x20, 1u << VIRTIO_RING_F_INDIRECT_DESC);	/* not offered by rng */
	vd_write(&self->d, 0x24, 1);
	vd_write(&self->d, 0x20, 1);
	vd_write(&self->d, 0x70, 3 | VIRTIO_STATUS_FEATURES_OK);
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_FEATURES_OK);
	/* Without VERSION_1 neither. */
	vd_write(&self->d, 0x70, 0);
	vd_write(&self->d, 0x70, 3 | VIRTIO_STATUS_FEATURES_OK);
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_FEATURES_OK);
}

/* ---- virtio-blk ---- */

FIXTURE(blk) {
	uint8_t *ram;
	struct virtio_dev d;
	char path[64];
	uint8_t image[DISK_SECTORS * 512];
};

static void make_disk(struct __test_metadata *_metadata, FIXTURE_DATA(blk) *self, bool ro)
{
	int fd;
	unsigned int i;

	for (i = 0; i < sizeof(self->image); i++)
		self->image[i] = i * 7 + 1;
	strcpy(self->path, "/tmp/virtio_queue_test.XXXXXX");
	fd = mkstemp(self->path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(self->image), write(fd, self->image, sizeof(self->image)));
	close(fd);
	ASSERT_EQ(0, virtio_blk_init(&self->d, 0, self->path, ro, self->ram, RAM_SIZE, BASE, 16));
	self->d.irq_line = count_irq;
	driver_init(&self->d, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
			      (ro ? 1ULL << 5 : 0) | (1ULL << 9), QSIZE);
	ASSERT_TRUE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_FEATURES_OK);
}

FIXTURE_SETUP(blk)
{
	self->ram = guarded(RAM_SIZE);
	ASSERT_NE(NULL, self->ram);
	irqs = 0;
}

FIXTURE_TEARDOWN(blk)
{
	unlink(self->path);
}

/* The image as it is on disk now. */
static void read_image(struct __test_metadata *_metadata, const char *path, uint8_t *buf)
{
	int fd = open(path, O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(DISK_SECTORS * 512, read(fd, buf, DISK_SECTORS * 512));
	close(fd);
}

/* A request: header at BUF, data at BUF + 0x100 (@len), status at BUF + 0x80. */
static uint8_t blk_req(struct virtio_dev *d, uint32_t type, uint64_t sector, uint32_t len,
		       bool data_in)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { type, 0, sector };

	memcpy(d->ram + BUF, &h, sizeof(h));
	d->ram[BUF + 0x80] = 0xee;
	set_desc(d->ram, DESC, 0, BUF, 16, 1, 1);
	set_desc(d->ram, DESC, 1, BUF + 0x100, len, 1 | (data_in ? 2 : 0), 2);
	set_desc(d->ram, DESC, 2, BUF + 0x80, 1, 2, 0);
	kick(d, 0);
	return d->ram[BUF + 0x80];
}

TEST_F(blk, blk_read_write_own_sectors)
{
	uint8_t now[DISK_SECTORS * 512];

	make_disk(_metadata, self, false);
	EXPECT_EQ(DISK_SECTORS, self->d.s.config[0]);
	EXPECT_EQ(0, blk_req(&self->d, 0, 3, 1024, true));		/* T_IN */
	EXPECT_EQ(0, memcmp(self->ram + BUF + 0x100, self->image + 3 * 512, 1024));
	EXPECT_EQ(1025, used_len(&self->d, 0));
	memset(self->ram + BUF + 0x100, 0xab, 512);
	EXPECT_EQ(0, blk_req(&self->d, 1, 5, 512, false));		/* T_OUT */
	memset(self->image + 5 * 512, 0xab, 512);
	read_image(_metadata, self->path, now);
	EXPECT_EQ(0, memcmp(now, self->image, sizeof(now)));
	/* Past the end, partly past, not whole sectors: IOERR, nothing written. */
	EXPECT_EQ(1, blk_req(&self->d, 1, DISK_SECTORS, 512, false));
	EXPECT_EQ(1, blk_req(&self->d, 1, DISK_SECTORS - 1, 1024, false));
	EXPECT_EQ(1, blk_req(&self->d, 1, ~0ULL / 512, 1024, false));
	EXPECT_EQ(1, blk_req(&self->d, 1, 0, 100, false));
	EXPECT_EQ(1, blk_req(&self->d, 0, DISK_SECTORS - 1, 1024, true));
	read_image(_metadata, self->path, now);
	EXPECT_EQ(0, memcmp(now, self->image, sizeof(now)));
	EXPECT_EQ(0, blk_req(&self->d, 4, 0, 1, true));		/* T_FLUSH */
	EXPECT_EQ(0, blk_req(&self->d, 8, 0, 20, true));		/* T_GET_ID */
	EXPECT_EQ(0, memcmp(self->ram + BUF + 0x100, "minihv-disk0", 12));
	EXPECT_EQ(2, blk_req(&self->d, 99, 0, 16, true));		/* UNSUPP */
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
}

TEST_F(blk, blk_read_only_never_written)
{
	uint8_t now[DISK_SECTORS * 512];

	make_disk(_metadata, self, true);
	memset(self->ram + BUF + 0x100, 0xcd, 512);
	EXPECT_EQ(1, blk_req(&self->d, 1, 0, 512, false));
	EXPECT_EQ(0, blk_req(&self->d, 0, 0, 512, true));
	EXPECT_EQ(0, memcmp(self->ram + BUF + 0x100, self->image, 512));
	read_image(_metadata, self->path, now);
	EXPECT_EQ(0, memcmp(now, self->image, sizeof(now)));
}

TEST_F(blk, blk_nested_indirect)
{
	make_disk(_metadata, self, false);
	set_desc(self->ram, DESC, 0, BUF + 0x400, 32, 4, 0);
	set_desc(self->ram, BUF + 0x400, 0, BUF + 0x600, 16, 4, 0);	/* a table in a table */
	kick(&self->d, 0);
	EXPECT_TRUE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	EXPECT_EQ(0, used_idx(&self->d));
}

TEST_F(blk, blk_indirect_loop)
{
	make_disk(_metadata, self, false);
	set_desc(self->ram, DESC, 0, BUF + 0x400, 32, 4, 0);
	set_desc(self->ram, BUF + 0x400, 0, BUF, 16, 1, 1);
	set_desc(self->ram, BUF + 0x400, 1, BUF, 16, 1, 0);
	kick(&self->d, 0);
	EXPECT_TRUE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
}

TEST_F(blk, blk_indirect_served)
{
	make_disk(_metadata, self, false);
	struct { uint32_t type, reserved; uint64_t sector; } h = { 0, 0, 2 };

	memcpy(self->ram + BUF, &h, sizeof(h));
	set_desc(self->ram, DESC, 0, BUF + 0x400, 48, 4, 0);
	set_desc(self->ram, BUF + 0x400, 0, BUF, 16, 1, 1);
	set_desc(self->ram, BUF + 0x400, 1, BUF + 0x1000, 512, 3, 2);
	set_desc(self->ram, BUF + 0x400, 2, BUF + 0x80, 1, 2, 0);
	kick(&self->d, 0);
	EXPECT_EQ(0, self->ram[BUF + 0x80]);
	EXPECT_EQ(0, memcmp(self->ram + BUF + 0x1000, self->image + 2 * 512, 512));
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
}

/*
 * Request @i of QSIZE through an indirect table: a read of sector @i
 * (512 bytes into BUF + 0x4000 + i * 0x200), status at BUF + 0x3000 + i.
 */
static void blk_indirect_read(uint8_t *ram, unsigned int i)
{
	struct { uint32_t type, reserved; uint64_t sector; } h = { 0, 0, i };
	uint64_t table = BUF + 0x2000 + i * 0x100;

	memcpy(ram + table + 0x80, &h, sizeof(h));
	ram[BUF + 0x3000 + i] = 0xee;
	set_desc(ram, DESC, i, table, 48, 4, 0);
	set_desc(ram, table, 0, table + 0x80, 16, 1, 1);
	set_desc(ram, table, 1, BUF + 0x4000 + i * 0x200, 512, 3, 2);
	set_desc(ram, table, 2, BUF + 0x3000 + i, 1, 2, 0);
}

/*
 * Requests are taken while their I/O is pending, and a reset waits for
 * them: the eight complete into the rings they came from, each right,
 * before the reset returns.  (Holding the lock keeps every worker from
 * starting one before the reset is written.)
 */
TEST_F(blk, blk_reset_waits_for_requests_in_flight)
{
	unsigned int i;

	make_disk(_metadata, self, false);
	pthread_mutex_lock(&self->d.lock);
	for (i = 0; i < QSIZE; i++) {
		blk_indirect_read(self->ram, i);
		offer(&self->d, AVAIL, i);
	}
	virtio_process(&self->d);
	EXPECT_EQ(0, used_idx(&self->d));
	pthread_mutex_unlock(&self->d.lock);
	vd_write(&self->d, 0x70, 0);
	EXPECT_EQ(QSIZE, used_idx(&self->d));
	for (i = 0; i < QSIZE; i++) {
		EXPECT_EQ(0, self->ram[BUF + 0x3000 + i]);
		EXPECT_EQ(0, memcmp(self->ram + BUF + 0x4000 + i * 0x200,
				    self->image + i * 512, 512));
	}
	virtio_dev_stop(&self->d);
}

/*
 * More requests than the device has slots: the rest wait, available,
 * and a completion wakes the device's thread (its eventfd) to take them.
 * None is lost or served twice.
 */
TEST_F(blk, blk_slots_run_out)
{
	unsigned int round, i, taken = 0;
	struct pollfd pfd;

	make_disk(_metadata, self, false);
	for (i = 0; i < QSIZE; i++)
		blk_indirect_read(self->ram, i);
	/*
	 * 9 x 8 requests with no worker able to start one: 64 slots fill and
	 * the last 8 wait (the same heads again: a ring holds 8 at a time).
	 */
	pthread_mutex_lock(&self->d.lock);
	for (round = 0; round < 9; round++) {
		for (i = 0; i < QSIZE; i++)
			offer(&self->d, AVAIL, i);
		virtio_process(&self->d);
	}
	taken = self->d.s.q[0].last_avail;
	EXPECT_EQ(64, taken);
	pthread_mutex_unlock(&self->d.lock);
	pfd = (struct pollfd){ .fd = self->d.notify_fd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	/* What the device's thread does when woken, until all 72 are served. */
	for (i = 0; i < 9 && used_idx(&self->d) != 72; i++) {
		pthread_mutex_lock(&self->d.lock);
		virtio_process(&self->d);
		virtio_drain(&self->d);
		pthread_mutex_unlock(&self->d.lock);
	}
	EXPECT_EQ(72, used_idx(&self->d));
	EXPECT_EQ(72, self->d.s.q[0].last_avail);
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	for (i = 0; i < QSIZE; i++)
		EXPECT_EQ(0, memcmp(self->ram + BUF + 0x4000 + i * 0x200,
				    self->image + i * 512, 512));
	virtio_dev_stop(&self->d);
}

/*
 * Random descriptor tables and available rings, 20000 rounds: a fault
 * ends the test; each round is served or ends in NEEDS_RESET; writes to
 * the image stay inside it (the file keeps its size).
 */
TEST_F(blk, fuzz)
{
	unsigned int seed = getenv("MINIHV_FUZZ_SEED") ? atoi(getenv("MINIHV_FUZZ_SEED"))
						       : (unsigned int)time(NULL);
	unsigned int round, i, resets = 0, served = 0;
	struct stat st;

	make_disk(_metadata, self, false);
	TH_LOG("seed %u", seed);
	srandom(seed);
	for (round = 0; round < 20000; round++) {
		/* The device's own count: a request may write over the used ring. */
		uint16_t before = self->d.s.q[0].used_idx;

		for (i = 0; i < QSIZE; i++) {
			uint64_t addr = random() % 4 ? random() % RAM_SIZE : (uint64_t)random() << 20;
			uint32_t len = random() % 4 ? random() % 2048 : random();

			set_desc(self->ram, DESC, i, addr, len, random() % 8, random() % (QSIZE + 2));
		}
		for (i = 0; i < 4; i++)
			set_desc(self->ram, BUF + 0x400, i, BUF + (random() % 16) * 16, 16,
				 random() % 8, random() % 6);
		kick(&self->d, random() % (QSIZE + 2));
		if (vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET) {
			resets++;
			memset(self->ram + AVAIL, 0, 0x1000);
			memset(self->ram + USED, 0, 0x1000);
			driver_init(&self->d, (1ULL << VIRTIO_F_VERSION_1) |
					      (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << 9),
				    QSIZE);
		} else {
			ASSERT_EQ((uint16_t)(before + 1), self->d.s.q[0].used_idx)
				TH_LOG("round %u", round);
			served++;
		}
	}
	TH_LOG("%u served, %u resets", served, resets);
	EXPECT_LT(0, served);
	EXPECT_LT(0, resets);
	ASSERT_EQ(0, stat(self->path, &st));
	EXPECT_EQ(DISK_SECTORS * 512, st.st_size);
}

/* ---- virtio-net: queue 0 receives (the areas above), queue 1 sends ---- */

#define TX_DESC		0x4000
#define TX_AVAIL	0x5000
#define TX_USED		0x6000
#define NET_HDR		12

FIXTURE(net) {
	uint8_t *ram;
	struct virtio_dev d;
	int sv[2];		/* the device's end, the "wire" */
};

FIXTURE_SETUP(net)
{
	static const uint8_t mac[6] = { 0x02, 0x4d, 0x48, 0x56, 0x00, 0x01 };
	uint8_t got[6];

	self->ram = guarded(RAM_SIZE);
	ASSERT_NE(NULL, self->ram);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, self->sv));
	ASSERT_EQ(0, virtio_net_init(&self->d, 0, self->sv[0], mac, self->ram, RAM_SIZE,
				     BASE, 16));
	self->d.irq_line = count_irq;
	irqs = 0;
	ASSERT_EQ(VIRTIO_ID_NET, vd_read(&self->d, 8));
	driver_init(&self->d, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 5), QSIZE);	/* MAC */
	ASSERT_TRUE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_FEATURES_OK);
	virtio_mmio(&self->d, BASE + 0x100, got, 6, false);
	ASSERT_EQ(0, memcmp(mac, got, 6));
	/* Queue 1, the transmit queue. */
	vd_write(&self->d, 0x30, 1);
	vd_write(&self->d, 0x38, QSIZE);
	vd_write(&self->d, 0x80, TX_DESC);
	vd_write(&self->d, 0x90, TX_AVAIL);
	vd_write(&self->d, 0xa0, TX_USED);
	vd_write(&self->d, 0x44, 1);
	ASSERT_EQ(1, vd_read(&self->d, 0x44));
}

FIXTURE_TEARDOWN(net)
{
	close(self->sv[0]);
	close(self->sv[1]);
	close(self->d.notify_fd);
}

/* What the device's thread does when it wakes. */
static void net_wake(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	d->ops->wake(d);
	pthread_mutex_unlock(&d->lock);
}

/* Sends @len bytes at BUF (a header, then the frame) as one readable buffer. */
static void net_send(struct virtio_dev *d, uint32_t len, uint16_t flags)
{
	set_desc(d->ram, TX_DESC, 0, BUF, len, flags, 0);
	offer(d, TX_AVAIL, 0);
	net_wake(d);
}

TEST_F(net, net_frames_both_ways)
{
	static const char frame[] = "a frame of sixty-four bytes, more or less, to the wire and back.";
	uint8_t got[256];
	uint16_t num_buffers;

	/* Out: the header stays behind, the frame reaches the wire. */
	memset(self->ram + BUF, 0, NET_HDR);
	memcpy(self->ram + BUF + NET_HDR, frame, sizeof(frame));
	net_send(&self->d, NET_HDR + sizeof(frame), 0);
	EXPECT_EQ(1, used_idx_at(&self->d, TX_USED));
	EXPECT_EQ(0, used_len_at(&self->d, TX_USED, 0));
	ASSERT_EQ(sizeof(frame), recv(self->sv[1], got, sizeof(got), 0));
	EXPECT_EQ(0, memcmp(frame, got, sizeof(frame)));

	/* In: a receive buffer waits for a frame, the fd polled meanwhile. */
	memset(self->ram + BUF, 0xff, 2048);
	set_desc(self->ram, DESC, 0, BUF, 2048, 2, 0);
	kick(&self->d, 0);
	EXPECT_EQ(0, used_idx(&self->d));
	EXPECT_EQ(self->sv[0], self->d.wait_fd);
	ASSERT_EQ(sizeof(frame), send(self->sv[1], frame, sizeof(frame), 0));
	net_wake(&self->d);
	ASSERT_EQ(1, used_idx(&self->d));
	EXPECT_EQ(NET_HDR + sizeof(frame), used_len(&self->d, 0));
	EXPECT_EQ(0, memcmp(self->ram + BUF + NET_HDR, frame, sizeof(frame)));
	memcpy(&num_buffers, self->ram + BUF + 10, 2);
	EXPECT_EQ(1, num_buffers);
	EXPECT_EQ(0, self->ram[BUF]);
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);

	/* A frame with no buffer waits in the device, the fd no longer polled. */
	ASSERT_EQ(sizeof(frame), send(self->sv[1], frame, sizeof(frame), 0));
	net_wake(&self->d);
	EXPECT_EQ(1, used_idx(&self->d));
	EXPECT_EQ(-1, self->d.wait_fd);
	offer(&self->d, AVAIL, 0);
	net_wake(&self->d);
	EXPECT_EQ(2, used_idx(&self->d));
	EXPECT_EQ(self->sv[0], self->d.wait_fd);
}

TEST_F(net, net_frame_too_big_dropped)
{
	static uint8_t big[1600];

	set_desc(self->ram, DESC, 0, BUF, NET_HDR + 1000, 2, 0);
	kick(&self->d, 0);
	ASSERT_EQ(sizeof(big), send(self->sv[1], big, sizeof(big), 0));
	ASSERT_EQ(100, send(self->sv[1], big, 100, 0));
	net_wake(&self->d);
	/* The big one is lost; the buffer takes the next. */
	ASSERT_EQ(1, used_idx(&self->d));
	EXPECT_EQ(NET_HDR + 100, used_len(&self->d, 0));
	EXPECT_FALSE(vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
}

/* The driver's setup of both queues again, after a reset. */
static void net_reinit(struct virtio_dev *d)
{
	memset(d->ram + AVAIL, 0, 0x1000);
	memset(d->ram + USED, 0, 0x1000);
	memset(d->ram + TX_AVAIL, 0, 0x1000);
	memset(d->ram + TX_USED, 0, 0x1000);
	driver_init(d, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 5), QSIZE);
	vd_write(d, 0x30, 1);
	vd_write(d, 0x38, QSIZE);
	vd_write(d, 0x80, TX_DESC);
	vd_write(d, 0x90, TX_AVAIL);
	vd_write(d, 0xa0, TX_USED);
	vd_write(d, 0x44, 1);
}

/*
 * Random chains on both queues (anywhere in RAM, the rings included, or
 * outside it) and random frames from the wire: guest RAM is guarded, so
 * an access outside it faults the test; the rounds must end both ways.
 */
TEST_F(net, net_fuzz)
{
	unsigned int seed = getenv("MINIHV_FUZZ_SEED") ? atoi(getenv("MINIHV_FUZZ_SEED"))
						       : (unsigned int)time(NULL);
	unsigned int round, i, resets = 0, sent = 0, received = 0;
	static uint8_t frame[2048];

	TH_LOG("seed %u", seed);
	srandom(seed);
	for (i = 0; i < sizeof(frame); i++)
		frame[i] = random();
	for (round = 0; round < 20000; round++) {
		uint16_t rx = self->d.s.q[0].used_idx, tx = self->d.s.q[1].used_idx;

		for (i = 0; i < QSIZE; i++) {
			uint64_t addr = random() % 4 ? random() % RAM_SIZE : (uint64_t)random() << 20;
			uint32_t len = random() % 4 ? random() % 2048 : random();
			bool tx = random() % 2;

			/* Every other round, chains a driver could make: in RAM, in order. */
			if (round % 2) {
				len = 1 + random() % 512;
				addr = random() % (RAM_SIZE - len);
				set_desc(self->ram, tx ? TX_DESC : DESC, i, addr, len,
					 (tx ? 0 : 2) | (random() % 2), random() % QSIZE);
				continue;
			}
			set_desc(self->ram, tx ? TX_DESC : DESC, i, addr, len,
				 random() % 8, random() % (QSIZE + 2));
		}
		/* Headers that ask for nothing, mostly. */
		if (random() % 4)
			memset(self->ram + (random() % RAM_SIZE & ~0xfffUL), 0, 16);
		if (random() % 2)
			send(self->sv[1], frame, 1 + random() % sizeof(frame), MSG_DONTWAIT);
		offer(&self->d, AVAIL, random() % (QSIZE + 2));
		offer(&self->d, TX_AVAIL, random() % (QSIZE + 2));
		net_wake(&self->d);
		while (recv(self->sv[1], frame, 1, MSG_DONTWAIT) > 0)
			;
		received += (uint16_t)(self->d.s.q[0].used_idx - rx);
		sent += (uint16_t)(self->d.s.q[1].used_idx - tx);
		if (vd_read(&self->d, 0x70) & VIRTIO_STATUS_NEEDS_RESET) {
			resets++;
			net_reinit(&self->d);
		}
	}
	TH_LOG("%u frames sent, %u received, %u resets", sent, received, resets);
	EXPECT_LT(0, sent);
	EXPECT_LT(0, received);
	EXPECT_LT(0, resets);
}

/* NEEDS_RESET, a config interrupt, and queue @qi stopped. */
static void expect_net_broken(struct __test_metadata *_metadata, struct virtio_dev *d,
			      unsigned int qi)
{
	EXPECT_TRUE(vd_read(d, 0x70) & VIRTIO_STATUS_NEEDS_RESET);
	EXPECT_TRUE(vd_read(d, 0x60) & VIRTIO_INT_CONFIG);
	EXPECT_LE(1, irqs);
	EXPECT_TRUE(d->s.q[qi].broken);
}

TEST_F(net, net_hostile_offload_not_negotiated)
{
	uint8_t dummy;

	memset(self->ram + BUF, 0, 64);
	self->ram[BUF] = 1;		/* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	net_send(&self->d, 64, 0);
	expect_net_broken(_metadata, &self->d, 1);
	EXPECT_EQ(0, used_idx_at(&self->d, TX_USED));
	EXPECT_EQ(-1, recv(self->sv[1], &dummy, 1, 0)) TH_LOG("the frame went out");
}

TEST_F(net, net_hostile_gso_not_negotiated)
{
	memset(self->ram + BUF, 0, 64);
	self->ram[BUF + 1] = 1;		/* VIRTIO_NET_HDR_GSO_TCPV4 */
	net_send(&self->d, 64, 0);
	expect_net_broken(_metadata, &self->d, 1);
}

TEST_F(net, net_hostile_writable_transmit)
{
	memset(self->ram + BUF, 0, 64);
	net_send(&self->d, 64, 2);
	expect_net_broken(_metadata, &self->d, 1);
}

TEST_F(net, net_hostile_short_transmit)
{
	memset(self->ram + BUF, 0, 64);
	net_send(&self->d, NET_HDR - 1, 0);
	expect_net_broken(_metadata, &self->d, 1);
}

TEST_F(net, net_hostile_readable_receive)
{
	set_desc(self->ram, DESC, 0, BUF, 2048, 0, 0);
	kick(&self->d, 0);
	expect_net_broken(_metadata, &self->d, 0);
}

TEST_F(net, net_hostile_short_receive)
{
	set_desc(self->ram, DESC, 0, BUF, NET_HDR - 4, 2, 0);
	kick(&self->d, 0);
	expect_net_broken(_metadata, &self->d, 0);
}

TEST_HARNESS_MAIN

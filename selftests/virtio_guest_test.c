// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-side virtio fuzzer (userspace/guests/virtio-fuzz.c): a
 * Multiboot kernel under minihv-run with --rng, a read-write and a
 * read-only --disk and --net user drives each device through its MMIO
 * registers with random negotiations, queues and descriptor chains, and
 * checks well-formed requests between them (the file's comment says
 * what).  Where virtio_queue_test feeds userspace/virtio.c from inside
 * its own process, this goes the whole way: the vCPU's MMIO exits, the
 * ioeventfds and irqfds, the device threads, the images on disk.
 *
 *   random_devices  seeded (MINIHV_FUZZ_SEED, else the clock; printed),
 *                   30 s of the guest's time: minihv-run ends through the
 *                   guest's power-off after its "done" line (no crash, no
 *                   timeout, no failed check); the read-only image is
 *                   byte for byte the host's; the read-write one has its
 *                   size and its canary sectors (virtio-fuzz.h) unchanged;
 *                   each device's guest-error messages keep to the rate
 *                   limit (5 a second), each a whole line of its own;
 *                   the host's log stays clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"
#include "virtio-fuzz.h"

#define GUEST		"virtio-fuzz.elf"
#define RW_IMG		"/tmp/virtio_guest_rw.img"
#define RO_IMG		"/tmp/virtio_guest_ro.img"
#define SECONDS		30
/* virtio.c's limit: 5 messages in a burst, then none until a second has passed. */
#define MSG_PER_SECOND	5

static char out[1 << 18];

static const char *cannot_run_guests(void)
{
	int fd = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	int slots;

	if (fd < 0)
		return "minihv.ko is not loaded";
	slots = ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_NR_MEMSLOTS);
	close(fd);
	return slots > 0 ? NULL : "this backend does not run guests yet";
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Image @tag of @sectors, as virtio-fuzz.h says the host writes it. */
static int make_image(const char *path, uint32_t tag, uint32_t sectors)
{
	static uint8_t buf[VF_RW_SECTORS * VF_SECTOR];
	uint32_t i, len = sectors * VF_SECTOR;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = -1;

	if (fd < 0)
		return -1;
	for (i = 0; i < len; i++)
		buf[i] = vf_pattern(tag, i);
	if (write(fd, buf, len) == (ssize_t)len)
		r = 0;
	close(fd);
	return r;
}

/*
 * Bytes of @path from @from up to @to that differ from image @tag; -1 if
 * the file cannot be read.  *@size gets its size.
 */
static long image_changes(const char *path, uint32_t tag, uint32_t from, uint32_t to,
			  off_t *size)
{
	static uint8_t buf[VF_RW_SECTORS * VF_SECTOR];
	struct stat st;
	long bad = 0;
	uint32_t i;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) || to > sizeof(buf) ||
	    pread(fd, buf, to, 0) != (ssize_t)to) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*size = st.st_size;
	for (i = from; i < to; i++)
		bad += buf[i] != vf_pattern(tag, i);
	return bad;
}

/* Lines of @text that start with @prefix. */
static unsigned int count_lines(const char *text, const char *prefix)
{
	unsigned int n = 0;
	const char *p = text;

	while (p && *p) {
		n += !strncmp(p, prefix, strlen(prefix));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return n;
}

/*
 * Lines that say "device needs reset" but are not one whole message: the
 * device threads' messages cut into each other.
 */
static unsigned int torn_messages(const char *text)
{
	const char *p = text, *end, *hit;
	unsigned int n = 0;

	while ((hit = strstr(p, "device needs reset"))) {
		for (p = hit; p > text && p[-1] != '\n'; p--)
			;
		end = strchr(hit, '\n');
		n += strncmp(p, "minihv-run: virtio-", 19) || !end ||
		     hit + strlen("device needs reset") != end;
		p = end ? end : hit + 1;
	}
	return n;
}

/* The guest's own lines ("virtio-fuzz: ...") into the TAP log, as comments. */
static void show_guest_lines(const char *text)
{
	const char *p = text, *end;

	while ((p = strstr(p, "virtio-fuzz: "))) {
		end = strchr(p, '\n');
		if (!end)
			end = p + strlen(p);
		printf("# %.*s\n", (int)(end - p), p);
		p = end;
	}
	fflush(stdout);
}

static const char *tail(const char *s, size_t n)
{
	size_t len = strlen(s);

	return len > n ? s + len - n : s;
}

FIXTURE(guest) {
	struct kmsg_cursor log;
};

FIXTURE_SETUP(guest)
{
	ASSERT_EQ(0, kmsg_cursor_open(&self->log));
}

FIXTURE_TEARDOWN(guest)
{
	char problem[256];
	char *log = kmsg_cursor_read(&self->log);

	kmsg_cursor_close(&self->log);
	ASSERT_NE(NULL, log);
	EXPECT_FALSE(kmsg_find_problem(log, problem, sizeof(problem)))
		TH_LOG("the host's log after the guest: %s", problem);
	free(log);
	unlink(RW_IMG);
	unlink(RO_IMG);
}

TEST_F_TIMEOUT(guest, random_devices, 300)
{
	static const char *const devices[] = { "virtio-rng", "virtio-blk 0", "virtio-blk 1",
					       "virtio-net 0" };
	const char *env = getenv("MINIHV_FUZZ_SEED"), *why = cannot_run_guests();
	uint64_t seed = env ? strtoull(env, NULL, 0) : now_ns() / 1000, start;
	char append[128], prefix[64];
	const char *args[] = {
		"-M", "32M", "-t", "240", "--rng", "--disk", RW_IMG, "--disk", RO_IMG ",ro",
		"--net", "user", "--append", append, NULL,
	};
	unsigned int i, msgs, limit;
	off_t size = 0;
	double secs;
	long bad;
	int r;

	if (why)
		SKIP(return, "%s", why);
	snprintf(append, sizeof(append), "vfuzz.seed=%#llx vfuzz.rounds=1000000 vfuzz.seconds=%d",
		 (unsigned long long)seed, SECONDS);
	printf("# seed %#llx (MINIHV_FUZZ_SEED repeats it), %d s of rounds\n",
	       (unsigned long long)seed, SECONDS);
	fflush(stdout);
	ASSERT_EQ(0, make_image(RW_IMG, VF_TAG_RW, VF_RW_SECTORS)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, make_image(RO_IMG, VF_TAG_RO, VF_RO_SECTORS)) TH_LOG("%s", strerror(errno));

	start = now_ns();
	r = run_runner(GUEST, args, out, sizeof(out), true);
	secs = (now_ns() - start) / 1e9;
	if (r == -ENOENT)
		SKIP(return, "minihv-run or %s not installed", GUEST);
	show_guest_lines(out);
	printf("# minihv-run: exit status %d after %.1f s, %zu bytes of output\n", r, secs,
	       strlen(out));

	/* The guest's own end: its checks passed, then ACPI power-off. */
	EXPECT_EQ(0, r) TH_LOG("output: %s", tail(out, 3000));
	EXPECT_NE(NULL, strstr(out, "virtio-fuzz: devices rng blk-rw blk-ro net\n"));
	EXPECT_NE(NULL, strstr(out, "virtio-fuzz: done,")) TH_LOG("output: %s", tail(out, 3000));
	EXPECT_EQ(NULL, strstr(out, "FAIL"));
	EXPECT_NE(NULL, strstr(out, "minihv-run: the guest powered off"));

	/* Bounded output: each device's guest errors within the rate limit. */
	EXPECT_GT(sizeof(out) - 1, strlen(out));
	limit = MSG_PER_SECOND * ((unsigned int)secs + 2);
	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		snprintf(prefix, sizeof(prefix), "minihv-run: %s: guest error", devices[i]);
		msgs = count_lines(out, prefix);
		printf("# %s: %u guest-error messages (at most %u)\n", devices[i], msgs, limit);
		EXPECT_GE(limit, msgs) TH_LOG("%s", devices[i]);
	}
	EXPECT_EQ(0, torn_messages(out)) TH_LOG("messages cut into each other");

	/* The disks: the read-only one untouched, the other's canary too, no growth. */
	bad = image_changes(RO_IMG, VF_TAG_RO, 0, VF_RO_SECTORS * VF_SECTOR, &size);
	EXPECT_EQ(0, bad) TH_LOG("bytes of the read-only image changed");
	EXPECT_EQ(VF_RO_SECTORS * VF_SECTOR, size);
	bad = image_changes(RW_IMG, VF_TAG_RW, 0, VF_RW_CANARY * VF_SECTOR, &size);
	EXPECT_EQ(0, bad) TH_LOG("bytes of the read-write image's canary sectors changed");
	EXPECT_EQ(VF_RW_SECTORS * VF_SECTOR, size) TH_LOG("the read-write image's size");
	fflush(stdout);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * fault_test: every allocation minihv makes for a VM, its memory slot, a
 * vCPU (with the in-kernel irqchip), a CPUID table and a run is made to
 * fail in turn, with the kernel's fault injection (fail-nth: the Nth
 * failslab or fail_page_alloc point this thread reaches fails).  Each
 * must give a clean errno (ENOMEM, or EFAULT where a page could not be
 * pinned) or, inside a run, a clean exit; nothing may leak (no VM and no
 * pinned page left in /sys/kernel/debug/minihv) and the host's log stays
 * clean.  The sequence ends when an attempt reaches its end without the
 * injected failure having fired.
 *
 * Needs CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and their
 * debugfs files: make check-debug's kernel (scripts/debug-kernel.sh).
 * Debian's kernels have none of it, so make check skips this test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define DEBUGFS		"/sys/kernel/debug"
#define MEM_SIZE	(2 << 20)

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -errno;
	close(fd);
	return r;
}

/*
 * Both injectors must also fail allocations that may sleep (the
 * default skips them, and nearly all of minihv's may) and say nothing
 * (a stack dump per failure would be a "Call Trace" in the log).
 */
static bool setup_injection(void)
{
	static const char *const files[] = {
		DEBUGFS "/failslab/ignore-gfp-wait",
		DEBUGFS "/fail_page_alloc/ignore-gfp-wait",
		DEBUGFS "/fail_page_alloc/ignore-gfp-highmem",
	};
	size_t i;

	if (access(DEBUGFS "/failslab", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (write_file(files[i], "N"))
			return false;
	write_file(DEBUGFS "/failslab/verbose", "0");
	write_file(DEBUGFS "/fail_page_alloc/verbose", "0");
	return true;
}

static char fail_nth_path[64];

/*
 * munmap() allocates too (the maple tree's nodes), so the injected
 * failure may be its: then the run page stays mapped and holds the vCPU,
 * and its VM, alive.  The failure is one-shot: a second try unmaps.
 */
static void unmap(void *p, size_t size)
{
	if (munmap(p, size))
		munmap(p, size);
}

/* The steps; returns how far it got: 0 all done, or the failing step. */
static int attempt(void *mem, int *err)
{
	struct minihv_userspace_memory_region mr = {
		.slot = 0, .memory_size = MEM_SIZE, .userspace_addr = (uintptr_t)mem,
	};
	/* Static and touched before: a page fault here could fail too. */
	static struct {
		struct minihv_cpuid c;
		struct minihv_cpuid_entry e[256];
	} table;
	struct minihv_cpuid *cpuid = &table.c;
	/* A doorbell port, as a virtio device's, through an eventfd. */
	struct minihv_ioeventfd io = {
		.addr = 0x510, .len = 2, .flags = MINIHV_IOEVENTFD_FLAG_PIO,
	};
	/* Its interrupt, level-triggered, as a virtio-mmio device's. */
	struct minihv_irqfd irq = { .gsi = 5, .flags = MINIHV_IRQFD_FLAG_RESAMPLE };
	struct minihv_run *run;
	int dev, vm = -1, vcpu = -1, efd = -1, ifd = -1, step = 1, size;

	*err = 0;
	dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		goto fail;
	step++;
	vm = ioctl(dev, MINIHV_CREATE_VM, 0);
	if (vm < 0)
		goto fail;
	step++;
	if (ioctl(vm, MINIHV_SET_USER_MEMORY_REGION, &mr))
		goto fail;
	step++;
	if (ioctl(vm, MINIHV_CREATE_IRQCHIP, 0))
		goto fail;
	step++;
	efd = eventfd(0, EFD_CLOEXEC);
	if (efd < 0)
		goto fail;
	io.fd = efd;
	if (ioctl(vm, MINIHV_IOEVENTFD, &io))
		goto fail;
	step++;
	ifd = eventfd(0, EFD_CLOEXEC);
	if (ifd < 0)
		goto fail;
	irq.fd = ifd;
	irq.resamplefd = efd;
	if (ioctl(vm, MINIHV_IRQFD, &irq))
		goto fail;
	step++;
	vcpu = ioctl(vm, MINIHV_CREATE_VCPU, 0);
	if (vcpu < 0)
		goto fail;
	step++;
	cpuid->nent = 256;
	if (ioctl(dev, MINIHV_GET_SUPPORTED_CPUID, cpuid) ||
	    ioctl(vcpu, MINIHV_SET_CPUID, cpuid))
		goto fail;
	step++;
	size = ioctl(dev, MINIHV_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		goto fail;
	step++;
	/*
	 * The reset state: the first fetch (FFFFFFF0h) is outside the slot,
	 * an emulation error exit, after the run loop's own allocations.
	 */
	if (ioctl(vcpu, MINIHV_RUN, 0)) {
		unmap(run, size);
		goto fail;
	}
	unmap(run, size);
	step = 0;
fail:
	if (step)
		*err = errno;
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	if (efd >= 0)
		close(efd);
	if (ifd >= 0)
		close(ifd);
	if (dev >= 0)
		close(dev);
	return step;
}

/*
 * An allocation that fails says so (warn_alloc(): "page allocation
 * failure" or "vmalloc error" and a stack dump): the kernel's answer to
 * the injected failure, cut from the log before it is judged.
 */
static void strip_alloc_warnings(char *log)
{
	static const char *const heads[] = { "page allocation failure", "vmalloc error" };
	char *hit, *bol, *end;
	size_t i;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		while ((hit = strstr(log, heads[i]))) {
			for (bol = hit; bol > log && bol[-1] != '\n'; bol--)
				;
			end = strstr(hit, "</TASK>");
			end = end ? strchrnul(end, '\n') : strchrnul(hit, '\n');
			memmove(bol, end, strlen(end) + 1);
		}
	}
}

TEST(every_allocation_fails_in_turn)
{
	struct kmsg_cursor log;
	char problem[256], nth[16], *text;
	char printk_levels[64] = "";
	int n, step, err = 0, fired = 0, fd;
	uint8_t *mem;

	snprintf(fail_nth_path, sizeof(fail_nth_path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	if (access(fail_nth_path, W_OK))
		SKIP(return, "no fault injection in this kernel (make check-debug's kernel has it)");
	if (access(MINIHV_DEV, R_OK | W_OK))
		SKIP(return, "no %s", MINIHV_DEV);
	ASSERT_TRUE(setup_injection()) TH_LOG("the failslab/fail_page_alloc debugfs files");
	/*
	 * Those reports are warnings: off the console while the failures
	 * happen (errors, KASAN's among them, still reach it), judged here.
	 */
	fd = open("/proc/sys/kernel/printk", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, printk_levels, sizeof(printk_levels) - 1));
	ASSERT_EQ(1, pwrite(fd, "4", 1, 0));
	ASSERT_EQ(0, kmsg_cursor_open(&log));
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0xf4, MEM_SIZE);	/* touched: no page fault during the attempts */
	attempt(mem, &err);		/* and every page of this program's path too */

	for (n = 1; n < 10000; n++) {
		snprintf(nth, sizeof(nth), "%d", n);
		ASSERT_EQ(0, write_file(fail_nth_path, nth));
		step = attempt(mem, &err);
		/* fail-nth reads 0 once the Nth point was reached and failed. */
		if (read_number(fail_nth_path) != 0) {
			write_file(fail_nth_path, "0");
			EXPECT_EQ(0, step) TH_LOG("step %d failed (%s) without an injected failure",
						  step, strerror(err));
			break;
		}
		fired++;
		if (step)
			EXPECT_TRUE(err == ENOMEM || err == EFAULT || err == EINTR || err == EMFILE)
				TH_LOG("allocation %d: step %d failed with %s", n, step, strerror(err));
		EXPECT_EQ(0, read_number(DEBUGFS "/minihv/vms"))
			TH_LOG("allocation %d (step %d, %s) leaked a VM", n, step, strerror(err));
		EXPECT_EQ(0, read_number(DEBUGFS "/minihv/pinned_pages"))
			TH_LOG("allocation %d leaked pinned pages", n);
		if (!_metadata->passed)
			break;
	}
	printf("# %d allocations made to fail, one at a time\n", fired);
	fflush(stdout);
	EXPECT_LT(5, fired);
	munmap(mem, MEM_SIZE);
	pwrite(fd, printk_levels, strlen(printk_levels), 0);
	close(fd);
	text = kmsg_cursor_read(&log);
	kmsg_cursor_close(&log);
	ASSERT_NE(NULL, text);
	strip_alloc_warnings(text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	/* Lockdep's reports are warnings too: the console did not see them. */
	EXPECT_EQ(NULL, strstr(text, "WARNING: possible")) TH_LOG("lockdep: %.300s",
								   strstr(text, "WARNING: possible"));
	EXPECT_EQ(NULL, strstr(text, "inconsistent lock state"));
	free(text);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Every MINIHV_RUN ends: whatever state userspace gives the vCPU, a run
 * returns to userspace with a defined exit, or with EINTR once a signal is
 * pending, and the host kernel stays quiet (no RCU stall, soft lockup or
 * hung task in its log).
 *
 * Each case puts one vCPU in a CPU mode (real, protected with and without
 * paging, long) or in a broken state, arms a 20 ms timer, and runs until
 * the signal ends a run or the guest reaches a final exit; every single
 * MINIHV_RUN must return within one second of the timer.  Memory is
 * zeroed unless the case writes code, so most guests execute zeros
 * (ADD [BX+SI], AL in real mode), fault, or leave RAM.
 *
 * The first case is the host hang of issue 10: EFER.LME set in real mode
 * froze a host CPU inside MINIHV_RUN on QEMU's SVM (Documentation/design.rst,
 * "What ends a run").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_PG		(1ULL << 31)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)

#define TIMER_NS	(20 * 1000000LL)
#define GRACE_NS	(1000 * 1000000LL)

/* One VM with one RAM slot at 0 and one vCPU in its reset state. */
struct bare_vm {
	int dev, vm, vcpu;
	struct minihv_run *run;
	size_t run_size;
	uint8_t *mem;
	size_t mem_size;
};

static void bare_vm_create(struct __test_metadata *_metadata, struct bare_vm *b,
			   size_t mem_size)
{
	struct minihv_userspace_memory_region mr;
	int size;

	b->dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
	TEST_REQUIRE_MSG(b->dev >= 0, "SKIP: %s: %s", MINIHV_DEV, strerror(errno));
	b->vm = ioctl(b->dev, MINIHV_CREATE_VM, 0);
	ASSERT_LE(0, b->vm);
	b->mem_size = mem_size;
	b->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, b->mem);
	mr = (struct minihv_userspace_memory_region){
		.slot = 0, .memory_size = mem_size,
		.userspace_addr = (uintptr_t)b->mem,
	};
	ASSERT_EQ(0, ioctl(b->vm, MINIHV_SET_USER_MEMORY_REGION, &mr));
	b->vcpu = ioctl(b->vm, MINIHV_CREATE_VCPU, 0);
	ASSERT_LE(0, b->vcpu);
	size = ioctl(b->dev, MINIHV_GET_VCPU_MMAP_SIZE, 0);
	ASSERT_LT(0, size);
	b->run_size = size;
	b->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, b->vcpu, 0);
	ASSERT_NE(MAP_FAILED, b->run);
}

static void bare_vm_free(struct bare_vm *b)
{
	munmap(b->run, b->run_size);
	close(b->vcpu);
	close(b->vm);
	close(b->dev);
	munmap(b->mem, b->mem_size);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static bool exit_is_final(uint32_t reason)
{
	return reason == MINIHV_EXIT_HLT || reason == MINIHV_EXIT_SHUTDOWN ||
	       reason == MINIHV_EXIT_FAIL_ENTRY ||
	       reason == MINIHV_EXIT_INTERNAL_ERROR;
}

/*
 * Arms a one-shot 20 ms ITIMER_REAL (no SA_RESTART) and runs until the
 * signal ends a run (returns MINIHV_EXIT_INTR), the guest reaches a final
 * exit (returns it), or the signal was taken in userspace between two
 * exits to userspace (returns the last exit).  Port and MMIO exits are
 * completed with zeros.  Every MINIHV_RUN must return within GRACE_NS of
 * the later of the timer and its own start.
 */
static uint32_t run_bounded(struct __test_metadata *_metadata, int vcpu_fd,
			    struct minihv_run *run)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = TIMER_NS / 1000 } };
	int64_t fire, start, end, deadline;
	uint32_t reason = MINIHV_EXIT_UNKNOWN;
	int r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	fire = now_ns() + TIMER_NS;
	setitimer(ITIMER_REAL, &it, NULL);
	while (!alarms) {
		start = now_ns();
		r = ioctl(vcpu_fd, MINIHV_RUN, 0);
		end = now_ns();
		deadline = (start > fire ? start : fire) + GRACE_NS;
		EXPECT_LE(end, deadline)
			TH_LOG("MINIHV_RUN returned %lld ms after the timer",
			       (long long)(end - fire) / 1000000);
		if (r < 0) {
			EXPECT_EQ(EINTR, errno) TH_LOG("MINIHV_RUN: %s", strerror(errno));
			EXPECT_EQ(MINIHV_EXIT_INTR, run->exit_reason);
			reason = MINIHV_EXIT_INTR;
			break;
		}
		reason = run->exit_reason;
		if (exit_is_final(reason))
			break;
		ASSERT_TRUE(reason == MINIHV_EXIT_IO || reason == MINIHV_EXIT_MMIO)
			TH_LOG("unexpected exit %s", exit_reason_str(reason));
		if (reason == MINIHV_EXIT_MMIO)
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
		else if (run->io.direction == MINIHV_EXIT_IO_IN)
			memset((uint8_t *)run + run->io.data_offset, 0,
			       run->io.size * run->io.count);
	}
	it = (struct itimerval){};
	setitimer(ITIMER_REAL, &it, NULL);
	return reason;
}

/* ---- the state of issue 10 ---- */

/*
 * Reset state, 1 MiB of RAM at 0: the reset vector FFFFFFF0h is outside
 * RAM, so the fetch is MMIO that cannot be decoded: an emulation error.
 * With EFER.LME set (as a loader does before it turns paging on) the
 * state is the same real mode and must end the same way.
 */
static void reset_vector_outside_ram(struct __test_metadata *_metadata, bool lme)
{
	struct bare_vm b = {};
	struct minihv_sregs sregs;

	bare_vm_create(_metadata, &b, 1 << 20);
	if (lme) {
		ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
		sregs.efer |= EFER_LME;
		ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_SREGS, &sregs));
	}
	EXPECT_EQ(MINIHV_EXIT_INTERNAL_ERROR, run_bounded(_metadata, b.vcpu, b.run));
	EXPECT_EQ(MINIHV_INTERNAL_ERROR_EMULATION, b.run->internal.suberror);
	bare_vm_free(&b);
}

TEST(reset_state)
{
	reset_vector_outside_ram(_metadata, false);
}

TEST(reset_state_with_efer_lme)
{
	reset_vector_outside_ram(_metadata, true);
}

TEST_HARNESS_MAIN

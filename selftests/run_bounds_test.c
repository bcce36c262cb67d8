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
 * The first case is a host hang once seen: EFER.LME set in real mode
 * froze a host CPU inside MINIHV_RUN on QEMU's SVM (Documentation/design.rst,
 * "What ends a run").
 */
#include <errno.h>
#include <stdlib.h>
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
#include "modes.h"
#include "sysutil.h"


#define TIMER_NS	(20 * 1000000LL)
#define GRACE_NS	(1000 * 1000000LL)

/* One VM with one RAM slot at 0 and one vCPU in its reset state. */
struct bare_vm {
	struct kmsg_cursor log;
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
	ASSERT_EQ(0, kmsg_cursor_open(&b->log));
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

/* Closes everything; the kernel log since creation must be clean. */
static void bare_vm_free(struct __test_metadata *_metadata, struct bare_vm *b)
{
	char problem[256];
	char *log;

	munmap(b->run, b->run_size);
	close(b->vcpu);
	close(b->vm);
	close(b->dev);
	munmap(b->mem, b->mem_size);
	log = kmsg_cursor_read(&b->log);
	kmsg_cursor_close(&b->log);
	ASSERT_NE(NULL, log);
	EXPECT_FALSE(kmsg_find_problem(log, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	free(log);
}

static volatile sig_atomic_t alarms;
/* The random guests end in errors by the hundred: counted, not logged. */
static bool run_quiet;

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
		if (reason == MINIHV_EXIT_INTERNAL_ERROR && !run_quiet)
			TH_LOG("internal error %u: %#llx %#llx %#llx %#llx",
			       run->internal.suberror,
			       (unsigned long long)run->internal.data[0],
			       (unsigned long long)run->internal.data[1],
			       (unsigned long long)run->internal.data[2],
			       (unsigned long long)run->internal.data[3]);
		if (reason == MINIHV_EXIT_FAIL_ENTRY && !run_quiet)
			TH_LOG("failed entry: %s", run->fail_entry.reason);
		if (exit_is_final(reason))
			break;
		EXPECT_TRUE(reason == MINIHV_EXIT_IO || reason == MINIHV_EXIT_MMIO)
			TH_LOG("unexpected exit %s", exit_reason_str(reason));
		if (reason != MINIHV_EXIT_IO && reason != MINIHV_EXIT_MMIO)
			break;
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

/*
 * run_bounded() until the exit a test expects: a final exit may take more
 * than one 20 ms slice on a slow emulator, so EINTR goes round again
 * unless EINTR (MINIHV_EXIT_INTR) is what is expected, and so does a
 * slice that ended in userspace between two port or MMIO exits (on the
 * lite debug kernel in Bochs, ins_to_mmio's once ended between the INS's
 * port exit and the run that completes it).  @expect MINIHV_EXIT_UNKNOWN:
 * any final exit.
 */
static uint32_t run_until(struct __test_metadata *_metadata, struct bare_vm *b,
			  uint32_t expect)
{
	uint32_t r = MINIHV_EXIT_UNKNOWN;
	int i;

	for (i = 0; i < 50; i++) {
		r = run_bounded(_metadata, b->vcpu, b->run);
		if (r == MINIHV_EXIT_IO || r == MINIHV_EXIT_MMIO)
			continue;
		if (r != MINIHV_EXIT_INTR || expect == MINIHV_EXIT_INTR)
			break;
	}
	return r;
}

/* ---- EFER.LME set in real mode ---- */

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
	EXPECT_EQ(MINIHV_EXIT_INTERNAL_ERROR,
		  run_until(_metadata, &b, MINIHV_EXIT_INTERNAL_ERROR));
	EXPECT_EQ(MINIHV_INTERNAL_ERROR_EMULATION, b.run->internal.suberror);
	bare_vm_free(_metadata, &b);
}

TEST(reset_state)
{
	reset_vector_outside_ram(_metadata, false);
}

TEST(reset_state_with_efer_lme)
{
	reset_vector_outside_ram(_metadata, true);
}

/* ---- every CPU mode ---- */

static void set_mode(struct __test_metadata *_metadata, struct bare_vm *b,
		     enum cpu_mode mode)
{
	struct minihv_sregs sregs;
	struct minihv_regs regs;

	ASSERT_EQ(0, ioctl(b->vcpu, MINIHV_GET_SREGS, &sregs));
	mode_state(mode, &sregs, &regs);
	ASSERT_EQ(0, ioctl(b->vcpu, MINIHV_SET_SREGS, &sregs));
	ASSERT_EQ(0, ioctl(b->vcpu, MINIHV_SET_REGS, &regs));
}

/* A VM with the tables above, @code at CODE_GPA and the vCPU in @mode. */
static void mode_vm(struct __test_metadata *_metadata, struct bare_vm *b,
		    enum cpu_mode mode, const void *code, size_t len)
{
	bare_vm_create(_metadata, b, RAM_SIZE);
	write_tables(b->mem);
	memcpy(b->mem + CODE_GPA, code, len);
	set_mode(_metadata, b, mode);
}

/* Runs @code in @mode; the final exit must be @expect (EINTR: MINIHV_EXIT_INTR). */
static void run_in_mode(struct __test_metadata *_metadata, enum cpu_mode mode,
			const void *code, size_t len, uint32_t expect)
{
	struct bare_vm b = {};

	mode_vm(_metadata, &b, mode, code, len);
	EXPECT_EQ(expect, run_until(_metadata, &b, expect))
		TH_LOG("exit %s", exit_reason_str(b.run->exit_reason));
	bare_vm_free(_metadata, &b);
}

static const uint8_t cli_spin[] = { 0xfa, 0xeb, 0xfe };	/* CLI; JMP $ */
static const uint8_t zeros[16];
static const uint8_t cpuid_loop[] = { 0x0f, 0xa2, 0xeb, 0xfc };	/* CPUID; JMP -4 */

/*
 * Bochs 2.7's SVM lets a guest that spins with RFLAGS.IF = 0 (here after
 * a CLI, or in an NMI handler entered through an interrupt gate) mask the
 * host's interrupts despite V_INTR_MASKING: it holds the CPU until an NMI
 * (the RCU stall detector's, 21 s later).
 * AMD-V has no timer of its own that minihv could bound an entry with (the
 * VMX-preemption timer does it on bochs-vmx), so these cases cannot pass
 * there; on QEMU's SVM and on real CPUs, physical interrupts exit the
 * guest whatever its IF.  The other cases here run with IF = 1.
 */
#define SKIP_IF_CLI_MASKS_HOST_INTERRUPTS()					\
	do {									\
		if (machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM) \
			SKIP(return, "Bochs 2.7 SVM: a guest spinning with IF=0 masks host interrupts"); \
	} while (0)

/*
 * A guest that spins with interrupts off, in each mode, is still ended by
 * the signal: the host's own interrupts exit the guest whatever its IF.
 */
TEST(real_mode_spin_with_if_clear)
{
	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	run_in_mode(_metadata, REAL, cli_spin, sizeof(cli_spin), MINIHV_EXIT_INTR);
}

TEST(protected_mode_spin_with_if_clear)
{
	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	run_in_mode(_metadata, PROT32, cli_spin, sizeof(cli_spin), MINIHV_EXIT_INTR);
}

TEST(paging32_spin_with_if_clear)
{
	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	run_in_mode(_metadata, PAGING32, cli_spin, sizeof(cli_spin), MINIHV_EXIT_INTR);
}

TEST(pae_spin_with_if_clear)
{
	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	run_in_mode(_metadata, PAE32, cli_spin, sizeof(cli_spin), MINIHV_EXIT_INTR);
}

TEST(compat_mode_spin_with_if_clear)
{
	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	run_in_mode(_metadata, COMPAT, cli_spin, sizeof(cli_spin), MINIHV_EXIT_INTR);
}

TEST(long_mode_spin_with_if_clear)
{
	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	run_in_mode(_metadata, LONG64, cli_spin, sizeof(cli_spin), MINIHV_EXIT_INTR);
}

/*
 * Real mode over zeroed memory: ADD [BX+SI], AL through a 64 KiB segment,
 * and a far JMP back to its start just below the limit (an instruction
 * across the limit would be a #GP through the zeroed IVT, and the guest
 * would wander into the page tables and, some runs, triple-fault: the
 * whole machine on bochs-svm).
 */
TEST(real_mode_executes_zeros)
{
	static const uint8_t jmp_back[] = { 0xea, 0x00, 0x00, CODE_GPA >> 4 & 0xff, CODE_GPA >> 12 };
	struct bare_vm b = {};

	mode_vm(_metadata, &b, REAL, zeros, sizeof(zeros));
	memcpy(b.mem + CODE_GPA + 0xfff8, jmp_back, sizeof(jmp_back));
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	bare_vm_free(_metadata, &b);
}

/*
 * Protected mode over the zeros at the end of RAM runs off it: the fetch
 * is MMIO, which minihv cannot execute.
 */
TEST(protected_mode_runs_off_ram)
{
	struct bare_vm b = {};
	struct minihv_regs regs;

	mode_vm(_metadata, &b, PROT32, zeros, sizeof(zeros));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_REGS, &regs));
	regs.rip = RAM_SIZE - 256;
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_REGS, &regs));
	EXPECT_EQ(MINIHV_EXIT_INTERNAL_ERROR,
		  run_until(_metadata, &b, MINIHV_EXIT_INTERNAL_ERROR));
	bare_vm_free(_metadata, &b);
}

/*
 * Exits handled in the kernel, one after another, never hold the signal
 * off.  The storm must have begun: on the lite debug kernel in Bochs the
 * first slice once ended in the first entry's nested faults, before any
 * CPUID.  So slices run (each bounded by run_bounded()) until CPUIDs are
 * counted; then the next slice is all storm.
 */
TEST(exit_storm_in_kernel)
{
	struct bare_vm b = {};
	struct minihv_exit_stats stats = {};
	int i;

	mode_vm(_metadata, &b, LONG64, cpuid_loop, sizeof(cpuid_loop));
	for (i = 0; i < 50 && !stats.count[MINIHV_STAT_CPUID]; i++) {
		ASSERT_EQ(MINIHV_EXIT_INTR, run_bounded(_metadata, b.vcpu, b.run));
		ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_EXIT_STATS, &stats));
	}
	ASSERT_LT(0, stats.count[MINIHV_STAT_CPUID])
		TH_LOG("no CPUID in %d slices: %llu nested faults, %llu exits in all",
		       i, (unsigned long long)stats.count[MINIHV_STAT_PAGE_FAULT],
		       (unsigned long long)b.run->exit_count);
	EXPECT_EQ(MINIHV_EXIT_INTR, run_bounded(_metadata, b.vcpu, b.run));
	bare_vm_free(_metadata, &b);
}

/* ---- EFER.LME without paging, made by the guest ---- */

/* MOV ECX, C0000080h; RDMSR; OR EAX, 100h; WRMSR; HLT; JMP $ (32-bit code) */
static const uint8_t set_lme_spin32[] = {
	0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x0d, 0x00, 0x01, 0x00, 0x00,
	0x0f, 0x30, 0xf4, 0xeb, 0xfe,
};
/* The same in 16-bit code: operand-size prefixes on the 32-bit operands. */
static const uint8_t set_lme_spin16[] = {
	0x66, 0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32, 0x66, 0x0d, 0x00, 0x01,
	0x00, 0x00, 0x0f, 0x30, 0xf4, 0xeb, 0xfe,
};

static void guest_sets_lme(struct __test_metadata *_metadata, enum cpu_mode mode,
			   const uint8_t *code, size_t len)
{
	struct bare_vm b = {};
	struct minihv_sregs sregs;

	mode_vm(_metadata, &b, mode, code, len);
	/* The HLT exits with LME set and paging off: QEMU lost the host there. */
	EXPECT_EQ(MINIHV_EXIT_HLT, run_until(_metadata, &b, MINIHV_EXIT_HLT));
	/* The guest sees the LME it wrote, and is still in legacy mode. */
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	EXPECT_EQ(EFER_LME, sregs.efer);
	/* Then it spins there, exiting at every host interrupt. */
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	bare_vm_free(_metadata, &b);
}

TEST(real_mode_guest_sets_efer_lme)
{
	guest_sets_lme(_metadata, REAL, set_lme_spin16, sizeof(set_lme_spin16));
}

TEST(protected_mode_guest_sets_efer_lme)
{
	guest_sets_lme(_metadata, PROT32, set_lme_spin32, sizeof(set_lme_spin32));
}

/*
 * The way into long mode, from protected mode: CR4.PAE, CR3, EFER.LME,
 * then CR0.PG, and the guest is in compatibility mode.
 */
static const uint8_t enter_long_mode[] = {
	0x0f, 0x20, 0xe0,			/* MOV EAX, CR4 */
	0x83, 0xc8, 0x20,			/* OR EAX, PAE */
	0x0f, 0x22, 0xe0,			/* MOV CR4, EAX */
	0xb8, 0x00, 0x60, 0x00, 0x00,		/* MOV EAX, PML4_GPA */
	0x0f, 0x22, 0xd8,			/* MOV CR3, EAX */
	0xb9, 0x80, 0x00, 0x00, 0xc0,		/* MOV ECX, EFER */
	0x0f, 0x32,				/* RDMSR */
	0x0d, 0x00, 0x01, 0x00, 0x00,		/* OR EAX, LME */
	0x0f, 0x30,				/* WRMSR */
	0x0f, 0x20, 0xc0,			/* MOV EAX, CR0 */
	0x0d, 0x00, 0x00, 0x00, 0x80,		/* OR EAX, PG */
	0x0f, 0x22, 0xc0,			/* MOV CR0, EAX */
	0xf4,					/* HLT */
};

TEST(guest_enters_long_mode)
{
	struct bare_vm b = {};
	struct minihv_sregs sregs;

	mode_vm(_metadata, &b, PROT32, enter_long_mode, sizeof(enter_long_mode));
	EXPECT_EQ(MINIHV_EXIT_HLT, run_until(_metadata, &b, MINIHV_EXIT_HLT));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	EXPECT_EQ(EFER_LME | EFER_LMA, sregs.efer);
	EXPECT_TRUE(sregs.cr0 & CR0_PG);
	bare_vm_free(_metadata, &b);
}

/*
 * PAE paging turned on by the guest: CR4.PAE, CR3, then CR0.PG with NE,
 * a bit VT-x makes minihv emulate the MOV for, and with PAE paging the
 * MOV loads the PDPTEs (they live in the VMCS): the HLT after it must be
 * fetched through them.
 */
static const uint8_t enter_pae_paging[] = {
	0x0f, 0x20, 0xe0,			/* MOV EAX, CR4 */
	0x83, 0xc8, 0x20,			/* OR EAX, PAE */
	0x0f, 0x22, 0xe0,			/* MOV CR4, EAX */
	0xb8, 0x00, 0x40, 0x00, 0x00,		/* MOV EAX, PDPT_PAE_GPA */
	0x0f, 0x22, 0xd8,			/* MOV CR3, EAX */
	0x0f, 0x20, 0xc0,			/* MOV EAX, CR0 */
	0x0d, 0x20, 0x00, 0x00, 0x80,		/* OR EAX, PG | NE */
	0x0f, 0x22, 0xc0,			/* MOV CR0, EAX */
	0xf4,					/* HLT */
};

TEST(guest_enters_pae_paging)
{
	struct bare_vm b = {};
	struct minihv_sregs sregs;

	mode_vm(_metadata, &b, PROT32, enter_pae_paging, sizeof(enter_pae_paging));
	EXPECT_EQ(MINIHV_EXIT_HLT, run_until(_metadata, &b, MINIHV_EXIT_HLT));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	EXPECT_TRUE(sregs.cr0 & CR0_PG);
	EXPECT_TRUE(sregs.cr4 & CR4_PAE);
	bare_vm_free(_metadata, &b);
}

/*
 * And out again, from compatibility mode: paging off (LMA clears, LME
 * stays), then CR4.PAE off, then HLT and spin: EFER.LME without paging again,
 * reached by the guest's own MOVs to CR0 and CR4.
 */
static const uint8_t leave_long_mode[] = {
	0x0f, 0x20, 0xc0,			/* MOV EAX, CR0 */
	0x25, 0xff, 0xff, 0xff, 0x7f,		/* AND EAX, ~PG */
	0x0f, 0x22, 0xc0,			/* MOV CR0, EAX */
	0x0f, 0x20, 0xe0,			/* MOV EAX, CR4 */
	0x83, 0xe0, 0xdf,			/* AND EAX, ~PAE */
	0x0f, 0x22, 0xe0,			/* MOV CR4, EAX */
	0xf4,					/* HLT */
	0xeb, 0xfe,				/* JMP $ */
};

TEST(guest_leaves_long_mode_and_clears_pae)
{
	struct bare_vm b = {};
	struct minihv_sregs sregs;

	mode_vm(_metadata, &b, COMPAT, leave_long_mode, sizeof(leave_long_mode));
	EXPECT_EQ(MINIHV_EXIT_HLT, run_until(_metadata, &b, MINIHV_EXIT_HLT));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	EXPECT_EQ(EFER_LME, sregs.efer);
	EXPECT_FALSE(sregs.cr0 & CR0_PG);
	EXPECT_FALSE(sregs.cr4 & CR4_PAE);
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	bare_vm_free(_metadata, &b);
}

/* 64-bit code cannot turn paging off: #GP, here to a handler that halts. */
static const uint8_t clear_pg64[] = {
	0x0f, 0x20, 0xc0,			/* MOV RAX, CR0 */
	0x0f, 0xba, 0xf0, 0x1f,			/* BTR EAX, 31 */
	0x0f, 0x22, 0xc0,			/* MOV CR0, RAX */
	0xeb, 0xfe,				/* JMP $ (never) */
};

TEST(long_mode_cannot_clear_pg)
{
	struct bare_vm b = {};
	struct minihv_regs regs;
	struct minihv_sregs sregs;

	mode_vm(_metadata, &b, LONG64, clear_pg64, sizeof(clear_pg64));
	b.mem[HANDLER_GPA] = 0xf4;			/* HLT */
	set_gate(b.mem, 13, HANDLER_GPA);
	EXPECT_EQ(MINIHV_EXIT_HLT, run_until(_metadata, &b, MINIHV_EXIT_HLT));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_REGS, &regs));
	EXPECT_EQ(HANDLER_GPA + 1, regs.rip) TH_LOG("#GP must reach its handler");
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	EXPECT_TRUE(sregs.cr0 & CR0_PG);
	EXPECT_EQ(EFER_LME | EFER_LMA, sregs.efer);
	bare_vm_free(_metadata, &b);
}

/* ---- broken states ---- */

static const uint8_t spin[] = { 0xeb, 0xfe };

/* The guest's page tables lie outside RAM: its first fetch cannot be walked. */
TEST(page_tables_outside_ram)
{
	struct bare_vm b = {};
	struct minihv_sregs sregs;
	uint32_t r;

	mode_vm(_metadata, &b, LONG64, spin, sizeof(spin));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	sregs.cr3 = MMIO_GPA;
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_SREGS, &sregs));
	r = run_until(_metadata, &b, MINIHV_EXIT_UNKNOWN);
	EXPECT_TRUE(r == MINIHV_EXIT_INTERNAL_ERROR || r == MINIHV_EXIT_SHUTDOWN)
		TH_LOG("exit %s", exit_reason_str(r));
	bare_vm_free(_metadata, &b);
}

/* Code outside RAM: the fetch is MMIO, which minihv cannot execute. */
TEST(rip_outside_ram)
{
	struct bare_vm b = {};
	struct minihv_regs regs;

	mode_vm(_metadata, &b, LONG64, spin, sizeof(spin));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_REGS, &regs));
	regs.rip = MMIO_GPA;
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_REGS, &regs));
	EXPECT_EQ(MINIHV_EXIT_INTERNAL_ERROR,
		  run_until(_metadata, &b, MINIHV_EXIT_INTERNAL_ERROR));
	bare_vm_free(_metadata, &b);
}

/* An exception whose IDT lies outside RAM: delivery reads MMIO. */
TEST(idt_outside_ram)
{
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	struct bare_vm b = {};
	struct minihv_sregs sregs;
	uint32_t r;

	mode_vm(_metadata, &b, LONG64, ud2, sizeof(ud2));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &sregs));
	sregs.idt.base = MMIO_GPA;
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_SREGS, &sregs));
	r = run_until(_metadata, &b, MINIHV_EXIT_UNKNOWN);
	EXPECT_TRUE(r == MINIHV_EXIT_INTERNAL_ERROR)
		TH_LOG("exit %s", exit_reason_str(r));
	bare_vm_free(_metadata, &b);
}

/* An NMI handler that never returns, with another NMI waiting for it. */
TEST(nmi_never_unblocked)
{
	struct bare_vm b = {};

	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();	/* the NMI's gate clears IF */
	mode_vm(_metadata, &b, LONG64, spin, sizeof(spin));
	memcpy(b.mem + HANDLER_GPA, spin, sizeof(spin));
	set_gate(b.mem, 2, HANDLER_GPA);
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_NMI, 0));
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_NMI, 0));
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	bare_vm_free(_metadata, &b);
}

/* An interrupt window that never opens: IF stays 0. */
TEST(interrupt_window_never_opens)
{
	struct minihv_interrupt irq = { .irq = 0x20 };
	struct minihv_regs regs;
	struct bare_vm b = {};

	SKIP_IF_CLI_MASKS_HOST_INTERRUPTS();
	mode_vm(_metadata, &b, LONG64, cli_spin, sizeof(cli_spin));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_REGS, &regs));
	regs.rflags = 2;		/* IF = 0 from the start */
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_REGS, &regs));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_INTERRUPT, &irq));
	b.run->request_interrupt_window = 1;
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	bare_vm_free(_metadata, &b);
}

/* ---- states SET_SREGS refuses, and loses nothing doing it ---- */

static void expect_sregs_refused(struct __test_metadata *_metadata, enum cpu_mode mode,
				 void (*breaker)(struct minihv_sregs *))
{
	struct bare_vm b = {};
	struct minihv_sregs good, bad, after;

	mode_vm(_metadata, &b, mode, spin, sizeof(spin));
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &good));
	bad = good;
	breaker(&bad);
	EXPECT_EQ(-1, ioctl(b.vcpu, MINIHV_SET_SREGS, &bad));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &after));
	EXPECT_EQ(0, memcmp(&good, &after, sizeof(good)))
		TH_LOG("a refused SET_SREGS changed the state");
	EXPECT_EQ(MINIHV_EXIT_INTR, run_until(_metadata, &b, MINIHV_EXIT_INTR));
	bare_vm_free(_metadata, &b);
}

static void lma_without_lme(struct minihv_sregs *s) { s->efer = EFER_LMA; }
static void lma_without_pg(struct minihv_sregs *s) { s->efer |= EFER_LMA; }
static void lme_pg_without_lma(struct minihv_sregs *s) { s->efer = EFER_LME; }
static void long_mode_without_pae(struct minihv_sregs *s) { s->cr4 &= ~CR4_PAE; }
static void cs_l_set(struct minihv_sregs *s) { s->cs.l = 1; s->cs.db = 0; }
static void pg_without_pe(struct minihv_sregs *s) { s->cr0 = CR0_PG | CR0_ET; }
static void cr0_high_bits(struct minihv_sregs *s) { s->cr0 |= 1ULL << 32; }
static void efer_reserved_bit(struct minihv_sregs *s) { s->efer |= 1ULL << 2; }

TEST(sregs_lma_without_lme) { expect_sregs_refused(_metadata, PAGING32, lma_without_lme); }
TEST(sregs_lma_without_pg) { expect_sregs_refused(_metadata, PROT32, lma_without_pg); }
TEST(sregs_lme_pg_without_lma) { expect_sregs_refused(_metadata, PAE32, lme_pg_without_lma); }
TEST(sregs_long_mode_no_pae) { expect_sregs_refused(_metadata, LONG64, long_mode_without_pae); }
TEST(sregs_cs_l_outside_long_mode) { expect_sregs_refused(_metadata, PROT32, cs_l_set); }
TEST(sregs_cs_l_in_real_mode) { expect_sregs_refused(_metadata, REAL, cs_l_set); }
TEST(sregs_pg_without_pe) { expect_sregs_refused(_metadata, REAL, pg_without_pe); }
TEST(sregs_cr0_high_bits) { expect_sregs_refused(_metadata, LONG64, cr0_high_bits); }
TEST(sregs_efer_reserved_bit) { expect_sregs_refused(_metadata, LONG64, efer_reserved_bit); }

/*
 * String I/O with its memory operand in MMIO (not guest RAM): the random
 * guests found that MINIHV_RUN itself failed with ENOENT there, and that
 * an INS left pending failed every later run.  Now both end in an error
 * exit naming the address; the INS only after its port exit.
 */
static void string_io_outside_ram(struct __test_metadata *_metadata, const uint8_t *code,
				  size_t len)
{
	struct bare_vm b = {};

	mode_vm(_metadata, &b, LONG64, code, len);
	ASSERT_EQ(MINIHV_EXIT_INTERNAL_ERROR, run_until(_metadata, &b, MINIHV_EXIT_INTERNAL_ERROR));
	EXPECT_EQ(MINIHV_INTERNAL_ERROR_STRING_IO, b.run->internal.suberror);
	EXPECT_EQ(MMIO_GPA, b.run->internal.data[0]);
	EXPECT_EQ(0x80, b.run->internal.data[1]);
	/* Nothing stays pending: the next run enters the guest again. */
	EXPECT_EQ(MINIHV_EXIT_INTERNAL_ERROR, run_until(_metadata, &b, MINIHV_EXIT_INTERNAL_ERROR));
	bare_vm_free(_metadata, &b);
}

TEST(outs_from_mmio)
{
	/* MOV RSI, MMIO_GPA; MOV DX, 80h; OUTSB; HLT */
	static const uint8_t code[] = { 0x48, 0xbe, 0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0,
					0x66, 0xba, 0x80, 0x00, 0x6e, 0xf4 };

	string_io_outside_ram(_metadata, code, sizeof(code));
}

TEST(ins_to_mmio)
{
	/* MOV RDI, MMIO_GPA; MOV DX, 80h; INSB; HLT */
	static const uint8_t code[] = { 0x48, 0xbf, 0x00, 0x00, 0x00, 0x80, 0, 0, 0, 0,
					0x66, 0xba, 0x80, 0x00, 0x6c, 0xf4 };

	string_io_outside_ram(_metadata, code, sizeof(code));
}

/* ---- random guests ---- */

/*
 * Random bytes as code, in each CPU mode, with random registers, flags
 * and (every other guest) a random IDT: whatever the bytes do, every run
 * ends as above (a final exit, or the 20 ms signal: the guest's timeout)
 * and the host's log stays clean.  Each guest gets its own seed, the
 * run's seed plus its number, printed when it fails; MINIHV_FUZZ_SEED
 * repeats a run and MINIHV_RANDOM_GUESTS sets how many (make check: 240,
 * 40 per mode).  A VM serves 20 guests, then a new one is made.
 */
/* The test's seed: MINIHV_FUZZ_SEED, else the clock. */
static uint64_t fuzz_seed(void)
{
	const char *env = getenv("MINIHV_FUZZ_SEED");

	return env ? strtoull(env, NULL, 0) : (uint64_t)now_ns() | 1;
}

/* Exits counted by kind: the report, and where a run ended. */
static const char *const exit_kinds[] = { "HLT", "SHUTDOWN", "timeout", "internal error",
					  "failed entry", "other" };

static int exit_kind(uint32_t reason)
{
	switch (reason) {
	case MINIHV_EXIT_HLT: return 0;
	case MINIHV_EXIT_SHUTDOWN: return 1;
	/*
	 * The timer, in the kernel (EINTR) or in userspace between two exits
	 * (run_bounded() then returns the last one, port or MMIO).
	 */
	case MINIHV_EXIT_INTR:
	case MINIHV_EXIT_IO:
	case MINIHV_EXIT_MMIO:
		return 2;
	case MINIHV_EXIT_INTERNAL_ERROR: return 3;
	case MINIHV_EXIT_FAIL_ENTRY: return 4;
	default: return 5;
	}
}

FIXTURE(fuzz) {};
FIXTURE_SETUP(fuzz) {}
FIXTURE_TEARDOWN(fuzz) {}

TEST_F_TIMEOUT(fuzz, random_guests, 600)
{
	const char *env = getenv("MINIHV_RANDOM_GUESTS");
	unsigned long n = env ? strtoul(env, NULL, 0) : 240, i;
	uint64_t base = fuzz_seed();
	unsigned long kinds[6] = {};
	struct bare_vm b = {};
	struct minihv_sregs reset, sregs;
	struct minihv_regs regs;
	enum cpu_mode mode;
	uint32_t reason;

	/* A random guest may spin with IF = 0, or triple-fault: both take the machine. */
	if (machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM)
		SKIP(return, "Bochs 2.7 SVM: a guest spinning with IF=0 masks host interrupts, and a triple fault resets the machine");
	printf("# seed %#llx (MINIHV_FUZZ_SEED repeats it), %lu guests\n",
	       (unsigned long long)base, n);
	fflush(stdout);
	run_quiet = true;
	for (i = 0; i < n && _metadata->passed; i++) {
		if (i % 20 == 0) {
			if (i)
				bare_vm_free(_metadata, &b);
			bare_vm_create(_metadata, &b, RAM_SIZE);
			ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_GET_SREGS, &reset));
		}
		/* From the reset state: the last guest may have left any CR0, CR4, EFER. */
		sregs = reset;
		mode = random_guest(base, i, b.mem, &sregs, &regs);
		ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_SREGS, &sregs));
		ASSERT_EQ(0, ioctl(b.vcpu, MINIHV_SET_REGS, &regs));
		reason = run_bounded(_metadata, b.vcpu, b.run);
		kinds[exit_kind(reason)]++;
		if (!_metadata->passed)
			TH_LOG("guest %lu (mode %d, seed %#llx): exit %s", i, mode,
			       (unsigned long long)RANDOM_GUEST_SEED(base, i),
			       exit_reason_str(reason));
	}
	if (b.vm)
		bare_vm_free(_metadata, &b);
	printf("# %lu guests:", i);
	for (i = 0; i < 6; i++)
		printf(" %s %lu%s", exit_kinds[i], kinds[i], i < 5 ? "," : "\n");
	fflush(stdout);
	EXPECT_EQ(0, kinds[5]);
}

TEST_HARNESS_MAIN

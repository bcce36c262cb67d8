// SPDX-License-Identifier: GPL-2.0
/*
 * Host state a guest reaches: what the CPU leaves behind after a VM exit
 * (SDM Vol 3 28.5, APM Vol 2 15.6) and what a guest can write must be the
 * host's again by the time the VMM thread runs.  Each test here failed
 * before the fix it guards.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <fcntl.h>
#include <asm/prctl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

/* A guest that exits to the kernel a few times, then to userspace. */
static void guest_some_exits(void)
{
	uint32_t a, b, c, d;
	int i;

	for (i = 0; i < 8; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

/* ---- LDTR (SDM Vol 3 28.5.2: a VM exit leaves it unusable) ---- */

#define LDT_ENTRY	0
/* Index 0, TI = 1 (the LDT), RPL 3. */
#define LDT_SELECTOR	((LDT_ENTRY << 3) | 4 | 3)

static sigjmp_buf segv_jmp;

static void on_segv(int sig)
{
	siglongjmp(segv_jmp, 1);
}

/* A flat 32-bit writable data segment in this process's LDT (modify_ldt(2)). */
static int install_ldt_data_segment(void)
{
	struct user_desc d = {
		.entry_number = LDT_ENTRY,
		.base_addr = 0,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.contents = 0,		/* data */
		.read_exec_only = 0,
		.limit_in_pages = 1,
		.seg_not_present = 0,
		.useable = 1,
	};

	return syscall(SYS_modify_ldt, 1, &d, sizeof(d));
}

static uint16_t read_es(void)
{
	uint16_t sel;

	asm volatile("mov %%es, %0" : "=r" (sel));
	return sel;
}

/* Loads @sel into ES; false if that faulted (SIGSEGV: the LDT is gone). */
static bool load_es(uint16_t sel)
{
	struct sigaction sa = { .sa_handler = on_segv }, old;
	bool ok = true;

	sigaction(SIGSEGV, &sa, &old);
	if (sigsetjmp(segv_jmp, 1))
		ok = false;
	else
		asm volatile("mov %0, %%es" : : "r" (sel));
	sigaction(SIGSEGV, &old, NULL);
	return ok;
}

/*
 * The VMM thread's LDT after guest exits: the selector still loads, and
 * one held in ES across MINIHV_RUN is still there (minihv reloads ES
 * after the exit, which needs the LDT first).
 */
TEST(ldt_survives_guest_exits)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_some_exits);
	struct ucall uc;
	uint16_t es_after;
	bool loaded;

	ASSERT_EQ(0, install_ldt_data_segment()) TH_LOG("modify_ldt: %s", strerror(errno));
	ASSERT_TRUE(load_es(LDT_SELECTOR)) TH_LOG("the LDT selector faults before any guest ran");
	vcpu_run(vcpu);
	es_after = read_es();
	loaded = load_es(LDT_SELECTOR);
	load_es(0);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	EXPECT_EQ(LDT_SELECTOR, es_after) TH_LOG("ES lost its LDT selector in MINIHV_RUN");
	EXPECT_TRUE(loaded) TH_LOG("loading an LDT selector after guest exits faulted: LDTR not restored");
	vm_free(vm);
}

/* ---- debug registers (SDM Vol 3 18.2; MOV DR intercepted on both vendors) ---- */

#define SET_DR(n, v)	asm volatile("mov %0, %%db" #n : : "r" ((uint64_t)(v)))
#define GET_DR(n)	({ uint64_t _v; asm volatile("mov %%db" #n ", %0" : "=r" (_v)); _v; })

#define ODD_DR0		0x0000123456789ab0ULL
#define ODD_DR1		0xffff800012345678ULL
#define ODD_DR2		0x00000000deadbee8ULL
#define ODD_DR3		0x00007ffffffff000ULL
/* R/W0 = 11b, LEN0 = 11b, no enable: nothing armed. */
#define ODD_DR7		0x000f0400ULL

static void guest_check_odd_drs(void)
{
	GUEST_ASSERT_EQ(GET_DR(0), ODD_DR0);
	GUEST_ASSERT_EQ(GET_DR(1), ODD_DR1);
	GUEST_ASSERT_EQ(GET_DR(2), ODD_DR2);
	GUEST_ASSERT_EQ(GET_DR(3), ODD_DR3);
	/* B0-B3 written, the reserved bits read as 1 (18.2.3). */
	GUEST_ASSERT_EQ(GET_DR(6), 0xffff0fffULL);
	GUEST_ASSERT_EQ(GET_DR(7), ODD_DR7);
}

static void guest_debug_registers(void)
{
	uint64_t cr4;

	/* The state after RESET (SDM Vol 3 10.1, table 10-1). */
	GUEST_ASSERT_EQ(GET_DR(6), 0xffff0ff0ULL);
	GUEST_ASSERT_EQ(GET_DR(7), 0x400ULL);
	SET_DR(0, ODD_DR0);
	SET_DR(1, ODD_DR1);
	SET_DR(2, ODD_DR2);
	SET_DR(3, ODD_DR3);
	SET_DR(6, 0xfULL);
	SET_DR(7, ODD_DR7);
	guest_check_odd_drs();
	asm volatile("mov %%cr4, %0" : "=r" (cr4));
	if (!(cr4 & (1u << 3))) {	/* CR4.DE clear: DR4/DR5 are DR6/DR7 */
		GUEST_ASSERT_EQ(GET_DR(4), 0xffff0fffULL);
		GUEST_ASSERT_EQ(GET_DR(5), ODD_DR7);
	}
	/* To userspace and back: still the guest's own. */
	GUEST_SYNC(1);
	guest_check_odd_drs();
	GUEST_DONE();
}

/* The guest reads back what it wrote, across exits to userspace. */
TEST(debug_registers_are_the_guests)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_debug_registers);
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/* MOV DR's faults (SDM Vol 2B "MOV—Move to/from Debug Registers"), now emulated. */
enum { DR7_HIGH, DR6_HIGH, DR4_WITH_DE, DR7_GD };

static void guest_mov_dr_fault(uint64_t which)
{
	uint64_t cr4;

	switch (which) {
	case DR7_HIGH:
		SET_DR(7, 0x100000400ULL);
		break;
	case DR6_HIGH:
		SET_DR(6, 0x1ffff0ff0ULL);
		break;
	case DR4_WITH_DE:
		asm volatile("mov %%cr4, %0" : "=r" (cr4));
		asm volatile("mov %0, %%cr4" : : "r" (cr4 | (1u << 3)));
		(void)GET_DR(4);
		break;
	case DR7_GD:
		SET_DR(7, 0x2400ULL);
		(void)GET_DR(0);
		break;
	}
	GUEST_DONE();
}

TEST(mov_dr_faults)
{
	static const struct { uint64_t which, vector; } cases[] = {
		{ DR7_HIGH, 13 }, { DR6_HIGH, 13 }, { DR4_WITH_DE, 6 }, { DR7_GD, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mh_vm *vm = vm_create();
		struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_mov_dr_fault);
		struct ucall uc;

		vcpu_args_set(vcpu, cases[i].which, 0);
		vcpu_run(vcpu);
		assert_ucall(vcpu, UCALL_EXCEPTION, &uc);
		EXPECT_EQ(cases[i].vector, uc.args[0]) TH_LOG("case %zu", i);
		if (cases[i].vector == 13)
			EXPECT_EQ(0, uc.args[1]) TH_LOG("case %zu: #GP(0)", i);
		vm_free(vm);
	}
}

static void guest_write_drs(void)
{
	SET_DR(0, ODD_DR0);
	SET_DR(1, ODD_DR1);
	SET_DR(2, ODD_DR2);
	SET_DR(3, ODD_DR3);
	GUEST_DONE();
}

static void guest_read_drs(void)
{
	GUEST_ASSERT_EQ(GET_DR(0), 0);
	GUEST_ASSERT_EQ(GET_DR(1), 0);
	GUEST_ASSERT_EQ(GET_DR(2), 0);
	GUEST_ASSERT_EQ(GET_DR(3), 0);
	GUEST_DONE();
}

/*
 * One guest's DR0-DR3 are not in the CPU for the next one (nor for the
 * host) to find: a fresh vCPU on the same CPU reads its own zeros.
 */
TEST(debug_registers_do_not_leak)
{
	struct mh_vm *a, *b;
	struct mh_vcpu *va, *vb;
	struct ucall uc;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	a = vm_create();
	va = vm_vcpu_add(a, 0, guest_write_drs);
	vcpu_run(va);
	assert_ucall(va, UCALL_DONE, &uc);
	vm_free(a);
	b = vm_create();
	vb = vm_vcpu_add(b, 0, guest_read_drs);
	vcpu_run(vb);
	assert_ucall(vb, UCALL_DONE, &uc);
	vm_free(b);
}

/* ---- everything at once: the host's state before and after a guest writes it ---- */

#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_PAT			0x277
#define MSR_DEBUGCTL		0x1d9

static const uint32_t host_msrs[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
	MSR_KERNEL_GS_BASE, MSR_PAT, MSR_DEBUGCTL,
};

static void guest_writes_host_state(void)
{
	uint32_t a, b, c, d;
	uint64_t cr4;

	wrmsr(MSR_STAR, 0x0033002100000000ULL);
	wrmsr(MSR_LSTAR, 0xffffffff8badc0deULL);
	wrmsr(MSR_CSTAR, 0xffffffff8badc0d0ULL);
	wrmsr(MSR_SFMASK, 0x47700);
	wrmsr(MSR_KERNEL_GS_BASE, 0x12345000);
	wrmsr(MSR_FS_BASE, 0x5550000);
	wrmsr(MSR_GS_BASE, 0x6660000);
	wrmsr(MSR_PAT, 0x0606060606060606ULL);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) ^ 1);	/* SCE */
	SET_DR(0, ODD_DR0);
	SET_DR(1, ODD_DR1);
	SET_DR(2, ODD_DR2);
	SET_DR(3, ODD_DR3);
	SET_DR(6, 0xfULL);
	SET_DR(7, 0x402ULL);	/* G0: an instruction breakpoint, armed */
	asm volatile("mov %%cr4, %0" : "=r" (cr4));
	if (cr4 & (1u << 18))	/* OSXSAVE: XCR0 = x87 | SSE */
		asm volatile("xsetbv" : : "a" (3), "d" (0), "c" (0));
	cpuid(7, 0, &a, &b, &c, &d);
	if (c & (1u << 3)) {	/* PKU: CR4.PKE on, then WRPKRU */
		asm volatile("mov %0, %%cr4" : : "r" (cr4 | (1u << 22)));
		asm volatile("wrpkru" : : "a" (0x55555554), "c" (0), "d" (0));
	}
	GUEST_SYNC(1);
	GUEST_DONE();
}

struct host_state {
	uint64_t msr[sizeof(host_msrs) / sizeof(host_msrs[0])];
	uint64_t fs_base, gs_base, xcr0;
	uint32_t pkru;
};

static bool host_has_pkru(void)
{
	uint32_t a, b, c, d;

	cpuid(7, 0, &a, &b, &c, &d);
	return c & (1u << 4);	/* OSPKE */
}

static bool host_has_xsave(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return c & (1u << 27);	/* OSXSAVE */
}

static void read_host_state(int msr_fd, struct host_state *h)
{
	uint32_t lo, hi;
	size_t i;

	memset(h, 0, sizeof(*h));
	for (i = 0; msr_fd >= 0 && i < sizeof(host_msrs) / sizeof(host_msrs[0]); i++)
		if (pread(msr_fd, &h->msr[i], 8, host_msrs[i]) != 8)
			h->msr[i] = ~0ULL;
	syscall(SYS_arch_prctl, ARCH_GET_FS, &h->fs_base);
	syscall(SYS_arch_prctl, ARCH_GET_GS, &h->gs_base);
	if (host_has_xsave()) {
		asm volatile("xgetbv" : "=a" (lo), "=d" (hi) : "c" (0));
		h->xcr0 = lo | (uint64_t)hi << 32;
	}
	if (host_has_pkru())
		asm volatile("rdpkru" : "=a" (h->pkru) : "c" (0) : "rdx");
}

/*
 * Pinned to CPU 0, the VMM thread records what a guest can reach (the
 * syscall MSRs, KERNEL_GS_BASE, PAT, EFER, DEBUGCTL through msr.ko's
 * /dev/cpu/0/msr; its FS/GS base; XCR0; PKRU; its LDT), runs a guest
 * that writes all of it with odd values (MSRs, DR0-DR7 with a breakpoint
 * armed, XSETBV, WRPKRU) and finds everything as it was.  The debug
 * registers are held by the tests around this one: the guest's are its
 * own, and a host watchpoint still fires.  Not covered: an LLDT in the
 * guest (the guest library has no LDT descriptor; the host's LDTR is
 * compared all the same), TSC_AUX and SPEC_CTRL (not offered to guests).
 */
TEST(host_state_survives_a_guest)
{
	struct host_state before, after;
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;
	struct ucall uc;
	cpu_set_t set;
	size_t i;
	int fd;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	fd = open("/dev/cpu/0/msr", O_RDONLY);
	if (fd < 0)
		TH_LOG("no /dev/cpu/0/msr (%s): MSRs not compared", strerror(errno));
	if (!host_has_xsave())
		TH_LOG("no OSXSAVE on the host: XCR0 not compared");
	if (!host_has_pkru())
		TH_LOG("no OSPKE on the host: PKRU not compared");
	/* Not offered to guests (cpuid.c), so not written: TSC_AUX, SPEC_CTRL. */
	ASSERT_EQ(0, install_ldt_data_segment());
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_writes_host_state);
	read_host_state(fd, &before);
	vcpu_run(vcpu);
	read_host_state(fd, &after);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_TRUE(load_es(LDT_SELECTOR)) TH_LOG("the LDT is gone");
	load_es(0);
	for (i = 0; i < sizeof(host_msrs) / sizeof(host_msrs[0]); i++)
		EXPECT_EQ(before.msr[i], after.msr[i]) TH_LOG("MSR %#x", host_msrs[i]);
	EXPECT_EQ(before.fs_base, after.fs_base);
	EXPECT_EQ(before.gs_base, after.gs_base);
	EXPECT_EQ(before.xcr0, after.xcr0);
	EXPECT_EQ(before.pkru, after.pkru);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	if (fd >= 0)
		close(fd);
	vm_free(vm);
}

/* ---- the host's breakpoints: a ptrace watchpoint still fires after a guest ---- */

static volatile uint32_t watched;

/*
 * The traced child: one write before the guest (the watchpoint works),
 * a guest that takes DR0-DR7 for itself and arms a breakpoint, one
 * write after: each must stop it with SIGTRAP.
 */
static int traced_vmm(void)
{
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;
	struct ucall uc;

	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL))
		return 10;
	raise(SIGSTOP);
	watched = 1;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_writes_host_state);
	vcpu_run(vcpu);
	if (get_ucall(vcpu, &uc) != UCALL_SYNC)
		return 11;
	watched = 2;
	vm_free(vm);
	return 0;
}

TEST(host_watchpoint_fires_after_a_guest)
{
	/* L0, R/W0 = 01b (writes), LEN0 = 11b (4 bytes): SDM Vol 3 18.2.4. */
	unsigned long dr7 = 1 | (1ul << 16) | (3ul << 18);
	int status, traps = 0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(traced_vmm());
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSTOPPED(status) && WSTOPSIG(status) == SIGSTOP);
	ASSERT_EQ(0, ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[0]),
			    (void *)&watched));
	ASSERT_EQ(0, ptrace(PTRACE_POKEUSER, pid, offsetof(struct user, u_debugreg[7]),
			    (void *)dr7));
	for (;;) {
		ASSERT_EQ(0, ptrace(PTRACE_CONT, pid, NULL, NULL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (!WIFSTOPPED(status))
			break;
		ASSERT_EQ(SIGTRAP, WSTOPSIG(status)) TH_LOG("child stopped by signal %d",
							   WSTOPSIG(status));
		traps++;
	}
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(2, traps) TH_LOG("the watchpoint fired %d times, not before and after the guest",
				   traps);
}

TEST_HARNESS_MAIN

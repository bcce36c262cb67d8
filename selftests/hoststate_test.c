// SPDX-License-Identifier: GPL-2.0
/*
 * Host state a guest reaches: what the CPU leaves behind after a VM exit
 * (SDM Vol 3 28.5, APM Vol 2 15.6) and what a guest can write must be the
 * host's again by the time the VMM thread runs.  Each test here failed
 * before the fix it guards.
 */
#include <asm/ldt.h>
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
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

TEST_HARNESS_MAIN

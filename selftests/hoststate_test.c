// SPDX-License-Identifier: GPL-2.0
/*
 * Host state a guest reaches: what the CPU leaves behind after a VM exit
 * (SDM Vol 3 28.5, APM Vol 2 15.6) and what a guest can write must be the
 * host's again by the time the VMM thread runs.  Each test here failed
 * before the fix it guards.
 */
#include <asm/ldt.h>
#include <errno.h>
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

TEST_HARNESS_MAIN

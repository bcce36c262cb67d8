// SPDX-License-Identifier: GPL-2.0
/*
 * Failed VM entries, explained: each test breaks one rule of the guest
 * state the CPU checks, runs, and asserts that the failed-entry exit names
 * that rule, and that the vCPU runs again once the state is fixed.
 *
 * VT-x checks segments closely (SDM Vol 3 27.3.1.2); AMD-V checks few
 * (APM Vol 2 15.5.1), so the segment rules are VT-x tests and skip on
 * AMD-V.  CS.L with CS.D is refused by both (exits_test.c).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

static void guest_io(void)
{
	outb(0x80, 1);
}

static bool is_vmx(struct mh_vm *vm)
{
	return ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR) ==
	       MINIHV_VENDOR_VMX;
}

typedef void (*breaker_t)(struct minihv_sregs *sregs);

/* Break, expect @rule in the reason, repair, expect the guest to run. */
static void expect_refused(struct __test_metadata *_metadata, breaker_t breaker,
			   const char *rule)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu;
	struct minihv_run *run;
	struct minihv_sregs good, bad;

	if (!is_vmx(vm)) {
		vm_free(vm);
		SKIP(return, "AMD-V does not check this rule (APM Vol 2 15.5.1)");
	}
	vcpu = vm_vcpu_add(vm, 0, guest_io);
	run = vcpu_state(vcpu);
	vcpu_sregs_get(vcpu, &good);
	bad = good;
	breaker(&bad);
	ASSERT_EQ(0, _vcpu_sregs_set(vcpu, &bad));
	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_FAIL_ENTRY);
	EXPECT_NE(NULL, strstr(run->fail_entry.reason, rule))
		TH_LOG("reason: %s", run->fail_entry.reason);
	EXPECT_EQ(0x80000021, run->fail_entry.hardware_entry_failure_reason & 0x8000ffff)
		TH_LOG("exit reason 33 with bit 31: invalid guest state");

	ASSERT_EQ(0, _vcpu_sregs_set(vcpu, &good));
	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_IO);
	EXPECT_EQ(0x80, run->io.port);
	vm_free(vm);
}

static void break_cs(struct minihv_sregs *s) { s->cs.present = 0; }
static void busy_tss_expected(struct minihv_sregs *s) { s->tr.type = 9; }
static void break_tr(struct minihv_sregs *s) { s->tr.present = 0; }
static void ldt_wrong_type(struct minihv_sregs *s)
{
	s->ldt = (struct minihv_segment){ .type = 5, .present = 1, .limit = 0xffff };
}
static void ss_code_type(struct minihv_sregs *s) { s->ss.type = 0xb; }
static void break_ds(struct minihv_sregs *s) { s->ds.type = 2; }
static void cs_limit_g(struct minihv_sregs *s) { s->cs.limit = 0xfffff000; s->cs.g = 0; }

TEST(unusable_cs) { expect_refused(_metadata, break_cs, "CS is unusable"); }
TEST(tr_not_busy_tss) { expect_refused(_metadata, busy_tss_expected, "TR type must be 11"); }
TEST(unusable_tr) { expect_refused(_metadata, break_tr, "TR is unusable"); }
TEST(ldtr_wrong_type) { expect_refused(_metadata, ldt_wrong_type, "LDTR type must be 2"); }
TEST(ss_not_data) { expect_refused(_metadata, ss_code_type, "SS type must be 3 or 7"); }
TEST(ds_not_accessed) { expect_refused(_metadata, break_ds, "lacks the accessed bit"); }
TEST(cs_limit_disagrees_with_g) { expect_refused(_metadata, cs_limit_g, "CS limit and CS.G disagree"); }

TEST_HARNESS_MAIN

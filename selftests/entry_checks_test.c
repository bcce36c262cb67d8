// SPDX-License-Identifier: GPL-2.0
/*
 * Failed VM entries, explained: each test breaks one rule of the guest
 * state the CPU checks, runs, and asserts that the failed-entry exit names
 * that rule, and that the vCPU runs again once the state is fixed.
 *
 * VT-x checks segments closely (SDM Vol 3 27.3.1.2); AMD-V checks few
 * (APM Vol 2 15.5.1), so the segment rules are VT-x tests and skip on
 * AMD-V.  CS.L with CS.D is refused by both (exits_test.c).
 *
 * AMD-V's other rules cannot be broken from userspace: SET_SREGS refuses
 * such states itself, and the rest (intercepts, ASID) are minihv's.  The
 * svm_rule tests break each through debugfs (break_entry, which only
 * root can write), after minihv's own check, so that VMRUN refuses the
 * entry (VMEXIT_INVALID) and minihv must name the rule from the state it
 * gave the CPU.  Those skip on VT-x, whose rules the tests above reach,
 * and on a module built without its test hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

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
/* Busy, but a 16-bit TSS: outside IA-32e mode only (SDM Vol 3 27.3.1.2). */
static void tss16_in_long_mode(struct minihv_sregs *s) { s->tr.type = 3; }
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
TEST(tr_16bit_tss_in_long_mode)
{
	expect_refused(_metadata, tss16_in_long_mode, "TR type must be 11");
}
TEST(unusable_tr) { expect_refused(_metadata, break_tr, "TR is unusable"); }
TEST(ldtr_wrong_type) { expect_refused(_metadata, ldt_wrong_type, "LDTR type must be 2"); }
TEST(ss_not_data) { expect_refused(_metadata, ss_code_type, "SS type must be 3 or 7"); }
TEST(ds_not_accessed) { expect_refused(_metadata, break_ds, "lacks the accessed bit"); }
TEST(cs_limit_disagrees_with_g) { expect_refused(_metadata, cs_limit_g, "CS limit and CS.G disagree"); }

FIXTURE(svm_rule) {};
FIXTURE_SETUP(svm_rule) {}
FIXTURE_TEARDOWN(svm_rule) {}

FIXTURE_VARIANT(svm_rule) {
	const char *rule;	/* what break_entry is given */
	const char *named;	/* what the failed-entry reason must say */
	uint64_t field;		/* VMCB offset of the field named */
	bool sregs_repair;	/* SET_SREGS makes the state valid again */
	const char *bochs_gap;	/* why Bochs 2.7 cannot be asked, if so */
};

#define SVM_RULE(_rule, _named, _field, _repair, ...)			\
	FIXTURE_VARIANT_ADD(svm_rule, _rule) {				\
		.rule = #_rule, .named = _named, .field = _field,	\
		.sregs_repair = _repair, __VA_ARGS__			\
	}

SVM_RULE(svme_clear, "EFER.SVME is 0", 0x4d0, true);
SVM_RULE(cr0_nw_without_cd, "CR0.CD is 0 and CR0.NW is 1", 0x558, true);
SVM_RULE(cr0_high, "CR0[63:32] are not 0", 0x558, true);
SVM_RULE(cr3_high, "CR3 has bits set beyond", 0x550, true,
	 .bochs_gap = "Bochs 2.7's VMRUN does not check CR3's reserved bits: the guest runs");
SVM_RULE(cr4_reserved, "CR4 has a reserved bit set", 0x548, true);
SVM_RULE(dr6_high, "DR6[63:32] are not 0", 0x568, false);
SVM_RULE(dr7_high, "DR7[63:32] are not 0", 0x560, false);
SVM_RULE(efer_reserved, "EFER has a reserved bit set", 0x4d0, true);
SVM_RULE(long_without_pae, "CR4.PAE is 0", 0x548, true);
SVM_RULE(long_without_pe, "CR0.PE is 0", 0x558, true,
	 .bochs_gap = "Bochs 2.7's VMRUN does not check it and the emulator panics "
		      "(change_cpu_mode: EFER.LMA is set when CR0.PE=0)");
SVM_RULE(long_cs_l_and_d, "CS.L and CS.D are all 1", 0x410, true);
SVM_RULE(vmrun_not_intercepted, "the VMRUN intercept is clear", 0x010, false);
SVM_RULE(asid_zero, "ASID is 0", 0x058, false);

static uint64_t fail_entry_count(struct mh_vcpu *vcpu)
{
	struct minihv_exit_stats stats;

	if (ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_STATS, &stats))
		return ~0ULL;
	return stats.count[MINIHV_STAT_FAIL_ENTRY];
}

/*
 * The rule broken, VMRUN refuses (the failed entry is counted: only a
 * VMEXIT_INVALID is, never minihv's own check), the reason names the rule
 * and field, and the registers read back are the guest's, not what the
 * CPU wrote on its way out (Bochs 2.7 writes the host's).  Then the state
 * is set again: a rule SET_SREGS covers is repaired and the guest runs; the
 * others stay refused, by minihv's own check, without another VMRUN.
 */
TEST_F(svm_rule, refused_by_vmrun_and_named)
{
	struct mh_vm *vm = vm_create();
	struct minihv_regs regs, regs_after;
	struct minihv_sregs sregs, sregs_after;
	struct minihv_run *run;
	struct mh_vcpu *vcpu;
	char path[128];
	int fd;

	if (is_vmx(vm)) {
		vm_free(vm);
		SKIP(return, "VT-x: its rules are reached through SET_SREGS (above)");
	}
	if (variant->bochs_gap && machine_is_bochs()) {
		vm_free(vm);
		SKIP(return, "%s (checked on QEMU)", variant->bochs_gap);
	}
	if (!minihv_has_test_hooks()) {
		vm_free(vm);
		SKIP(return, "needs debugfs break_entry: " NO_TEST_HOOKS);
	}
	vcpu = vm_vcpu_add(vm, 0, guest_io);
	run = vcpu_state(vcpu);
	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);

	ASSERT_TRUE(vm_debugfs_path("break_entry", path, sizeof(path)));
	fd = open(path, O_WRONLY);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)strlen(variant->rule), write(fd, variant->rule, strlen(variant->rule)));
	close(fd);

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_FAIL_ENTRY);
	EXPECT_EQ(MINIHV_SVM_EXIT_INVALID, run->fail_entry.hardware_entry_failure_reason);
	EXPECT_NE(NULL, strstr(run->fail_entry.reason, variant->named))
		TH_LOG("reason: %s", run->fail_entry.reason);
	EXPECT_EQ(variant->field, run->fail_entry.field)
		TH_LOG("reason: %s", run->fail_entry.reason);
	EXPECT_EQ(1, fail_entry_count(vcpu)) TH_LOG("VMRUN did not refuse the entry");

	vcpu_regs_get(vcpu, &regs_after);
	vcpu_sregs_get(vcpu, &sregs_after);
	EXPECT_EQ(regs.rip, regs_after.rip);
	EXPECT_EQ(regs.rsp, regs_after.rsp);
	EXPECT_EQ(regs.rax, regs_after.rax);
	EXPECT_EQ(sregs.gdt.base, sregs_after.gdt.base);
	EXPECT_EQ(sregs.idt.base, sregs_after.idt.base);
	EXPECT_EQ(sregs.cs.selector, sregs_after.cs.selector);
	EXPECT_EQ(sregs.cr3, sregs_after.cr3 & ~(1ULL << 62));	/* cr3_high's bit */

	ASSERT_EQ(0, _vcpu_sregs_set(vcpu, &sregs));
	vcpu_regs_set(vcpu, &regs);
	vcpu_run(vcpu);
	if (variant->sregs_repair) {
		assert_exit_reason(vcpu, MINIHV_EXIT_IO);
		EXPECT_EQ(0x80, run->io.port);
	} else {
		assert_exit_reason(vcpu, MINIHV_EXIT_FAIL_ENTRY);
		EXPECT_NE(NULL, strstr(run->fail_entry.reason, variant->named))
			TH_LOG("reason: %s", run->fail_entry.reason);
		EXPECT_EQ(1, fail_entry_count(vcpu)) TH_LOG("refused state went to VMRUN again");
	}
	vm_free(vm);
}

/* Only names the backend lists are taken; the list is readable. */
TEST(break_entry_takes_only_known_rules)
{
	struct mh_vm *vm = vm_create();
	char path[128], list[1024];
	ssize_t n;
	int fd;

	if (is_vmx(vm)) {
		EXPECT_FALSE(vm_debugfs_path("break_entry", path, sizeof(path)) &&
			     access(path, F_OK) == 0) TH_LOG("VT-x has no break_entry");
		vm_free(vm);
		return;
	}
	if (!minihv_has_test_hooks()) {
		vm_free(vm);
		SKIP(return, "needs debugfs break_entry: " NO_TEST_HOOKS);
	}
	ASSERT_TRUE(vm_debugfs_path("break_entry", path, sizeof(path)));
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, "no_such_rule", 12));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, path, sizeof(path)));
	EXPECT_EQ(EINVAL, errno);
	n = pread(fd, list, sizeof(list) - 1, 0);
	ASSERT_LT(0, n);
	list[n] = 0;
	EXPECT_NE(NULL, strstr(list, "asid_zero\n"));
	EXPECT_NE(NULL, strstr(list, "svme_clear\n"));
	close(fd);
	vm_free(vm);
}

TEST_HARNESS_MAIN

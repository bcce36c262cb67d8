// SPDX-License-Identifier: GPL-2.0
/*
 * Why AMD-V refused to enter a guest.
 *
 * VMRUN checks the guest state (APM Vol 2 15.5.1, "Canonicalization and
 * Consistency Checks") and answers VMEXIT_INVALID without saying which
 * check failed.  minihv runs the same checks in software, in the APM's
 * order, and names the first that fails with its VMCB field and value:
 * before the first VMRUN after userspace set new state (a guest cannot
 * reach an invalid state by itself: its own CR and EFER writes fault
 * first), so that no CPU is handed a state it must refuse (QEMU's refusal
 * path has lost a host CPU before: svm_vmcb_efer()); and after a
 * VMEXIT_INVALID, on the state VMRUN was given (svm.h), to name the
 * rule.  Left out, because minihv's own setup always satisfies
 * them: the MSR and I/O permission maps' addresses and event injection
 * (minihv injects only the vectors and types its callers checked).
 *
 * Most of these states cannot come from userspace at all: SET_SREGS
 * refuses them first (cr.c, as KVM's kvm_is_valid_sregs()), and the
 * intercepts and ASID are minihv's.  To test that a refusal by the CPU is
 * named right, a test breaks one rule on purpose through debugfs
 * (svm_entry_rules[], svm_break_entry()) and sees VMRUN refuse it.
 */
#include <linux/kernel.h>

#include <asm/msr-index.h>
#include <asm/processor.h>

#include "../minihv.h"
#include "svm.h"

/*
 * Returns NULL when the state passes; @field is the VMCB offset of the
 * offending field, @value its value.
 */
const char *svm_check_guest_state(const struct vmcb *vmcb, u64 *field, u64 *value)
{
	const struct vmcb_save_area *s = &vmcb->save;
	bool lme_pg = (s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG);

#define SVM_CHECK(cond, f, v, msg) \
	do { if (cond) { *field = (f); *value = (v); return msg; } } while (0)
	SVM_CHECK(!(s->efer & EFER_SVME), VMCB_SAVE(efer), s->efer,
		  "EFER.SVME is 0");
	SVM_CHECK(!(s->cr0 & X86_CR0_CD) && (s->cr0 & X86_CR0_NW),
		  VMCB_SAVE(cr0), s->cr0, "CR0.CD is 0 and CR0.NW is 1");
	SVM_CHECK(s->cr0 >> 32, VMCB_SAVE(cr0), s->cr0, "CR0[63:32] are not 0");
	SVM_CHECK(s->cr3 >> boot_cpu_data.x86_phys_bits, VMCB_SAVE(cr3), s->cr3,
		  "CR3 has bits set beyond the physical address width");
	SVM_CHECK(s->cr4 & ~(SVM_GUEST_CR4_BITS | X86_CR4_OSXSAVE | X86_CR4_PKE),
		  VMCB_SAVE(cr4), s->cr4, "CR4 has a reserved bit set");
	SVM_CHECK(s->dr6 >> 32, VMCB_SAVE(dr6), s->dr6, "DR6[63:32] are not 0");
	SVM_CHECK(s->dr7 >> 32, VMCB_SAVE(dr7), s->dr7, "DR7[63:32] are not 0");
	SVM_CHECK(s->efer & ~(MINIHV_GUEST_EFER_BITS | EFER_SVME | EFER_FFXSR),
		  VMCB_SAVE(efer), s->efer, "EFER has a reserved bit set");
	SVM_CHECK(lme_pg && !(s->cr4 & X86_CR4_PAE), VMCB_SAVE(cr4), s->cr4,
		  "EFER.LME and CR0.PG are 1 but CR4.PAE is 0");
	SVM_CHECK(lme_pg && !(s->cr0 & X86_CR0_PE), VMCB_SAVE(cr0), s->cr0,
		  "EFER.LME and CR0.PG are 1 but CR0.PE is 0");
	SVM_CHECK(lme_pg && (s->cr4 & X86_CR4_PAE) &&
		  (s->cs.attrib & SVM_SEG_ATTR_L) && (s->cs.attrib & SVM_SEG_ATTR_DB),
		  VMCB_SAVE(cs), s->cs.attrib,
		  "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all 1");
	SVM_CHECK(!(vmcb->control.intercept_misc4 & INTERCEPT_VMRUN),
		  VMCB_CTRL(intercept_misc4), vmcb->control.intercept_misc4,
		  "the VMRUN intercept is clear");
	SVM_CHECK(!vmcb->control.asid, VMCB_CTRL(asid), 0, "ASID is 0");
#undef SVM_CHECK
	return NULL;
}

/*
 * The rules a test can break (debugfs <pid>-<n>/break_entry, vm.c), one
 * per check above, in the same order.
 */
enum svm_entry_rule {
	SVM_RULE_SVME_CLEAR,
	SVM_RULE_CR0_NW_WITHOUT_CD,
	SVM_RULE_CR0_HIGH,
	SVM_RULE_CR3_HIGH,
	SVM_RULE_CR4_RESERVED,
	SVM_RULE_DR6_HIGH,
	SVM_RULE_DR7_HIGH,
	SVM_RULE_EFER_RESERVED,
	SVM_RULE_LONG_WITHOUT_PAE,
	SVM_RULE_LONG_WITHOUT_PE,
	SVM_RULE_LONG_CS_L_AND_D,
	SVM_RULE_VMRUN_NOT_INTERCEPTED,
	SVM_RULE_ASID_ZERO,
	SVM_NR_RULES,
};

const char *const svm_entry_rules[SVM_NR_RULES + 1] = {
	[SVM_RULE_SVME_CLEAR]		= "svme_clear",
	[SVM_RULE_CR0_NW_WITHOUT_CD]	= "cr0_nw_without_cd",
	[SVM_RULE_CR0_HIGH]		= "cr0_high",
	[SVM_RULE_CR3_HIGH]		= "cr3_high",
	[SVM_RULE_CR4_RESERVED]		= "cr4_reserved",
	[SVM_RULE_DR6_HIGH]		= "dr6_high",
	[SVM_RULE_DR7_HIGH]		= "dr7_high",
	[SVM_RULE_EFER_RESERVED]	= "efer_reserved",
	[SVM_RULE_LONG_WITHOUT_PAE]	= "long_without_pae",
	[SVM_RULE_LONG_WITHOUT_PE]	= "long_without_pe",
	[SVM_RULE_LONG_CS_L_AND_D]	= "long_cs_l_and_d",
	[SVM_RULE_VMRUN_NOT_INTERCEPTED] = "vmrun_not_intercepted",
	[SVM_RULE_ASID_ZERO]		= "asid_zero",
};

/*
 * Breaks @rule in a VMCB that passed svm_check_guest_state(), just before
 * VMRUN, changing only what the rule needs.  The long-mode rules set long
 * mode's other bits themselves, so each holds whatever mode the guest was
 * in.  Every broken state is one the APM says VMRUN refuses, so no CPU
 * runs a guest in it.
 */
void svm_break_entry(struct vmcb *vmcb, unsigned int rule)
{
	struct vmcb_save_area *s = &vmcb->save;
	const u64 long_mode = EFER_LME | EFER_LMA;

	switch (rule) {
	case SVM_RULE_SVME_CLEAR:
		s->efer &= ~EFER_SVME;
		break;
	case SVM_RULE_CR0_NW_WITHOUT_CD:
		s->cr0 = (s->cr0 & ~X86_CR0_CD) | X86_CR0_NW;
		break;
	case SVM_RULE_CR0_HIGH:
		s->cr0 |= BIT_ULL(32);
		break;
	case SVM_RULE_CR3_HIGH:
		s->cr3 |= BIT_ULL(62);		/* beyond any width (52 at most) */
		break;
	case SVM_RULE_CR4_RESERVED:
		s->cr4 |= BIT_ULL(15);		/* reserved on every CPU */
		break;
	case SVM_RULE_DR6_HIGH:
		s->dr6 |= BIT_ULL(32);
		break;
	case SVM_RULE_DR7_HIGH:
		s->dr7 |= BIT_ULL(32);
		break;
	case SVM_RULE_EFER_RESERVED:
		s->efer |= BIT_ULL(9);		/* reserved (APM Vol 2 3.1.7) */
		break;
	case SVM_RULE_LONG_WITHOUT_PAE:
		s->efer |= long_mode;
		s->cr0 |= X86_CR0_PG | X86_CR0_PE;
		s->cr4 &= ~X86_CR4_PAE;
		break;
	case SVM_RULE_LONG_WITHOUT_PE:
		s->efer |= long_mode;
		s->cr0 = (s->cr0 | X86_CR0_PG) & ~X86_CR0_PE;
		s->cr4 |= X86_CR4_PAE;
		break;
	case SVM_RULE_LONG_CS_L_AND_D:
		s->efer |= long_mode;
		s->cr0 |= X86_CR0_PG | X86_CR0_PE;
		s->cr4 |= X86_CR4_PAE;
		s->cs.attrib |= SVM_SEG_ATTR_L | SVM_SEG_ATTR_DB;
		break;
	case SVM_RULE_VMRUN_NOT_INTERCEPTED:
		vmcb->control.intercept_misc4 &= ~INTERCEPT_VMRUN;
		break;
	case SVM_RULE_ASID_ZERO:
		vmcb->control.asid = 0;
		break;
	}
}

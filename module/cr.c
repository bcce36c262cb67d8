// SPDX-License-Identifier: GPL-2.0
/*
 * The architectural rules of CR0, CR4 and EFER, in one place, as KVM's
 * kvm_set_cr0(), kvm_set_cr4() and kvm_valid_efer(): SET_SREGS, both
 * vendors' emulated MOV to CR0/CR4 and WRMSR to EFER ask here.  SDM Vol
 * 3 2.5 ("Control Registers"), 4.1, 10.8.5 ("Initializing IA-32e
 * Mode"), Vol 2B "MOV—Move to/from Control Registers"; APM Vol 2 3.1,
 * 14.6.
 */
#include <linux/bits.h>

#include <asm/processor-flags.h>

#include "minihv.h"

/*
 * CR0 bits that exist (SDM Vol 3 2.5): PE MP EM TS ET NE WP AM NW CD PG.
 * A 1 in bits 63:32 is #GP; the other reserved bits are ignored, and ET
 * is fixed at 1 (KVM's kvm_set_cr0() drops them the same way).
 */
#define CR0_DEFINED	(X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | \
			 X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | \
			 X86_CR0_NW | X86_CR0_CD | X86_CR0_PG)

/* The CR4 bits a CPUID feature gates, as KVM's __cr4_reserved_bits(). */
static const struct {
	u64 cr4;
	u32 leaf;
	u8 reg;		/* 1: EBX, 2: ECX */
	u8 bit;
} minihv_cr4_features[] = {
	{ X86_CR4_VMXE,		1, 2, 5 },
	{ X86_CR4_PCIDE,	1, 2, 17 },
	{ X86_CR4_OSXSAVE,	1, 2, 26 },
	{ X86_CR4_FSGSBASE,	7, 1, 0 },
	{ X86_CR4_SMEP,		7, 1, 7 },
	{ X86_CR4_SMAP,		7, 1, 20 },
	{ X86_CR4_UMIP,		7, 2, 2 },
	{ X86_CR4_PKE,		7, 2, 3 },
	{ X86_CR4_LA57,		7, 2, 16 },
};

/* CR4 bits the guest may set: what its CPUID offers and the vendor runs. */
static u64 minihv_cr4_allowed(struct minihv_vcpu *vcpu)
{
	u64 allowed = minihv_ops->cr4_bits();
	u32 leaf1[4], leaf7[4];
	int i;

	minihv_guest_cpuid(vcpu, 1, 0, leaf1);
	minihv_guest_cpuid(vcpu, 7, 0, leaf7);
	for (i = 0; i < ARRAY_SIZE(minihv_cr4_features); i++) {
		const u32 *r = minihv_cr4_features[i].leaf == 1 ? leaf1 : leaf7;

		if (!(r[minihv_cr4_features[i].reg] & BIT(minihv_cr4_features[i].bit)))
			allowed &= ~minihv_cr4_features[i].cr4;
	}
	return allowed;
}

/* The rules that hold for any CR0 value, whatever the state around it. */
static bool minihv_cr0_valid(u64 cr0)
{
	return !(cr0 >> 32) &&
	       !((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE)) &&
	       !((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD));
}

void minihv_get_cr_state(struct minihv_vcpu *vcpu, struct minihv_cr_state *s)
{
	struct minihv_sregs sregs;

	minihv_ops->get_sregs(vcpu, &sregs);
	s->cr0 = sregs.cr0;
	s->cr3 = sregs.cr3;
	s->cr4 = sregs.cr4;
	s->efer = sregs.efer;
	s->cs_l = sregs.cs.l;
}

bool minihv_set_cr0(struct minihv_vcpu *vcpu, struct minihv_cr_state *s, u64 cr0)
{
	bool paging_on = !(s->cr0 & X86_CR0_PG) && (cr0 & X86_CR0_PG);

	if (!minihv_cr0_valid(cr0))
		return false;
	/* Entering IA-32e mode needs PAE, and from code that is not 64-bit. */
	if (paging_on && (s->efer & EFER_LME) && (!(s->cr4 & X86_CR4_PAE) || s->cs_l))
		return false;
	/* 64-bit code cannot turn paging off, nor can PCIDE's (SDM Vol 2B). */
	if (!(cr0 & X86_CR0_PG) &&
	    (((s->efer & EFER_LMA) && s->cs_l) || (s->cr4 & X86_CR4_PCIDE)))
		return false;
	/* Paging with EFER.LME on is IA-32e mode (SDM Vol 3 10.8.5). */
	if ((s->efer & EFER_LME) && (cr0 & X86_CR0_PG))
		s->efer |= EFER_LMA;
	else
		s->efer &= ~EFER_LMA;
	s->cr0 = (cr0 & CR0_DEFINED) | X86_CR0_ET;
	return true;
}

bool minihv_set_cr4(struct minihv_vcpu *vcpu, struct minihv_cr_state *s, u64 cr4)
{
	if (cr4 & ~minihv_cr4_allowed(vcpu))
		return false;
	/* IA-32e mode keeps PAE and its paging depth (SDM Vol 3 4.1.1). */
	if ((s->efer & EFER_LMA) && (!(cr4 & X86_CR4_PAE) || ((cr4 ^ s->cr4) & X86_CR4_LA57)))
		return false;
	/* PCIDE goes on only in IA-32e mode and with CR3[11:0] = 0 (4.10.1). */
	if ((cr4 & X86_CR4_PCIDE) && !(s->cr4 & X86_CR4_PCIDE) &&
	    (!(s->efer & EFER_LMA) || (s->cr3 & 0xfff)))
		return false;
	s->cr4 = cr4;
	return true;
}

bool minihv_set_efer(struct minihv_vcpu *vcpu, struct minihv_cr_state *s, u64 efer)
{
	if (efer & ~MINIHV_GUEST_EFER_BITS)
		return false;
	/* LME may change only while paging is off (SDM Vol 3 10.8.5). */
	if (((efer ^ s->efer) & EFER_LME) && (s->cr0 & X86_CR0_PG))
		return false;
	/* LMA is the CPU's to set (SDM Vol 3 10.8.5, APM Vol 2 14.6.1). */
	s->efer = (efer & ~EFER_LMA) | (s->efer & EFER_LMA);
	return true;
}

/*
 * A state the rules forbid can never be reached by a running guest, so
 * SET_SREGS refuses it with -EINVAL, as KVM's kvm_is_valid_sregs() does.
 * States the rules allow (EFER.LME with paging off: real or protected
 * mode on its way to long mode) are taken and run.  Segment consistency
 * is left to the CPU's entry checks, whose refusal is a failed-entry
 * exit that names the rule.
 */
bool minihv_sregs_valid(struct minihv_vcpu *vcpu, const struct minihv_sregs *sregs)
{
	bool long_mode = (sregs->efer & EFER_LME) && (sregs->cr0 & X86_CR0_PG);

	if (!minihv_cr0_valid(sregs->cr0) || (sregs->efer & ~MINIHV_GUEST_EFER_BITS) ||
	    (sregs->cr4 & ~minihv_cr4_allowed(vcpu)))
		return false;
	/* LMA is (LME and PG); long mode needs PAE; CS.L means nothing outside it. */
	if (!!(sregs->efer & EFER_LMA) != long_mode)
		return false;
	if (long_mode && !(sregs->cr4 & X86_CR4_PAE))
		return false;
	if (!long_mode && (sregs->cs.l || (sregs->cr4 & X86_CR4_PCIDE)))
		return false;
	return !(sregs->cr3 >> boot_cpu_data.x86_phys_bits) && sregs->cr8 <= 0xf;
}

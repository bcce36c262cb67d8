// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's debug registers (SDM Vol 3 "Debug Registers", APM Vol 2
 * 13.1.1).  Both vendors intercept every MOV to and from DR0-DR7, so the
 * guest only ever sees its own copy in vcpu->dbg, never the host's
 * breakpoint addresses, and the rules of "MOV—Move to/from Debug Registers"
 * (SDM Vol 2B) are applied here once, as KVM's kvm_get_dr()/kvm_set_dr().
 *
 * The hardware holds the guest's DR0-DR3 only while its DR7 enables a
 * breakpoint (minihv_load_guest_debugregs()); the host's come back after
 * the exit (minihv_load_host_debugregs()).
 */
#include <linux/bits.h>
#include <linux/percpu.h>
#include <linux/types.h>

/* 6.1's debugreg.h leans on these (percpu, __FORCE_ORDER, paravirt). */
#include <asm/special_insns.h>
#include <asm/paravirt.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "minihv.h"

/*
 * DR6: B0-B3, BD, BS, BT are the guest's; the rest reads as 1 (SDM Vol 3
 * "Debug Status Register (DR6)").
 */
#define DR6_GUEST_BITS		0xe00fULL
#define DR6_FIXED_1		0xffff0ff0ULL
/* DR7: bits 12, 14 and 15 read as 0, bit 10 as 1 ("Debug Control Register (DR7)"). */
#define DR7_GUEST_BITS		0xffff2bffULL
#define DR7_RESET		0x400ULL
#define DR7_GD			BIT_ULL(13)
#define DR6_BD			BIT_ULL(13)

void minihv_debugregs_reset(struct minihv_vcpu *vcpu)
{
	memset(vcpu->dbg.db, 0, sizeof(vcpu->dbg.db));
	vcpu->dbg.dr6 = DR6_FIXED_1;
	vcpu->dbg.dr7 = DR7_RESET;
}

/*
 * The checks both directions share, in the order KVM makes them: #UD for
 * DR4/DR5 with CR4.DE set and for DR8-DR15 (REX.R), #GP(0) at CPL > 0, then
 * #DB for DR7.GD.  The hardware makes the first two before a VT-x exit (SDM
 * Vol 3 "Relative Priority of Faults and VM Exits"); repeating them costs
 * nothing and covers AMD-V whatever its order.  GD is never in the
 * hardware's DR7 (a VT-x exit has priority over its #DB, ibid.), so it is
 * emulated here: BD set in DR6, GD cleared, as a #DB delivered by the CPU
 * would ("Debug Control Register (DR7)").  DR4 and DR5 alias DR6 and DR7
 * when CR4.DE is clear ("Debug Registers DR4 and DR5").
 */
static int minihv_check_dr(struct minihv_vcpu *vcpu, int *dr, int cpl, u64 cr4)
{
	if (*dr > 7 || ((*dr == 4 || *dr == 5) && (cr4 & X86_CR4_DE)))
		return X86_TRAP_UD;
	if (cpl)
		return X86_TRAP_GP;
	if (vcpu->dbg.dr7 & DR7_GD) {
		vcpu->dbg.dr7 &= ~DR7_GD;
		vcpu->dbg.dr6 |= DR6_BD;
		return X86_TRAP_DB;
	}
	if (*dr == 4 || *dr == 5)
		*dr += 2;
	return 0;
}

static int minihv_get_dr(struct minihv_vcpu *vcpu, int dr, int cpl, u64 cr4, u64 *val)
{
	int vector = minihv_check_dr(vcpu, &dr, cpl, cr4);

	if (vector)
		return vector;
	if (dr < 4)
		*val = vcpu->dbg.db[dr];
	else if (dr == 6)
		*val = vcpu->dbg.dr6;
	else
		*val = vcpu->dbg.dr7;
	return 0;
}

/*
 * @val is what the instruction wrote: 32 bits outside 64-bit mode, where
 * the upper half is 0.  In 64-bit mode a 1 in DR6[63:32] or DR7[63:32]
 * is #GP(0).
 */
static int minihv_set_dr(struct minihv_vcpu *vcpu, int dr, int cpl, u64 cr4, u64 val)
{
	int vector = minihv_check_dr(vcpu, &dr, cpl, cr4);

	if (vector)
		return vector;
	if (dr < 4) {
		vcpu->dbg.db[dr] = val;
		return 0;
	}
	if (val >> 32)
		return X86_TRAP_GP;
	if (dr == 6)
		vcpu->dbg.dr6 = (val & DR6_GUEST_BITS) | DR6_FIXED_1;
	else
		vcpu->dbg.dr7 = (val & DR7_GUEST_BITS) | DR7_RESET;
	return 0;
}

int minihv_mov_dr(struct minihv_vcpu *vcpu, int dr, int gpr, bool to_dr)
{
	struct minihv_cpu_mode m;
	u64 val;
	int vector;

	minihv_ops->get_cpu_mode(vcpu, &m);
	if (to_dr) {
		val = vcpu->regs[gpr];
		return minihv_set_dr(vcpu, dr, m.cpl, m.paging.cr4,
				     m.long_mode ? val : (u32)val);
	}
	vector = minihv_get_dr(vcpu, dr, m.cpl, m.paging.cr4, &val);
	if (!vector)
		vcpu->regs[gpr] = m.long_mode ? val : (u32)val;
	return vector;
}

/*
 * An instruction minihv completed itself (an intercepted CPUID, I/O, MMIO
 * access, MOV CR or DR ...), which the CPU never finished, so never took
 * the single-step trap after: with RFLAGS.TF set, #DB with DR6.BS and B0-B3
 * clear (SDM Vol 3 "Debug Status Register (DR6)", "Single-Step Exception
 * Condition"), as KVM's kvm_vcpu_do_singlestep().  The caller saw TF and
 * writes vcpu->dbg.dr6 where its CPU takes DR6.
 */
void minihv_single_step_trap(struct minihv_vcpu *vcpu)
{
	vcpu->dbg.dr6 = (vcpu->dbg.dr6 & ~DR_TRAP_BITS) | DR_STEP;
	minihv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
}

/* What the VMCS's or VMCB's DR7 gets: the guest's, without GD (above). */
u64 minihv_hw_dr7(struct minihv_vcpu *vcpu)
{
	return vcpu->dbg.dr7 & ~DR7_GD;
}

/*
 * Interrupts off, right before the entry.  The guest's breakpoints fire
 * only through DR7's L0-3/G0-3, so its DR0-DR3 are loaded only when one
 * is set; otherwise the host's stay, disabled by the guest's DR7 and
 * unreadable behind the MOV DR intercept.  Returns whether they were.
 */
bool minihv_load_guest_debugregs(struct minihv_vcpu *vcpu)
{
	if (!(vcpu->dbg.dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK)))
		return false;
	/*
	 * The host's own breakpoints (ptrace, perf: cpu_dr7) stay enabled
	 * until the entry loads the guest's DR7: with the guest's addresses
	 * in DR0-DR3 meanwhile, host code (an NMI's entry stack, say) would
	 * hit breakpoints the guest chose.  Off first, as KVM does.
	 */
	if (hw_breakpoint_active())
		set_debugreg(DR7_RESET, 7);
	set_debugreg(vcpu->dbg.db[0], 0);
	set_debugreg(vcpu->dbg.db[1], 1);
	set_debugreg(vcpu->dbg.db[2], 2);
	set_debugreg(vcpu->dbg.db[3], 3);
	return true;
}

/*
 * Interrupts off, right after the exit.  A VM exit leaves DR7 at 400H (SDM
 * Vol 3 "Loading Host Control Registers, Debug Registers, MSRs"; AMD-V's
 * #VMEXIT disables the breakpoints too), and the guest's DR0-DR3 may be in
 * the hardware: Linux's own breakpoints (ptrace, perf: global enables in
 * cpu_dr7) are put back whole, as KVM does.  Without any, Linux has nothing
 * in the debug registers to lose; DR7 is still cleared after @loaded guest
 * ones, whatever the vendor did.
 */
void minihv_load_host_debugregs(bool loaded)
{
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	else if (loaded)
		set_debugreg(DR7_RESET, 7);
}

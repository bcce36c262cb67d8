// SPDX-License-Identifier: GPL-2.0
/*
 * The MSRs a guest may read and write (RDMSR/WRMSR exits of both vendors),
 * in the order minihv_emulate_msr() tries them: the local APIC's
 * (lapic.c); the architectural MSRs the vendor keeps or switches (EFER,
 * the SYSCALL and SYSENTER MSRs, FS/GS bases, PAT, the TSC), checked here
 * and stored by minihv_ops->get_msr/set_msr; and the model MSRs a kernel
 * reads without asking CPUID first, so that they must not #GP on a CPU of
 * their vendor: a table (minihv_model_msrs), KVM's choices unless it says
 * otherwise (Documentation/platform.rst, "Model MSRs").  Anything else is
 * #GP(0), as an MSR the CPU does not have.
 */
#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "minihv.h"

/* PAT entries must be UC, WC, WT, WP, WB or UC- (SDM Vol 3 "IA32_PAT MSR"). */
static bool minihv_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

static bool minihv_is_canonical(u64 addr)
{
	return (s64)(addr << 16) >> 16 == (s64)addr;
}

/*
 * The MSRs the vendor stores.  Returns MSR_OK if @val may be written to
 * @msr, MSR_GP if the write is #GP, MSR_UNKNOWN if @msr is not one of them.
 */
enum { MSR_OK, MSR_GP, MSR_UNKNOWN };

static int minihv_msr_check(struct minihv_vcpu *vcpu, u32 msr, u64 *val)
{
	struct minihv_cr_state s;

	switch (msr) {
	case MSR_EFER:
		/* The rules are cr.c's; LMA stays what the CPU made it. */
		minihv_get_cr_state(vcpu, &s);
		if (!minihv_set_efer(vcpu, &s, *val))
			return MSR_GP;
		*val = s.efer;
		return MSR_OK;
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_KERNEL_GS_BASE:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		return minihv_is_canonical(*val) ? MSR_OK : MSR_GP;
	case MSR_IA32_CR_PAT:
		return minihv_pat_valid(*val) ? MSR_OK : MSR_GP;
	case MSR_SYSCALL_MASK:
		/*
		 * The mask is bits 31:0, 63:32 are reserved (SDM Vol 3 5.8.8);
		 * VT-x puts the value in the real MSR, where WRMSR would fault.
		 */
		return (*val >> 32) ? MSR_GP : MSR_OK;
	case MSR_STAR:		/* no reserved bits (SDM Vol 3 5.8.8) */
	case MSR_IA32_SYSENTER_CS:
		return MSR_OK;
	default:
		return MSR_UNKNOWN;
	}
}

/*
 * The TSC and IA32_TSC_ADJUST (SDM Vol 3, "Time-Stamp Counter
 * Adjustment"): a WRMSR to either moves the other by the same amount, so
 * TSC - TSC_ADJUST stays what it was.  The TSC itself is the vendor's
 * offset; the few cycles between reading and writing it are lost to the
 * guest, as they would be to any read-modify-write of a running counter.
 */
static void minihv_tsc_write(struct minihv_vcpu *vcpu, u32 msr, u64 val)
{
	u64 tsc = minihv_ops->get_msr(vcpu, MSR_IA32_TSC);

	if (msr == MSR_IA32_TSC) {
		vcpu->msrs.tsc_adjust += val - tsc;
	} else {
		minihv_ops->set_msr(vcpu, MSR_IA32_TSC, tsc + (val - vcpu->msrs.tsc_adjust));
		vcpu->msrs.tsc_adjust = val;
		return;
	}
	minihv_ops->set_msr(vcpu, MSR_IA32_TSC, val);
}

/*
 * IA32_MTRR_DEF_TYPE (SDM Vol 3 "IA32_MTRR_DEF_TYPE MSR"): only the guest
 * reads it back, nested paging maps guest memory write-back whatever it
 * says.  Types UC, WC, WT, WP, WB; bits 9:8 and 63:12 reserved.
 */
#define MTRR_DEF_TYPE_E		BIT_ULL(11)
#define MTRR_DEF_TYPE_FE	BIT_ULL(10)
#define MTRR_DEF_TYPE_WB	6

static bool minihv_mtrr_def_type_valid(u64 val)
{
	u8 type = val & 0xff;

	return !(val & ~(0xffULL | MTRR_DEF_TYPE_FE | MTRR_DEF_TYPE_E)) &&
	       type != 2 && type != 3 && type <= 6;
}

/*
 * IA32_MISC_ENABLE (SDM Vol 4 table 2-2): fast strings on, no PEBS or
 * BTS.  The bits a kernel toggles may change: fast strings, automatic
 * thermal control, Enhanced SpeedStep, MONITOR FSM, limit CPUID maxval
 * (honoured by cpuid.c), xTPR disable.  The rest are read-only here:
 * PEBS/BTS unavailable and performance monitoring available describe the
 * CPU (KVM keeps them too), and XD disable would hide NX, which minihv
 * does not do: setting it is #GP.  MONITOR stays hidden from CPUID
 * whatever bit 18 says (MONITOR and MWAIT are #UD, cpuid.c).
 */
#define MISC_ENABLE_RESET	(MSR_IA32_MISC_ENABLE_FAST_STRING | \
				 MSR_IA32_MISC_ENABLE_BTS_UNAVAIL | \
				 MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL)
#define MISC_ENABLE_WRITABLE	(MSR_IA32_MISC_ENABLE_FAST_STRING | \
				 MSR_IA32_MISC_ENABLE_TM1 | \
				 MSR_IA32_MISC_ENABLE_ENHANCED_SPEEDSTEP | \
				 MSR_IA32_MISC_ENABLE_MWAIT | \
				 MSR_IA32_MISC_ENABLE_LIMIT_CPUID | \
				 MSR_IA32_MISC_ENABLE_XTPR_DISABLE)

/* AMD's HWCR (APM Vol 2 appendix A; BKDG): the bits KVM takes. */
#define HWCR_TLBCACHEDIS	BIT_ULL(3)
#define HWCR_FFDIS		BIT_ULL(6)
#define HWCR_IGNNE_EM		BIT_ULL(8)
#define HWCR_MCSTATUSWREN	BIT_ULL(18)
#define HWCR_TSCFREQSEL		BIT_ULL(24)

/*
 * The model MSRs.  @first..@last on the CPUs of @vendor (0: both).  A read
 * returns the vCPU's copy at @field, or @value where there is none.  A
 * write drops the bits in @ignored; then a write that changes a bit
 * outside @writable is #GP, and the rest is stored at @field.  MSR_DROP_WRITES takes any write and
 * keeps nothing; MSR_READ_ONLY refuses every write.
 */
#define MSR_DROP_WRITES		BIT(0)
#define MSR_READ_ONLY		BIT(1)
#define MSR_FIELD(name)		offsetof(struct minihv_vcpu, msrs.name)

struct minihv_model_msr {
	u32 first, last;
	u32 vendor;		/* MINIHV_VENDOR_VMX or _SVM, 0 for both */
	u32 flags;
	size_t field;		/* offset in struct minihv_vcpu, or 0 */
	u64 value;		/* what a read returns without @field; reset value */
	u64 writable;
	u64 ignored;
};

static const struct minihv_model_msr minihv_model_msrs[] = {
	/* The microcode revision / AMD patch level: revision 1, as KVM's. */
	{ MSR_IA32_UCODE_REV, MSR_IA32_UCODE_REV, 0, MSR_DROP_WRITES, 0, 1ULL << 32 },
	/* No fixed or variable MTRRs; the default type as firmware leaves it. */
	{ MSR_MTRRcap, MSR_MTRRcap, 0, MSR_READ_ONLY, 0, 0 },
	{ MSR_MTRRdefType, MSR_MTRRdefType, 0, 0, MSR_FIELD(mtrr_def_type),
	  MTRR_DEF_TYPE_E | MTRR_DEF_TYPE_WB, ~0ULL },
	{ MSR_IA32_TSC, MSR_IA32_TSC, 0, 0, 0, 0, ~0ULL },
	{ MSR_IA32_TSC_ADJUST, MSR_IA32_TSC_ADJUST, 0, 0, MSR_FIELD(tsc_adjust), 0, ~0ULL },
	/* Machine check: no banks, no MCG_CTL (MCG_CAP.CTL_P clear, so it is #GP). */
	{ MSR_IA32_MCG_CAP, MSR_IA32_MCG_CAP, 0, MSR_READ_ONLY, 0, 0 },
	{ MSR_IA32_MCG_STATUS, MSR_IA32_MCG_STATUS, 0, 0, MSR_FIELD(mcg_status), 0, ~0ULL },
	/* Intel: IA32_MISC_ENABLE (Linux reads it on AMD too: both, as KVM). */
	{ MSR_IA32_MISC_ENABLE, MSR_IA32_MISC_ENABLE, 0, 0, MSR_FIELD(misc_enable),
	  MISC_ENABLE_RESET, MISC_ENABLE_WRITABLE },
	/* Intel: locked by "firmware" with VMX and SMX off. */
	{ MSR_IA32_FEAT_CTL, MSR_IA32_FEAT_CTL, MINIHV_VENDOR_VMX, MSR_READ_ONLY, 0,
	  FEAT_CTL_LOCKED },
	/*
	 * Intel: PLATFORM_INFO, no CPUID faulting (bit 31) and so no
	 * MISC_FEATURES_ENABLES bit to set; the ratio is filled in at read.
	 */
	{ MSR_PLATFORM_INFO, MSR_PLATFORM_INFO, MINIHV_VENDOR_VMX, MSR_READ_ONLY, 0, 0 },
	{ MSR_MISC_FEATURES_ENABLES, MSR_MISC_FEATURES_ENABLES, MINIHV_VENDOR_VMX, 0, 0, 0 },
	/* Intel's P6 counters, AMD's legacy ones: no PMU, they read 0 (KVM's). */
	{ MSR_P6_PERFCTR0, MSR_P6_PERFCTR1, MINIHV_VENDOR_VMX, MSR_DROP_WRITES },
	{ MSR_P6_EVNTSEL0, MSR_P6_EVNTSEL1, MINIHV_VENDOR_VMX, MSR_DROP_WRITES },
	{ MSR_K7_EVNTSEL0, MSR_K7_PERFCTR3, MINIHV_VENDOR_SVM, MSR_DROP_WRITES },
	/* AMD: SYSCFG (no SME, no MTRR extensions), HWCR, DE_CFG, C1E. */
	{ MSR_AMD64_SYSCFG, MSR_AMD64_SYSCFG, MINIHV_VENDOR_SVM, 0, 0, 0 },
	/*
	 * HWCR.TscFreqSel set: the TSC counts at a constant rate (Linux warns
	 * "TSC doesn't count with P0 frequency" otherwise; KVM starts at 0).
	 */
	{ MSR_K7_HWCR, MSR_K7_HWCR, MINIHV_VENDOR_SVM, 0, MSR_FIELD(hwcr), HWCR_TSCFREQSEL,
	  HWCR_MCSTATUSWREN | HWCR_TSCFREQSEL, HWCR_TLBCACHEDIS | HWCR_FFDIS | HWCR_IGNNE_EM },
	{ MSR_AMD64_DE_CFG, MSR_AMD64_DE_CFG, MINIHV_VENDOR_SVM, 0, MSR_FIELD(de_cfg), 0,
	  MSR_AMD64_DE_CFG_LFENCE_SERIALIZE },
	/* Family 0Fh-10h's interrupt-pending message (C1E): 0, no C1E. */
	{ MSR_K8_INT_PENDING_MSG, MSR_K8_INT_PENDING_MSG, MINIHV_VENDOR_SVM, 0, 0, 0 },
};

static const struct minihv_model_msr *minihv_model_msr(u32 msr)
{
	const struct minihv_model_msr *m;

	for (m = minihv_model_msrs; m < minihv_model_msrs + ARRAY_SIZE(minihv_model_msrs); m++)
		if (msr >= m->first && msr <= m->last &&
		    (!m->vendor || m->vendor == minihv_ops->vendor))
			return m;
	return NULL;
}

static u64 *minihv_model_msr_field(struct minihv_vcpu *vcpu, const struct minihv_model_msr *m)
{
	return m->field ? (u64 *)((u8 *)vcpu + m->field) : NULL;
}

void minihv_msrs_reset(struct minihv_vcpu *vcpu)
{
	const struct minihv_model_msr *m;

	for (m = minihv_model_msrs; m < minihv_model_msrs + ARRAY_SIZE(minihv_model_msrs); m++)
		if (m->field)
			*minihv_model_msr_field(vcpu, m) = m->value;
}

static int minihv_model_msr_read(struct minihv_vcpu *vcpu, const struct minihv_model_msr *m,
				 u32 msr, u64 *val)
{
	u64 *field = minihv_model_msr_field(vcpu, m);

	*val = field ? *field : m->value;
	if (msr == MSR_IA32_TSC)
		*val = minihv_ops->get_msr(vcpu, MSR_IA32_TSC);
	else if (msr == MSR_PLATFORM_INFO)
		/* Maximum non-turbo ratio, bits 15:8: the TSC in 100 MHz units. */
		*val = (u64)min(tsc_khz / 100000, 255U) << 8;
	return MSR_OK;
}

static int minihv_model_msr_write(struct minihv_vcpu *vcpu, const struct minihv_model_msr *m,
				  u32 msr, u64 val)
{
	u64 *field = minihv_model_msr_field(vcpu, m);
	u64 old = field ? *field : m->value;

	if (m->flags & MSR_DROP_WRITES)
		return MSR_OK;
	val &= ~m->ignored;
	if ((m->flags & MSR_READ_ONLY) || ((val ^ old) & ~m->writable))
		return MSR_GP;
	if (msr == MSR_MTRRdefType && !minihv_mtrr_def_type_valid(val))
		return MSR_GP;
	if (msr == MSR_IA32_MISC_ENABLE && (val & MSR_IA32_MISC_ENABLE_XD_DISABLE))
		return MSR_GP;
	if (msr == MSR_IA32_TSC || msr == MSR_IA32_TSC_ADJUST) {
		minihv_tsc_write(vcpu, msr, val);
		return MSR_OK;
	}
	if (field)
		*field = val;
	return MSR_OK;
}

int minihv_emulate_msr(struct minihv_vcpu *vcpu, bool write)
{
	u32 msr = vcpu->regs[VCPU_REGS_RCX];
	u64 val = (u32)vcpu->regs[VCPU_REGS_RAX] |
		  ((u64)vcpu->regs[VCPU_REGS_RDX] << 32);
	const struct minihv_model_msr *m = minihv_model_msr(msr);
	int r;

	r = minihv_lapic_msr(vcpu, msr, write, &val);
	if (r >= 0) {
		/* The APIC's MSRs: done there. */
	} else if (m) {
		r = write ? minihv_model_msr_write(vcpu, m, msr, val) :
			    minihv_model_msr_read(vcpu, m, msr, &val);
	} else {
		/* A read checks nothing: RDX:RAX hold no value to check. */
		r = minihv_msr_check(vcpu, msr, &val);
		if (r == MSR_UNKNOWN || (write && r == MSR_GP))
			return 1;
		if (write)
			minihv_ops->set_msr(vcpu, msr, val);
		else
			val = minihv_ops->get_msr(vcpu, msr);
		r = MSR_OK;
	}
	if (r == MSR_OK && !write) {
		vcpu->regs[VCPU_REGS_RAX] = (u32)val;
		vcpu->regs[VCPU_REGS_RDX] = val >> 32;
	}
	return r == MSR_OK ? 0 : 1;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * minihv's CPU model: what CPUID tells a guest.
 *
 * Two sources, as in KVM.  By default a vCPU sees the host's leaves
 * filtered by minihv_cpuid_values(): the features minihv virtualizes and
 * nothing it would find missing later.  Userspace can instead give each
 * vCPU a table of its own (MINIHV_SET_CPUID, KVM_SET_CPUID2's shape),
 * usually MINIHV_GET_SUPPORTED_CPUID's table edited to its policy; then
 * CPUID answers from the table alone, and a leaf it lacks reads 0.
 *
 * Leaves and bits: SDM Vol 2A "CPUID", APM Vol 3 appendix E.
 */
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/fpu/xcr.h>
#include <asm/processor.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>

#include "minihv.h"

/*
 * CPUID.1:ECX, SDM Vol 2A table 3-10.  What passes from the host: the
 * instruction-set extensions, which need nothing from minihv.  Not the
 * monitoring and power features (DTES64, MONITOR, DS-CPL, EST, TM2,
 * xTPR, PDCM, DCA: each has MSRs minihv does not emulate), not VMX/SMX.
 */
#define CPUID_1_ECX_PASSED	(BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | \
				 BIT(17) | BIT(19) | BIT(20) | BIT(22) | BIT(23) | \
				 BIT(25) | BIT(26) | BIT(28) | BIT(29) | BIT(30))
#define CPUID_1_ECX_X2APIC	BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_ECX_XSAVE	BIT(26)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_AVX		BIT(28)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)
/*
 * CPUID.1:EDX (table 3-11).  Passed: FPU, VME, DE, PSE, TSC, MSR, PAE,
 * CX8, SEP, MTRR, PGE, CMOV, PAT, PSE-36, CLFSH, MMX, FXSR, SSE, SSE2, SS,
 * HTT.  Not MCE/MCA (no machine-check MSRs), PSN, DS, ACPI (thermal
 * control MSRs), TM, PBE; the APIC only with the in-kernel one.
 */
#define CPUID_1_EDX_PASSED	(GENMASK(6, 0) | BIT(8) | GENMASK(13, 11) | \
				 GENMASK(17, 15) | BIT(19) | GENMASK(28, 23))
/* The same bits of 80000001h:EDX on AMD */
#define CPUID_EDX_MCE		BIT(7)	/* no machine-check MSRs */
#define CPUID_1_EDX_APIC	BIT(9)
#define CPUID_EDX_MCA		BIT(14)
/* CPUID.6:EAX */
#define CPUID_6_EAX_ARAT	BIT(2)
/* CPUID.7.0:ECX */
#define CPUID_7_ECX_LA57	BIT(16)
#define CPUID_7_EBX_TSC_ADJUST	BIT(1)
#define CPUID_7_EBX_INVPCID	BIT(10)
#define CPUID_7_ECX_PKU		BIT(3)	/* PKRU is not switched for guests */
#define CPUID_7_ECX_WAITPKG	BIT(5)
#define CPUID_7_ECX_OSPKE	BIT(4)
#define CPUID_7_ECX_RDPID	BIT(22)
/* CPUID.7.0:EDX */
#define CPUID_7_EDX_IBRS	BIT(26)
#define CPUID_7_EDX_STIBP	BIT(27)
#define CPUID_7_EDX_FLUSH_L1D	BIT(28)
#define CPUID_7_EDX_ARCH_CAP	BIT(29)
#define CPUID_7_EDX_CORE_CAP	BIT(30)
#define CPUID_7_EDX_SSBD	BIT(31)
/* CPUID.80000001h:ECX, EDX */
#define CPUID_8000_0001_ECX_SVM	BIT(2)
#define CPUID_8000_0001_ECX_PERFCTR (BIT(23) | BIT(24) | BIT(28))
#define CPUID_8000_0001_EDX_RDTSCP BIT(27)
/* CPUID.80000008h:EBX bits 12-19, 24-26: IBPB ... SSBD (AMD's speculation controls) */
#define CPUID_8000_0008_EBX_SPEC (GENMASK(19, 12) | GENMASK(26, 24))

#define MINIHV_CPUID_SIGNATURE	0x40000000
#define MINIHV_CPUID_TIMING	0x40000010

/*
 * The host's values, minus what minihv does not virtualize: nesting, the
 * APIC without the in-kernel one, MONITOR/MWAIT (#UD), XSAVE beyond x87,
 * SSE and AVX, RDTSCP/RDPID (TSC_AUX is the host's), protection keys,
 * speculation-control and machine-check MSRs.  The hypervisor bit is set,
 * leaf 40000000h says "minihvminihv" and 40000010h gives the TSC and APIC
 * bus frequencies.
 */
static void minihv_cpuid_values(u32 id, bool apic, u32 *eax, u32 *ebx, u32 *ecx, u32 *edx)
{
	u32 leaf = *eax, subleaf = *ecx;

	if (leaf == MINIHV_CPUID_SIGNATURE) {
		*eax = MINIHV_CPUID_TIMING;
		memcpy(ebx, "mini", 4);
		memcpy(ecx, "hvmi", 4);
		memcpy(edx, "nihv", 4);
		return;
	}
	/*
	 * The timing leaf VMware defined and other hypervisors copied: EAX
	 * the TSC's frequency, EBX the APIC bus's, both in kHz.
	 */
	if (leaf == MINIHV_CPUID_TIMING) {
		*eax = tsc_khz;
		*ebx = apic ? USEC_PER_SEC : 0;
		*ecx = *edx = 0;
		return;
	}
	if ((leaf & 0xf0000000) == 0x40000000) {
		*eax = *ebx = *ecx = *edx = 0;
		return;
	}
	/* The instruction itself: minihv never runs as a Xen PV guest. */
	native_cpuid(eax, ebx, ecx, edx);

	switch (leaf) {
	case 1:
		/* OSXSAVE is set at run time from CR4. */
		*ecx &= CPUID_1_ECX_PASSED;
		if (!minihv_xcr0_supported())
			*ecx &= ~CPUID_1_ECX_XSAVE;
		if (!(minihv_xcr0_supported() & XFEATURE_MASK_YMM))
			*ecx &= ~CPUID_1_ECX_AVX;
		*ecx |= CPUID_1_ECX_HYPERVISOR;
		*edx &= CPUID_1_EDX_PASSED;
		/* With the in-kernel APIC: xAPIC, x2APIC and TSC-deadline timer. */
		if (apic) {
			*edx |= CPUID_1_EDX_APIC;
			*ecx |= CPUID_1_ECX_X2APIC | CPUID_1_ECX_TSC_DEADLINE;
		}
		/* EBX[31:24] initial APIC id, [23:16] logical processors */
		*ebx = (*ebx & 0xffff) | (id << 24) | (1 << 16);
		break;
	case 0xb:	/* x2APIC topology: each vCPU a core of its own */
	case 0x1f:
		*eax = *ebx = *ecx = 0;
		*edx = id;
		break;
	case 6:		/* thermal and power management: none ... */
		*eax = *ebx = *ecx = *edx = 0;
		/* ... but the APIC timer runs in every C-state (an hrtimer). */
		if (apic)
			*eax = CPUID_6_EAX_ARAT;
		break;
	case 0xa:	/* architectural PMU: none */
	case 0xd:	/* XSAVE (SDM Vol 1 13.2): x87, SSE, AVX */
		if (subleaf == 0) {
			*eax = minihv_xcr0_supported();
			*edx = 0;
			*ecx = minihv_xstate_size(minihv_xcr0_supported());
			*ebx = *ecx;	/* for the XCR0 in use: at run time */
		} else if (subleaf == 1) {
			/* XSAVEOPT, XGETBV with ECX = 1; not XSAVEC or XSAVES. */
			*eax &= BIT(0) | BIT(2);
			*ebx = *ecx = *edx = 0;
		} else if (subleaf != 2 || !(minihv_xcr0_supported() & XFEATURE_MASK_YMM)) {
			*eax = *ebx = *ecx = *edx = 0;
		}
		break;
	case 7:
		if (subleaf == 0) {
			*ebx &= ~(BIT(16) | BIT(17) | BIT(28) |
				  BIT(30) | BIT(31)); /* AVX-512 */
			/*
			 * INVPCID: #UD under VT-x, whose enable minihv leaves off
			 * (SDM "Processor-Based VM-Execution Controls").
			 */
			*ebx &= ~CPUID_7_EBX_INVPCID;
			if (!(minihv_xcr0_supported() & XFEATURE_MASK_YMM))
				*ebx &= ~BIT(5);	/* AVX2 */
			/* IA32_TSC_ADJUST: emulated (msr.c), whatever the host has. */
			*ebx |= CPUID_7_EBX_TSC_ADJUST;
			/* LA57: SET_SREGS refuses CR4.LA57. */
			*ecx &= ~(CPUID_7_ECX_LA57 | CPUID_7_ECX_RDPID |
				  CPUID_7_ECX_PKU | CPUID_7_ECX_OSPKE |
				  CPUID_7_ECX_WAITPKG);	/* a VT-x control too */
			/* SPEC_CTRL, PRED_CMD, ARCH_CAPABILITIES: not passed through. */
			*edx &= ~(CPUID_7_EDX_IBRS | CPUID_7_EDX_STIBP |
				  CPUID_7_EDX_ARCH_CAP | CPUID_7_EDX_SSBD |
				  CPUID_7_EDX_FLUSH_L1D | CPUID_7_EDX_CORE_CAP);
		}
		break;
	case 0x80000001:
		/* No PMU: nor AMD's core, northbridge and L3 counter extensions. */
		*ecx &= ~(CPUID_8000_0001_ECX_SVM | CPUID_8000_0001_ECX_PERFCTR);
		/* RDTSCP would read the host's TSC_AUX: not offered. */
		*edx &= ~(CPUID_8000_0001_EDX_RDTSCP | CPUID_EDX_MCE | CPUID_EDX_MCA);
		break;
	case 0x80000008:
		/* AMD's IBPB, IBRS, STIBP, SSBD and friends: as leaf 7. */
		*ebx &= ~CPUID_8000_0008_EBX_SPEC;
		break;
	case 0x8000000a:	/* SVM features: none for the guest */
		*eax = *ebx = *ecx = *edx = 0;
		break;
	}
}

/* The leaves whose subleaf (ECX) selects different data. */
static bool cpuid_indexed(u32 leaf)
{
	return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd || leaf == 0x1f ||
	       leaf == 0x8000001d;
}

void minihv_guest_cpuid(struct minihv_vcpu *vcpu, u32 leaf, u32 subleaf, u32 r[4])
{
	const struct minihv_cpuid_entry *e;
	u32 i;

	r[0] = leaf;
	r[1] = 0;
	r[2] = subleaf;
	r[3] = 0;
	if (!vcpu->cpuid) {
		minihv_cpuid_values(vcpu->id, vcpu->lapic, &r[0], &r[1], &r[2], &r[3]);
		return;
	}
	for (i = 0, e = vcpu->cpuid; i < vcpu->cpuid_nent; i++, e++)
		if (e->function == leaf &&
		    (!(e->flags & MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX) || e->index == subleaf))
			break;
	if (i < vcpu->cpuid_nent) {
		r[0] = e->eax;
		r[1] = e->ebx;
		r[2] = e->ecx;
		r[3] = e->edx;
	} else {
		memset(r, 0, 4 * sizeof(u32));
	}
}

void minihv_cpuid(struct minihv_vcpu *vcpu)
{
	unsigned long *regs = vcpu->regs;
	u32 r[4], eax, ebx, ecx, edx;

	minihv_guest_cpuid(vcpu, regs[VCPU_REGS_RAX], regs[VCPU_REGS_RCX], r);
	eax = r[0];
	ebx = r[1];
	ecx = r[2];
	edx = r[3];
	/*
	 * What changes as the guest runs, in either table: OSXSAVE mirrors
	 * CR4.OSXSAVE, and the XSAVE area's size follows XCR0 (SDM Vol 2A).
	 */
	if (regs[VCPU_REGS_RAX] == 1 && (ecx & CPUID_1_ECX_XSAVE)) {
		struct minihv_sregs sregs;

		minihv_ops->get_sregs(vcpu, &sregs);
		if (sregs.cr4 & X86_CR4_OSXSAVE)
			ecx |= CPUID_1_ECX_OSXSAVE;
		else
			ecx &= ~CPUID_1_ECX_OSXSAVE;
	}
	if (regs[VCPU_REGS_RAX] == 0xd && (u32)regs[VCPU_REGS_RCX] == 0 && eax)
		ebx = minihv_xstate_size(vcpu->xcr0);
	/* IA32_MISC_ENABLE's limit CPUID maxval: leaf 0 says 2 at most (SDM Vol 4 2-2). */
	if (regs[VCPU_REGS_RAX] == 0 && (vcpu->msrs.misc_enable & MSR_IA32_MISC_ENABLE_LIMIT_CPUID))
		eax = min(eax, 2U);
	regs[VCPU_REGS_RAX] = eax;
	regs[VCPU_REGS_RBX] = ebx;
	regs[VCPU_REGS_RCX] = ecx;
	regs[VCPU_REGS_RDX] = edx;
}

/* ---- XCR0 (SDM Vol 1 13.3) ---- */

/* The XCR0 bits a guest may set: x87, SSE and AVX, those the host has. */
u64 minihv_xcr0_supported(void)
{
	return minihv_host_xcr0 & (XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM);
}

/* Bytes of a standard-format XSAVE area for @xcr0: the legacy area and header, then AVX. */
u32 minihv_xstate_size(u64 xcr0)
{
	u32 a = 0xd, b, c = 2, d;

	if (!(xcr0 & XFEATURE_MASK_YMM))
		return 512 + 64;
	native_cpuid(&a, &b, &c, &d);
	return b + a;		/* AVX's offset plus its size */
}

/*
 * XSETBV (SDM Vol 2B "XSETBV"), intercepted: CR4.OSXSAVE clear is #UD;
 * CPL > 0, an XCR other than 0, x87 off, AVX without SSE, or a bit
 * outside minihv_xcr0_supported() is #GP(0).  The value is loaded into
 * the real XCR0 around each entry (minihv_load_guest_xcr0()).  Returns 0
 * (skip the instruction) or the vector to raise.
 */
int minihv_xsetbv(struct minihv_vcpu *vcpu, int cpl, bool osxsave)
{
	u32 index = vcpu->regs[VCPU_REGS_RCX];
	u64 val = (u32)vcpu->regs[VCPU_REGS_RAX] | ((u64)vcpu->regs[VCPU_REGS_RDX] << 32);

	if (!osxsave)
		return X86_TRAP_UD;
	if (cpl || index || !minihv_xcr0_valid(val))
		return X86_TRAP_GP;
	vcpu->xcr0 = val;
	return 0;
}

/* x87 on, AVX only with SSE, nothing outside minihv_xcr0_supported(). */
bool minihv_xcr0_valid(u64 xcr0)
{
	return (xcr0 & XFEATURE_MASK_FP) &&
	       (!(xcr0 & XFEATURE_MASK_YMM) || (xcr0 & XFEATURE_MASK_SSE)) &&
	       !(xcr0 & ~minihv_xcr0_supported());
}

/* Appends leaf @leaf, subleaf @index, as a vCPU 0 with an APIC would see it. */
static void cpuid_add(struct minihv_cpuid_entry *t, u32 *n, u32 leaf, u32 index)
{
	struct minihv_cpuid_entry *e;

	if (*n >= MINIHV_CPUID_MAX_ENTRIES)
		return;
	e = &t[(*n)++];
	memset(e, 0, sizeof(*e));
	e->function = leaf;
	e->index = index;
	e->flags = cpuid_indexed(leaf) ? MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX : 0;
	e->eax = leaf;
	e->ecx = index;
	minihv_cpuid_values(0, true, &e->eax, &e->ebx, &e->ecx, &e->edx);
}

/* The subleaves of an indexed leaf that exist (each leaf says how). */
static u32 cpuid_subleaves(u32 leaf)
{
	u32 a, b, c, d, i;

	switch (leaf) {
	case 4:		/* until a cache of type 0 */
	case 0x8000001d:
		for (i = 0; i < 16; i++) {
			a = leaf;
			c = i;
			native_cpuid(&a, &b, &c, &d);
			if (!(a & 0x1f))
				break;
		}
		return i + 1;
	case 7:		/* EAX of subleaf 0: the highest */
		a = 7;
		c = 0;
		native_cpuid(&a, &b, &c, &d);
		return min(a, 3u) + 1;
	case 0xd:	/* x87/SSE (0), the XSAVE extensions (1), AVX (2) */
		return 3;
	default:	/* Bh, 1Fh: what minihv reports is in subleaf 0 and 1 */
		return 2;
	}
}

/* Every leaf from @base up to the host's highest there (at most @last), with subleaves. */
static void cpuid_add_range(struct minihv_cpuid_entry *t, u32 *n, u32 base, u32 last)
{
	u32 a = base, b, c = 0, d, leaf, i;

	native_cpuid(&a, &b, &c, &d);
	for (leaf = base; leaf <= min(a, last); leaf++)
		for (i = 0; i < (cpuid_indexed(leaf) ? cpuid_subleaves(leaf) : 1); i++)
			cpuid_add(t, n, leaf, i);
}

static u32 cpuid_supported(struct minihv_cpuid_entry *t)
{
	u32 n = 0;

	cpuid_add_range(t, &n, 0, 0x1f);
	cpuid_add(t, &n, MINIHV_CPUID_SIGNATURE, 0);
	cpuid_add(t, &n, MINIHV_CPUID_TIMING, 0);
	cpuid_add_range(t, &n, 0x80000000, 0x80000021);
	return n;
}

/*
 * MINIHV_GET_SUPPORTED_CPUID: the default table, for a vCPU with the
 * in-kernel APIC (its APIC id, CPUID.1:EBX[31:24], is userspace's to set).
 * E2BIG, with nent set to what is needed, when the caller's is smaller.
 */
int minihv_dev_get_supported_cpuid(void __user *argp)
{
	struct minihv_cpuid __user *uc = argp;
	struct minihv_cpuid_entry *t;
	u32 nent, n;
	int r;

	if (get_user(nent, &uc->nent))
		return -EFAULT;
	t = kcalloc(MINIHV_CPUID_MAX_ENTRIES, sizeof(*t), MINIHV_GFP);
	if (!t)
		return -ENOMEM;
	n = cpuid_supported(t);
	r = -E2BIG;
	if (nent >= n)
		r = copy_to_user(uc->entries, t, n * sizeof(*t)) ? -EFAULT : 0;
	if (put_user(n, &uc->nent))
		r = -EFAULT;
	kfree(t);
	return r;
}

/* MINIHV_SET_CPUID: the vCPU's table from now on; nent 0 goes back to the default. */
int minihv_vcpu_set_cpuid(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_cpuid __user *uc = argp;
	struct minihv_cpuid_entry *t = NULL;
	struct minihv_cpuid head;
	u32 i;

	if (copy_from_user(&head, uc, sizeof(head)))
		return -EFAULT;
	if (head.nent > MINIHV_CPUID_MAX_ENTRIES)
		return -E2BIG;
	if (head.padding)
		return -EINVAL;
	if (head.nent) {
		t = memdup_user(uc->entries, head.nent * sizeof(*t));
		if (IS_ERR(t))
			return PTR_ERR(t);
		for (i = 0; i < head.nent; i++) {
			if ((t[i].flags & ~MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX) ||
			    t[i].padding[0] || t[i].padding[1] || t[i].padding[2]) {
				kfree(t);
				return -EINVAL;
			}
		}
	}
	kfree(vcpu->cpuid);
	vcpu->cpuid = t;
	vcpu->cpuid_nent = head.nent;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * minihv Intel VT-x backend.
 *
 * This part turns VMX operation on and off on each CPU (SDM Vol 3 chapter
 * 24, "Introduction to Virtual Machine Extensions", and 24.7/24.8, "Enabling
 * and Entering VMX Operation", "Restrictions on VMX Operation").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/string_helpers.h>

#include <asm/asm.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>

#include <uapi/linux/minihv.h>

#include "../minihv.h"

/* IA32_FEATURE_CONTROL (MSR 3AH), SDM Vol 3 24.7. */
#define FEATURE_CONTROL_LOCKED			BIT_ULL(0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX		BIT_ULL(2)

/* IA32_VMX_BASIC (MSR 480H), SDM Vol 3 appendix A.1. */
#define VMX_BASIC_REVISION_MASK			0x7fffffffULL
#define VMX_BASIC_REGION_SIZE(basic)		(((basic) >> 32) & 0x1fff)
#define VMX_BASIC_32BIT_ADDRESSES		BIT_ULL(48)
#define VMX_BASIC_TRUE_CONTROLS			BIT_ULL(55)

/* Capability bits, from the allowed-1 half of each control MSR (A.3). */
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS	BIT(31)
#define SECONDARY_EXEC_ENABLE_EPT		BIT(1)
#define SECONDARY_EXEC_ENABLE_VPID		BIT(5)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST	BIT(7)
#define SECONDARY_EXEC_SHADOW_VMCS		BIT(14)

/* IA32_VMX_EPT_VPID_CAP (MSR 48CH), A.10. */
#define VMX_EPT_PAGE_WALK_4			BIT_ULL(6)
#define VMX_EPT_WB				BIT_ULL(14)
#define VMX_EPT_AD				BIT_ULL(21)

/* What this CPU offers, read once in vmx_hardware_setup(). */
struct vmx_capabilities {
	u32 revision_id;	/* first dword of VMXON region and VMCS */
	bool ept;
	bool ept_ad;
	bool vpid;
	bool unrestricted_guest;
	bool shadow_vmcs;
};

static struct vmx_capabilities vmx_caps;

/* One VMXON region per CPU (SDM Vol 3 24.11.5), allocated for all possible. */
static DEFINE_PER_CPU(struct page *, vmxon_region);

bool vmx_cpu_has_vmx(void)
{
	/* CPUID.1:ECX.VMX[bit 5], SDM Vol 3 24.6 "Discovering Support for VMX". */
	return cpuid_ecx(1) & BIT(5);
}

static int vmx_probe(void)
{
	u64 feature_control, basic;

	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feature_control)) {
		pr_err("VT-x: cannot read IA32_FEATURE_CONTROL\n");
		return -ENODEV;
	}
	/*
	 * A locked MSR without "VMX outside SMX" means the firmware turned
	 * VT-x off; VMXON would #GP.  An unlocked one is locked with VMX on
	 * by vmx_hardware_enable() on each CPU.
	 */
	if ((feature_control & FEATURE_CONTROL_LOCKED) &&
	    !(feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_err("VT-x is disabled by firmware (IA32_FEATURE_CONTROL is locked without VMX outside SMX); enable it in the firmware setup\n");
		return -ENODEV;
	}

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (VMX_BASIC_REGION_SIZE(basic) > PAGE_SIZE) {
		pr_err("VT-x: VMCS region size %llu exceeds a page\n",
		       VMX_BASIC_REGION_SIZE(basic));
		return -EIO;
	}
	if (basic & VMX_BASIC_32BIT_ADDRESSES) {
		pr_err("VT-x: CPU limits VMX structures to 32-bit addresses\n");
		return -EIO;
	}
	return 0;
}

static void vmx_read_capabilities(struct vmx_capabilities *caps)
{
	u64 basic, procbased, secondary = 0, ept_vpid_cap = 0;
	u32 allowed1;

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	caps->revision_id = basic & VMX_BASIC_REVISION_MASK;

	/* Bits 63:32 of a control MSR: the controls that may be 1 (A.3.2). */
	rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS, procbased);
	if ((procbased >> 32) & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		rdmsrl(MSR_IA32_VMX_PROCBASED_CTLS2, secondary);
	allowed1 = secondary >> 32;

	caps->ept = allowed1 & SECONDARY_EXEC_ENABLE_EPT;
	caps->vpid = allowed1 & SECONDARY_EXEC_ENABLE_VPID;
	caps->unrestricted_guest = allowed1 & SECONDARY_EXEC_UNRESTRICTED_GUEST;
	caps->shadow_vmcs = allowed1 & SECONDARY_EXEC_SHADOW_VMCS;
	if (caps->ept || caps->vpid)
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_vpid_cap);
	caps->ept_ad = caps->ept && (ept_vpid_cap & VMX_EPT_AD);
}

static void vmx_free_vmxon_regions(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(vmxon_region, cpu))
			__free_page(per_cpu(vmxon_region, cpu));
		per_cpu(vmxon_region, cpu) = NULL;
	}
}

static int vmx_hardware_setup(void)
{
	int cpu;

	vmx_read_capabilities(&vmx_caps);

	for_each_possible_cpu(cpu) {
		struct page *page;

		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			vmx_free_vmxon_regions();
			return -ENOMEM;
		}
		/* SDM 24.11.5: the region starts with the VMCS revision id. */
		*(u32 *)page_address(page) = vmx_caps.revision_id;
		per_cpu(vmxon_region, cpu) = page;
	}
	return 0;
}

static void vmx_hardware_unsetup(void)
{
	vmx_free_vmxon_regions();
}

/*
 * SDM Vol 3 24.8 and A.7/A.8: in VMX operation every CR0/CR4 bit that is 1
 * in IA32_VMX_CRx_FIXED0 must be 1, and every bit that is 0 in FIXED1 must
 * be 0.  Linux runs with CR0.PE/NE/PG set, so this holds on real CPUs; it
 * is checked rather than assumed because emulators differ.
 */
static bool vmx_cr_fixed_ok(const char *name, unsigned long val,
			    u32 fixed0_msr, u32 fixed1_msr)
{
	u64 fixed0, fixed1;

	rdmsrl(fixed0_msr, fixed0);
	rdmsrl(fixed1_msr, fixed1);
	if ((val & fixed0) == fixed0 && !(val & ~fixed1))
		return true;
	pr_err("VT-x: %s %#lx violates the VMX fixed bits (must be 1: %#llx, may be 1: %#llx) on CPU %u\n",
	       name, val, fixed0, fixed1, smp_processor_id());
	return false;
}

/* Returns 0 on success, 1 on VMfailInvalid, -EFAULT if VMXON faulted. */
static int vmx_vmxon(u64 vmxon_pa)
{
	/* CF=1: VMfailInvalid (bad region); ZF=1 cannot happen outside VMX. */
	asm goto("1: vmxon %[pa]\n\t"
		 "jc %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : [pa] "m"(vmxon_pa) : "cc", "memory" : fail, fault);
	return 0;
fail:
	return 1;
fault:
	return -EFAULT;
}

static int vmx_hardware_enable(void)
{
	u64 vmxon_pa = page_to_phys(__this_cpu_read(vmxon_region));
	u64 feature_control;
	int r;

	/*
	 * CR4.VMXE already set means some other code is in VMX operation on
	 * this CPU (KVM, VirtualBox); a second VMXON would fail or, worse,
	 * succeed against somebody else's state.
	 */
	if (cr4_read_shadow() & X86_CR4_VMXE)
		return -EBUSY;

	rdmsrl(MSR_IA32_FEAT_CTL, feature_control);
	if (!(feature_control & FEATURE_CONTROL_LOCKED)) {
		feature_control |= FEATURE_CONTROL_LOCKED |
				   FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		wrmsrl(MSR_IA32_FEAT_CTL, feature_control);
	}
	if (!(feature_control & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		pr_err("VT-x is disabled by firmware on CPU %u\n",
		       smp_processor_id());
		return -EIO;
	}

	if (!vmx_cr_fixed_ok("CR0", read_cr0(), MSR_IA32_VMX_CR0_FIXED0,
			     MSR_IA32_VMX_CR0_FIXED1) ||
	    !vmx_cr_fixed_ok("CR4", cr4_read_shadow() | X86_CR4_VMXE,
			     MSR_IA32_VMX_CR4_FIXED0, MSR_IA32_VMX_CR4_FIXED1))
		return -EIO;

	cr4_set_bits(X86_CR4_VMXE);
	r = vmx_vmxon(vmxon_pa);
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		pr_err("VT-x: VMXON %s on CPU %u\n",
		       r > 0 ? "failed (VMfailInvalid)" : "faulted",
		       smp_processor_id());
		return -EIO;
	}
	return 0;
}

static void vmx_hardware_disable(void)
{
	/* VMXOFF can only #UD if we are not in VMX operation: a bug here. */
	asm goto("1: vmxoff\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : : "cc", "memory" : fault);
	cr4_clear_bits(X86_CR4_VMXE);
	return;
fault:
	pr_err("VT-x: VMXOFF faulted on CPU %u\n", smp_processor_id());
	cr4_clear_bits(X86_CR4_VMXE);
}

static void vmx_print_features(void)
{
	pr_info("VT-x enabled on %u CPUs: EPT %s (A/D %s), VPID %s, unrestricted guest %s, VMCS shadowing %s, VMCS revision %#x\n",
		num_online_cpus(), str_yes_no(vmx_caps.ept),
		str_yes_no(vmx_caps.ept_ad), str_yes_no(vmx_caps.vpid),
		str_yes_no(vmx_caps.unrestricted_guest),
		str_yes_no(vmx_caps.shadow_vmcs), vmx_caps.revision_id);
}

const struct minihv_vendor_ops vmx_vendor_ops = {
	.name = "VT-x",
	.owner = "kvm_intel",
	.vendor = MINIHV_VENDOR_VMX,
	.probe = vmx_probe,
	.hardware_setup = vmx_hardware_setup,
	.hardware_unsetup = vmx_hardware_unsetup,
	.hardware_enable = vmx_hardware_enable,
	.hardware_disable = vmx_hardware_disable,
	.print_features = vmx_print_features,
};

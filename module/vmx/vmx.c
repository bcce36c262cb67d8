// SPDX-License-Identifier: GPL-2.0
/*
 * minihv Intel VT-x backend.
 *
 * Enabling: VMX operation on and off on each CPU (SDM Vol 3 chapter 25,
 * "Introduction to Virtual Machine Extensions": "Enabling and Entering VMX
 * Operation", "Restrictions on VMX Operation").  Running: one VMCS per
 * vCPU set up from the capability MSRs (chapter 26, "Virtual Machine
 * Control Structures", and appendix A), EPT and VPID (chapter 30, "VMX
 * Support for Address Translation"), the world switch in vmenter.S.  Exit
 * handling is in exits.c, and vmx_check.c names the rule a refused guest
 * state breaks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/string_helpers.h>

#include <linux/slab.h>
#include <linux/spinlock.h>

#include <asm/asm.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/trapnr.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>

#include <uapi/linux/minihv.h>

#include "../minihv.h"
#include "vmcs.h"
#include "vmx.h"

/* IA32_FEATURE_CONTROL (MSR 3AH), SDM "Enabling and Entering VMX Operation". */
#define FEATURE_CONTROL_LOCKED			BIT_ULL(0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX		BIT_ULL(2)

/* IA32_VMX_BASIC (MSR 480H), SDM Vol 3 appendix A.1. */
#define VMX_BASIC_REVISION_MASK			0x7fffffffULL
#define VMX_BASIC_REGION_SIZE(basic)		(((basic) >> 32) & 0x1fff)
#define VMX_BASIC_32BIT_ADDRESSES		BIT_ULL(48)
#define VMX_BASIC_TRUE_CONTROLS			BIT_ULL(55)

/* IA32_VMX_EPT_VPID_CAP (MSR 48CH), A.10. */
#define VMX_EPT_PAGE_WALK_4			BIT_ULL(6)
#define VMX_EPT_WB				BIT_ULL(14)
#define VMX_EPT_2MB_PAGE			BIT_ULL(16)
/* Bit 2 of an EPT entry: fetches allowed (SDM "EPT Translation Mechanism"). */
#define VMX_EPT_EXECUTE				BIT_ULL(2)
#define VMX_EPT_1GB_PAGE			BIT_ULL(17)
#define VMX_EPT_AD				BIT_ULL(21)

struct vmx_capabilities vmx_caps;

/* One VMXON region per CPU (SDM "VMXON Region"), allocated for all possible. */
static DEFINE_PER_CPU(struct page *, vmxon_region);

/*
 * The VMCSs active on each CPU (loaded by VMPTRLD and not yet VMCLEARed),
 * and the current one.  Changed only on their own CPU with interrupts off
 * (vmx_load_vmcs(), an IPI, the disable path), as in KVM; current_vmx is
 * also read by vmx_assert_loaded() (vmx.h).  A VMCS must be
 * VMCLEARed on the CPU where it is active before it can be loaded on
 * another, or before VMXOFF (SDM Vol 3 "Software Use of Virtual-Machine
 * Control Structures").
 */
static DEFINE_PER_CPU(struct list_head, loaded_vmcss);
DEFINE_PER_CPU(struct vmx_vcpu *, current_vmx);

/*
 * Every VMX instruction that can run with interrupts on (VMREAD and
 * VMWRITE in vmcs.h, VMCLEAR, VMPTRLD, INVEPT, INVVPID here, the entry
 * in vmenter.S) may find VMX off: the reboot's IPI (main.c) runs
 * VMXOFF wherever the vCPU thread is, also between two of them.  Each
 * has an exception-table entry that lands here and goes on as if the
 * instruction did nothing, as KVM does while kvm_rebooting.  The vCPU
 * does not enter again (minihv_exit_request()).  Anywhere else a fault
 * is a minihv bug: a warning, once.
 */
void vmx_insn_fault(const char *insn)
{
	if (READ_ONCE(minihv_rebooting))
		return;
	WARN_ONCE(1, "VT-x: %s faulted on CPU %d\n", insn, raw_smp_processor_id());
}

static void vmx_vmclear(u64 pa)
{
	asm goto("1: vmclear %0\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "m"(pa) : "cc", "memory" : fault);
	return;
fault:
	vmx_insn_fault("VMCLEAR");
}

static void vmx_vmptrld(u64 pa)
{
	asm goto("1: vmptrld %0\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "m"(pa) : "cc", "memory" : fault);
	return;
fault:
	vmx_insn_fault("VMPTRLD");
}

/* On vmx->cpu, interrupts off. */
static void __vmx_clear(struct vmx_vcpu *vmx)
{
	vmx_vmclear(vmx->vmcs_pa);
	list_del(&vmx->loaded);
	if (__this_cpu_read(current_vmx) == vmx)
		__this_cpu_write(current_vmx, NULL);
	vmx->launched = false;
	/* Others read cpu only under the vCPU's mutex, or here. */
	WRITE_ONCE(vmx->cpu, -1);
}

static void vmx_clear_ipi(void *arg)
{
	struct vmx_vcpu *vmx = arg;

	/*
	 * The sender read vmx->cpu before this IPI; in between this CPU
	 * may have cleared every VMCS it had, for a reboot or going
	 * offline (vmx_hardware_disable()), and the VMCS is on no list.
	 */
	if (READ_ONCE(vmx->cpu) != smp_processor_id())
		return;
	__vmx_clear(vmx);
}

static void vmx_clear_loaded_vmcss(void)
{
	struct vmx_vcpu *vmx, *tmp;
	unsigned long flags;

	local_irq_save(flags);
	list_for_each_entry_safe(vmx, tmp, this_cpu_ptr(&loaded_vmcss), loaded)
		__vmx_clear(vmx);
	local_irq_restore(flags);
}

bool vmx_cpu_has_vmx(void)
{
	/* CPUID.1:ECX.VMX[bit 5], SDM Vol 3 "Discovering Support for VMX". */
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
#ifdef X86_FEATURE_FRED
	/*
	 * An NMI that exits the guest is handed to the host with INT 2
	 * (vmx_vcpu_run()), which under FRED is a software interrupt, not
	 * an NMI: the host would lose it.  KVM enters the FRED handler
	 * instead (fred_entry_from_kvm()), which is not exported to other
	 * modules.  So minihv does not run where FRED is on (6.9 and later
	 * with fred=on; Debian's kernels build without it).
	 */
	if (cpu_feature_enabled(X86_FEATURE_FRED)) {
		pr_err("VT-x: this host uses FRED, under which minihv cannot hand a guest-time NMI to the host; boot with fred=off to use minihv\n");
		return -ENODEV;
	}
#endif

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
	caps->apicv = (allowed1 & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES) &&
		      (allowed1 & SECONDARY_EXEC_APIC_REGISTER_VIRT) &&
		      (allowed1 & SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY);
	if (caps->ept || caps->vpid)
		rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, ept_vpid_cap);
	caps->ept_ad = caps->ept && (ept_vpid_cap & VMX_EPT_AD);
	/* EPT leaves at levels 2 and 3 (SDM Vol 3 "EPT Translation Mechanism"). */
	caps->ept_2m = caps->ept && (ept_vpid_cap & VMX_EPT_2MB_PAGE);
	caps->ept_1g = caps->ept && (ept_vpid_cap & VMX_EPT_1GB_PAGE);
	caps->ept_wb_4level = (ept_vpid_cap & VMX_EPT_PAGE_WALK_4) &&
			      (ept_vpid_cap & VMX_EPT_WB);
	caps->true_controls = basic & VMX_BASIC_TRUE_CONTROLS;
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, caps->cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, caps->cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, caps->cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, caps->cr4_fixed1);
}

/* The longest a guest runs without an exit where the timer exists. */
#define VMX_ENTRY_BOUND_MS	10

/*
 * Every entry ends within VMX_ENTRY_BOUND_MS, whatever the guest does: the
 * VMX-preemption timer counts down from the VMCS value at each entry (it is
 * not saved back: the "save VMX-preemption timer value" exit control stays
 * 0) by one every 2^IA32_VMX_MISC[4:0] TSC ticks and exits at zero (SDM Vol
 * 3 "VMX-Preemption Timer").  External-interrupt exiting should make it
 * unnecessary, and does on real CPUs, but Bochs 2.7 masks the host's
 * interrupts when the guest enters with RFLAGS.IF = 0, and a guest that
 * then spins (CLI; JMP $) held a host CPU until the RCU stall detector's
 * NMI, 21 s later.  The exit costs one round of the run loop per 10 ms of
 * guest time.
 */
static void vmx_setup_preemption_timer(struct vmx_capabilities *caps)
{
	u64 misc, ticks;

	caps->preemption_timer = 0;
	if (!(caps->pin & PIN_BASED_VMX_PREEMPTION_TIMER) || !tsc_khz)
		return;
	rdmsrl(MSR_IA32_VMX_MISC, misc);
	ticks = ((u64)tsc_khz * VMX_ENTRY_BOUND_MS) >> (misc & 0x1f);
	caps->preemption_timer = clamp_t(u64, ticks, 1, U32_MAX);
}

/*
 * A control word from its capability MSR (SDM appendix A.3-A.5): bits
 * 31:0 are the allowed 0-settings (a 1 there must be 1), bits 63:32 the
 * allowed 1-settings.  @required must all be allowed, @optional are taken
 * where they are; nothing is hard-coded.
 */
static int vmx_adjust_controls(const char *name, u32 msr, u32 required,
			       u32 optional, u32 *result)
{
	u64 cap;
	u32 ctl;

	rdmsrl(msr, cap);
	ctl = ((required | optional) & (cap >> 32)) | (u32)cap;
	if ((ctl & required) != required) {
		pr_err("VT-x: this CPU lacks %s control bits %#x that minihv requires\n",
		       name, required & ~ctl);
		return -EIO;
	}
	*result = ctl;
	return 0;
}

static int vmx_setup_controls(struct vmx_capabilities *caps)
{
	bool t = caps->true_controls;
	int r;

	r = vmx_adjust_controls("pin-based", t ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
				MSR_IA32_VMX_PINBASED_CTLS,
				PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
				PIN_BASED_VIRTUAL_NMIS, PIN_BASED_VMX_PREEMPTION_TIMER,
				&caps->pin);
	if (!r)
		r = vmx_adjust_controls("processor-based", t ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
					MSR_IA32_VMX_PROCBASED_CTLS,
					CPU_BASED_HLT_EXITING | CPU_BASED_UNCOND_IO_EXITING |
					CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |
					CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING |
					CPU_BASED_ACTIVATE_SECONDARY_CONTROLS |
					CPU_BASED_MOV_DR_EXITING | VMX_WINDOW_EXITING |
					CPU_BASED_RDPMC_EXITING,
					CPU_BASED_USE_TSC_OFFSETTING, &caps->proc);
	if (!r)
		r = vmx_adjust_controls("secondary processor-based",
					MSR_IA32_VMX_PROCBASED_CTLS2,
					SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_WBINVD_EXITING |
					SECONDARY_EXEC_UNRESTRICTED_GUEST,
					SECONDARY_EXEC_ENABLE_VPID, &caps->proc2);
	if (!r)
		r = vmx_adjust_controls("VM-exit", t ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
					MSR_IA32_VMX_EXIT_CTLS,
					VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_DEBUG_CONTROLS |
					VM_EXIT_SAVE_IA32_EFER |
					VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_PAT |
					VM_EXIT_LOAD_IA32_PAT, 0, &caps->exit);
	if (!r)
		r = vmx_adjust_controls("VM-entry", t ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
					MSR_IA32_VMX_ENTRY_CTLS,
					VM_ENTRY_LOAD_DEBUG_CONTROLS | VM_ENTRY_LOAD_IA32_EFER |
					VM_ENTRY_LOAD_IA32_PAT, 0,
					&caps->entry);
	if (r)
		return r;
	/*
	 * The mode-dependent entry control is set per vCPU from EFER.LMA, the
	 * window exits while an event waits (vmx_set_event_windows()).
	 */
	caps->entry &= ~VM_ENTRY_IA32E_MODE;
	caps->proc &= ~VMX_WINDOW_EXITING;
	if (!caps->ept_wb_4level) {
		pr_err("VT-x: EPT without 4-level write-back tables is not supported\n");
		return -EIO;
	}
	caps->vpid = caps->proc2 & SECONDARY_EXEC_ENABLE_VPID;
	vmx_setup_preemption_timer(caps);
	return 0;
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
	int cpu, r;

	vmx_read_capabilities(&vmx_caps);
	r = vmx_setup_controls(&vmx_caps);
	if (r)
		return r;
	for_each_possible_cpu(cpu)
		INIT_LIST_HEAD(&per_cpu(loaded_vmcss, cpu));
	preempt_notifier_inc();

	for_each_possible_cpu(cpu) {
		struct page *page;

		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			vmx_free_vmxon_regions();
			return -ENOMEM;
		}
		/* SDM "VMXON Region": the region starts with the VMCS revision id. */
		*(u32 *)page_address(page) = vmx_caps.revision_id;
		per_cpu(vmxon_region, cpu) = page;
	}
	return 0;
}

static void vmx_hardware_unsetup(void)
{
	preempt_notifier_dec();
	vmx_free_vmxon_regions();
}

/*
 * SDM Vol 3 "Restrictions on VMX Operation" and A.7/A.8: in VMX operation
 * every CR0/CR4 bit that is 1 in IA32_VMX_CRx_FIXED0 must be 1, and every
 * bit that is 0 in FIXED1 must be 0.  Linux runs with CR0.PE/NE/PG set, so
 * this holds on real CPUs; it is checked rather than assumed because
 * emulators differ.
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
	vmx_clear_loaded_vmcss();

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
	pr_info("VT-x enabled on %u CPUs: EPT %s (A/D %s, 2M %s, 1G %s), VPID %s, unrestricted guest %s, VMCS shadowing %s, preemption timer %s, VMCS revision %#x\n",
		num_online_cpus(), str_yes_no(vmx_caps.ept),
		str_yes_no(vmx_caps.ept_ad), str_yes_no(vmx_caps.ept_2m),
		str_yes_no(vmx_caps.ept_1g), str_yes_no(vmx_caps.vpid),
		str_yes_no(vmx_caps.unrestricted_guest),
		str_yes_no(vmx_caps.shadow_vmcs),
		str_yes_no(vmx_caps.preemption_timer), vmx_caps.revision_id);
}

/*
 * VPIDs tag guest TLB entries (SDM Vol 3 "Virtual Processor Identifiers
 * (VPIDs)"); 0 is the host's.
 */
#define VMX_NR_VPIDS	BIT(16)
static DEFINE_SPINLOCK(vmx_vpid_lock);
static DECLARE_BITMAP(vmx_vpid_bitmap, VMX_NR_VPIDS);	/* [vmx_vpid_lock] */

/*
 * How many VPIDs (1 to vpid_pool) new vCPUs may take; at most FFFFh.
 * Writable at run time, for tests of what happens when they run out:
 * a smaller pool leaves the vCPUs that hold higher VPIDs as they are.
 */
static unsigned int vpid_pool = VMX_NR_VPIDS - 1;
module_param(vpid_pool, uint, 0644);
MODULE_PARM_DESC(vpid_pool, "VT-x: VPIDs given to vCPUs, 0 to 65535 (default 65535)");

static unsigned long vmx_vpid_limit(void)
{
	return min_t(unsigned long, READ_ONCE(vpid_pool), VMX_NR_VPIDS - 1);
}

/*
 * What minihv uses: EPT and unrestricted guest (both required), EPT A/D
 * flags, VPID and the preemption timer where the CPU has them.  Not VMCS
 * shadowing (no nested VMX) or APICv (the APIC is emulated on exits).
 */
static void vmx_get_features(struct minihv_features *f)
{
	f->nr_tags = vmx_caps.vpid ? vmx_vpid_limit() : 0;	/* VPIDs 1 to vpid_pool */
	minihv_feature(f, MINIHV_FEATURE_EPT, vmx_caps.ept, true);
	minihv_feature(f, MINIHV_FEATURE_EPT_AD, vmx_caps.ept_ad, true);
	minihv_feature(f, MINIHV_FEATURE_VPID, vmx_caps.vpid, true);
	minihv_feature(f, MINIHV_FEATURE_UNRESTRICTED_GUEST, vmx_caps.unrestricted_guest, true);
	minihv_feature(f, MINIHV_FEATURE_PREEMPTION_TIMER, vmx_caps.preemption_timer, true);
	minihv_feature(f, MINIHV_FEATURE_VMCS_SHADOWING, vmx_caps.shadow_vmcs, false);
	minihv_feature(f, MINIHV_FEATURE_APICV, vmx_caps.apicv, false);
}

/* ---- vCPUs ---- */

void vmcs_write_error(unsigned long field, unsigned long value, void *caller)
{
	pr_err_ratelimited("VT-x: VMWRITE of %#lx to field %#lx failed (VM-instruction error %u) at %pS\n",
			   value, field, vmcs_read32(VM_INSTRUCTION_ERROR), caller);
}

static u16 vmx_vpid_alloc(void)
{
	unsigned long vpid, end = vmx_vpid_limit() + 1;

	if (!vmx_caps.vpid)
		return 0;
	spin_lock(&vmx_vpid_lock);
	vpid = find_next_zero_bit(vmx_vpid_bitmap, end, 1);
	if (vpid < end)
		__set_bit(vpid, vmx_vpid_bitmap);
	else
		vpid = 0;	/* none left: run without (vmx_init_vmcs()) */
	spin_unlock(&vmx_vpid_lock);
	return vpid;
}

static void vmx_vpid_free(u16 vpid)
{
	if (!vpid)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpid_bitmap);
	spin_unlock(&vmx_vpid_lock);
}

/*
 * INVEPT / INVVPID single-context, type 1 (SDM Vol 3 "VMX Instructions",
 * INVEPT and INVVPID).
 */
static void vmx_invept(u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };

	asm goto("1: invept %0, %1\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "m"(desc), "r"(1UL) : "cc", "memory" : fault);
	return;
fault:
	vmx_insn_fault("INVEPT");
}

static void vmx_invvpid(u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };

	asm goto("1: invvpid %0, %1\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "m"(desc), "r"(1UL) : "cc", "memory" : fault);
	return;
fault:
	vmx_insn_fault("INVVPID");
}

static u64 vmx_eptp(struct minihv_vm *vm)
{
	/* WB (6), 4-level walk (3 << 3), A/D flags where the CPU has them. */
	return vm->tdp_root | 6 | (3 << 3) | (vmx_caps.ept_ad ? BIT(6) : 0);
}

/*
 * The base of the descriptor at @sel in the GDT at @gdt (SDM Vol 3 "Segment
 * Descriptors", "TSS Descriptor in 64-bit mode").
 */
static unsigned long vmx_segment_base(unsigned long gdt, u16 sel)
{
	struct desc_struct *d = (struct desc_struct *)(gdt + (sel & ~7));
	unsigned long base = get_desc_base(d);

	if (!d->s)	/* a 16-byte system descriptor: TSS, LDT */
		base |= (unsigned long)((u32 *)d)[2] << 32;
	return base;
}

/* Host fields that depend on the CPU: written when the VMCS arrives. */
static void vmx_set_host_cpu_state(void)
{
	struct desc_ptr gdt, idt;
	u64 msr;

	native_store_gdt(&gdt);
	store_idt(&idt);
	vmcs_writel(HOST_GDTR_BASE, gdt.address);
	vmcs_writel(HOST_IDTR_BASE, idt.address);
	vmcs_writel(HOST_TR_BASE, vmx_segment_base(gdt.address, GDT_ENTRY_TSS * 8));
	rdmsrl(MSR_IA32_SYSENTER_ESP, msr);
	vmcs_writel(HOST_IA32_SYSENTER_ESP, msr);
	rdmsrl(MSR_GS_BASE, msr);
	vmcs_writel(HOST_GS_BASE, msr);
}

/*
 * Makes the vCPU's VMCS current on this CPU, preemption off.  Moving to
 * another CPU takes a VMCLEAR on the old one (by IPI) and a VMPTRLD here,
 * then the per-CPU host fields again (SDM Vol 3 "Software Use of
 * Virtual-Machine Control Structures").  The bookkeeping and the VMPTRLD
 * are done with interrupts off, so that the reboot's IPI
 * (vmx_hardware_disable(), VMCLEAR of all on this CPU) comes before or
 * after them, never between: it cannot leave current_vmx naming a VMCS that
 * is on no list.
 */
static void vmx_load_vmcs(struct vmx_vcpu *vmx)
{
	int cpu = smp_processor_id();
	int old = READ_ONCE(vmx->cpu);
	unsigned long flags;

	if (old >= 0 && old != cpu)
		smp_call_function_single(old, vmx_clear_ipi, vmx, 1);
	local_irq_save(flags);
	if (vmx->cpu != cpu) {
		list_add(&vmx->loaded, this_cpu_ptr(&loaded_vmcss));
		WRITE_ONCE(vmx->cpu, cpu);
	}
	if (__this_cpu_read(current_vmx) != vmx) {
		vmx_vmptrld(vmx->vmcs_pa);
		__this_cpu_write(current_vmx, vmx);
		vmx_set_host_cpu_state();
	}
	local_irq_restore(flags);
}

#ifndef CONFIG_PREEMPT_NOTIFIERS
#error "the VT-x backend needs CONFIG_PREEMPT_NOTIFIERS (selected by CONFIG_KVM)"
#endif

/*
 * Between vcpu_load and vcpu_put (one vCPU ioctl), exit handlers and the
 * register ops may sleep, and every VMREAD/VMWRITE needs the vCPU's VMCS
 * current on the CPU that executes it.  This notifier makes it current
 * again whenever the thread is scheduled back in, wherever.
 */
static void vmx_sched_in(struct preempt_notifier *pn, int cpu)
{
	vmx_load_vmcs(container_of(pn, struct vmx_vcpu, preempt));
}

static void vmx_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	/* The VMCS stays loaded here; a move elsewhere VMCLEARs it by IPI. */
}

static struct preempt_ops vmx_preempt_ops = {
	.sched_in = vmx_sched_in,
	.sched_out = vmx_sched_out,
};

/* At the start of a vCPU ioctl, as KVM's vcpu_load(). */
static void vmx_vcpu_load(struct minihv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	preempt_disable();
	preempt_notifier_register(&vmx->preempt);
	vmx_load_vmcs(vmx);
	preempt_enable();
}

/*
 * At its end, as KVM's vcpu_put(): the VMCS stays active on this CPU
 * until the next load elsewhere, vmx_vcpu_free() or the CPU's disable.
 */
static void vmx_vcpu_put(struct minihv_vcpu *vcpu)
{
	preempt_disable();
	preempt_notifier_unregister(&to_vmx(vcpu)->preempt);
	preempt_enable();
}

/* For a vCPU no ioctl can reach any more: clear it where it is loaded. */
static void vmx_vcpu_unload(struct vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
}

static int vmx_vm_init(struct minihv_vm *vm)
{
	vm->tdp_levels = 4;	/* the EPTP below says 4 */
	vm->tdp_max_leaf_level = vmx_caps.ept_1g ? 3 : vmx_caps.ept_2m ? 2 : 1;
	/*
	 * iTLB multihit (CVE-2018-12207): on affected CPUs a guest that
	 * changes the size of a page it executes from while an EPT leaf of
	 * another size maps it can take the core down with a machine check.
	 * Large EPT leaves are made non-executable there, and a fetch from
	 * one maps that page with a 4 KiB leaf (mmu.c), as KVM's
	 * nx_huge_pages does.
	 */
	if (boot_cpu_has_bug(X86_BUG_ITLB_MULTIHIT))
		vm->tdp_large_noexec = VMX_EPT_EXECUTE;
	return 0;
}

static void vmx_vm_destroy(struct minihv_vm *vm)
{
}

static void vmx_set_segment(u32 sel_field, const struct minihv_segment *s)
{
	u32 ar = (s->type & VMX_AR_TYPE_MASK) | (s->s ? VMX_AR_S : 0) |
		 ((s->dpl & 3) << VMX_AR_DPL_SHIFT) | (s->present ? VMX_AR_P : 0) |
		 (s->avl ? VMX_AR_AVL : 0) | (s->l ? VMX_AR_L : 0) |
		 (s->db ? VMX_AR_DB : 0) | (s->g ? VMX_AR_G : 0);
	/* ES..TR selector, limit, AR and base fields go in the same order. */
	u32 i = (sel_field - GUEST_ES_SELECTOR) / 2;

	if (s->unusable || !s->present)
		ar = VMX_AR_UNUSABLE;
	__vmcs_writel(GUEST_ES_SELECTOR + 2 * i, s->selector);
	__vmcs_writel(GUEST_ES_LIMIT + 2 * i, s->limit);
	__vmcs_writel(GUEST_ES_AR_BYTES + 2 * i, ar);
	__vmcs_writel(GUEST_ES_BASE + 2 * i, s->base);
}

static void vmx_get_segment(u32 sel_field, struct minihv_segment *s)
{
	u32 i = (sel_field - GUEST_ES_SELECTOR) / 2;
	u32 ar = __vmcs_readl(GUEST_ES_AR_BYTES + 2 * i);

	s->selector = __vmcs_readl(GUEST_ES_SELECTOR + 2 * i);
	s->limit = __vmcs_readl(GUEST_ES_LIMIT + 2 * i);
	s->base = __vmcs_readl(GUEST_ES_BASE + 2 * i);
	s->type = ar & VMX_AR_TYPE_MASK;
	s->s = !!(ar & VMX_AR_S);
	s->dpl = (ar >> VMX_AR_DPL_SHIFT) & 3;
	s->present = !!(ar & VMX_AR_P);
	s->avl = !!(ar & VMX_AR_AVL);
	s->l = !!(ar & VMX_AR_L);
	s->db = !!(ar & VMX_AR_DB);
	s->g = !!(ar & VMX_AR_G);
	s->unusable = !!(ar & VMX_AR_UNUSABLE);
	if (s->unusable)
		s->present = 0;
}

/*
 * CR0 and CR4 bits the guest may not own: those VMX fixes (A.7, A.8),
 * except PE and PG, which unrestricted guest lets it choose (SDM Vol 3
 * "Checks on Guest Control Registers, Debug Registers, and MSRs").  They
 * are in the guest/host masks: the guest reads its own value from the
 * read shadow ("Changes to Instruction Behavior in VMX Non-Root
 * Operation") and a write that changes one exits ("Instructions That
 * Cause VM Exits Conditionally").
 */
static unsigned long vmx_cr0_forced(void)
{
	return vmx_caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
}

void vmx_write_cr0(unsigned long cr0)
{
	vmcs_writel(CR0_READ_SHADOW, cr0);
	vmcs_writel(GUEST_CR0, cr0 | vmx_cr0_forced());
}

void vmx_write_cr4(unsigned long cr4)
{
	vmcs_writel(CR4_READ_SHADOW, cr4);
	vmcs_writel(GUEST_CR4, cr4 | vmx_caps.cr4_fixed0);
}

/*
 * PAE paging outside long mode: with EPT the CPU takes the four PDPTEs from
 * the VMCS at entry, not from memory, and stores them back at exit (SDM Vol
 * 3 "Loading Page-Directory-Pointer-Table Entries", "Saving Non-Register
 * State").  A guest's own MOV to CR3, CR0 or CR4 loads them itself (4.4.1),
 * unless minihv emulates the MOV: then, and for a state given through
 * SET_SREGS, they are read here as the CPU would.  PDPTEs outside RAM read
 * as 0, not present: the guest's first access faults.
 */
void vmx_read_pdptrs(struct minihv_vm *vm, u64 cr3, u64 pdpte[4])
{
	if (minihv_read_guest_phys(vm, cr3 & ~0x1fULL, pdpte, 4 * sizeof(u64)))
		memset(pdpte, 0, 4 * sizeof(u64));
}

void vmx_write_pdptrs(const u64 pdpte[4])
{
	int i;

	for (i = 0; i < 4; i++)
		vmcs_write64(GUEST_PDPTR0 + 2 * i, pdpte[i]);
}

void vmx_write_efer(u64 efer)
{
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS) & ~VM_ENTRY_IA32E_MODE;

	vmcs_write64(GUEST_IA32_EFER, efer);
	/*
	 * The "IA-32e mode guest" control is EFER.LMA (SDM Vol 3 "Checks on
	 * Guest Control Registers, Debug Registers, and MSRs").
	 */
	vmcs_write32(VM_ENTRY_CONTROLS, entry | ((efer & EFER_LMA) ? VM_ENTRY_IA32E_MODE : 0));
}

/*
 * Host state a VM exit loads with fixed values instead of from the VMCS:
 * IA32_DEBUGCTL is cleared and DR7 becomes 400H (SDM Vol 3 "Loading Host
 * Control Registers, Debug Registers, MSRs"), LDTR is made unusable with a
 * null selector ("Loading Host Segment and Descriptor-Table Registers").
 * Linux keeps BTF and the LBR enable in DEBUGCTL, its breakpoints (ptrace,
 * perf) in DR7 and a process's modify_ldt(2) table in LDTR, and reloads
 * none of them on the way back to user mode.  Read with interrupts off
 * before the entry, put back before they are on again (DR7:
 * minihv_load_host_debugregs()).
 *
 * DR6 is not in the VMCS at all: the guest's is in the register while
 * it runs (a #DB it takes sets bits there), the host's outside.  Both
 * are read, and written only when they differ.
 */
struct vmx_host_debug {
	unsigned long debugctl;
	unsigned long dr6;
	u16 ldt_sel;
	bool guest_drs;		/* the guest's DR0-DR3 are loaded */
};

static void vmx_save_host_debug(struct minihv_vcpu *vcpu, struct vmx_host_debug *h)
{
	h->debugctl = get_debugctlmsr();
	asm volatile("sldt %0" : "=rm" (h->ldt_sel));
	get_debugreg(h->dr6, 6);
	if (vcpu->dbg.dr6 != h->dr6)
		set_debugreg(vcpu->dbg.dr6, 6);
	h->guest_drs = minihv_load_guest_debugregs(vcpu);
}

static void vmx_restore_host_debug(struct minihv_vcpu *vcpu, const struct vmx_host_debug *h)
{
	unsigned long dr6;

	get_debugreg(dr6, 6);
	vcpu->dbg.dr6 = dr6;
	if (dr6 != h->dr6)
		set_debugreg(h->dr6, 6);
	minihv_load_host_debugregs(h->guest_drs);
	if (h->debugctl)
		update_debugctlmsr(h->debugctl);
	/* Before DS/ES are reloaded: their selectors may have TI = 1. */
	if (h->ldt_sel)
		asm volatile("lldt %0" : : "rm" (h->ldt_sel));
}

/* Default PAT (SDM Vol 3 "Programming the PAT"). */
#define PAT_DEFAULT	0x0007040600070406ULL

/* Everything but the guest's registers; the RESET state for those. */
static void vmx_init_vmcs(struct minihv_vcpu *vcpu, struct vmx_vcpu *vmx)
{
	struct minihv_segment seg = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};
	u64 msr;

	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin);
	if (vmx_caps.preemption_timer)
		vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, vmx_caps.preemption_timer);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vmx_caps.proc);
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, vmx_caps.proc2);
	vmcs_write32(VM_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write32(VM_ENTRY_CONTROLS, vmx_caps.entry);
	vmcs_write32(EXCEPTION_BITMAP, VMX_INTERCEPTED_EXCEPTIONS);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write64(EPT_POINTER, vmx_eptp(vcpu->vm));
	/*
	 * With the pool used up, the vCPU runs with "enable VPID" clear:
	 * the control set needs a VPID other than 0 (SDM Vol 3 "Checks on
	 * VMX Controls", its "VM-Execution Control Fields"), and a vCPU
	 * that fails every entry would let one user's vCPUs deny VT-x to
	 * all.  Its TLB entries are then tagged VPID 0, as the host's,
	 * which every entry and exit flushes ("Updating Non-Register State"
	 * in the chapters on VM entries and on VM exits).
	 */
	if (vmx->vpid)
		vmcs_write16(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	else
		vmcs_write32(SECONDARY_VM_EXEC_CONTROL,
			     vmx_caps.proc2 & ~SECONDARY_EXEC_ENABLE_VPID);
	vmcs_write64(TSC_OFFSET, 0);
	vmcs_writel(CR0_GUEST_HOST_MASK, vmx_cr0_forced() | ~vmx_caps.cr0_fixed1);
	/*
	 * CR4: every bit but PGE is the host's, so that a write changing
	 * one exits (SDM Vol 3 "Instructions That Cause VM Exits
	 * Conditionally") and cr.c's rules, the guest's CPUID among them,
	 * hold as on AMD-V, which intercepts every MOV to CR4.  PGE exists
	 * on every CPU minihv runs on, and Linux toggles it for each global
	 * TLB flush: that write stays in the guest.
	 */
	vmcs_writel(CR4_GUEST_HOST_MASK, ~(unsigned long)X86_CR4_PGE);

	/*
	 * The host: this kernel, its selectors, its MSRs (SDM Vol 3 "Checks on
	 * VMX Controls and Host-State Area", "Loading Host State").
	 */
	vmcs_writel(HOST_CR0, read_cr0());
	vmcs_writel(HOST_CR3, __read_cr3());
	vmcs_writel(HOST_CR4, cr4_read_shadow());
	vmcs_write16(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write16(HOST_SS_SELECTOR, __KERNEL_DS);
	vmcs_write16(HOST_DS_SELECTOR, __KERNEL_DS);
	vmcs_write16(HOST_ES_SELECTOR, __KERNEL_DS);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	vmcs_writel(HOST_RIP, (unsigned long)__vmx_vmexit);
	rdmsrl(MSR_IA32_SYSENTER_CS, msr);
	vmcs_write32(HOST_IA32_SYSENTER_CS, msr);
	rdmsrl(MSR_IA32_SYSENTER_EIP, msr);
	vmcs_writel(HOST_IA32_SYSENTER_EIP, msr);
	rdmsrl(MSR_EFER, msr);
	vmcs_write64(HOST_IA32_EFER, msr);
	rdmsrl(MSR_IA32_CR_PAT, msr);
	vmcs_write64(HOST_IA32_PAT, msr);

	/* The guest after RESET (SDM Vol 3 10.1.1): real mode at F000:FFF0. */
	vmx_set_segment(GUEST_ES_SELECTOR, &seg);
	vmx_set_segment(GUEST_SS_SELECTOR, &seg);
	vmx_set_segment(GUEST_DS_SELECTOR, &seg);
	vmx_set_segment(GUEST_FS_SELECTOR, &seg);
	vmx_set_segment(GUEST_GS_SELECTOR, &seg);
	seg.type = 0xb;
	seg.selector = 0xf000;
	seg.base = 0xffff0000;
	vmx_set_segment(GUEST_CS_SELECTOR, &seg);
	seg = (struct minihv_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	vmx_set_segment(GUEST_TR_SELECTOR, &seg);
	seg.type = 2;
	vmx_set_segment(GUEST_LDTR_SELECTOR, &seg);
	vmcs_write32(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write32(GUEST_IDTR_LIMIT, 0xffff);
	vmcs_writel(GUEST_GDTR_BASE, 0);
	vmcs_writel(GUEST_IDTR_BASE, 0);
	vmx_write_cr0(X86_CR0_CD | X86_CR0_NW | X86_CR0_ET);
	vmx_write_cr4(0);
	vmcs_writel(GUEST_CR3, 0);
	vmx_write_efer(0);
	vmcs_write64(GUEST_IA32_PAT, PAT_DEFAULT);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_writel(GUEST_DR7, 0x400);
	vmcs_writel(GUEST_RIP, 0xfff0);
	vmcs_writel(GUEST_RSP, 0);
	vmcs_writel(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writel(GUEST_SYSENTER_ESP, 0);
	vmcs_writel(GUEST_SYSENTER_EIP, 0);
	vmcs_write64(VMCS_LINK_POINTER, ~0ULL);
}

static int vmx_vcpu_create(struct minihv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx;

	vmx = kzalloc(sizeof(*vmx), MINIHV_GFP);
	if (!vmx)
		return -ENOMEM;
	vmx->vmcs_page = alloc_page(MINIHV_GFP | __GFP_ZERO);
	if (!vmx->vmcs_page)
		goto err_free;
	/* SDM "Format of the VMCS Region": revision id first, bit 31 clear. */
	*(u32 *)page_address(vmx->vmcs_page) = vmx_caps.revision_id;
	vmx->vmcs_pa = page_to_phys(vmx->vmcs_page);
	vmx->cpu = -1;
	vmx->entry_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded);
	preempt_notifier_init(&vmx->preempt, &vmx_preempt_ops);
	vmx->vpid = vmx_vpid_alloc();
	vcpu->arch = vmx;

	/*
	 * Outside any vCPU ioctl (the VM's CREATE_VCPU): loaded here with
	 * preemption off; the first vcpu_load moves it to its thread's CPU.
	 * A fresh VMCS must be VMCLEARed before its first VMPTRLD (SDM Vol 3
	 * "Initializing a VMCS").
	 */
	preempt_disable();
	vmx_vmclear(vmx->vmcs_pa);
	vmx_load_vmcs(vmx);
	vmx_init_vmcs(vcpu, vmx);
	preempt_enable();
	return 0;

err_free:
	kfree(vmx);
	return -ENOMEM;
}

static void vmx_vcpu_free(struct minihv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_vcpu_unload(vmx);
	vmx_vpid_free(vmx->vpid);
	__free_page(vmx->vmcs_page);
	kfree(vmx);
}

/* ---- registers: called inside a vCPU ioctl, the VMCS is current ---- */

static void vmx_get_regs(struct minihv_vcpu *vcpu, struct minihv_regs *regs)
{
	vmx_assert_loaded(to_vmx(vcpu));
	regs->rip = vmcs_readl(GUEST_RIP);
	regs->rflags = vmcs_readl(GUEST_RFLAGS);
	regs->rsp = vmcs_readl(GUEST_RSP);
}

static void vmx_set_regs(struct minihv_vcpu *vcpu, const struct minihv_regs *regs)
{
	vmx_assert_loaded(to_vmx(vcpu));
	vmcs_writel(GUEST_RIP, regs->rip);
	vmcs_writel(GUEST_RFLAGS, regs->rflags);
	vmcs_writel(GUEST_RSP, regs->rsp);
	to_vmx(vcpu)->state_checked = false;
}

static void vmx_get_sregs(struct minihv_vcpu *vcpu, struct minihv_sregs *sregs)
{
	unsigned long m0, m4;

	vmx_assert_loaded(to_vmx(vcpu));
	vmx_get_segment(GUEST_CS_SELECTOR, &sregs->cs);
	vmx_get_segment(GUEST_DS_SELECTOR, &sregs->ds);
	vmx_get_segment(GUEST_ES_SELECTOR, &sregs->es);
	vmx_get_segment(GUEST_FS_SELECTOR, &sregs->fs);
	vmx_get_segment(GUEST_GS_SELECTOR, &sregs->gs);
	vmx_get_segment(GUEST_SS_SELECTOR, &sregs->ss);
	vmx_get_segment(GUEST_TR_SELECTOR, &sregs->tr);
	vmx_get_segment(GUEST_LDTR_SELECTOR, &sregs->ldt);
	sregs->gdt.base = vmcs_readl(GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read32(GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_readl(GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read32(GUEST_IDTR_LIMIT);
	m0 = vmcs_readl(CR0_GUEST_HOST_MASK);
	m4 = vmcs_readl(CR4_GUEST_HOST_MASK);
	sregs->cr0 = (vmcs_readl(GUEST_CR0) & ~m0) | (vmcs_readl(CR0_READ_SHADOW) & m0);
	sregs->cr4 = (vmcs_readl(GUEST_CR4) & ~m4) | (vmcs_readl(CR4_READ_SHADOW) & m4);
	sregs->cr3 = vmcs_readl(GUEST_CR3);
	sregs->efer = vmcs_read64(GUEST_IA32_EFER);
	sregs->cr2 = to_vmx(vcpu)->cr2;
	/* CR8 is not in the VMCS: without these exits the guest would set the host's TPR. */
	sregs->cr8 = minihv_get_cr8(vcpu);
}

/*
 * After the rules (cr.c, minihv_sregs_valid(), which asks vmx_cr4_bits()):
 * everything goes to the CPU, whose refusal vmx_check_guest_state()
 * explains.
 */
static int vmx_set_sregs(struct minihv_vcpu *vcpu, const struct minihv_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 pdpte[4] = {};

	vmx_assert_loaded(vmx);
	if (vmx_pae_paging(sregs->cr0, sregs->cr4, sregs->efer)) {
		down_read(&vcpu->vm->slots_rwsem);
		vmx_read_pdptrs(vcpu->vm, sregs->cr3, pdpte);
		up_read(&vcpu->vm->slots_rwsem);
	}
	vmx_write_pdptrs(pdpte);
	vmx_set_segment(GUEST_CS_SELECTOR, &sregs->cs);
	vmx_set_segment(GUEST_DS_SELECTOR, &sregs->ds);
	vmx_set_segment(GUEST_ES_SELECTOR, &sregs->es);
	vmx_set_segment(GUEST_FS_SELECTOR, &sregs->fs);
	vmx_set_segment(GUEST_GS_SELECTOR, &sregs->gs);
	vmx_set_segment(GUEST_SS_SELECTOR, &sregs->ss);
	vmx_set_segment(GUEST_TR_SELECTOR, &sregs->tr);
	vmx_set_segment(GUEST_LDTR_SELECTOR, &sregs->ldt);
	vmcs_writel(GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write32(GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_writel(GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write32(GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmx_write_cr0(sregs->cr0);
	vmx_write_cr4(sregs->cr4);
	vmcs_writel(GUEST_CR3, sregs->cr3);
	vmx_write_efer(sregs->efer);
	vmx->cr2 = sregs->cr2;
	minihv_set_cr8(vcpu, sregs->cr8);
	vmx->state_checked = false;
	return 0;
}

/*
 * MSRs VMX leaves alone that the guest may set: swapped around every
 * entry, always.  The SYSCALL ones (SDM Vol 3 5.8.8) included, from the
 * guest's reset values on: a guest running with the host's LSTAR would
 * jump into entry_SYSCALL_64 at its SYSCALL and read the address in CR2.
 *
 * The host's values are back before interrupts are enabled again, so
 * nothing on the host sees the guest's: no interrupt, softirq or
 * preemption, and only a return to user mode (never reached with
 * interrupts off) executes SYSRET or lets SYSCALL run.  NMI and #MC
 * handlers in the window use neither instruction.  KVM instead restores
 * them on the way back to user mode (user-return notifiers); that saves
 * four WRMSRs per exit, which does not pay for a second place where
 * the host's state comes back.  Guest values are checked when written
 * (minihv_msr_check()), so these WRMSRs cannot fault.
 */
struct vmx_host_msrs {
	u64 kernel_gs_base, star, lstar, cstar, sfmask;
};

static void vmx_load_guest_msrs(struct vmx_vcpu *vmx, struct vmx_host_msrs *h)
{
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	rdmsrl(MSR_STAR, h->star);
	rdmsrl(MSR_LSTAR, h->lstar);
	rdmsrl(MSR_CSTAR, h->cstar);
	rdmsrl(MSR_SYSCALL_MASK, h->sfmask);
	wrmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	wrmsrl(MSR_STAR, vmx->star);
	wrmsrl(MSR_LSTAR, vmx->lstar);
	wrmsrl(MSR_CSTAR, vmx->cstar);
	wrmsrl(MSR_SYSCALL_MASK, vmx->sfmask);
}

/* SWAPGS in the guest changes the real KERNEL_GS_BASE: read it back. */
static void vmx_load_host_msrs(struct vmx_vcpu *vmx, const struct vmx_host_msrs *h)
{
	rdmsrl(MSR_KERNEL_GS_BASE, vmx->kernel_gs_base);
	wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	wrmsrl(MSR_STAR, h->star);
	wrmsrl(MSR_LSTAR, h->lstar);
	wrmsrl(MSR_CSTAR, h->cstar);
	wrmsrl(MSR_SYSCALL_MASK, h->sfmask);
}

/*
 * The exit is a machine check's: an #MC in the guest (exception bitmap,
 * VMX_INTERCEPTED_EXCEPTIONS) or one during the entry itself (exit reason
 * 41 with bit 31, SDM Vol 3 "VM-Entry Failures During or After Loading
 * Guest State").  Neither reaches the host's handler by itself:
 * vmx_vcpu_run() calls it on this CPU before interrupts are back on, as
 * KVM's kvm_machine_check() calls do.
 */
static bool vmx_is_mce(u32 reason)
{
	u32 info;

	if ((reason & 0xffff) == EXIT_REASON_MCE_DURING_VMENTRY)
		return true;
	if (reason != EXIT_REASON_EXCEPTION_NMI)
		return false;
	info = vmcs_read32(VM_EXIT_INTR_INFO);
	return (info & (INTR_INFO_VALID_MASK | INTR_INFO_INTR_TYPE_MASK |
			INTR_INFO_VECTOR_MASK)) ==
	       (INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | X86_TRAP_MC);
}

static int vmx_vcpu_run(struct minihv_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_host_msrs host_msrs;
	struct vmx_host_debug host_debug;
	u16 fs_sel, gs_sel, ds_sel, es_sel;
	unsigned long fs_base;
	int cpu, fail;
	u32 reason, pkru;
	u64 xcr0, gen;

	preempt_disable();
	cpu = smp_processor_id();
	vmx_assert_loaded(vmx);

	if (!vmx->state_checked) {
		u64 field, value;
		const char *why = vmx_check_guest_state(&field, &value);

		if (why) {
			preempt_enable();
			vmx_fail_entry(vcpu, EXIT_REASON_INVALID_STATE |
				       VMX_EXIT_REASONS_FAILED_VMENTRY,
				       "invalid guest state", why, field, value);
			return 0;
		}
		vmx->state_checked = true;
	}

	local_irq_disable();
	if (minihv_exit_request(vcpu)) {
		local_irq_enable();
		preempt_enable();
		return 1;
	}
	/* After minihv_exit_request() published the CPU (minihv_flush_remote_tlbs()). */
	gen = atomic64_read(&vcpu->vm->tlb_generation);

	/*
	 * Flush this vCPU's tag when it arrives on a CPU (stale entries of
	 * a vCPU that had the VPID before, or of its own earlier stay) and
	 * after a nested mapping was removed (SDM Vol 3 "Invalidating
	 * Cached Translation Information").  A vCPU without a VPID needs
	 * the INVEPT alone: the entry flushes its linear and combined
	 * mappings itself ("Updating Non-Register State"), not the
	 * guest-physical ones.
	 */
	if (cpu != vmx->entry_cpu || gen != vmx->tlb_generation || !vmx->launched) {
		vmx_invept(vmx_eptp(vcpu->vm));
		if (vmx->vpid)
			vmx_invvpid(vmx->vpid);
		vmx->tlb_generation = gen;
		vmx->entry_cpu = cpu;
	}

	vmcs_writel(GUEST_RSP, vcpu->regs[VCPU_REGS_RSP]);
	/* Per task or per entry: CR3 (PCID), CR4, the FS base. */
	vmcs_writel(HOST_CR3, __read_cr3());
	vmcs_writel(HOST_CR4, cr4_read_shadow());
	savesegment(fs, fs_sel);
	savesegment(gs, gs_sel);
	savesegment(ds, ds_sel);
	savesegment(es, es_sel);
	rdmsrl(MSR_FS_BASE, fs_base);
	vmcs_writel(HOST_FS_BASE, fs_base);
	vmx_save_host_debug(vcpu, &host_debug);

	vmx_load_guest_msrs(vmx, &host_msrs);
	minihv_guest_fpu_load();
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);
	xcr0 = minihv_load_guest_xcr0(vcpu, vmcs_readl(GUEST_CR4) & X86_CR4_OSXSAVE);
	pkru = minihv_host_pkru();

	minihv_spec_enter(vcpu);
	fail = __vmx_vcpu_run(vcpu->regs, vmx->launched);
	minihv_spec_exit();
	vcpu->exits++;
	minihv_restore_host_pkru(pkru);
	minihv_load_host_xcr0(vcpu, xcr0);

	vmx->cr2 = native_read_cr2();
	reason = fail ? 0 : vmcs_read32(VM_EXIT_REASON);
	/* An NMI that caused the exit is the host's: hand it over now. */
	if (!fail && reason == EXIT_REASON_EXCEPTION_NMI &&
	    (vmcs_read32(VM_EXIT_INTR_INFO) & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		asm volatile("int $2");
	/* So is a machine check, intercepted or met by the entry (vmx_is_mce()). */
	if (!fail && vmx_is_mce(reason))
		minihv_machine_check();

	/*
	 * A VM exit leaves the GDT limit at FFFFh, the TR limit at 67h and
	 * null FS/GS/DS/ES selectors (SDM Vol 3 "Loading Host Segment and
	 * Descriptor-Table Registers"): restore what Linux expects.
	 */
	load_fixmap_gdt(cpu);
	invalidate_tss_limit();
	vmx_restore_host_debug(vcpu, &host_debug);
	if (ds_sel)
		loadsegment(ds, ds_sel);
	if (es_sel)
		loadsegment(es, es_sel);
	if (fs_sel) {
		loadsegment(fs, fs_sel);
		wrmsrl(MSR_FS_BASE, fs_base);
	}
	vmx_load_host_msrs(vmx, &host_msrs);
	local_irq_enable();
	if (gs_sel)
		pr_warn_once("VT-x: host GS selector %#x is not restored\n", gs_sel);

	/* Faulted (vmenter.S): VMX is off, no VM_INSTRUCTION_ERROR to read. */
	if (unlikely(fail == 2)) {
		preempt_enable();
		vmx_insn_fault("VMLAUNCH/VMRESUME");
		return -EIO;
	}
	if (fail) {
		u32 error = vmcs_read32(VM_INSTRUCTION_ERROR);
		u64 field = 0, value = 0;
		const char *why = NULL;

		/* Errors 7 and 8: controls or host state; name the guest's too. */
		if (error == 7 || error == 8)
			why = vmx_check_guest_state(&field, &value);
		preempt_enable();
		vmx_fail_entry(vcpu, error, vmx_instruction_error_name(error),
			       why, field, value);
		return 0;
	}
	if (!(reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
		vmx->launched = true;
	vcpu->regs[VCPU_REGS_RSP] = vmcs_readl(GUEST_RSP);
	preempt_enable();

	/* Preemptible from here: the notifier keeps the VMCS current. */
	return minihv_handle_exit(vcpu);
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
	.get_features = vmx_get_features,
	.vm_init = vmx_vm_init,
	.vm_destroy = vmx_vm_destroy,
	.vcpu_create = vmx_vcpu_create,
	.vcpu_free = vmx_vcpu_free,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_put = vmx_vcpu_put,
	.vcpu_run = vmx_vcpu_run,
	.read_exit = vmx_read_exit,
	.handle_failed_entry = vmx_handle_failed_entry,
	.exit_table = &vmx_exit_table,
	.skip_instruction = vmx_skip_instruction,
	.queue_event = vmx_queue_event,
	.get_cpu_mode = vmx_cpu_mode,
	.cr4_bits = vmx_cr4_bits,
	.get_regs = vmx_get_regs,
	.set_regs = vmx_set_regs,
	.get_sregs = vmx_get_sregs,
	.set_sregs = vmx_set_sregs,
	.get_msr = vmx_get_msr,
	.set_msr = vmx_set_msr,
	.event_allowed = vmx_event_allowed,
	.inject_event = vmx_inject_event,
	.set_event_windows = vmx_set_event_windows,
	.reset_events = vmx_reset_events,
	/*
	 * EPT entries: R W X in bits 2:0, WB memory type, A/D preset (SDM Vol 3
	 * "EPT Translation Mechanism").
	 */
	.tdp_nonleaf = 0x7 | BIT(8),
	.tdp_leaf_ro = 0x5 | (6 << 3) | BIT(8),
	.tdp_leaf_rw = 0x7 | (6 << 3) | BIT(8) | BIT(9),
};

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the VT-x files (vmx.c: setup and the world switch; exits.c:
 * exit handling; vmx_check.c: guest-state checks): what the CPU offers,
 * the per-vCPU state, and the functions they call across.
 */
#ifndef MINIHV_VMX_VMX_H
#define MINIHV_VMX_VMX_H

#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/types.h>

#include <asm/trapnr.h>

#include "../minihv.h"

/* Read once in vmx_hardware_setup(). */
struct vmx_capabilities {
	u32 revision_id;	/* first dword of VMXON region and VMCS */
	bool ept;
	bool ept_ad;
	bool ept_2m, ept_1g;	/* large EPT leaves */
	bool ept_wb_4level;
	bool vpid;
	bool unrestricted_guest;
	bool shadow_vmcs;
	bool apicv;		/* APIC-access page, register virtualization, VID */
	bool true_controls;	/* IA32_VMX_BASIC[55]: IA32_VMX_TRUE_*_CTLS */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/*
	 * The controls every VMCS gets, adjusted to the CPU (SDM Vol 3
	 * "VM-Execution Control Fields", "VM-Exit Control Fields",
	 * "VM-Entry Control Fields").
	 */
	u32 pin, proc, proc2, exit, entry;
	u32 preemption_timer;	/* VMX_PREEMPTION_TIMER_VALUE, 0: no timer */
};

extern struct vmx_capabilities vmx_caps;

/*
 * The exception bitmap (SDM Vol 3 "Exception Bitmap"): exceptions that exit
 * instead of being delivered through the guest's IDT.  #AC: a guest at CPL3
 * with CR0.AM, RFLAGS.AC, a misaligned stack and a CPL3 handler makes the
 * delivery of #AC raise #AC again, and the CPU repeats it forever without
 * reaching an instruction boundary where an interrupt, an NMI or the
 * preemption timer could exit (CVE-2015-5307).  Intercepted, each delivery
 * is a VM exit and exits.c reflects it.  #DB too, as on AMD-V
 * (CVE-2015-8104) and as KVM does on VT-x: whatever an Intel CPU does with
 * a data breakpoint on the #DB frame it pushes, each delivery is then an
 * exit.  #MC: a machine check in VMX non-root operation is delivered
 * through the guest's IDT unless bit 18 is set (SDM Vol 3 "Other Causes of
 * VM Exits"); it is the host's, and vmx_vcpu_run() hands it over.
 */
#define VMX_INTERCEPTED_EXCEPTIONS	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC))

struct vmx_vcpu {
	struct page *vmcs_page;
	u64 vmcs_pa;
	int cpu;		/* where the VMCS is loaded, -1: nowhere */
	int entry_cpu;		/* where the guest last ran, -1: never */
	/*
	 * Registered from vcpu_load to vcpu_put: makes the VMCS current again
	 * when the vCPU thread is scheduled in.
	 */
	struct preempt_notifier preempt;
	bool launched;		/* VMRESUME, not VMLAUNCH, for the next entry */
	u32 windows;		/* VMX_WINDOW_EXITING bits now in the VMCS */
	struct list_head loaded;	/* on loaded_vmcss of vmx->cpu */
	u16 vpid;
	u64 tlb_generation;
	bool state_checked;	/* guest state passed vmx_check_guest_state() */
	/* Guest values of MSRs VMX does not switch: swapped at each entry. */
	u64 kernel_gs_base, star, lstar, cstar, sfmask;
	/* CR2 is not in the VMCS: the real register holds the guest's. */
	unsigned long cr2;
};

/*
 * The first rule of SDM Vol 3 "Checks on the Guest State Area" (chapter
 * 28, "VM Entries", in the June 2025 edition) that the current VMCS's
 * guest state breaks, or NULL; @field is the VMCS encoding of the culprit.
 */
const char *vmx_check_guest_state(u64 *field, u64 *value);

static inline struct vmx_vcpu *to_vmx(struct minihv_vcpu *vcpu)
{
	return vcpu->arch;
}

/* vmx.c: the VMCS current on each CPU (VMPTRLD), or NULL. */
DECLARE_PER_CPU(struct vmx_vcpu *, current_vmx);

/*
 * Within a vCPU ioctl (from the vcpu_load op to vcpu_put) the vCPU's VMCS
 * is current on whichever CPU runs its thread: vcpu_load makes it so and
 * the preempt notifier keeps it so across a move (vmx.c).  Each op that
 * reads or writes the VMCS checks it on the way in.  Once the host
 * reboots no VMCS is current anywhere and VMX instructions do nothing
 * (vmx_insn_fault()), which is expected.
 */
static inline void vmx_assert_loaded(struct vmx_vcpu *vmx)
{
	WARN_ON_ONCE(this_cpu_read(current_vmx) != vmx &&
		     !READ_ONCE(minihv_rebooting));
}

/*
 * vmx.c.  The writers keep the CR0/CR4 shadows, the read-only CR bits and
 * the IA-32e entry control in step.
 */
void vmx_write_cr0(unsigned long cr0);
void vmx_write_cr4(unsigned long cr4);
void vmx_write_efer(u64 efer);
/*
 * PAE paging outside long mode: vmx_read_pdptrs() reads the four PDPTEs
 * at @cr3 (0 where they are not RAM; it may sleep, the caller holds
 * slots_rwsem for read), vmx_write_pdptrs() puts them in the current VMCS.
 */
static inline bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

void vmx_read_pdptrs(struct minihv_vm *vm, u64 cr3, u64 pdpte[4]);
void vmx_write_pdptrs(const u64 pdpte[4]);

/* exits.c: the vendor ops of the exit path (minihv_handle_exit()) */
extern const struct minihv_exit_table vmx_exit_table;
void vmx_read_exit(struct minihv_vcpu *vcpu, struct minihv_exit *e);
int vmx_handle_failed_entry(struct minihv_vcpu *vcpu);
int vmx_skip_instruction(struct minihv_vcpu *vcpu);
void vmx_queue_event(struct minihv_vcpu *vcpu, u32 event, u32 error);
void vmx_cpu_mode(struct minihv_vcpu *vcpu, struct minihv_cpu_mode *m);
u64 vmx_cr4_bits(void);
void vmx_fail_entry(struct minihv_vcpu *vcpu, u64 reason, const char *what,
		    const char *why, u64 field, u64 value);
u64 vmx_get_msr(struct minihv_vcpu *vcpu, u32 msr);
void vmx_set_msr(struct minihv_vcpu *vcpu, u32 msr, u64 val);
bool vmx_event_allowed(struct minihv_vcpu *vcpu, bool nmi);
void vmx_inject_event(struct minihv_vcpu *vcpu, bool nmi, u8 vector);
void vmx_set_event_windows(struct minihv_vcpu *vcpu, bool irq, bool nmi);
void vmx_reset_events(struct minihv_vcpu *vcpu);

/* vmenter.S */
int __vmx_vcpu_run(unsigned long *regs, bool launched);
void __vmx_vmexit(void);
const char *vmx_instruction_error_name(u32 error);

#endif /* MINIHV_VMX_VMX_H */

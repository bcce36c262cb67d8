// SPDX-License-Identifier: GPL-2.0
/*
 * minihv Intel VT-x backend: what happens at a VM exit.  One handler per
 * exit reason in vmx_exit_handlers[] (SDM Vol 3 appendix C), the emulated
 * MSRs' storage, event injection (SDM Vol 3 "Event Injection") and the
 * explanation of a failed VM entry.  The VMCS is current whenever these
 * run: they are called within a vCPU ioctl, where the vcpu_load op loaded
 * it and a preempt notifier keeps it loaded (vmx.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/printk.h>
#include <linux/smp.h>

#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/trapnr.h>

#include <uapi/linux/minihv.h>

#include "../minihv.h"
#include "vmcs.h"
#include "vmx.h"

/* ---- helpers for exit handlers ---- */

void vmx_cpu_mode(struct minihv_vcpu *vcpu, struct minihv_cpu_mode *m)
{
	u32 cs_ar = vmcs_read32(GUEST_CS_AR_BYTES);

	m->paging.cr0 = vmcs_readl(GUEST_CR0);
	m->paging.cr3 = vmcs_readl(GUEST_CR3);
	m->paging.cr4 = vmcs_readl(GUEST_CR4);
	m->paging.efer = vmcs_read64(GUEST_IA32_EFER);
	m->cs_base = vmcs_readl(GUEST_CS_BASE);
	m->rip = vmcs_readl(GUEST_RIP);
	m->rflags = vmcs_readl(GUEST_RFLAGS);
	m->long_mode = (m->paging.efer & EFER_LMA) && (cs_ar & VMX_AR_L);
	m->cs_db = cs_ar & VMX_AR_DB;
	m->cpl = (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
	m->seg_base[SEG_ES] = vmcs_readl(GUEST_ES_BASE);
	m->seg_base[SEG_CS] = m->cs_base;
	m->seg_base[SEG_SS] = vmcs_readl(GUEST_SS_BASE);
	m->seg_base[SEG_DS] = vmcs_readl(GUEST_DS_BASE);
	m->seg_base[SEG_FS] = vmcs_readl(GUEST_FS_BASE);
	m->seg_base[SEG_GS] = vmcs_readl(GUEST_GS_BASE);
}

/* ---- interrupts and NMIs from userspace (SDM Vol 3 "Event Injection") ---- */

/*
 * With virtual NMIs the CPU tracks the guest's NMI blocking (set by the
 * injection, cleared by its IRET) in the interruptibility state, and the
 * NMI-window exit comes when it ends (SDM Vol 3 "Changes to Instruction
 * Behavior in VMX Non-Root Operation", "NMI-Window Exiting").
 */
bool vmx_event_allowed(struct minihv_vcpu *vcpu, bool nmi)
{
	u32 blocked = GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS;

	vmx_assert_loaded(to_vmx(vcpu));
	if (nmi)
		blocked |= GUEST_INTR_STATE_NMI;
	return !(vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK) &&
	       !(vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & blocked) &&
	       (nmi || (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_IF));
}

void vmx_inject_event(struct minihv_vcpu *vcpu, bool nmi, u8 vector)
{
	vmx_assert_loaded(to_vmx(vcpu));
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, vector | INTR_INFO_VALID_MASK |
		     (nmi ? INTR_TYPE_NMI_INTR : INTR_TYPE_EXT_INTR));
}

void vmx_set_event_windows(struct minihv_vcpu *vcpu, bool irq, bool nmi)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 want = (irq ? CPU_BASED_INTR_WINDOW_EXITING : 0) |
		   (nmi ? CPU_BASED_NMI_WINDOW_EXITING : 0);

	if (want == vmx->windows)
		return;
	vmx_assert_loaded(vmx);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, vmx_caps.proc | want);
	vmx->windows = want;
}

void vmx_reset_events(struct minihv_vcpu *vcpu)
{
	vmx_assert_loaded(to_vmx(vcpu));
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, 0);
	/*
	 * STI and MOV SS blocking, and blocking by NMI (SDM Vol 3 "Guest
	 * Non-Register State").
	 */
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	/* The DR7 the entry loads (debugreg.c reset the guest's copy). */
	vmcs_writel(GUEST_DR7, minihv_hw_dr7(vcpu));
}

/*
 * The event delivered at the next entry, in the layout of MINIHV_EVENT_*
 * (the IDT-vectoring information's too; its bit 12 is undefined and bits
 * 30:12 of the entry field are reserved, SDM Vol 3 25.8.3).  In real
 * mode no exception pushes an error code, and the entry checks insist on
 * that (SDM Vol 3 27.2.1.3: "deliver error code" only with CR0.PE set
 * under unrestricted guest), so it is dropped there, as KVM does.  Bochs
 * 2.7 reports one in the IDT-vectoring information of a real-mode #GP
 * whose delivery an exit interrupted.  A software interrupt or exception
 * is delivered with the length of its instruction (SDM Vol 3 27.6.1.1),
 * which the exit gave (28.2.5).
 */
void vmx_queue_event(struct minihv_vcpu *vcpu, u32 event, u32 error)
{
	event &= INTR_INFO_VALID_MASK | INTR_INFO_DELIVER_CODE_MASK |
		 INTR_INFO_INTR_TYPE_MASK | INTR_INFO_VECTOR_MASK;
	if (!(vmcs_readl(GUEST_CR0) & X86_CR0_PE))
		event &= ~INTR_INFO_DELIVER_CODE_MASK;
	vmcs_write32(VM_ENTRY_INTR_INFO_FIELD, event);
	if (event & INTR_INFO_DELIVER_CODE_MASK)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	if ((event & INTR_INFO_INTR_TYPE_MASK) >= MINIHV_EVENT_SOFT_INTR)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
}

/*
 * The end of an instruction minihv completed: RIP at @next_rip, blocking
 * by STI or MOV SS over, and with RFLAGS.TF the single-step trap the CPU
 * would have taken (debugreg.c; vmx_vcpu_run() loads the guest's DR6).
 */
static void vmx_complete_insn(struct minihv_vcpu *vcpu, unsigned long next_rip)
{
	u32 interruptibility = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	vmcs_writel(GUEST_RIP, next_rip);
	if (interruptibility & 3)
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, interruptibility & ~3);
	if (vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF)
		minihv_single_step_trap(vcpu);
}

/* Instruction-based exits give the length (SDM 28.2.5). */
int vmx_skip_instruction(struct minihv_vcpu *vcpu)
{
	vmx_complete_insn(vcpu, vmcs_readl(GUEST_RIP) + vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	return MINIHV_RESUME_GUEST;
}

/*
 * Where the emulated MSRs live (the list and the checks are in msr.c): a
 * VMCS guest field, or, for those VMX does not switch, a vmx_vcpu field
 * swapped around each entry by vmx_load_guest_msrs().  In 64-bit mode
 * VMREAD and VMWRITE move a whole register, and a narrower field takes its
 * low bits (SDM Vol 3 "VMREAD", "VMWRITE"), so one accessor serves every
 * width.  EFER (vmx_write_efer()) and the TSC (an offset) are not plain
 * fields.
 */
static const struct {
	u32 msr;
	u32 field;		/* VMCS encoding; 0: in vmx_vcpu at offset */
	size_t offset;
} vmx_msr_homes[] = {
	{ MSR_STAR,		0, offsetof(struct vmx_vcpu, star) },
	{ MSR_LSTAR,		0, offsetof(struct vmx_vcpu, lstar) },
	{ MSR_CSTAR,		0, offsetof(struct vmx_vcpu, cstar) },
	{ MSR_SYSCALL_MASK,	0, offsetof(struct vmx_vcpu, sfmask) },
	{ MSR_KERNEL_GS_BASE,	0, offsetof(struct vmx_vcpu, kernel_gs_base) },
	{ MSR_FS_BASE,		GUEST_FS_BASE },
	{ MSR_GS_BASE,		GUEST_GS_BASE },
	{ MSR_IA32_SYSENTER_CS,	GUEST_SYSENTER_CS },
	{ MSR_IA32_SYSENTER_ESP, GUEST_SYSENTER_ESP },
	{ MSR_IA32_SYSENTER_EIP, GUEST_SYSENTER_EIP },
	{ MSR_IA32_CR_PAT,	GUEST_IA32_PAT },
};

static int vmx_msr_home(u32 msr)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(vmx_msr_homes); i++)
		if (vmx_msr_homes[i].msr == msr)
			return i;
	return -1;
}

u64 vmx_get_msr(struct minihv_vcpu *vcpu, u32 msr)
{
	int i = vmx_msr_home(msr);

	if (msr == MSR_EFER)
		return vmcs_read64(GUEST_IA32_EFER);
	if (msr == MSR_IA32_TSC)
		return rdtsc() + vmcs_read64(TSC_OFFSET);
	if (i < 0)
		return 0;
	if (vmx_msr_homes[i].field)
		return __vmcs_readl(vmx_msr_homes[i].field);
	return *(u64 *)((u8 *)to_vmx(vcpu) + vmx_msr_homes[i].offset);
}

void vmx_set_msr(struct minihv_vcpu *vcpu, u32 msr, u64 val)
{
	int i = vmx_msr_home(msr);

	if (msr == MSR_EFER)
		vmx_write_efer(val);
	else if (msr == MSR_IA32_TSC)
		vmcs_write64(TSC_OFFSET, val - rdtsc());
	else if (i >= 0 && vmx_msr_homes[i].field)
		__vmcs_writel(vmx_msr_homes[i].field, val);
	else if (i >= 0)
		*(u64 *)((u8 *)to_vmx(vcpu) + vmx_msr_homes[i].offset) = val;
}

/* ---- exit handlers ---- */

/*
 * An intercepted #AC (VMX_INTERCEPTED_EXCEPTIONS), delivered to the guest
 * as the CPU would have: the exit came instead of the delivery (SDM Vol 3
 * "Other Causes of VM Exits"), the injection at the next entry delivers it
 * ("Vectored-Event Injection").  An exception whose delivery this one
 * interrupted (the IDT-vectoring information, put back by
 * minihv_handle_exit()) is replaced: #AC is benign, a second one during
 * delivery is handled serially and the guest sees it (SDM Vol 3 "Interrupt
 * 8—Double Fault Exception (#DF)", table "Interrupt and Exception
 * Classes").  The recursive case thus goes on one exit per delivery.  RF is
 * set in the frame's RFLAGS as the CPU sets it for a fault
 * ("Instruction-Breakpoint Exception Condition"); the error code is 0.
 */
static int vmx_reflect_exception(struct minihv_vcpu *vcpu, u32 info)
{
	vmcs_writel(GUEST_RFLAGS, vmcs_readl(GUEST_RFLAGS) | X86_EFLAGS_RF);
	minihv_queue_exception(vcpu, info & INTR_INFO_VECTOR_MASK,
			       info & INTR_INFO_DELIVER_CODE_MASK,
			       vmcs_read32(VM_EXIT_INTR_ERROR_CODE));
	return MINIHV_RESUME_GUEST;
}

/*
 * The exit qualification of a #DB: DR6's B0-B3, BD and BS (SDM Vol 3 table
 * "Exit Qualification for Debug Exceptions").
 */
#define DB_QUAL_DR6_BITS	(0xfUL | BIT(13) | BIT(14))
#define DR7_GD_BIT		BIT(13)

/*
 * A #DB that exits writes no DR6 (SDM Vol 3 "Architectural State Before a
 * VM Exit"): the exit qualification holds the bits it would have set, which
 * go into the guest's DR6 (vmx_vcpu_run() loads it before the entry) before
 * the #DB is delivered again; delivering #DB clears DR7.GD (SDM Vol 3
 * "Debug Control Register (DR7)").  INT1 (ICEBP) exits as a privileged
 * software exception with RIP on the instruction: it goes back as one, with
 * its length.  A single step over STI or MOV SS leaves blocking and
 * RFLAGS.TF set, which the entry accepts only with BS among the pending
 * debug exceptions (SDM Vol 3 "Checks on Guest Non-Register State"), as KVM
 * does.
 */
static int vmx_reflect_db(struct minihv_vcpu *vcpu, u32 info)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);

	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXCEPTION) {
		vmx_queue_event(vcpu, X86_TRAP_DB | INTR_INFO_VALID_MASK |
				INTR_TYPE_PRIV_SW_EXCEPTION, 0);
		return MINIHV_RESUME_GUEST;
	}
	vcpu->dbg.dr6 = (vcpu->dbg.dr6 & ~DB_QUAL_DR6_BITS) | (qual & DB_QUAL_DR6_BITS);
	if (vcpu->dbg.dr7 & DR7_GD_BIT) {
		vcpu->dbg.dr7 &= ~DR7_GD_BIT;
		vmcs_writel(GUEST_DR7, minihv_hw_dr7(vcpu));
	}
	if ((vmcs_readl(GUEST_RFLAGS) & X86_EFLAGS_TF) &&
	    (vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) &
	     (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)))
		vmcs_writel(GUEST_PENDING_DBG_EXCEPTIONS,
			    vmcs_readl(GUEST_PENDING_DBG_EXCEPTIONS) | BIT(14));
	minihv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	return MINIHV_RESUME_GUEST;
}

static int vmx_handle_exception_nmi(struct minihv_vcpu *vcpu)
{
	u32 info = vmcs_read32(VM_EXIT_INTR_INFO);
	u64 data[3] = { EXIT_REASON_EXCEPTION_NMI, info, vmcs_readl(EXIT_QUALIFICATION) };

	/* NMIs were handed to the host right after the exit. */
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		return MINIHV_RESUME_GUEST;
	/* Counted as a host event by the table; it is the guest's exception. */
	vcpu->exit_stats[MINIHV_STAT_HOST_EVENT]--;
	vcpu->exit_stats[MINIHV_STAT_EXCEPTION]++;
	if ((info & INTR_INFO_VECTOR_MASK) == X86_TRAP_AC)
		return vmx_reflect_exception(vcpu, info);
	if ((info & INTR_INFO_VECTOR_MASK) == X86_TRAP_DB)
		return vmx_reflect_db(vcpu, info);
	/* The host's handler ran right after the exit (vmx_vcpu_run()). */
	if ((info & INTR_INFO_VECTOR_MASK) == X86_TRAP_MC)
		return MINIHV_RESUME_GUEST;
	/* Only what VMX_INTERCEPTED_EXCEPTIONS names exits: cannot happen. */
	minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT, 3, data);
	return MINIHV_EXIT_TO_USER;
}

/*
 * MOV to CR0 or CR4 that changes a bit VMX fixes (vmx_init_vmcs()'s
 * guest/host masks), with MOV's rules (cr.c); the guest's view goes to
 * the read shadow, the real register keeps the fixed bits.  MOV to and
 * from CR8, always.  Exit qualification: SDM Vol 3 table "Exit
 * Qualification for Control-Register Accesses".
 */
static int vmx_handle_cr_access(struct minihv_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	int cr = qual & 15, type = (qual >> 4) & 3, reg = (qual >> 8) & 15;
	unsigned long val = vcpu->regs[reg];
	/* What the guest sees: its own bits, and the read shadow's for ours. */
	u64 m0 = vmcs_readl(CR0_GUEST_HOST_MASK), m4 = vmcs_readl(CR4_GUEST_HOST_MASK);
	struct minihv_cr_state s = {
		.cr0 = (vmcs_readl(GUEST_CR0) & ~m0) | (vmcs_readl(CR0_READ_SHADOW) & m0),
		.cr3 = vmcs_readl(GUEST_CR3),
		.cr4 = (vmcs_readl(GUEST_CR4) & ~m4) | (vmcs_readl(CR4_READ_SHADOW) & m4),
		.efer = vmcs_read64(GUEST_IA32_EFER),
		.cs_l = vmcs_read32(GUEST_CS_AR_BYTES) & VMX_AR_L,
	};
	struct minihv_cr_state old = s;
	u64 data[2] = { EXIT_REASON_CR_ACCESS, qual }, pdpte[4];

	/*
	 * CR8 (TPR) is the local APIC's, or a register of the vCPU (SDM Vol 3
	 * "Interaction of Task Priorities between CR8 and APIC").
	 * RSP is read and written in vcpu->regs like the others: vmx_vcpu_run()
	 * copies it from GUEST_RSP after the exit and back before the entry,
	 * so a VMWRITE to GUEST_RSP here would be overwritten.
	 */
	if (cr == 8 && type == 1) {
		vcpu->regs[reg] = minihv_get_cr8(vcpu);
		return vmx_skip_instruction(vcpu);
	}
	if (cr == 8 && type == 0) {
		if (val > 15)
			return minihv_complete_insn(vcpu, X86_TRAP_GP);
		minihv_set_cr8(vcpu, val);
		return vmx_skip_instruction(vcpu);
	}
	if (type != 0 || (cr != 0 && cr != 4)) {
		minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT, 2, data);
		return MINIHV_EXIT_TO_USER;
	}
	if (!(cr == 0 ? minihv_set_cr0(vcpu, &s, val) : minihv_set_cr4(vcpu, &s, val)))
		return minihv_complete_insn(vcpu, X86_TRAP_GP);
	/*
	 * A MOV that turns PAE paging on, or changes how it maps, loads the
	 * PDPTEs (SDM Vol 3 4.4.1); this one is emulated, so minihv does.
	 */
	if (vmx_pae_paging(s.cr0, s.cr4, s.efer) &&
	    (((s.cr0 ^ old.cr0) & (X86_CR0_PG | X86_CR0_CD | X86_CR0_NW)) ||
	     ((s.cr4 ^ old.cr4) & (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_PSE)))) {
		vmx_read_pdptrs(vcpu->vm, s.cr3, pdpte);
		vmx_write_pdptrs(pdpte);
	}
	vmx_write_efer(s.efer);
	vmx_write_cr0(s.cr0);
	vmx_write_cr4(s.cr4);
	return vmx_skip_instruction(vcpu);
}

u64 vmx_cr4_bits(void)
{
	/* No nested VMX: VMXE is minihv's own, in the real CR4 only. */
	return vmx_caps.cr4_fixed1 & ~X86_CR4_VMXE;
}

/*
 * MOV DR, with "MOV-DR exiting" always on: the guest's debug registers
 * are vcpu->dbg (debugreg.c has the rules).  Exit qualification: SDM Vol 3
 * table "Exit Qualification for MOV DR" (the DR in bits 2:0, from DR in
 * bit 4, the GPR in 11:8).
 */
static int vmx_handle_dr_access(struct minihv_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	int vector = minihv_mov_dr(vcpu, qual & 7, (qual >> 8) & 15, !(qual & BIT(4)));

	vmcs_writel(GUEST_DR7, minihv_hw_dr7(vcpu));
	return minihv_complete_insn(vcpu, vector);
}

static int vmx_handle_io(struct minihv_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	/* Exit qualification: SDM Vol 3 "Exit Qualification for I/O Instructions". */
	struct minihv_io_exit io = {
		.port = qual >> 16,
		.size = (qual & 7) + 1,
		.in = qual & BIT(3),
		.string = qual & BIT(4),
		.rep = qual & BIT(5),
		.seg = SEG_DS,
		.next_rip = vmcs_readl(GUEST_RIP) + vmcs_read32(VM_EXIT_INSTRUCTION_LEN),
	};
	bool done = false;
	int r = minihv_handle_io(vcpu, &io, &done);

	if (r >= 0 && done)
		vmx_complete_insn(vcpu, io.next_rip);
	return r;
}

/* EPT violation exit qualification: SDM Vol 3 "Exit Qualification for EPT Violations". */
#define EPT_VIOLATION_WRITE		BIT(1)
#define EPT_VIOLATION_FETCH		BIT(2)
#define EPT_VIOLATION_GLA_VALID		BIT(7)
#define EPT_VIOLATION_GLA_TRANSLATED	BIT(8)

static int vmx_handle_ept_violation(struct minihv_vcpu *vcpu)
{
	unsigned long qual = vmcs_readl(EXIT_QUALIFICATION);
	u64 why[3] = { EXIT_REASON_EPT_VIOLATION, qual, vmcs_read64(GUEST_PHYSICAL_ADDRESS) };
	bool resume;
	int r, len;

	r = minihv_mmu_map_gpa(vcpu, why[2], qual & EPT_VIOLATION_WRITE,
			       qual & EPT_VIOLATION_FETCH);
	/*
	 * An IRET that faulted had unblocked NMIs; it runs again (SDM Vol 3
	 * "Information About NMI Unblocking Due to IRET").
	 */
	if (r > 0 && (qual & EPT_VIOLATION_UNBLOCK_NMI))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);
	if (r)
		return r;	/* mapped (1), or -errno */
	/* The guest's own page-table walk left RAM: bit 7 set, bit 8 clear. */
	len = minihv_mmio_fault(vcpu, why, (qual & EPT_VIOLATION_GLA_VALID) &&
				!(qual & EPT_VIOLATION_GLA_TRANSLATED),
				qual & EPT_VIOLATION_WRITE, &resume);
	if (len)
		vmx_complete_insn(vcpu, vmcs_readl(GUEST_RIP) + len);
	return resume;
}

static int vmx_handle_ept_misconfig(struct minihv_vcpu *vcpu)
{
	/* minihv wrote an entry the CPU rejects: report it, never loop. */
	u64 data[2] = { EXIT_REASON_EPT_MISCONFIG, vmcs_read64(GUEST_PHYSICAL_ADDRESS) };

	pr_err_ratelimited("VT-x: EPT misconfiguration at GPA %#llx\n", data[1]);
	minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT, 2, data);
	return MINIHV_EXIT_TO_USER;
}

void vmx_fail_entry(struct minihv_vcpu *vcpu, u64 reason, const char *what,
		    const char *why, u64 field, u64 value)
{
	minihv_fail_entry(vcpu, reason, to_vmx(vcpu)->cpu, what, why, field, value);
}

/*
 * Exit reasons 33, 34, 41 with bit 31 set: the entry failed (SDM Vol 3
 * "VM-Entry Failures During or After Loading Guest State").
 */
int vmx_handle_failed_entry(struct minihv_vcpu *vcpu)
{
	u32 reason = vmcs_read32(VM_EXIT_REASON);
	u64 field = 0, value = 0;
	const char *why = NULL, *what;

	switch (reason & 0xffff) {
	case EXIT_REASON_INVALID_STATE:
		what = "invalid guest state";
		why = vmx_check_guest_state(&field, &value);
		break;
	case EXIT_REASON_MSR_LOAD_FAIL:
		what = "MSR loading";
		value = vmcs_readl(EXIT_QUALIFICATION);
		break;
	default:
		/* The host's handler has run (vmx_vcpu_run()); the guest stops. */
		what = "machine-check event";
		break;
	}
	vmx_fail_entry(vcpu, reason, what, why, field, value);
	to_vmx(vcpu)->state_checked = false;
	return MINIHV_EXIT_TO_USER;
}

/*
 * Exit handlers, indexed by basic exit reason (SDM appendix C), for
 * minihv_handle_exit(): each returns enum minihv_exit_ret or -errno.
 */
static const struct minihv_exit_handler vmx_exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI]		= { vmx_handle_exception_nmi,
						    MINIHV_STAT_HOST_EVENT },
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= { minihv_handle_host_event,
						    MINIHV_STAT_HOST_EVENT },
	[EXIT_REASON_PREEMPTION_TIMER]		= { minihv_handle_host_event,
						    MINIHV_STAT_HOST_EVENT },
	[EXIT_REASON_TRIPLE_FAULT]		= { minihv_handle_shutdown, MINIHV_STAT_SHUTDOWN },
	[EXIT_REASON_INIT_SIGNAL]		= { minihv_handle_host_event,
						    MINIHV_STAT_HOST_EVENT },
	[EXIT_REASON_CPUID]			= { minihv_handle_cpuid, MINIHV_STAT_CPUID },
	[EXIT_REASON_INTERRUPT_WINDOW]		= { minihv_window_open, MINIHV_STAT_WINDOW },
	[EXIT_REASON_NMI_WINDOW]		= { minihv_window_open, MINIHV_STAT_WINDOW },
	[EXIT_REASON_HLT]			= { minihv_handle_hlt, MINIHV_STAT_HLT },
	[EXIT_REASON_INVD]			= { minihv_handle_skip, MINIHV_STAT_OTHER },
	[EXIT_REASON_RDPMC]			= { minihv_handle_rdpmc, MINIHV_STAT_OTHER },
	[EXIT_REASON_VMCALL]			= { minihv_handle_hypercall,
						    MINIHV_STAT_HYPERCALL },
	[EXIT_REASON_VMCLEAR]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMLAUNCH]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMPTRLD]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMPTRST]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMREAD]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMRESUME]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMWRITE]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMOFF]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_VMON]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_CR_ACCESS]			= { vmx_handle_cr_access, MINIHV_STAT_CR_ACCESS },
	[EXIT_REASON_DR_ACCESS]			= { vmx_handle_dr_access, MINIHV_STAT_OTHER },
	[EXIT_REASON_IO_INSTRUCTION]		= { vmx_handle_io, MINIHV_STAT_IO },
	[EXIT_REASON_MSR_READ]			= { minihv_handle_rdmsr, MINIHV_STAT_MSR },
	[EXIT_REASON_MSR_WRITE]			= { minihv_handle_wrmsr, MINIHV_STAT_MSR },
	[EXIT_REASON_MWAIT_INSTRUCTION]		= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_MONITOR_INSTRUCTION]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_EPT_VIOLATION]		= { vmx_handle_ept_violation,
						    MINIHV_STAT_PAGE_FAULT },
	[EXIT_REASON_EPT_MISCONFIG]		= { vmx_handle_ept_misconfig, MINIHV_STAT_OTHER },
	[EXIT_REASON_INVEPT]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_INVVPID]			= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[EXIT_REASON_WBINVD]			= { minihv_handle_skip, MINIHV_STAT_OTHER },
	[EXIT_REASON_XSETBV]			= { minihv_handle_xsetbv, MINIHV_STAT_OTHER },
};

const struct minihv_exit_table vmx_exit_table = {
	vmx_exit_handlers, ARRAY_SIZE(vmx_exit_handlers)
};

void vmx_read_exit(struct minihv_vcpu *vcpu, struct minihv_exit *e)
{
	u32 reason = vmcs_read32(VM_EXIT_REASON);

	e->reason = reason;
	e->code = reason & 0xffff;
	e->failed_entry = reason & VMX_EXIT_REASONS_FAILED_VMENTRY;
	e->info1 = vmcs_readl(EXIT_QUALIFICATION);
	e->info2 = vmcs_read32(VM_EXIT_INTR_INFO);
	e->rip = vmcs_readl(GUEST_RIP);
	e->vectoring = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	e->vectoring_error = vmcs_read32(IDT_VECTORING_ERROR_CODE);
}

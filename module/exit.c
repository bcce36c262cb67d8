// SPDX-License-Identifier: GPL-2.0
/*
 * minihv: the one path every VM exit takes, whichever vendor took it, and
 * the handlers whose work is the same on both.  The vendor reads the
 * exit's facts (read_exit), its table (exit_handlers) names a handler per
 * architectural exit code (SDM Vol 3 appendix C, APM Vol 2 appendix C),
 * and the handlers here move RIP and raise exceptions through the
 * vendor's skip_instruction and queue_event.  KVM's vendor tables point
 * at kvm_emulate_cpuid() and its neighbours the same way.
 */
#include <asm/trapnr.h>

#include <uapi/linux/minihv.h>

#include "minihv.h"
#include "trace.h"

/* An exit into the vCPU's log, a ring read by MINIHV_GET_EXIT_LOG. */
static void minihv_log_exit(struct minihv_vcpu *vcpu, const struct minihv_exit *e)
{
	struct minihv_exit_record *r =
		&vcpu->exit_log[vcpu->exit_log_total++ % MINIHV_EXIT_LOG_LEN];

	r->reason = e->reason;
	r->info1 = e->info1;
	r->info2 = e->info2;
	r->rip = e->rip;
}

void minihv_fail_entry(struct minihv_vcpu *vcpu, u64 reason, int cpu, const char *what,
		       const char *why, u64 field, u64 value)
{
	struct minihv_run *run = &vcpu->run;

	run->exit_reason = MINIHV_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = cpu;
	run->fail_entry.field = field;
	run->fail_entry.value = value;
	snprintf(run->fail_entry.reason, sizeof(run->fail_entry.reason), "%s: %s",
		 what, why ? why : "no check minihv knows explains it");
}

/*
 * A fault's frame holds RFLAGS with RF set, so that the IRET back to the
 * faulting instruction does not take its instruction breakpoint again
 * (SDM Vol 3 "Instruction-Breakpoint Exception Condition"); the CPU sets
 * it when it raises the fault itself, but event injection pushes RFLAGS
 * as it is (KVM sets RF too).  Traps (#DB as minihv raises it, #BP, #OF)
 * and aborts (#DF, #MC) leave it.  Only for an exception raised here: one
 * re-injected after an exit keeps the frame its first delivery had.
 */
static bool minihv_exception_is_fault(u8 vector)
{
	const u32 not_faults = BIT(X86_TRAP_DB) | BIT(X86_TRAP_BP) | BIT(X86_TRAP_OF) |
			       BIT(X86_TRAP_DF) | BIT(X86_TRAP_MC);

	return vector < 32 && !(BIT(vector) & not_faults);
}

void minihv_queue_exception(struct minihv_vcpu *vcpu, u8 vector, bool has_error, u32 error)
{
	struct minihv_regs regs;

	if (minihv_exception_is_fault(vector)) {
		minihv_ops->get_regs(vcpu, &regs);
		regs.rflags |= X86_EFLAGS_RF;
		minihv_ops->set_regs(vcpu, &regs);
	}
	minihv_ops->queue_event(vcpu, vector | MINIHV_EVENT_EXCEPTION | MINIHV_EVENT_VALID |
				(has_error ? MINIHV_EVENT_HAS_ERROR : 0), error);
}

/*
 * The end of an instruction a core rule checked: @vector 0 says it is
 * done and the guest goes on after it; any other is the exception it
 * raises instead (#GP with error code 0, #UD and #DB without one).
 */
int minihv_complete_insn(struct minihv_vcpu *vcpu, int vector)
{
	if (!vector)
		return minihv_ops->skip_instruction(vcpu);
	minihv_queue_exception(vcpu, vector, vector == X86_TRAP_GP, 0);
	return MINIHV_RESUME_GUEST;
}

/*
 * An external interrupt, NMI, SMI, INIT, machine check or preemption
 * timer: the host's.  Its handler ran when the vendor's vcpu_run turned
 * interrupts back on, or was called right after the exit (NMI, #MC).
 */
/*
 * A nested fault on an address minihv_mmu_map_gpa() found no RAM for, from
 * either vendor; @why is its exit code, exit information and GPA.  @walk:
 * the fault hit the guest's own page-table walk, so its tables point
 * outside RAM, an internal error (KVM's too).  Else the access is MMIO,
 * emulated.  Returns the instruction's length, by which the caller moves
 * RIP, or 0 (vcpu->run holds the exit); *@resume when a device in the
 * kernel took the access and the guest goes on.
 */
int minihv_mmio_fault(struct minihv_vcpu *vcpu, const u64 why[3], bool walk, bool write,
		      bool *resume)
{
	struct minihv_cpu_mode m;
	int len;

	*resume = false;
	if (walk) {
		minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT, 3, why);
		return 0;
	}
	/* Counted as a nested fault by the table; it is MMIO after all. */
	vcpu->exit_stats[MINIHV_STAT_PAGE_FAULT]--;
	vcpu->exit_stats[MINIHV_STAT_MMIO]++;
	minihv_ops->get_cpu_mode(vcpu, &m);
	len = minihv_emulate_mmio(vcpu, &m, why[2], write, resume);
	if (len <= 0)
		*resume = false;
	return max(len, 0);
}

int minihv_handle_host_event(struct minihv_vcpu *vcpu)
{
	return MINIHV_RESUME_GUEST;
}

/*
 * A triple fault: the guest is dead (SDM Vol 3 "Interrupt 8—Double Fault
 * Exception (#DF)"; APM Vol 2 15.14.3 "Shutdown Intercept").
 */
int minihv_handle_shutdown(struct minihv_vcpu *vcpu)
{
	vcpu->run.exit_reason = MINIHV_EXIT_SHUTDOWN;
	return MINIHV_EXIT_TO_USER;
}

int minihv_handle_cpuid(struct minihv_vcpu *vcpu)
{
	minihv_cpuid(vcpu);
	return minihv_ops->skip_instruction(vcpu);
}

/*
 * With RFLAGS.TF, skip_instruction() queues the single-step trap of the
 * HLT (debugreg.c), and a queued event keeps every interrupt and NMI out
 * (event_allowed()): a halted vCPU would never wake.  The trap ends the
 * HLT at once instead, EIP after it, as KVM's pending exception does
 * (kvm_vcpu_has_events()); the SDM does not say whether the CPU waits for
 * the interrupt first (intercepts_test db_single_step_over_hlt).
 */
int minihv_handle_hlt(struct minihv_vcpu *vcpu)
{
	struct minihv_regs regs;

	minihv_ops->get_regs(vcpu, &regs);
	if (!minihv_ops->skip_instruction(vcpu))
		return MINIHV_EXIT_TO_USER;
	if (regs.rflags & X86_EFLAGS_TF)
		return MINIHV_RESUME_GUEST;
	return minihv_halt(vcpu);
}

/* KVM's answer to a hypercall it does not know (uapi/linux/kvm_para.h). */
#define MINIHV_HC_ENOSYS	1000

/*
 * VMCALL or VMMCALL.  minihv defines no hypercalls, but it is the cheapest
 * exit there is (the benchmark's null exit), so it answers -ENOSYS rather
 * than faulting, and the guest goes on.
 */
int minihv_handle_hypercall(struct minihv_vcpu *vcpu)
{
	vcpu->regs[VCPU_REGS_RAX] = -MINIHV_HC_ENOSYS;
	return minihv_ops->skip_instruction(vcpu);
}

/*
 * XSETBV always exits (SDM Vol 3 "Instructions That Cause VM Exits
 * Unconditionally"; APM Vol 2 15.9 with the intercept).
 */
int minihv_handle_xsetbv(struct minihv_vcpu *vcpu)
{
	struct minihv_cpu_mode m;

	minihv_ops->get_cpu_mode(vcpu, &m);
	return minihv_complete_insn(vcpu, minihv_xsetbv(vcpu, m.cpl,
							m.paging.cr4 & X86_CR4_OSXSAVE));
}

int minihv_handle_rdmsr(struct minihv_vcpu *vcpu)
{
	return minihv_complete_insn(vcpu, minihv_emulate_msr(vcpu, false) ? X86_TRAP_GP : 0);
}

int minihv_handle_wrmsr(struct minihv_vcpu *vcpu)
{
	return minihv_complete_insn(vcpu, minihv_emulate_msr(vcpu, true) ? X86_TRAP_GP : 0);
}

/*
 * INVD and WBINVD, skipped.  INVD would drop the host's dirty cache
 * lines.  WBINVD is a no-op, as in KVM without an assigned device: guest
 * memory is ordinary write-back host memory that nothing needs flushed,
 * and a guest could stall every core sharing the caches with it.
 */
int minihv_handle_skip(struct minihv_vcpu *vcpu)
{
	return minihv_ops->skip_instruction(vcpu);
}

/*
 * RDPMC: the counters are the host's.  The guest has no PMU (CPUID leaf
 * 0Ah, cpuid.c), so every index is invalid: #GP(0) (SDM Vol 2B and APM
 * Vol 3 "RDPMC"), as in KVM.
 */
int minihv_handle_rdpmc(struct minihv_vcpu *vcpu)
{
	return minihv_complete_insn(vcpu, X86_TRAP_GP);
}

/*
 * The virtualization instructions (no nesting), MONITOR/MWAIT, and on
 * AMD-V RDTSCP, which CPUID hides (cpuid.c) and which would read the
 * host's TSC_AUX: not for guests.
 */
int minihv_handle_ud(struct minihv_vcpu *vcpu)
{
	return minihv_complete_insn(vcpu, X86_TRAP_UD);
}

/*
 * Called by the vendor's vcpu_run once the guest has exited and the
 * host's state is back; returns what the handler returns (enum
 * minihv_exit_ret, or -errno).  An exit code no table entry names goes to
 * userspace as an internal error with the raw facts: the host never
 * panics on a guest's behalf.
 */
int minihv_handle_exit(struct minihv_vcpu *vcpu)
{
	const struct minihv_exit_handler *h = NULL;
	struct minihv_exit e;

	minihv_ops->read_exit(vcpu, &e);
	minihv_log_exit(vcpu, &e);
	trace_minihv_exit(vcpu->id, e.reason, e.info1, e.info2, e.rip);

	if (e.failed_entry) {
		vcpu->exit_stats[MINIHV_STAT_FAIL_ENTRY]++;
		return minihv_ops->handle_failed_entry(vcpu);
	}

	/*
	 * An event whose delivery the exit interrupted (a nested fault on
	 * the guest's IDT or stack) is delivered again at the next entry
	 * (SDM Vol 3 "Information for VM Exits During Event Delivery" and
	 * "Event Injection"; APM Vol 2 15.7.2); without one, nothing is left
	 * queued from the last exit.
	 */
	minihv_ops->queue_event(vcpu, (e.vectoring & MINIHV_EVENT_VALID) ? e.vectoring : 0,
				e.vectoring_error);

	if (e.code < minihv_ops->exit_table->nr)
		h = &minihv_ops->exit_table->handlers[e.code];
	if (h && h->fn) {
		vcpu->exit_stats[h->stat]++;
		return h->fn(vcpu);
	}

	vcpu->exit_stats[MINIHV_STAT_OTHER]++;
	{
		u64 data[4] = { e.reason, e.info1, e.info2, e.vectoring };

		minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT, 4, data);
	}
	return MINIHV_EXIT_TO_USER;
}

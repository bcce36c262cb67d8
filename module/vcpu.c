// SPDX-License-Identifier: GPL-2.0
/*
 * minihv vCPUs: the vCPU fd, its mmap'd run structure, the run loop that is
 * the same for both vendors, register access, and the parts of exit
 * handling that do not depend on the vendor (port I/O, CPUID values,
 * completing what userspace served).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/cpumask.h>
#include <linux/build_bug.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

/* smp_send_reschedule() traces the IPI on newer kernels. */
#include <trace/events/ipi.h>

#include <asm/mce.h>
#include <asm/processor.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>

#include "minihv.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

/* The run structure's fixed-size union is part of the ABI. */
static_assert(sizeof(struct minihv_run) == 24 + 256);
static_assert(offsetof(struct minihv_run, exit_reason) == 8);
static_assert(sizeof(struct minihv_regs) == 18 * 8);
static_assert(ARRAY_SIZE(((struct minihv_exit_stats *)0)->count) >= MINIHV_STAT_NR);

#define MINIHV_RUN_PAGES	2	/* struct minihv_run, then port I/O data */
#define MINIHV_PIO_OFFSET	PAGE_SIZE

/* RFLAGS bits that must be 0 (SDM Vol 1 3.4.3); bit 1 must be 1. */
#define RFLAGS_RESERVED		(0xffffffffffc08028ULL)
#define RFLAGS_FIXED1		BIT(1)
#define RFLAGS_DF		BIT(10)

/* ---- the pages shared with the VMM (minihv.h: __vmm_mapped) ---- */

/*
 * The exit, built in vcpu->run, to the VMM's run page: once, as MINIHV_RUN
 * returns.  Everything from exit_reason on is output; the inputs before it
 * are the VMM's and are left alone.
 */
static void minihv_run_publish(struct minihv_vcpu *vcpu)
{
	const size_t from = offsetof(struct minihv_run, exit_reason);

	memcpy((u8 __force *)vcpu->run_page + from, (u8 *)&vcpu->run + from,
	       sizeof(vcpu->run) - from);
}

/*
 * The data the VMM answered an MMIO read with: @len bytes, a length the
 * kernel decided (vcpu->pending), into the kernel's copy, read once.
 */
static void minihv_run_fetch_mmio_data(struct minihv_vcpu *vcpu, int len)
{
	memcpy(vcpu->run.mmio.data, (u8 __force *)vcpu->run_page->mmio.data,
	       min_t(int, len, sizeof(vcpu->run.mmio.data)));
}

/* Port I/O data at @off of the port I/O page: OUT and OUTS write it... */
static void minihv_pio_write(struct minihv_vcpu *vcpu, unsigned int off,
			     const void *src, unsigned int len)
{
	if (WARN_ON_ONCE(off + len > PAGE_SIZE))
		return;
	memcpy((u8 __force *)vcpu->pio_page + off, src, len);
}

/* ...and completing an IN or INS reads the VMM's answer, once. */
static void minihv_pio_read(struct minihv_vcpu *vcpu, unsigned int off,
			    void *dst, unsigned int len)
{
	if (WARN_ON_ONCE(off + len > PAGE_SIZE))
		return;
	memcpy(dst, (u8 __force *)vcpu->pio_page + off, len);
}

/* ---- exits to userspace ---- */

void minihv_internal_error(struct minihv_vcpu *vcpu, u32 suberror, int ndata,
			   const u64 *data)
{
	struct minihv_run *run = &vcpu->run;
	int i;

	ndata = min_t(int, ndata, ARRAY_SIZE(run->internal.data));
	run->exit_reason = MINIHV_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = ndata;
	for (i = 0; i < ndata; i++)
		run->internal.data[i] = data[i];
}

static u64 addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/* Writes @val into the low @size bytes of a register the way x86 does. */
void minihv_set_reg_sized(unsigned long *reg, u64 val, int size)
{
	switch (size) {
	case 1:
		*reg = (*reg & ~0xffUL) | (val & 0xff);
		break;
	case 2:
		*reg = (*reg & ~0xffffUL) | (val & 0xffff);
		break;
	case 4:
		*reg = (u32)val;	/* 32-bit results zero-extend */
		break;
	default:
		*reg = val;
	}
}

/*
 * String I/O after @n items (SDM Vol 2B "INS", "OUTS"): RSI or RDI (@idx)
 * moved @n steps from @off, and with a REP, RCX counted down by @n.
 * Returns whether the instruction is done (no REP, or RCX reached 0).
 */
bool minihv_string_io_advance(struct minihv_vcpu *vcpu, int idx, u64 off, s64 step,
			      u64 n, u8 addr_size, bool rep)
{
	u64 mask = addr_mask(addr_size);

	minihv_set_reg_sized(&vcpu->regs[idx], off + n * step, addr_size);
	if (!rep)
		return true;
	minihv_set_reg_sized(&vcpu->regs[VCPU_REGS_RCX],
			     (vcpu->regs[VCPU_REGS_RCX] & mask) - n, addr_size);
	return !(vcpu->regs[VCPU_REGS_RCX] & mask);
}

/*
 * An INS/OUTS operand minihv cannot reach: not guest RAM (MMIO, no slot;
 * a read-only slot for INS) or not mapped by the guest's page tables.
 * KVM emulates the first and injects #PF for the second; minihv ends the
 * run with an error that names the address, RIP still on the instruction.
 */
int minihv_string_io_error(struct minihv_vcpu *vcpu, u64 linear, u16 port, int r)
{
	u64 data[3] = { linear, port, -r };

	minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_STRING_IO, 3, data);
	return MINIHV_EXIT_TO_USER;
}

/*
 * String I/O moves up to a page of items per exit; a REP with more left
 * re-executes the instruction (RIP unchanged) and exits again, so a guest
 * interrupted mid-REP resumes correctly, as on hardware.
 */
static int minihv_string_io(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			    const struct minihv_io_exit *io, bool *done)
{
	struct minihv_pending_io *p = &vcpu->pending;
	u64 mask = addr_mask(io->addr_size);
	int idx = io->in ? VCPU_REGS_RDI : VCPU_REGS_RSI;
	u64 base = io->in ? m->seg_base[SEG_ES] : m->seg_base[io->seg];
	u64 count = io->rep ? (vcpu->regs[VCPU_REGS_RCX] & mask) : 1;
	s64 step = (m->rflags & RFLAGS_DF) ? -io->size : io->size;
	u64 i, off = vcpu->regs[idx] & mask;
	int r;

	if (!count) {
		*done = true;	/* REP with RCX = 0 does nothing */
		return 1;
	}
	count = min_t(u64, count, PAGE_SIZE / io->size);

	if (!io->in) {
		for (i = 0; i < count; i++) {
			u64 linear = base + ((off + i * step) & mask);
			u32 item;

			r = minihv_read_guest_virt(vcpu->vm, &m->paging, linear,
						   &item, io->size);
			if (r)
				return minihv_string_io_error(vcpu, linear, io->port, r);
			minihv_pio_write(vcpu, i * io->size, &item, io->size);
		}
	}

	/* Registers move now for OUTS, at completion for INS. */
	p->kind = io->in ? MINIHV_PENDING_PIO_INS : MINIHV_PENDING_NONE;
	p->size = io->size;
	p->count = count;
	p->addr_size = io->addr_size;
	p->rep = io->rep;
	p->paging = m->paging;
	p->seg_base = base;
	p->next_rip = io->next_rip;
	p->port = io->port;
	if (!io->in) {
		*done = minihv_string_io_advance(vcpu, idx, off, step, count,
						 io->addr_size, io->rep);
	} else {
		*done = false;	/* INS advances RIP when the data arrives */
	}

	vcpu->run.io.count = count;
	return 0;
}

int minihv_handle_io(struct minihv_vcpu *vcpu, struct minihv_io_exit *io, bool *done)
{
	struct minihv_run *run = &vcpu->run;
	struct minihv_cpu_mode m = {};
	int r;

	if (io->string) {
		minihv_ops->get_cpu_mode(vcpu, &m);
		minihv_decode_string_io(vcpu, &m, io);
	}
	/* The 8259s', the PIT's and the PM timer's ports: the kernel's (pio.c). */
	if (minihv_kernel_pio(vcpu, &m, io, done, &r))
		return r;
	/* A write an ioeventfd takes (eventfd.c): signalled, no exit. */
	if (!io->in && !io->string &&
	    minihv_ioeventfd_write(vcpu->vm, true, io->port, io->size,
				   &vcpu->regs[VCPU_REGS_RAX])) {
		vcpu->exit_stats[MINIHV_STAT_IO]--;
		vcpu->exit_stats[MINIHV_STAT_IOEVENTFD]++;
		*done = true;
		return MINIHV_RESUME_GUEST;
	}

	run->exit_reason = MINIHV_EXIT_IO;
	run->io.direction = io->in ? MINIHV_EXIT_IO_IN : MINIHV_EXIT_IO_OUT;
	run->io.size = io->size;
	run->io.port = io->port;
	run->io.count = 1;
	run->io.data_offset = MINIHV_PIO_OFFSET;

	if (io->string)
		return minihv_string_io(vcpu, &m, io, done);

	if (io->in) {
		vcpu->pending.kind = MINIHV_PENDING_PIO_IN;
		vcpu->pending.size = io->size;
	} else {
		minihv_pio_write(vcpu, 0, &vcpu->regs[VCPU_REGS_RAX], io->size);
	}
	*done = true;
	return 0;
}

/* An MMIO read's data into the pending destination register. */
static void mmio_to_reg(struct minihv_vcpu *vcpu, u64 val)
{
	struct minihv_pending_io *p = &vcpu->pending;
	unsigned long *reg = &vcpu->regs[p->reg];

	if (p->high_byte)
		*reg = (*reg & ~0xff00UL) | ((val & 0xff) << 8);
	else
		minihv_set_reg_sized(reg, val, p->dest_size);
}

static int minihv_complete_alu(struct minihv_vcpu *vcpu);

/*
 * Applies what userspace returned for the last exit: IN data to RAX, INS
 * data to guest memory, MMIO read data to the destination register, an
 * MMIO operand to its arithmetic.  Returns 0, or 1 when completing made a
 * new exit for userspace: the write-back of an arithmetic instruction's
 * result, or the error exit of an INS operand that could not be written
 * (minihv_string_io_error()).
 */
static int minihv_complete_pending(struct minihv_vcpu *vcpu)
{
	struct minihv_pending_io *p = &vcpu->pending;
	struct minihv_regs regs;
	u64 val = 0, mask, i, off;
	s64 step;
	int r;

	switch (p->kind) {
	case MINIHV_PENDING_PIO_IN:
		minihv_pio_read(vcpu, 0, &val, p->size);
		minihv_set_reg_sized(&vcpu->regs[VCPU_REGS_RAX], val, p->size);
		break;
	case MINIHV_PENDING_PIO_INS:
		minihv_ops->get_regs(vcpu, &regs);
		mask = addr_mask(p->addr_size);
		step = (regs.rflags & RFLAGS_DF) ? -p->size : p->size;
		off = vcpu->regs[VCPU_REGS_RDI] & mask;
		for (i = 0; i < p->count; i++) {
			u64 linear = p->seg_base + ((off + i * step) & mask);
			u32 item;

			minihv_pio_read(vcpu, i * p->size, &item, p->size);
			r = minihv_write_guest_virt(vcpu->vm, &p->paging, linear,
						    &item, p->size);
			if (r) {
				/* The elements before it are written; RDI stays. */
				p->kind = MINIHV_PENDING_NONE;
				return !minihv_string_io_error(vcpu, linear, p->port, r);
			}
		}
		if (minihv_string_io_advance(vcpu, VCPU_REGS_RDI, off, step, p->count,
					     p->addr_size, p->rep)) {
			minihv_ops->get_regs(vcpu, &regs);
			regs.rip = p->next_rip;
			minihv_ops->set_regs(vcpu, &regs);
		}
		break;
	case MINIHV_PENDING_MMIO_READ:
		memcpy(&val, vcpu->run.mmio.data, p->size);
		if (p->sign_extend)
			val = p->size == 1 ? (u64)(s8)val : (u64)(s16)val;
		mmio_to_reg(vcpu, val);
		break;
	case MINIHV_PENDING_MMIO_ALU:
		p->kind = MINIHV_PENDING_NONE;
		return minihv_complete_alu(vcpu);
	}
	p->kind = MINIHV_PENDING_NONE;
	return 0;
}

/*
 * The second half of an arithmetic instruction on MMIO (emulate.c): the
 * memory operand is in run->mmio.data.  Computes, sets the flags, and
 * stores the result in the register, or makes the exit that writes it
 * back to the device (returns 1: the run holds that MMIO write).  XCHG
 * swaps; CMP and TEST store nothing.
 */
static int minihv_complete_alu(struct minihv_vcpu *vcpu)
{
	struct minihv_pending_io *p = &vcpu->pending;
	struct minihv_run *run = &vcpu->run;
	struct minihv_regs regs;
	u64 mem = 0, out;

	memcpy(&mem, run->mmio.data, p->size);
	if (p->alu == MINIHV_ALU_XCHG) {
		mmio_to_reg(vcpu, mem);
		out = p->src;
	} else {
		minihv_ops->get_regs(vcpu, &regs);
		if (p->to_reg)
			out = minihv_alu(p->alu, p->size, p->src, mem, &regs.rflags);
		else
			out = minihv_alu(p->alu, p->size, mem, p->src, &regs.rflags);
		minihv_ops->set_regs(vcpu, &regs);
		if (p->alu == MINIHV_ALU_CMP || p->alu == MINIHV_ALU_TEST)
			return 0;
		if (p->to_reg) {
			mmio_to_reg(vcpu, out);
			return 0;
		}
	}
	run->exit_reason = MINIHV_EXIT_MMIO;
	run->mmio.phys_addr = p->gpa;
	run->mmio.len = p->size;
	run->mmio.is_write = true;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	memcpy(run->mmio.data, &out, p->size);
	vcpu->exit_stats[MINIHV_STAT_MMIO]++;
	return 1;
}

bool minihv_kernel_mmio(struct minihv_vcpu *vcpu)
{
	struct minihv_run *run = &vcpu->run;
	bool apic = vcpu->lapic &&
		    (minihv_lapic_mmio(vcpu, run->mmio.phys_addr, run->mmio.len,
				       run->mmio.is_write, run->mmio.data) ||
		     minihv_ioapic_mmio(vcpu->vm, run->mmio.phys_addr, run->mmio.len,
					run->mmio.is_write, run->mmio.data));

	if (!apic) {
		/* Not the APICs': a write an ioeventfd takes (eventfd.c), or userspace's. */
		if (!run->mmio.is_write ||
		    !minihv_ioeventfd_write(vcpu->vm, false, run->mmio.phys_addr,
					    run->mmio.len, run->mmio.data))
			return false;
		vcpu->exit_stats[MINIHV_STAT_MMIO]--;
		vcpu->exit_stats[MINIHV_STAT_IOEVENTFD]++;
		return true;
	}
	vcpu->exit_stats[MINIHV_STAT_MMIO]--;
	vcpu->exit_stats[MINIHV_STAT_IRQCHIP]++;
	/* A read's data is there: into the destination register... */
	if (minihv_complete_pending(vcpu)) {
		/* ...or into arithmetic whose result goes back to the device. */
		vcpu->exit_stats[MINIHV_STAT_MMIO]--;
		vcpu->exit_stats[MINIHV_STAT_IRQCHIP]++;
		if (!minihv_lapic_mmio(vcpu, run->mmio.phys_addr, run->mmio.len, true,
				       run->mmio.data))
			minihv_ioapic_mmio(vcpu->vm, run->mmio.phys_addr, run->mmio.len,
					   true, run->mmio.data);
	}
	return true;
}

/* ---- interrupts and NMIs from userspace ---- */

void minihv_inject_events(struct minihv_vcpu *vcpu)
{
	struct minihv_events *ev = &vcpu->events;
	bool irq_window, nmi_window = false;
	int apic_vec;

	/*
	 * An NMI goes first: it has the higher priority (SDM Vol 3 "Priority
	 * Among Simultaneous Exceptions and Interrupts").
	 */
	if (ev->nmi_queued) {
		if (minihv_ops->event_allowed(vcpu, true)) {
			trace_minihv_inject(vcpu->id, X86_TRAP_NMI, true);
			minihv_ops->inject_event(vcpu, true, X86_TRAP_NMI);
			ev->nmi_queued = false;
		} else {
			nmi_window = true;
		}
	}
	/*
	 * One event per entry: false if the NMI (or an exception) went in.
	 * Userspace's interrupt first (it stands for an external controller),
	 * then the local APIC's highest above its priority.
	 */
	if (ev->irq_queued && minihv_ops->event_allowed(vcpu, false)) {
		trace_minihv_inject(vcpu->id, ev->irq_vector, false);
		minihv_ops->inject_event(vcpu, false, ev->irq_vector);
		ev->irq_queued = false;
	}
	apic_vec = vcpu->lapic ? minihv_lapic_pending(vcpu) : -1;
	if (apic_vec >= 0 && !ev->irq_queued && minihv_ops->event_allowed(vcpu, false)) {
		/* The vector: the APIC's, or the 8259's INTA for ExtINT. */
		apic_vec = minihv_lapic_accept(vcpu, apic_vec);
		trace_minihv_inject(vcpu->id, apic_vec, false);
		minihv_ops->inject_event(vcpu, false, apic_vec);
		apic_vec = minihv_lapic_pending(vcpu);
	}
	irq_window = ev->irq_queued || apic_vec >= 0 ||
		     minihv_irq_window_requested(vcpu);
	minihv_ops->set_event_windows(vcpu, irq_window, nmi_window);
}

int minihv_window_open(struct minihv_vcpu *vcpu)
{
	/* What waited goes in at the next entry (minihv_inject_events()). */
	if (vcpu->events.irq_queued || vcpu->events.nmi_queued ||
	    (vcpu->lapic && minihv_lapic_pending(vcpu) >= 0) ||
	    !minihv_irq_window_requested(vcpu))
		return 1;
	vcpu->run.exit_reason = MINIHV_EXIT_IRQ_WINDOW_OPEN;
	return 0;
}

/* Would an NMI or an interrupt end a HLT now (SDM Vol 2A "HLT")? */
static bool minihv_halt_ends(struct minihv_vcpu *vcpu)
{
	struct minihv_events *ev = &vcpu->events;

	return (ev->nmi_queued && minihv_ops->event_allowed(vcpu, true)) ||
	       ((ev->irq_queued || (vcpu->lapic && minihv_lapic_pending(vcpu) >= 0)) &&
		minihv_ops->event_allowed(vcpu, false));
}

/*
 * A machine check that arrived while the guest ran is the host's: the
 * platform's error, in the banks of this CPU.  Both vendors intercept
 * #MC, so the guest's IDT never sees it, and the exit is not delivered
 * to the host by the CPU either: this calls the host's handler as the
 * exception would have, with the frame of an interrupted user context
 * (the guest is not the kernel, and IF was set), as KVM's
 * kvm_machine_check() does.  Called with interrupts off, on the CPU
 * of the exit, before anything else can touch the banks.
 */
void minihv_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = {
		.cs = 3,
		.flags = X86_EFLAGS_IF,
	};

	do_machine_check(&regs);
#endif
}

/*
 * HLT waits for an interrupt or an NMI: one that is queued and
 * deliverable ends it at once.  Without the in-kernel APIC the wait is
 * userspace's (MINIHV_EXIT_HLT); with it the vCPU waits in the kernel
 * (minihv_vcpu_run()) until its APIC has something to deliver.
 */
int minihv_halt(struct minihv_vcpu *vcpu)
{
	if (minihv_halt_ends(vcpu))
		return 1;
	if (vcpu->lapic) {
		vcpu->mp_state = MINIHV_MP_HALTED;
		return 1;
	}
	vcpu->run.exit_reason = MINIHV_EXIT_HLT;
	return 0;
}

void minihv_vcpu_kick(struct minihv_vcpu *vcpu)
{
	int cpu, me;

	WRITE_ONCE(vcpu->kicked, true);
	/* Pairs with minihv_exit_request(): it sees the kick or we see its CPU. */
	smp_mb();
	wake_up(&vcpu->wq);
	cpu = READ_ONCE(vcpu->guest_cpu);
	me = get_cpu();
	/*
	 * An interrupt makes a running guest exit (the reschedule IPI's
	 * handler does nothing else, as for KVM's kick).  On this CPU the
	 * guest is not running: we are.  guest_cpu may be stale: the vCPU
	 * left the guest, moved, and its old CPU went offline since; an IPI
	 * to an offline CPU is a kernel WARN.  With preemption off here no
	 * CPU can go offline (that takes stop_machine()), so the check holds
	 * until the IPI is sent, as in KVM's kvm_vcpu_kick().
	 */
	if (cpu >= 0 && cpu != me && cpu_online(cpu))
		smp_send_reschedule(cpu);
	put_cpu();
}

/*
 * The in-kernel APIC's part of each pass of the run loop: fold in what
 * other contexts asked for, and tell whether the vCPU can enter.  A
 * halted vCPU, or one waiting for SIPI, sleeps until it is kicked; 0
 * means enter, 1 means look again (after a wake-up or a signal).
 */
static int minihv_vcpu_wait(struct minihv_vcpu *vcpu)
{
	WRITE_ONCE(vcpu->kicked, false);
	/* The flag is down before the requests are read: a later kick sets it again. */
	smp_mb();
	minihv_lapic_sync(vcpu);
	if (vcpu->mp_state == MINIHV_MP_HALTED && minihv_halt_ends(vcpu))
		vcpu->mp_state = MINIHV_MP_RUNNABLE;
	if (vcpu->mp_state == MINIHV_MP_RUNNABLE)
		return 0;
	/* Interruptible: a signal ends the wait, and the loop's check the run. */
	wait_event_interruptible(vcpu->wq, READ_ONCE(vcpu->kicked) ||
				 minihv_immediate_exit(vcpu));
	return 1;
}

/* -EINVAL: not a vector; -EBUSY: one is queued already (userspace waits). */
static int minihv_vcpu_interrupt(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_interrupt irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq > 255)
		return -EINVAL;
	if (vcpu->events.irq_queued)
		return -EBUSY;
	vcpu->events.irq_vector = irq.irq;
	vcpu->events.irq_queued = true;
	return 0;
}

/* What userspace needs to decide about its next MINIHV_INTERRUPT. */
static void minihv_report_interrupt_state(struct minihv_vcpu *vcpu)
{
	struct minihv_regs regs;

	minihv_ops->get_regs(vcpu, &regs);
	vcpu->run.if_flag = !!(regs.rflags & X86_EFLAGS_IF);
	vcpu->run.ready_for_interrupt_injection = !vcpu->events.irq_queued &&
		minihv_ops->event_allowed(vcpu, false);
}

/* ---- the vCPU fd ---- */

static int minihv_vcpu_run(struct minihv_vcpu *vcpu)
{
	struct minihv_run *run = &vcpu->run;
	struct minihv_vm *vm = vcpu->vm;
	int r;

	/* An MMIO read userspace served: its data, read once, then ours. */
	if (vcpu->pending.kind == MINIHV_PENDING_MMIO_READ ||
	    vcpu->pending.kind == MINIHV_PENDING_MMIO_ALU)
		minihv_run_fetch_mmio_data(vcpu, vcpu->pending.size);
	/*
	 * 1: completing the last exit ended in an error exit instead.  An
	 * INS writes guest memory: the slots must hold still meanwhile.
	 */
	down_read(&vm->slots_rwsem);
	r = minihv_complete_pending(vcpu);
	up_read(&vm->slots_rwsem);
	if (r) {
		r = 0;
		goto out;
	}

	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, true);
	for (;;) {
		/*
		 * The host is rebooting: VMX/SVM is off or about to be, and
		 * the vendor enters no more (minihv_exit_request()).
		 */
		if (READ_ONCE(minihv_rebooting)) {
			r = -EIO;
			break;
		}
		/*
		 * A signal ends the run as in KVM: -EINTR, MINIHV_EXIT_INTR;
		 * so does immediate_exit, which a thread that kicks this one
		 * sets before its signal, so that a kick just before the
		 * ioctl is not lost.
		 */
		if (signal_pending(current) || minihv_immediate_exit(vcpu)) {
			run->exit_reason = MINIHV_EXIT_INTR;
			r = -EINTR;
			break;
		}
		cond_resched();
		if (vcpu->lapic && minihv_vcpu_wait(vcpu))
			continue;
		minihv_inject_events(vcpu);

		down_read(&vm->slots_rwsem);
		trace_minihv_entry(vcpu->id);
		r = minihv_ops->vcpu_run(vcpu);
		up_read(&vm->slots_rwsem);
		WRITE_ONCE(vcpu->guest_cpu, -1);
		run->exit_count = vcpu->exits;
		if (r <= 0)
			break;
	}
	/*
	 * An exit handled after the reboot's IPI read the VMCS as 0s
	 * (vmx_insn_fault()): whatever it says, the run failed.
	 */
	if (READ_ONCE(minihv_rebooting))
		r = -EIO;
	fpu_swap_kvm_fpstate(&vcpu->guest_fpu, false);
	minihv_report_interrupt_state(vcpu);
	trace_minihv_userspace_exit(vcpu->id, run->exit_reason, r < 0 ? r : 0);
out:
	minihv_run_publish(vcpu);
	return r;
}

/*
 * struct minihv_regs starts with the 16 GPRs in its own order; vcpu->regs
 * holds them in the encoding's (regs.h).  Entry i of this table is where
 * GPR i of struct minihv_regs lives in vcpu->regs.
 */
static const u8 minihv_uapi_gprs[] = {
	VCPU_REGS_RAX, VCPU_REGS_RBX, VCPU_REGS_RCX, VCPU_REGS_RDX,
	VCPU_REGS_RSI, VCPU_REGS_RDI, VCPU_REGS_RSP, VCPU_REGS_RBP,
	VCPU_REGS_R8, VCPU_REGS_R9, VCPU_REGS_R10, VCPU_REGS_R11,
	VCPU_REGS_R12, VCPU_REGS_R13, VCPU_REGS_R14, VCPU_REGS_R15,
};

static_assert(offsetof(struct minihv_regs, rip) == sizeof(minihv_uapi_gprs) * sizeof(u64));

static int minihv_vcpu_get_regs(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_regs regs;
	u64 *gpr = (u64 *)&regs;
	int i;

	memset(&regs, 0, sizeof(regs));
	for (i = 0; i < ARRAY_SIZE(minihv_uapi_gprs); i++)
		gpr[i] = vcpu->regs[minihv_uapi_gprs[i]];
	minihv_ops->get_regs(vcpu, &regs);
	return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
}

static int minihv_vcpu_set_regs(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_regs regs;
	u64 *gpr = (u64 *)&regs;
	int i;

	if (copy_from_user(&regs, argp, sizeof(regs)))
		return -EFAULT;
	if ((regs.rflags & RFLAGS_RESERVED) || !(regs.rflags & RFLAGS_FIXED1))
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(minihv_uapi_gprs); i++)
		vcpu->regs[minihv_uapi_gprs[i]] = gpr[i];
	minihv_ops->set_regs(vcpu, &regs);
	/* New registers cancel whatever userspace was asked to complete. */
	vcpu->pending.kind = MINIHV_PENDING_NONE;
	return 0;
}

static int minihv_vcpu_get_sregs(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_sregs sregs;

	memset(&sregs, 0, sizeof(sregs));
	minihv_ops->get_sregs(vcpu, &sregs);
	return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
}

/*
 * The exit log, oldest first, with the bytes at each RIP as the guest's
 * current paging and CS base translate it (they may have changed since).
 */
static int minihv_vcpu_get_exit_log(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_exit_log *log;
	struct minihv_sregs sregs;
	struct minihv_cpu_mode m = {};
	u64 i, first;
	int r = 0, n;

	log = kzalloc(sizeof(*log), MINIHV_GFP);
	if (!log)
		return -ENOMEM;
	minihv_ops->get_sregs(vcpu, &sregs);
	m.paging = (struct minihv_paging){ sregs.cr0, sregs.cr3, sregs.cr4, sregs.efer };
	m.cs_base = sregs.cs.base;
	m.long_mode = (sregs.efer & EFER_LMA) && sregs.cs.l;
	log->total = vcpu->exit_log_total;
	log->count = min_t(u64, log->total, MINIHV_EXIT_LOG_LEN);
	first = log->total - log->count;
	/* The instruction bytes are read through the slots: they hold still. */
	down_read(&vcpu->vm->slots_rwsem);
	for (i = 0; i < log->count; i++) {
		const struct minihv_exit_record *e =
			&vcpu->exit_log[(first + i) % MINIHV_EXIT_LOG_LEN];
		struct minihv_exit_log_entry *out = &log->entries[i];

		out->reason = e->reason;
		out->info1 = e->info1;
		out->info2 = e->info2;
		out->rip = e->rip;
		m.rip = e->rip;
		n = minihv_fetch_insn(vcpu, &m, out->insn, sizeof(out->insn));
		out->insn_len = n > 0 ? n : 0;
	}
	up_read(&vcpu->vm->slots_rwsem);
	if (copy_to_user(argp, log, sizeof(*log)))
		r = -EFAULT;
	kfree(log);
	return r;
}

static int minihv_vcpu_get_exit_stats(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_exit_stats stats;

	memset(&stats, 0, sizeof(stats));
	memcpy(stats.count, vcpu->exit_stats, sizeof(vcpu->exit_stats));
	return copy_to_user(argp, &stats, sizeof(stats)) ? -EFAULT : 0;
}

static int minihv_vcpu_set_sregs(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_sregs sregs;

	if (copy_from_user(&sregs, argp, sizeof(sregs)))
		return -EFAULT;
	if (!minihv_sregs_valid(vcpu, &sregs))
		return -EINVAL;
	return minihv_ops->set_sregs(vcpu, &sregs);
}

static int minihv_vcpu_get_mp_state(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_mp_state mp = { .mp_state = vcpu->mp_state };

	if (!vcpu->lapic)
		return -ENXIO;
	return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
}

static int minihv_vcpu_set_mp_state(struct minihv_vcpu *vcpu, void __user *argp)
{
	struct minihv_mp_state mp;

	if (copy_from_user(&mp, argp, sizeof(mp)))
		return -EFAULT;
	if (!vcpu->lapic)
		return -ENXIO;
	if (mp.mp_state != MINIHV_MP_STATE_RUNNABLE &&
	    mp.mp_state != MINIHV_MP_STATE_INIT_RECEIVED &&
	    mp.mp_state != MINIHV_MP_STATE_HALTED)
		return -EINVAL;
	vcpu->mp_state = mp.mp_state;
	return 0;
}

static long minihv_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			      unsigned long arg)
{
	struct minihv_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	int r;

	/* Guest memory is reached through the creator's mappings. */
	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	if (minihv_ops->vcpu_load)
		minihv_ops->vcpu_load(vcpu);

	switch (ioctl) {
	case MINIHV_RUN:
		r = arg ? -EINVAL : minihv_vcpu_run(vcpu);
		break;
	case MINIHV_GET_REGS:
		r = minihv_vcpu_get_regs(vcpu, argp);
		break;
	case MINIHV_SET_REGS:
		r = minihv_vcpu_set_regs(vcpu, argp);
		break;
	case MINIHV_GET_SREGS:
		r = minihv_vcpu_get_sregs(vcpu, argp);
		break;
	case MINIHV_SET_SREGS:
		r = minihv_vcpu_set_sregs(vcpu, argp);
		break;
	case MINIHV_GET_EXIT_STATS:
		r = minihv_vcpu_get_exit_stats(vcpu, argp);
		break;
	case MINIHV_GET_EXIT_LOG:
		r = minihv_vcpu_get_exit_log(vcpu, argp);
		break;
	case MINIHV_GET_STATS_FD:
		r = arg ? -EINVAL : minihv_vcpu_stats_fd(filp);
		break;
	case MINIHV_INTERRUPT:
		r = minihv_vcpu_interrupt(vcpu, argp);
		break;
	case MINIHV_GET_MP_STATE:
		r = minihv_vcpu_get_mp_state(vcpu, argp);
		break;
	case MINIHV_SET_CPUID:
		r = minihv_vcpu_set_cpuid(vcpu, argp);
		break;
	case MINIHV_SET_MP_STATE:
		r = minihv_vcpu_set_mp_state(vcpu, argp);
		break;
	case MINIHV_NMI:
		/* Like the NMI pin, it latches one: a second one merges. */
		r = arg ? -EINVAL : 0;
		if (!r)
			vcpu->events.nmi_queued = true;
		break;
	default:
		r = -ENOTTY;
	}
	if (minihv_ops->vcpu_put)
		minihv_ops->vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return r;
}

static vm_fault_t minihv_vcpu_fault(struct vm_fault *vmf)
{
	struct minihv_vcpu *vcpu = vmf->vma->vm_file->private_data;

	if (vmf->pgoff >= MINIHV_RUN_PAGES)
		return VM_FAULT_SIGBUS;
	vmf->page = vcpu->run_pages[vmf->pgoff];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct minihv_vcpu_vm_ops = {
	.fault = minihv_vcpu_fault,
};

static int minihv_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff + vma_pages(vma) > MINIHV_RUN_PAGES)
		return -EINVAL;
	vma->vm_ops = &minihv_vcpu_vm_ops;
	return 0;
}

static void minihv_vcpu_free_run_pages(struct minihv_vcpu *vcpu)
{
	int i;

	for (i = 0; i < MINIHV_RUN_PAGES; i++)
		if (vcpu->run_pages[i])
			__free_page(vcpu->run_pages[i]);
}

static void minihv_vcpu_destroy(struct minihv_vcpu *vcpu)
{
	kfree(vcpu->cpuid);
	minihv_lapic_free(vcpu);
	minihv_ops->vcpu_free(vcpu);
	minihv_mmu_free_cache(vcpu);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
	minihv_vcpu_free_run_pages(vcpu);
	kfree(vcpu);
}

static int minihv_vcpu_release(struct inode *inode, struct file *filp)
{
	struct minihv_vcpu *vcpu = filp->private_data;
	struct minihv_vm *vm = vcpu->vm;

	mutex_lock(&vm->lock);
	/* irq_lock: no IPI or I/O APIC message is being delivered to it. */
	spin_lock_irq(&vm->irq_lock);
	vm->vcpus[vcpu->id] = NULL;
	spin_unlock_irq(&vm->irq_lock);
	mutex_unlock(&vm->lock);
	minihv_vcpu_destroy(vcpu);
	minihv_vm_put(vm);
	return 0;
}

static const struct file_operations minihv_vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = minihv_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = minihv_vcpu_mmap,
	.release = minihv_vcpu_release,
	.llseek = noop_llseek,
};

int minihv_vcpu_mmap_size(void)
{
	return MINIHV_RUN_PAGES * PAGE_SIZE;
}

/* -EINVAL: id out of range; -EEXIST: id in use. */
int minihv_vcpu_fd_create(struct minihv_vm *vm, unsigned long id)
{
	struct minihv_vcpu *vcpu;
	int r, i;

	if (id >= MINIHV_MAX_VCPUS)
		return -EINVAL;

	vcpu = kzalloc(sizeof(*vcpu), MINIHV_GFP);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	minihv_msrs_reset(vcpu);
	vcpu->xcr0 = XFEATURE_MASK_FP;	/* at RESET (SDM Vol 1 13.3) */
	minihv_debugregs_reset(vcpu);
	vcpu->guest_cpu = -1;
	init_waitqueue_head(&vcpu->wq);
	mutex_init(&vcpu->mutex);
	/*
	 * Separate order-0 pages: each is mapped on its own by the fault
	 * handler, and a tail page of a non-compound block has no refcount
	 * of its own to take.
	 */
	r = -ENOMEM;
	for (i = 0; i < MINIHV_RUN_PAGES; i++) {
		vcpu->run_pages[i] = alloc_page(MINIHV_GFP | __GFP_ZERO);
		if (!vcpu->run_pages[i])
			goto err_free_pages;
	}
	vcpu->run_page = (struct minihv_run __force __vmm_mapped *)
			 page_address(vcpu->run_pages[0]);
	vcpu->pio_page = (u8 __force __vmm_mapped *)page_address(vcpu->run_pages[1]);
	/* The guest's FPU state starts in the x87/SSE reset (FNINIT) state. */
	if (!fpu_alloc_guest_fpstate(&vcpu->guest_fpu))
		goto err_free_pages;

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->vcpus[id])
		goto err_unlock;
	r = minihv_ops->vcpu_create(vcpu);
	if (r)
		goto err_unlock;
	if (vm->ioapic) {
		r = minihv_lapic_create(vcpu);
		if (r)
			goto err_vcpu_free;
	}

	/*
	 * The vCPU's reference on the VM is taken before its fd exists; the
	 * fd is installed last, with vm->lock held so that a racing close()
	 * finds the vCPU in the table (KVM's kvm_vm_ioctl_create_vcpu).
	 */
	minihv_vm_get(vm);
	spin_lock_irq(&vm->irq_lock);
	vm->vcpus[id] = vcpu;
	spin_unlock_irq(&vm->irq_lock);
	r = anon_inode_getfd("minihv-vcpu", &minihv_vcpu_fops, vcpu,
			     O_RDWR | O_CLOEXEC);
	if (r < 0) {
		spin_lock_irq(&vm->irq_lock);
		vm->vcpus[id] = NULL;
		spin_unlock_irq(&vm->irq_lock);
		mutex_unlock(&vm->lock);
		minihv_vm_put(vm);
		minihv_lapic_free(vcpu);
		minihv_ops->vcpu_free(vcpu);
		goto err_free_fpu;
	}
	mutex_unlock(&vm->lock);
	return r;

err_vcpu_free:
	minihv_ops->vcpu_free(vcpu);
err_unlock:
	mutex_unlock(&vm->lock);
err_free_fpu:
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
err_free_pages:
	minihv_vcpu_free_run_pages(vcpu);
	kfree(vcpu);
	return r;
}

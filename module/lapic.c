// SPDX-License-Identifier: GPL-2.0
/*
 * minihv's local APIC: one per vCPU once userspace asked for the in-kernel
 * interrupt controller (MINIHV_CREATE_IRQCHIP).  SDM Vol 3 chapter 12
 * ("Advanced Programmable Interrupt Controller") is the model; register
 * offsets and bits are named as there.
 *
 * What a guest sees: the xAPIC page at FEE00000h (MMIO, decoded by
 * emulate.c and served here without leaving the kernel), the same
 * registers as x2APIC MSRs 800h-8FFh once IA32_APIC_BASE.EXTD is set,
 * a timer on an hrtimer (one-shot, periodic, TSC-deadline; the APIC bus
 * runs at 1 GHz), priorities (TPR/CR8, PPR, IRR, ISR), EOI with the
 * I/O APIC's level-triggered lines, and IPIs (fixed, lowest priority,
 * NMI, INIT, SIPI, the shorthands and broadcast) so that a guest starts
 * its own application processors.
 *
 * The registers belong to the vCPU's thread; other contexts only set bits
 * in the request words and kick it, and it folds them in before each
 * entry (minihv_lapic_sync()), as posted interrupts do in hardware
 * (Documentation/platform.rst, "Interrupts").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#include <asm/msr-index.h>
#include <asm/tsc.h>

#include "minihv.h"
#include "trace.h"

/* xAPIC register offsets (SDM Vol 3 table 12-1); index = offset >> 4. */
#define LAPIC_REG_ID		0x020
#define LAPIC_REG_LVR		0x030
#define LAPIC_REG_TASKPRI	0x080
#define LAPIC_REG_PROCPRI	0x0a0
#define LAPIC_REG_EOI		0x0b0
#define LAPIC_REG_LDR		0x0d0
#define LAPIC_REG_DFR		0x0e0
#define LAPIC_REG_SPIV		0x0f0
#define LAPIC_REG_ISR		0x100
#define LAPIC_REG_TMR		0x180
#define LAPIC_REG_IRR		0x200
#define LAPIC_REG_ESR		0x280
#define LAPIC_REG_LVTCMCI	0x2f0
#define LAPIC_REG_ICR		0x300
#define LAPIC_REG_ICR2		0x310
#define LAPIC_REG_LVTT		0x320
#define LAPIC_REG_LVTTHMR	0x330
#define LAPIC_REG_LVTPC		0x340
#define LAPIC_REG_LVT0		0x350
#define LAPIC_REG_LVT1		0x360
#define LAPIC_REG_LVTERR		0x370
#define LAPIC_REG_TMICT		0x380
#define LAPIC_REG_TMCCT		0x390
#define LAPIC_REG_TDCR		0x3e0
#define LAPIC_REG_SELF_IPI	0x3f0	/* x2APIC only */

#define REG(off)		((off) >> 4)

/* Version 14h (integrated APIC), 6 LVT entries (12.4.8). */
#define LAPIC_VERSION		(0x14 | (5 << 16))
#define LAPIC_LVT_MASKED		BIT(16)
#define LAPIC_LVT_DM_MASK	(7 << 8)
#define LAPIC_LVT_DM_EXTINT	(7 << 8)
#define LAPIC_LVT_TIMER_SHIFT	17
#define LAPIC_LVT_TIMER_MASK	(3 << LAPIC_LVT_TIMER_SHIFT)
#define LAPIC_TIMER_ONESHOT	0
#define LAPIC_TIMER_PERIODIC	1
#define LAPIC_TIMER_TSCDEADLINE	2
#define LAPIC_SPIV_ENABLED	BIT(8)
#define LAPIC_ICR_DM_SHIFT	8
#define LAPIC_ICR_LOGICAL	BIT(11)
#define LAPIC_ICR_BUSY		BIT(12)
#define LAPIC_ICR_ASSERT		BIT(14)
#define LAPIC_ICR_LEVEL		BIT(15)
#define LAPIC_ICR_SHORT_SHIFT	18
#define LAPIC_DFR_FLAT		0xffffffffu
/* ICR and LVT delivery modes, bits 10:8 (12.6.1). */
#define LAPIC_DM_FIXED		0
#define LAPIC_DM_LOWEST		1
#define LAPIC_DM_NMI		4
#define LAPIC_DM_INIT		5
#define LAPIC_DM_STARTUP	6
/* x2APIC register n is MSR 800h + n (12.12.1.2). */
#define LAPIC_X2APIC_MSR	0x800

/* IA32_APIC_BASE (12.4.4): BSP, EXTD (x2APIC, 12.12.1), EN. */
#define LAPIC_BASE_BSP		BIT_ULL(8)
#define LAPIC_BASE_EXTD		BIT_ULL(10)
#define LAPIC_BASE_EN		BIT_ULL(11)

/* The APIC bus, which the timer counts, at 1 GHz: one tick per ns. */
#define LAPIC_BUS_NS		1

/*
 * The shortest period of a periodic timer, as KVM's min_timer_period_us
 * (200): at most 5,000 host timer interrupts a second per vCPU.  No guest
 * needs more: Linux's periodic tick is HZ (1,000 at most), and it
 * calibrates in one-shot mode.
 */
#define LAPIC_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

enum { SHORT_NONE, SHORT_SELF, SHORT_ALL, SHORT_OTHERS };

static u32 reg_read(struct minihv_lapic *apic, u32 off)
{
	return apic->regs[REG(off)];
}

static void reg_write(struct minihv_lapic *apic, u32 off, u32 val)
{
	apic->regs[REG(off)] = val;
}

/* IRR, ISR and TMR are 256-bit registers spread over 8 words 10h apart. */
static bool vec_test(struct minihv_lapic *apic, u32 base, int vec)
{
	return apic->regs[REG(base) + vec / 32] & BIT(vec % 32);
}

static void vec_set(struct minihv_lapic *apic, u32 base, int vec)
{
	apic->regs[REG(base) + vec / 32] |= BIT(vec % 32);
}

static void vec_clear(struct minihv_lapic *apic, u32 base, int vec)
{
	apic->regs[REG(base) + vec / 32] &= ~BIT(vec % 32);
}

/* The highest vector set in a 256-bit register, or -1. */
static int vec_highest(struct minihv_lapic *apic, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 w = apic->regs[REG(base) + i];

		if (w)
			return i * 32 + __fls(w);
	}
	return -1;
}

static bool lapic_enabled(struct minihv_lapic *apic)
{
	return (apic->apic_base & LAPIC_BASE_EN) &&
	       (reg_read(apic, LAPIC_REG_SPIV) & LAPIC_SPIV_ENABLED);
}

static bool lapic_x2apic(struct minihv_lapic *apic)
{
	return apic->apic_base & LAPIC_BASE_EXTD;
}

/* PPR: the higher of TPR and the class of the highest in-service vector (12.8.3.1). */
static u32 lapic_ppr(struct minihv_lapic *apic)
{
	u32 tpr = reg_read(apic, LAPIC_REG_TASKPRI);
	int isr = vec_highest(apic, LAPIC_REG_ISR);
	u32 isrv = isr < 0 ? 0 : isr;

	return (tpr & 0xf0) >= (isrv & 0xf0) ? tpr & 0xff : isrv & 0xf0;
}

/* ---- the timer (12.5.4) ---- */

static u32 lapic_timer_mode(struct minihv_lapic *apic)
{
	return (reg_read(apic, LAPIC_REG_LVTT) & LAPIC_LVT_TIMER_MASK) >> LAPIC_LVT_TIMER_SHIFT;
}

/* Divide configuration: bits 3, 1:0; 1011b divides by 1 (figure 12-10). */
static u32 lapic_timer_divide(struct minihv_lapic *apic)
{
	u32 v = reg_read(apic, LAPIC_REG_TDCR);
	u32 shift = ((v & 3) | ((v & 8) >> 1)) + 1;

	return 1u << (shift & 7);
}

static enum hrtimer_restart lapic_timer_fn(struct hrtimer *timer)
{
	struct minihv_lapic *apic = container_of(timer, struct minihv_lapic, timer);

	atomic_inc(&apic->timer_fired);
	minihv_vcpu_kick(apic->vcpu);
	if (apic->period_ns) {
		hrtimer_forward_now(timer, ns_to_ktime(apic->period_ns));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

static void lapic_timer_stop(struct minihv_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
	apic->period_ns = 0;
	apic->tsc_deadline = 0;
	atomic_set(&apic->timer_fired, 0);
}

/* A write of the initial count starts (or, with 0, stops) the count-down. */
static void lapic_timer_start_count(struct minihv_lapic *apic)
{
	u32 count = reg_read(apic, LAPIC_REG_TMICT);
	u64 ns;

	lapic_timer_stop(apic);
	if (!count || lapic_timer_mode(apic) == LAPIC_TIMER_TSCDEADLINE)
		return;
	ns = (u64)count * lapic_timer_divide(apic) * LAPIC_BUS_NS;
	/*
	 * A periodic timer is held to LAPIC_MIN_PERIOD_NS: faster, it would
	 * have a guest raise a host timer interrupt every few microseconds
	 * per vCPU; the guest gets its ticks at that rate instead.
	 */
	if (lapic_timer_mode(apic) == LAPIC_TIMER_PERIODIC)
		apic->period_ns = max_t(u64, ns, LAPIC_MIN_PERIOD_NS);
	apic->timer_start = ktime_get();
	apic->timer_ns = ns;
	hrtimer_start(&apic->timer, ktime_add_ns(apic->timer_start, ns),
		      HRTIMER_MODE_ABS);
}

/* TMCCT: what is left of the count, from the hrtimer (0 once expired). */
static u32 lapic_timer_current(struct minihv_lapic *apic)
{
	u64 elapsed, left;

	if (!reg_read(apic, LAPIC_REG_TMICT) || !apic->timer_ns ||
	    lapic_timer_mode(apic) == LAPIC_TIMER_TSCDEADLINE)
		return 0;
	elapsed = ktime_to_ns(ktime_sub(ktime_get(), apic->timer_start));
	if (apic->period_ns)
		elapsed %= apic->period_ns;
	else if (elapsed >= apic->timer_ns)
		return 0;
	left = apic->timer_ns - min(elapsed, apic->timer_ns);
	return div_u64(left, lapic_timer_divide(apic) * LAPIC_BUS_NS);
}

/*
 * @ticks of the TSC in nanoseconds, at most KTIME_MAX / 2: a deadline
 * centuries away stays there rather than wrap ktime around.  The clamp
 * comes before the division: ticks * 10^6 / tsc_khz is a 64-bit quotient
 * of DIVQ, which faults (#DE, a host oops) when it does not fit (a
 * deadline of ~0 with a TSC below 1 GHz).  Below the clamp the quotient
 * is below KTIME_MAX / 2 + 10^6 and fits.
 */
static u64 lapic_tsc_to_ns(u64 ticks)
{
	u32 khz = tsc_khz ?: 1;

	if (div_u64(ticks, khz) >= div_u64(KTIME_MAX / 2, USEC_PER_SEC))
		return KTIME_MAX / 2;
	return min_t(u64, mul_u64_u32_div(ticks, USEC_PER_SEC, khz), KTIME_MAX / 2);
}

/* IA32_TSC_DEADLINE (12.5.4.1): fires when the guest's TSC reaches it; 0 disarms. */
static void lapic_set_tsc_deadline(struct minihv_lapic *apic, u64 deadline)
{
	struct minihv_vcpu *vcpu = apic->vcpu;
	u64 now_tsc, ns = 0;

	if (lapic_timer_mode(apic) != LAPIC_TIMER_TSCDEADLINE)
		return;		/* ignored in the other modes */
	lapic_timer_stop(apic);
	apic->tsc_deadline = deadline;
	if (!deadline)
		return;
	now_tsc = minihv_ops->get_msr(vcpu, MSR_IA32_TSC);
	if (deadline > now_tsc)
		ns = lapic_tsc_to_ns(deadline - now_tsc);
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns), HRTIMER_MODE_ABS);
}

/* ---- accepting interrupts ---- */

/*
 * Requests from any context: set the vector in the request words and
 * kick the vCPU, whose thread folds them into IRR (minihv_lapic_sync()).
 */
static void lapic_request(struct minihv_lapic *apic, int vec, bool level)
{
	if (level)
		set_bit(vec, apic->pir_tmr);
	set_bit(vec, apic->pir);
	minihv_vcpu_kick(apic->vcpu);
}

static void lapic_request_event(struct minihv_lapic *apic, int event, u8 vector)
{
	if (event == MINIHV_LAPIC_SIPI)
		WRITE_ONCE(apic->sipi_vector, vector);
	set_bit(event, &apic->events);
	minihv_vcpu_kick(apic->vcpu);
}

/* An LVT entry fires (the timer): its vector into IRR unless masked. */
static void lapic_fire_lvt(struct minihv_lapic *apic, u32 off)
{
	u32 lvt = reg_read(apic, off);

	if (!lapic_enabled(apic) || (lvt & LAPIC_LVT_MASKED) || (lvt & 0xff) < 16)
		return;
	vec_set(apic, LAPIC_REG_IRR, lvt & 0xff);
}

static void lapic_reset(struct minihv_lapic *apic);

/* The real-mode state INIT leaves and SIPI starts from (SDM Vol 3 10.1.1, table 10-1). */
static void lapic_sipi_reset(struct minihv_vcpu *vcpu, u8 vector)
{
	struct minihv_segment seg = {
		.limit = 0xffff, .type = 3, .present = 1, .s = 1,
	};
	struct minihv_sregs sregs = {};
	struct minihv_regs regs = { .rflags = 2 };

	sregs.cs = seg;
	sregs.ds = seg;
	sregs.es = seg;
	sregs.fs = seg;
	sregs.gs = seg;
	sregs.ss = seg;
	sregs.cs.type = 0xb;
	sregs.cs.selector = vector << 8;
	sregs.cs.base = (u64)vector << 12;
	sregs.tr = seg;
	sregs.tr.type = 0xb;
	sregs.tr.s = 0;
	sregs.ldt = seg;
	sregs.ldt.type = 2;
	sregs.ldt.s = 0;
	sregs.gdt.limit = 0xffff;
	sregs.idt.limit = 0xffff;
	sregs.cr0 = X86_CR0_ET | X86_CR0_CD | X86_CR0_NW;
	minihv_ops->set_sregs(vcpu, &sregs);
	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	minihv_ops->set_regs(vcpu, &regs);
	/*
	 * Nothing of the old context's events, not even NMI blocking, and
	 * its debug registers at their INIT values (SDM Vol 3 table 10-1).
	 */
	minihv_debugregs_reset(vcpu);
	minihv_ops->reset_events(vcpu);
	vcpu->events.irq_queued = false;
	vcpu->events.nmi_queued = false;
}

void minihv_lapic_sync(struct minihv_vcpu *vcpu)
{
	struct minihv_lapic *apic = vcpu->lapic;
	int i;

	/* The BSP raises the PIT's IRQ0: its message is folded in below. */
	if (!vcpu->id)
		minihv_pit_sync(vcpu->vm);
	/*
	 * INIT, then SIPI, in that order even when both came since the last
	 * look (Linux sends INIT and two SIPIs back to back, and a sleeping
	 * vCPU may wake to find all of them).
	 */
	if (test_and_clear_bit(MINIHV_LAPIC_INIT, &apic->events)) {
		/* The APIC as at power-up but for its ID; then wait for SIPI. */
		lapic_reset(apic);
		vcpu->mp_state = MINIHV_MP_INIT_WAIT;
	}
	if (test_and_clear_bit(MINIHV_LAPIC_SIPI, &apic->events) &&
	    vcpu->mp_state == MINIHV_MP_INIT_WAIT) {
		lapic_sipi_reset(vcpu, READ_ONCE(apic->sipi_vector));
		vcpu->mp_state = MINIHV_MP_RUNNABLE;
	}
	if (test_and_clear_bit(MINIHV_LAPIC_NMI, &apic->events))
		vcpu->events.nmi_queued = true;

	for (i = 0; i < 256; i += BITS_PER_LONG) {
		unsigned long req = xchg(&apic->pir[i / BITS_PER_LONG], 0);
		unsigned long lvl = xchg(&apic->pir_tmr[i / BITS_PER_LONG], 0);
		int bit;

		for_each_set_bit(bit, &req, BITS_PER_LONG) {
			vec_set(apic, LAPIC_REG_IRR, i + bit);
			if (lvl & BIT(bit))
				vec_set(apic, LAPIC_REG_TMR, i + bit);
			else
				vec_clear(apic, LAPIC_REG_TMR, i + bit);
		}
	}
	if (atomic_xchg(&apic->timer_fired, 0)) {
		if (lapic_timer_mode(apic) == LAPIC_TIMER_TSCDEADLINE)
			apic->tsc_deadline = 0;
		lapic_fire_lvt(apic, LAPIC_REG_LVTT);
	}
}

/*
 * Does the 8259's INTR reach this processor through LINT0?  It is wired
 * to the BSP's, as on a PC; it arrives when LINT0 is unmasked in ExtINT
 * mode (the MP spec's virtual wire), and when the APIC is disabled, as
 * before there were APICs (KVM's rule too).  An ExtINT bypasses IRR, ISR
 * and the priorities (SDM Vol 3 12.6.2.5, table 12-2's ExtINT).
 */
static bool lapic_takes_extint(struct minihv_lapic *apic)
{
	u32 lvt0 = reg_read(apic, LAPIC_REG_LVT0);

	if (apic->vcpu->id)
		return false;
	return !lapic_enabled(apic) ||
	       (lvt0 & (LAPIC_LVT_MASKED | LAPIC_LVT_DM_MASK)) == LAPIC_LVT_DM_EXTINT;
}

int minihv_lapic_pending(struct minihv_vcpu *vcpu)
{
	struct minihv_lapic *apic = vcpu->lapic;
	int vec;

	if (lapic_takes_extint(apic) && minihv_pic_output(vcpu->vm))
		return MINIHV_EXTINT;
	vec = vec_highest(apic, LAPIC_REG_IRR);
	if (vec < 0 || !lapic_enabled(apic))
		return -1;
	return (vec & 0xf0) > (lapic_ppr(apic) & 0xf0) ? vec : -1;
}

int minihv_lapic_accept(struct minihv_vcpu *vcpu, int vec)
{
	struct minihv_lapic *apic = vcpu->lapic;

	if (vec == MINIHV_EXTINT)
		return minihv_pic_intack(vcpu->vm);
	vec_clear(apic, LAPIC_REG_IRR, vec);
	vec_set(apic, LAPIC_REG_ISR, vec);
	return vec;
}

/* EOI ends the highest in-service vector; a level-triggered one tells the I/O APIC (12.8.5). */
static void lapic_eoi(struct minihv_lapic *apic)
{
	int vec = vec_highest(apic, LAPIC_REG_ISR);

	if (vec < 0)
		return;
	vec_clear(apic, LAPIC_REG_ISR, vec);
	if (vec_test(apic, LAPIC_REG_TMR, vec))
		minihv_ioapic_eoi(apic->vcpu->vm, vec);
}

/* ---- delivery to one or many APICs: the I/O APIC's messages and IPIs ---- */

static u32 lapic_id(struct minihv_lapic *apic)
{
	return lapic_x2apic(apic) ? apic->vcpu->id : reg_read(apic, LAPIC_REG_ID) >> 24;
}

/* Does @apic accept a message for @dest (12.6.2.1, 12.6.2.2, 12.12.10)? */
static bool lapic_match(struct minihv_lapic *apic, u32 dest, bool logical, bool x2apic)
{
	u32 ldr = reg_read(apic, LAPIC_REG_LDR);

	if (!logical) {
		if (dest == (x2apic ? 0xffffffffu : 0xff))
			return true;	/* broadcast */
		return lapic_id(apic) == dest;
	}
	if (x2apic) {
		/* Cluster in bits 31:16, a bit per APIC in 15:0. */
		if (dest == 0xffffffffu)
			return true;
		return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffff);
	}
	ldr >>= 24;
	if (dest == 0xff)
		return true;
	if (reg_read(apic, LAPIC_REG_DFR) == LAPIC_DFR_FLAT)
		return ldr & dest;
	/* Cluster model: cluster in bits 7:4, a bit per APIC in 3:0. */
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);
}

static void lapic_deliver_one(struct minihv_lapic *apic, u32 mode, u8 vec, bool level)
{
	switch (mode) {
	case LAPIC_DM_FIXED:
	case LAPIC_DM_LOWEST:
		lapic_request(apic, vec, level);
		break;
	case LAPIC_DM_NMI:
		lapic_request_event(apic, MINIHV_LAPIC_NMI, 0);
		break;
	case LAPIC_DM_INIT:
		lapic_request_event(apic, MINIHV_LAPIC_INIT, 0);
		break;
	case LAPIC_DM_STARTUP:
		lapic_request_event(apic, MINIHV_LAPIC_SIPI, vec);
		break;
	default:
		/* SMI and ExtINT: nothing in this platform sends them. */
		break;
	}
}

void minihv_lapic_deliver(struct minihv_vm *vm, const struct minihv_apic_msg *msg)
{
	struct minihv_vcpu *v;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&vm->irq_lock, flags);
	for (i = 0; i < MINIHV_MAX_VCPUS; i++) {
		v = vm->vcpus[i];
		if (!v || !v->lapic)
			continue;
		switch (msg->shorthand) {
		case SHORT_SELF:
			if (v != msg->src)
				continue;
			break;
		case SHORT_OTHERS:
			if (v == msg->src)
				continue;
			break;
		case SHORT_ALL:
			break;
		default:
			if (!lapic_match(v->lapic, msg->dest, msg->logical, msg->x2apic))
				continue;
		}
		lapic_deliver_one(v->lapic, msg->mode, msg->vector, msg->level);
		/* Lowest priority: the first that accepts it (12.6.2.4 lets us choose). */
		if (msg->mode == LAPIC_DM_LOWEST && msg->shorthand == SHORT_NONE)
			break;
	}
	spin_unlock_irqrestore(&vm->irq_lock, flags);
}

/* A write of ICR's low half sends the IPI (12.6.1). */
static void lapic_send_ipi(struct minihv_lapic *apic, u64 icr)
{
	struct minihv_apic_msg msg = {
		.src = apic->vcpu,
		.vector = icr & 0xff,
		.mode = (icr >> LAPIC_ICR_DM_SHIFT) & 7,
		.logical = icr & LAPIC_ICR_LOGICAL,
		.level = false,
		.shorthand = (icr >> LAPIC_ICR_SHORT_SHIFT) & 3,
		.x2apic = lapic_x2apic(apic),
	};

	msg.dest = msg.x2apic ? icr >> 32 : (icr >> 56) & 0xff;
	/* INIT level de-assert (14 clear, 15 set) does nothing since the P4. */
	if (msg.mode == LAPIC_DM_INIT && (icr & LAPIC_ICR_LEVEL) && !(icr & LAPIC_ICR_ASSERT))
		return;
	minihv_lapic_deliver(apic->vcpu->vm, &msg);
}

/* ---- register access: xAPIC MMIO and x2APIC MSRs ---- */

static u32 lapic_read(struct minihv_lapic *apic, u32 off)
{
	switch (off) {
	case LAPIC_REG_PROCPRI:
		return lapic_ppr(apic);
	case LAPIC_REG_TMCCT:
		return lapic_timer_current(apic);
	case LAPIC_REG_ICR:
		return reg_read(apic, off) & ~LAPIC_ICR_BUSY;	/* sent at once */
	case LAPIC_REG_EOI:
	case LAPIC_REG_SELF_IPI:
		return 0;
	default:
		return off < 0x400 ? reg_read(apic, off) : 0;
	}
}

/* LVT bits that exist (12.5.1); the rest read as 0. */
static u32 lvt_mask(u32 off)
{
	switch (off) {
	case LAPIC_REG_LVTT:
		return 0x700ff | LAPIC_LVT_TIMER_MASK;
	case LAPIC_REG_LVT0:
	case LAPIC_REG_LVT1:
		return 0x1f7ff | BIT(13);
	case LAPIC_REG_LVTERR:
		return 0x100ff;
	default:
		return 0x107ff;
	}
}

/* Returns 1 when the write is refused (x2APIC: #GP), 0 otherwise. */
static int lapic_write(struct minihv_lapic *apic, u32 off, u32 val)
{
	u32 old;
	int i;

	trace_minihv_apic(apic->vcpu->id, off, val);
	switch (off) {
	case LAPIC_REG_ID:
	case LAPIC_REG_LDR:
	case LAPIC_REG_ICR2:
		if (lapic_x2apic(apic))
			return 1;	/* read-only or absent in x2APIC mode */
		reg_write(apic, off, val & 0xff000000);
		break;
	case LAPIC_REG_TASKPRI:
		reg_write(apic, off, val & 0xff);
		break;
	case LAPIC_REG_EOI:
		lapic_eoi(apic);
		break;
	case LAPIC_REG_DFR:
		if (lapic_x2apic(apic))
			return 1;
		reg_write(apic, off, val | 0x0fffffff);
		break;
	case LAPIC_REG_SPIV:
		reg_write(apic, off, val & 0x13ff);
		/* Software disable masks every LVT entry (12.4.7.2). */
		if (!(val & LAPIC_SPIV_ENABLED)) {
			for (i = REG(LAPIC_REG_LVTT); i <= REG(LAPIC_REG_LVTERR); i++)
				apic->regs[i] |= LAPIC_LVT_MASKED;
			apic->regs[REG(LAPIC_REG_LVTCMCI)] |= LAPIC_LVT_MASKED;
		}
		break;
	case LAPIC_REG_ESR:
		reg_write(apic, off, 0);
		break;
	case LAPIC_REG_ICR:
		reg_write(apic, off, val & ~LAPIC_ICR_BUSY);
		lapic_send_ipi(apic, ((u64)reg_read(apic, LAPIC_REG_ICR2) << 32) | val);
		break;
	case LAPIC_REG_LVTT:
	case LAPIC_REG_LVTCMCI:
	case LAPIC_REG_LVTTHMR:
	case LAPIC_REG_LVTPC:
	case LAPIC_REG_LVT0:
	case LAPIC_REG_LVT1:
	case LAPIC_REG_LVTERR:
		old = lapic_timer_mode(apic);
		if (!(reg_read(apic, LAPIC_REG_SPIV) & LAPIC_SPIV_ENABLED))
			val |= LAPIC_LVT_MASKED;
		reg_write(apic, off, val & lvt_mask(off));
		/* Changing the timer's mode stops it (12.5.4.1). */
		if (off == LAPIC_REG_LVTT && lapic_timer_mode(apic) != old) {
			lapic_timer_stop(apic);
			reg_write(apic, LAPIC_REG_TMICT, 0);
		}
		break;
	case LAPIC_REG_TMICT:
		if (lapic_timer_mode(apic) == LAPIC_TIMER_TSCDEADLINE)
			break;	/* ignored in TSC-deadline mode */
		reg_write(apic, off, val);
		lapic_timer_start_count(apic);
		break;
	case LAPIC_REG_TDCR:
		reg_write(apic, off, val & 0xb);
		break;
	case LAPIC_REG_SELF_IPI:
		if (!lapic_x2apic(apic))
			return 0;
		lapic_request(apic, val & 0xff, false);
		break;
	default:
		/* Read-only or reserved: ignored by an xAPIC, #GP for x2APIC MSRs. */
		return lapic_x2apic(apic) ? 1 : 0;
	}
	return 0;
}

bool minihv_lapic_mmio(struct minihv_vcpu *vcpu, u64 gpa, int len, bool write, void *data)
{
	struct minihv_lapic *apic = vcpu->lapic;
	u32 off = gpa - MINIHV_APIC_BASE, val;

	if (!apic || gpa < MINIHV_APIC_BASE || gpa >= MINIHV_APIC_BASE + PAGE_SIZE ||
	    !(apic->apic_base & LAPIC_BASE_EN) || lapic_x2apic(apic))
		return false;
	/*
	 * Registers are 32 bits on 16-byte boundaries (12.4.1); other
	 * sizes read 0 and write nothing.
	 */
	if (write) {
		if (len == 4 && !(off & 0xf)) {
			memcpy(&val, data, 4);
			lapic_write(apic, off, val);
		}
		return true;
	}
	val = (off & 3) + len <= 4 ? lapic_read(apic, off & ~0xf) >> ((off & 3) * 8) : 0;
	memset(data, 0, len);
	memcpy(data, &val, min(len, 4));
	return true;
}

/* IA32_APIC_BASE: EN and EXTD may change (12.12.5); the page stays at FEE00000h. */
static int lapic_set_base(struct minihv_lapic *apic, u64 val)
{
	u64 allowed = LAPIC_BASE_EN | LAPIC_BASE_EXTD | LAPIC_BASE_BSP | MINIHV_APIC_BASE;
	u64 old = apic->apic_base;

	if ((val & ~allowed) != 0 || (val & ~(u64)0xfff) != MINIHV_APIC_BASE ||
	    (val & LAPIC_BASE_BSP) != (old & LAPIC_BASE_BSP))
		return 1;
	/* EXTD without EN, and x2APIC back to xAPIC without a disable, are invalid. */
	if ((val & LAPIC_BASE_EXTD) && !(val & LAPIC_BASE_EN))
		return 1;
	if ((old & LAPIC_BASE_EXTD) && !(val & LAPIC_BASE_EXTD) && (val & LAPIC_BASE_EN))
		return 1;
	apic->apic_base = val;
	if ((val & LAPIC_BASE_EXTD) && !(old & LAPIC_BASE_EXTD)) {
		/* x2APIC: the ID is the vCPU's, the logical ID derives from it. */
		u32 id = apic->vcpu->id;

		reg_write(apic, LAPIC_REG_ID, id);
		reg_write(apic, LAPIC_REG_LDR, ((id >> 4) << 16) | BIT(id & 15));
	}
	if (!(val & LAPIC_BASE_EN))
		lapic_timer_stop(apic);
	return 0;
}

int minihv_lapic_msr(struct minihv_vcpu *vcpu, u32 msr, bool write, u64 *val)
{
	struct minihv_lapic *apic = vcpu->lapic;
	u32 off;

	if (!apic)
		return -1;
	if (msr == MSR_IA32_APICBASE) {
		if (write)
			return lapic_set_base(apic, *val);
		*val = apic->apic_base;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (write)
			lapic_set_tsc_deadline(apic, *val);
		else
			*val = apic->tsc_deadline;
		return 0;
	}
	if (msr < LAPIC_X2APIC_MSR || msr > LAPIC_X2APIC_MSR + 0xff)
		return -1;
	/* x2APIC registers exist only in x2APIC mode (12.12.1.2). */
	if (!lapic_x2apic(apic))
		return 1;
	off = (msr - LAPIC_X2APIC_MSR) << 4;
	if (!write) {
		if (off == LAPIC_REG_DFR || off == LAPIC_REG_ICR2 || off == LAPIC_REG_SELF_IPI ||
		    off == LAPIC_REG_EOI)
			return 1;
		*val = lapic_read(apic, off);
		if (off == LAPIC_REG_ICR)
			*val |= (u64)reg_read(apic, LAPIC_REG_ICR2) << 32;
		return 0;
	}
	if (off == LAPIC_REG_ICR) {
		reg_write(apic, LAPIC_REG_ICR2, *val >> 32);
		return lapic_write(apic, off, *val);
	}
	if (*val >> 32)
		return 1;
	return lapic_write(apic, off, *val);
}

/*
 * CR8 is TPR[7:4] (SDM Vol 3 "Interaction of Task Priorities between CR8
 * and APIC"); without an APIC, a register of its own.
 */
u64 minihv_get_cr8(struct minihv_vcpu *vcpu)
{
	if (!vcpu->lapic)
		return vcpu->cr8;
	return reg_read(vcpu->lapic, LAPIC_REG_TASKPRI) >> 4;
}

void minihv_set_cr8(struct minihv_vcpu *vcpu, u64 cr8)
{
	if (!vcpu->lapic)
		vcpu->cr8 = cr8 & 0xf;
	else
		reg_write(vcpu->lapic, LAPIC_REG_TASKPRI, (cr8 & 0xf) << 4);
}

/*
 * The registers after RESET or INIT (12.4.7.1, 12.4.7.3): all 0 but the
 * version, DFR (all ones), SVR (FFh: software-disabled) and the LVT
 * entries (masked); INIT keeps the APIC ID and IA32_APIC_BASE.
 */
static void lapic_reset(struct minihv_lapic *apic)
{
	u32 id = reg_read(apic, LAPIC_REG_ID);
	int i;

	lapic_timer_stop(apic);
	memset(apic->regs, 0, sizeof(apic->regs));
	reg_write(apic, LAPIC_REG_ID, id);
	reg_write(apic, LAPIC_REG_LVR, LAPIC_VERSION);
	if (lapic_x2apic(apic)) {
		u32 x2id = apic->vcpu->id;

		reg_write(apic, LAPIC_REG_LDR, ((x2id >> 4) << 16) | BIT(x2id & 15));
	} else {
		reg_write(apic, LAPIC_REG_DFR, LAPIC_DFR_FLAT);
	}
	reg_write(apic, LAPIC_REG_SPIV, 0xff);
	for (i = REG(LAPIC_REG_LVTT); i <= REG(LAPIC_REG_LVTERR); i++)
		apic->regs[i] = LAPIC_LVT_MASKED;
	reg_write(apic, LAPIC_REG_LVTCMCI, LAPIC_LVT_MASKED);
}

/* The state after RESET (12.4.7.1); vCPU 0 is the bootstrap processor. */
int minihv_lapic_create(struct minihv_vcpu *vcpu)
{
	struct minihv_lapic *apic;

	apic = kzalloc(sizeof(*apic), MINIHV_GFP);
	if (!apic)
		return -ENOMEM;
	apic->vcpu = vcpu;
	/*
	 * Not _HARD: the callback kicks the vCPU, and wake_up() takes a
	 * spinlock_t, which sleeps on PREEMPT_RT.  There a timer of plain
	 * mode expires in softirq context; elsewhere in hard interrupt
	 * context, as _HARD would.
	 */
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	apic->timer.function = lapic_timer_fn;
	apic->apic_base = MINIHV_APIC_BASE | LAPIC_BASE_EN | (vcpu->id ? 0 : LAPIC_BASE_BSP);
	reg_write(apic, LAPIC_REG_ID, vcpu->id << 24);
	lapic_reset(apic);
	vcpu->lapic = apic;
	/* The application processors wait for INIT and SIPI, as on a real machine. */
	vcpu->mp_state = vcpu->id ? MINIHV_MP_INIT_WAIT : MINIHV_MP_RUNNABLE;
	return 0;
}

void minihv_lapic_free(struct minihv_vcpu *vcpu)
{
	if (!vcpu->lapic)
		return;
	hrtimer_cancel(&vcpu->lapic->timer);
	kfree(vcpu->lapic);
	vcpu->lapic = NULL;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The platform's timers, created by MINIHV_CREATE_PIT2 (KVM_CREATE_PIT2's
 * shape): the 8254 programmable interval timer (Intel's 82C54 datasheet)
 * and the ACPI PM timer.  Why they are in the kernel, what is modeled and
 * what is not: Documentation/platform.rst, "The legacy PC".
 *
 * Counts come from ktime: a counter is its initial count less the clocks
 * since it was loaded, nothing ticks.  Channel 0's interrupts come from an
 * hrtimer (the pattern of lapic.c's): the callback only sets pit->fired and
 * kicks vCPU 0, whose run loop raises IRQ0 (minihv_pit_sync()); ticks that
 * come while one waits merge into it.  Locking: Documentation/locking.rst.
 */
#include <linux/hrtimer.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "minihv.h"

#define PIT_HZ			1193182
#define PIT_CONTROL		0x43
#define PIT_PORT_B		0x61	/* the PC's "port B": gate 2, out 2 */
#define PM_TIMER_HZ		3579545
/* As lapic.c's LAPIC_MIN_PERIOD_NS and KVM's min_timer_period_us. */
#define PIT_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)
/* Port B bit 4 toggles with each DRAM refresh, every 15.085 us on the AT. */
#define PIT_REFRESH_NS		15085

/* The control word's RW field: which bytes a data port access moves. */
enum { RW_LATCH, RW_LSB, RW_MSB, RW_WORD };

struct pit_channel {
	u32 count;		/* initial count, 1 .. 65536 */
	ktime_t load_time;	/* when counting (re)started */
	bool counting;		/* a count was loaded since the control word */
	u8 mode, rw, bcd;
	bool gate;
	bool null_count;	/* control word written, count not loaded yet */
	bool read_msb, write_msb;	/* the RW_WORD flip-flops */
	u8 write_lsb;
	bool count_latched, status_latched;
	u16 latched_count;
	u8 status;
};

struct minihv_pit {
	spinlock_t lock;			/* the fields marked [lock] */
	struct minihv_vm *vm;			/* [const] */
	struct pit_channel ch[3];		/* [lock] */
	u8 port_b;				/* [lock] bits 3:0 as written */
	struct hrtimer timer;			/* channel 0 */
	u64 period_ns;				/* [lock] set while the timer is off */
	atomic_t fired;
};

/* Clocks since the counter was loaded. */
static u64 pit_ticks(const struct pit_channel *ch)
{
	s64 ns = ktime_to_ns(ktime_sub(ktime_get(), ch->load_time));

	return mul_u64_u32_div(max_t(s64, ns, 0), PIT_HZ, NSEC_PER_SEC);
}

/* The counting element now (datasheet, "Mode definitions"). */
static u16 pit_count(const struct pit_channel *ch)
{
	u32 c = ch->count;
	u64 d;

	if (!ch->counting)
		return c;
	d = pit_ticks(ch);
	switch (ch->mode) {
	case 2:
		return c - do_div(d, c);
	case 3:
		/* Down by two per clock, twice per period. */
		d *= 2;
		return (c - do_div(d, c)) & 0xfffe;
	default:
		/* Modes 0, 1, 4, 5 wrap on past the terminal count. */
		return c - d;
	}
}

static bool pit_out(const struct pit_channel *ch)
{
	u32 c = ch->count;
	u64 d;

	if (!ch->counting)
		return ch->mode != 0;	/* a control word sets OUT low in mode 0 */
	d = pit_ticks(ch);
	switch (ch->mode) {
	case 0:
	case 1:
		return d >= c;		/* high from the terminal count on */
	case 2:
		return do_div(d, c) != c - 1;	/* low for the clock at count 1 */
	case 3:
		return do_div(d, c) < (c + 1) / 2;
	default:
		return d != c;		/* modes 4, 5: a low strobe at the count */
	}
}

static enum hrtimer_restart pit_timer_fn(struct hrtimer *timer)
{
	struct minihv_pit *pit = container_of(timer, struct minihv_pit, timer);

	atomic_set(&pit->fired, 1);
	minihv_kick_bsp(pit->vm);
	if (pit->period_ns) {
		hrtimer_forward_now(timer, ns_to_ktime(pit->period_ns));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

/*
 * Channel 0's OUT rises once per period in modes 2 and 3, once at the
 * terminal count in the others: (re)arms the timer for that.
 */
static void pit_arm(struct minihv_pit *pit)
{
	struct pit_channel *ch = &pit->ch[0];
	u64 ns;

	hrtimer_cancel(&pit->timer);
	pit->period_ns = 0;
	if (!ch->counting)
		return;
	ns = max_t(u64, div_u64((u64)ch->count * NSEC_PER_SEC, PIT_HZ), 1);
	if (ch->mode == 2 || ch->mode == 3) {
		ns = max_t(u64, ns, PIT_MIN_PERIOD_NS);
		pit->period_ns = ns;
	}
	hrtimer_start(&pit->timer, ktime_add_ns(ch->load_time, ns), HRTIMER_MODE_ABS);
}

static void pit_load(struct minihv_pit *pit, int i, u32 val)
{
	struct pit_channel *ch = &pit->ch[i];

	ch->count = val ? val : 0x10000;	/* 0 is the largest count */
	ch->load_time = ktime_get();
	ch->counting = true;
	ch->null_count = false;
	if (i == 0)
		pit_arm(pit);
}

static void pit_latch_count(struct pit_channel *ch)
{
	/* A second latch before the first is read changes nothing. */
	if (ch->count_latched)
		return;
	ch->latched_count = pit_count(ch);
	ch->count_latched = true;
	ch->read_msb = false;
}

/* The read-back status byte: OUT, null count, RW, mode, BCD. */
static void pit_latch_status(struct pit_channel *ch)
{
	if (ch->status_latched)
		return;
	ch->status = pit_out(ch) << 7 | ch->null_count << 6 | ch->rw << 4 |
		     ch->mode << 1 | ch->bcd;
	ch->status_latched = true;
}

static void pit_control(struct minihv_pit *pit, u8 val)
{
	struct pit_channel *ch;
	int sc = val >> 6, i;

	if (sc == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear statuses. */
		for (i = 0; i < 3; i++) {
			if (!(val & BIT(i + 1)))
				continue;
			if (!(val & BIT(5)))
				pit_latch_count(&pit->ch[i]);
			if (!(val & BIT(4)))
				pit_latch_status(&pit->ch[i]);
		}
		return;
	}
	ch = &pit->ch[sc];
	if (((val >> 4) & 3) == RW_LATCH) {
		pit_latch_count(ch);
		return;
	}
	/* A control word stops the counter until a new count is loaded. */
	ch->rw = (val >> 4) & 3;
	ch->mode = (val >> 1) & 7;
	if (ch->mode > 5)
		ch->mode -= 4;		/* 6 and 7 are 2 and 3 */
	ch->bcd = val & 1;
	ch->counting = false;
	ch->null_count = true;
	ch->read_msb = false;
	ch->write_msb = false;
	ch->count_latched = false;
	ch->status_latched = false;
	if (sc == 0)
		pit_arm(pit);
}

/* One byte of the count, LSB or MSB as RW and the flip-flop say. */
static u8 pit_read(struct pit_channel *ch)
{
	u16 v;
	bool msb;

	if (ch->status_latched) {
		ch->status_latched = false;
		return ch->status;
	}
	v = ch->count_latched ? ch->latched_count : pit_count(ch);
	msb = ch->rw == RW_MSB || (ch->rw == RW_WORD && ch->read_msb);
	if (ch->rw == RW_WORD)
		ch->read_msb = !ch->read_msb;
	/* A latched count is held until all its bytes are read. */
	if (ch->rw != RW_WORD || !ch->read_msb)
		ch->count_latched = false;
	return msb ? v >> 8 : v;
}

static void pit_write(struct minihv_pit *pit, int i, u8 val)
{
	struct pit_channel *ch = &pit->ch[i];

	switch (ch->rw) {
	case RW_LSB:
		pit_load(pit, i, val);
		break;
	case RW_MSB:
		pit_load(pit, i, val << 8);
		break;
	default:
		if (!ch->write_msb) {
			ch->write_lsb = val;
			ch->write_msb = true;
			break;
		}
		ch->write_msb = false;
		pit_load(pit, i, ch->write_lsb | val << 8);
	}
}

static void pit_set_gate(struct pit_channel *ch, bool gate)
{
	/* A rising gate (re)triggers modes 1 and 5 and restarts 2 and 3. */
	if (gate && !ch->gate && ch->counting && ch->mode != 0 && ch->mode != 4)
		ch->load_time = ktime_get();
	ch->gate = gate;
}

void minihv_pit_io(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val)
{
	struct minihv_pit *pit = READ_ONCE(vm->pit);
	unsigned long flags;

	spin_lock_irqsave(&pit->lock, flags);
	if (port == PIT_PORT_B) {
		if (in) {
			*val = pit->port_b |
			       (div_u64(ktime_get_ns(), PIT_REFRESH_NS) & 1) << 4 |
			       pit_out(&pit->ch[2]) << 5;
		} else {
			pit->port_b = *val & 0xf;
			pit_set_gate(&pit->ch[2], *val & 1);
		}
	} else if (port == PIT_CONTROL) {
		if (in)
			*val = 0xff;	/* write-only: nothing drives the bus */
		else
			pit_control(pit, *val);
	} else if (in) {
		*val = pit_read(&pit->ch[port - 0x40]);
	} else {
		pit_write(pit, port - 0x40, *val);
	}
	spin_unlock_irqrestore(&pit->lock, flags);
}

/* vCPU 0 before its entry: channel 0's OUT rose, an edge on IRQ0. */
void minihv_pit_sync(struct minihv_vm *vm)
{
	/* Pairs with the release in minihv_pit_create(): the PIT's fields are set. */
	struct minihv_pit *pit = smp_load_acquire(&vm->pit);

	if (!pit || !atomic_xchg(&pit->fired, 0))
		return;
	minihv_pic_set_irq(vm, 0, 1);
	minihv_pic_set_irq(vm, 0, 0);
	minihv_ioapic_set_irq(vm, 2, 1);
	minihv_ioapic_set_irq(vm, 2, 0);
}

/*
 * The ACPI PM timer (ACPI 6.4 4.8.3.3): a 24-bit counter at 3.579545 MHz,
 * read-only, at MINIHV_PM_TIMER_PORT.  Its overflow status and SCI
 * (TMR_STS, TMR_EN) are not modeled.
 */
void minihv_pm_timer_io(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val)
{
	u32 t;

	if (!in)
		return;
	t = mul_u64_u32_div(ktime_get_ns(), PM_TIMER_HZ, NSEC_PER_SEC) & 0xffffff;
	*val = t >> ((port - MINIHV_PM_TIMER_PORT) * 8);
}

int minihv_pit_create(struct minihv_vm *vm, void __user *argp)
{
	struct minihv_pit_config cfg;
	struct minihv_pit *pit;
	int r, i;

	if (copy_from_user(&cfg, argp, sizeof(cfg)))
		return -EFAULT;
	if (cfg.flags || memchr_inv(cfg.pad, 0, sizeof(cfg.pad)))
		return -EINVAL;
	mutex_lock(&vm->lock);
	r = -ENOENT;
	if (!vm->pic)
		goto out;
	r = -EEXIST;
	if (vm->pit)
		goto out;
	r = -ENOMEM;
	pit = kzalloc(sizeof(*pit), MINIHV_GFP);
	if (!pit)
		goto out;
	spin_lock_init(&pit->lock);
	pit->vm = vm;
	/* Idle until programmed: LSB then MSB, mode 3, as the BIOS uses them. */
	for (i = 0; i < 3; i++) {
		pit->ch[i].rw = RW_WORD;
		pit->ch[i].mode = 3;
		pit->ch[i].count = 0x10000;
		pit->ch[i].gate = i != 2;	/* channel 2's is port 61h bit 0 */
	}
	/* Not _HARD, as lapic.c's: the callback kicks, and wake_up() may sleep on RT. */
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	pit->timer.function = pit_timer_fn;
	/* Publishes the fields set above to vCPUs already running (minihv_pit_sync()). */
	smp_store_release(&vm->pit, pit);
	r = 0;
out:
	mutex_unlock(&vm->lock);
	return r;
}

void minihv_pit_free(struct minihv_vm *vm)
{
	if (!vm->pit)
		return;
	hrtimer_cancel(&vm->pit->timer);
	kfree(vm->pit);
	vm->pit = NULL;
}

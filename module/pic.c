// SPDX-License-Identifier: GPL-2.0
/*
 * minihv's 8259A pair (Intel's 8259A datasheet), created with the I/O APIC
 * by MINIHV_CREATE_IRQCHIP as KVM_CREATE_IRQCHIP creates KVM's: the master
 * at 20h-21h, the slave at A0h-A1h on the master's IR2, and the PC
 * chipsets' ELCR at 4D0h-4D1h.  What a guest has and what is not modeled:
 * Documentation/platform.rst, "The legacy PC".
 *
 * The lines: IRQ0 from the PIT (pit.c), MINIHV_IRQ_LINE for the others.
 * The output (INTR) goes to LINT0 of vCPU 0: minihv_lapic_pending() offers
 * it as MINIHV_EXTINT, and minihv_pic_intack() is the INTA cycle that
 * yields the vector.  With no firmware to initialize the pair, it starts
 * as the PC BIOS leaves it: bases 08h and 70h, every line masked.
 *
 * Locking: pic->lock, a spinlock (port I/O runs in exit handlers), taken
 * before vm->irq_lock (Documentation/locking.rst).
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "minihv.h"

#define PIC_MASTER_CMD		0x20
#define PIC_SLAVE_CMD		0xa0
#define PIC_ELCR1		0x4d0
#define PIC_ELCR2		0x4d1
#define PIC_CASCADE_IR		2

#define ICW1_ICW4		BIT(0)	/* ICW4 follows */
#define ICW1_SINGLE		BIT(1)	/* no ICW3: no slave */
#define ICW1_INIT		BIT(4)	/* with A0 = 0: ICW1 */
#define OCW3_SEL		BIT(3)	/* with A0 = 0 and bit 4 clear: OCW3 */
#define OCW3_RIS		BIT(0)	/* read ISR (else IRR) ... */
#define OCW3_RR			BIT(1)	/* ... if this is set */
#define OCW3_POLL		BIT(2)
#define OCW3_SMM		BIT(5)	/* special mask mode on/off ... */
#define OCW3_ESMM		BIT(6)	/* ... if this is set */
#define ICW4_AEOI		BIT(1)
#define ICW4_SFNM		BIT(4)
/* OCW2 bits 7:5 (R, SL, EOI). */
enum {
	OCW2_ROTATE_AEOI_CLEAR = 0, OCW2_EOI = 1, OCW2_SPECIFIC_EOI = 3,
	OCW2_ROTATE_AEOI_SET = 4, OCW2_ROTATE_EOI = 5, OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* One 8259A. */
struct pic_chip {
	u8 irr, isr, imr;
	u8 lines;		/* input levels, for edge detection */
	u8 elcr, elcr_mask;	/* level-triggered inputs; which may be */
	u8 base;		/* ICW2: the vector of IR0 */
	u8 prio_add;		/* the IR of highest priority (rotation) */
	u8 init_step;		/* 0: operating; 2, 3, 4: the ICW expected next */
	bool icw4, single, aeoi, rotate_aeoi, sfnm;
	bool special_mask, read_isr, poll;
};

struct minihv_pic {
	spinlock_t lock;			/* the fields marked [lock] */
	struct minihv_vm *vm;			/* [const] */
	struct pic_chip chip[2];		/* [lock] master, slave */
	bool output;				/* [lock] INTR; READ_ONCE() outside */
};

/* The priority level (0 highest) of the first IR set in @mask, or 8. */
static int pic_priority(const struct pic_chip *c, u8 mask)
{
	int p;

	if (!mask)
		return 8;
	for (p = 0; !(mask & BIT((p + c->prio_add) & 7)); p++)
		;
	return p;
}

/* The IR the chip presents: requested, unmasked, above all in service; or -1. */
static int pic_chip_irq(const struct pic_chip *c, bool master)
{
	int req = pic_priority(c, c->irr & ~c->imr);
	u8 isr = c->isr;

	if (req == 8)
		return -1;
	/* Special mask mode: a masked level in service inhibits nothing. */
	if (c->special_mask)
		isr &= ~c->imr;
	/* Special fully nested: the slave's higher requests pass its IR2 in service. */
	if (master && c->sfnm)
		isr &= ~BIT(PIC_CASCADE_IR);
	if (req >= pic_priority(c, isr))
		return -1;
	return (req + c->prio_add) & 7;
}

/*
 * The slave's INT is the master's IR2, a level; the master's INT is the
 * pair's output.  A rising output kicks the BSP to look at it.
 */
static void pic_update(struct minihv_pic *pic)
{
	struct pic_chip *m = &pic->chip[0];
	bool out, was = pic->output;

	if (pic_chip_irq(&pic->chip[1], false) >= 0)
		m->irr |= BIT(PIC_CASCADE_IR);
	else
		m->irr &= ~BIT(PIC_CASCADE_IR);
	out = pic_chip_irq(m, true) >= 0;
	WRITE_ONCE(pic->output, out);
	if (out && !was)
		minihv_kick_bsp(pic->vm);
}

static void pic_chip_set(struct pic_chip *c, int irq, bool level)
{
	u8 bit = BIT(irq);

	if (c->elcr & bit) {
		/* Level-triggered: the request follows the line. */
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;		/* a rising edge */
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
}

void minihv_pic_set_irq(struct minihv_vm *vm, u32 irq, u32 level)
{
	struct minihv_pic *pic = vm->pic;
	unsigned long flags;

	if (!pic || irq >= 16 || irq == PIC_CASCADE_IR)
		return;
	spin_lock_irqsave(&pic->lock, flags);
	pic_chip_set(&pic->chip[irq >> 3], irq & 7, level);
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
}

/* The INTA cycle on one chip: ISR set (unless auto-EOI), an edge's IRR cleared. */
static void pic_chip_ack(struct pic_chip *c, int irq)
{
	if (!c->aeoi)
		c->isr |= BIT(irq);
	else if (c->rotate_aeoi)
		c->prio_add = (irq + 1) & 7;
	if (!(c->elcr & BIT(irq)))
		c->irr &= ~BIT(irq);
}

bool minihv_pic_output(struct minihv_vm *vm)
{
	return vm->pic && READ_ONCE(vm->pic->output);
}

/*
 * The vector for the BSP's ExtINT.  A request gone by the INTA cycle
 * (masked meanwhile) gives IR7's vector with nothing in service: the
 * datasheet's spurious interrupt, which guests expect.
 */
/*
 * INTA on chip @c for its IR @irq.  In auto-EOI mode that was the EOI
 * too, which a resampling irqfd on the pin must hear of as it hears of
 * an OCW2 EOI (pic_ioport()): the pin's line falls here and its bit is
 * set in @acked, for minihv_irqfd_ack() once the lock is dropped.
 */
static void pic_ack(struct minihv_pic *pic, struct pic_chip *c, int irq,
		    unsigned long *acked)
{
	int pin = irq + (c == &pic->chip[1] ? 8 : 0);

	pic_chip_ack(c, irq);
	if (c->aeoi && pin != PIC_CASCADE_IR && test_bit(pin, &pic->vm->irqfd_resample_pins)) {
		pic_chip_set(c, irq, 0);
		__set_bit(pin, acked);
	}
}

u8 minihv_pic_intack(struct minihv_vm *vm)
{
	struct minihv_pic *pic = vm->pic;
	struct pic_chip *m = &pic->chip[0], *s = &pic->chip[1];
	unsigned long flags, acked = 0;
	int irq, irq2;
	u8 vec;

	spin_lock_irqsave(&pic->lock, flags);
	irq = pic_chip_irq(m, true);
	if (irq < 0) {
		vec = m->base | 7;
	} else if (irq != PIC_CASCADE_IR) {
		pic_ack(pic, m, irq, &acked);
		vec = m->base | irq;
	} else {
		pic_chip_ack(m, irq);
		irq2 = pic_chip_irq(s, false);
		if (irq2 >= 0)
			pic_ack(pic, s, irq2, &acked);
		vec = s->base | (irq2 >= 0 ? irq2 : 7);
	}
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	/* From minihv_inject_events(): a vCPU's thread, no irqchip lock held. */
	if (acked)
		minihv_irqfd_ack(vm, acked);
	return vec;
}

/* OCW3's poll: the read acknowledges as INTA would; 80h | IR, or 0. */
static u8 pic_poll(struct minihv_pic *pic, struct pic_chip *c, unsigned long *acked)
{
	int irq = pic_chip_irq(c, c == &pic->chip[0]);

	c->poll = false;
	if (irq < 0)
		return 0;
	pic_ack(pic, c, irq, acked);
	return 0x80 | irq;
}

/* OCW2; returns the IR an EOI ended, or -1. */
static int pic_ocw2(struct pic_chip *c, u8 val)
{
	int irq = val & 7, p;

	switch (val >> 5) {
	case OCW2_ROTATE_AEOI_CLEAR:
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = val >> 7;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		/* Non-specific: the highest priority in service. */
		p = pic_priority(c, c->isr);
		if (p == 8)
			break;
		irq = (p + c->prio_add) & 7;
		c->isr &= ~BIT(irq);
		if (val >> 5 == OCW2_ROTATE_EOI)
			c->prio_add = (irq + 1) & 7;
		return irq;
	case OCW2_SPECIFIC_EOI:
		c->isr &= ~BIT(irq);
		return irq;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= ~BIT(irq);
		c->prio_add = (irq + 1) & 7;
		return irq;
	case OCW2_SET_PRIORITY:
		c->prio_add = (irq + 1) & 7;	/* @irq becomes the lowest */
		break;
	}
	return -1;
}

/* A command word; returns the IR an EOI ended, or -1. */
static int pic_write_cmd(struct pic_chip *c, u8 val)
{
	u8 elcr = c->elcr, elcr_mask = c->elcr_mask, lines = c->lines;

	if (val & ICW1_INIT) {
		/*
		 * ICW1: mask, in-service and requests cleared, IR0 first,
		 * IRR selected for reads; the edge sense is reset, so a line
		 * already high must fall and rise to request again.
		 */
		memset(c, 0, sizeof(*c));
		c->elcr = elcr;
		c->elcr_mask = elcr_mask;
		c->lines = lines;
		c->irr = elcr & lines;
		c->icw4 = val & ICW1_ICW4;
		c->single = val & ICW1_SINGLE;
		c->init_step = 2;
	} else if (val & OCW3_SEL) {
		if (val & OCW3_POLL)
			c->poll = true;
		if (val & OCW3_RR)
			c->read_isr = val & OCW3_RIS;
		if (val & OCW3_ESMM)
			c->special_mask = val & OCW3_SMM;
	} else {
		return pic_ocw2(c, val);
	}
	return -1;
}

static void pic_write_data(struct pic_chip *c, u8 val)
{
	switch (c->init_step) {
	case 2:
		c->base = val & 0xf8;
		c->init_step = c->single ? (c->icw4 ? 4 : 0) : 3;
		break;
	case 3:
		/* ICW3: the cascade is wired to IR2 whatever it says. */
		c->init_step = c->icw4 ? 4 : 0;
		break;
	case 4:
		c->aeoi = val & ICW4_AEOI;
		c->sfnm = val & ICW4_SFNM;
		c->init_step = 0;
		break;
	default:
		c->imr = val;		/* OCW1 */
	}
}

void minihv_pic_io(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val)
{
	struct minihv_pic *pic = vm->pic;
	unsigned long flags, acked = 0;
	struct pic_chip *c;
	int irq;

	spin_lock_irqsave(&pic->lock, flags);
	if (port == PIC_ELCR1 || port == PIC_ELCR2) {
		c = &pic->chip[port - PIC_ELCR1];
		if (in) {
			*val = c->elcr;
		} else {
			c->elcr = *val & c->elcr_mask;
			/* Level-triggered requests follow their lines from now on. */
			c->irr = (c->irr & ~c->elcr) | (c->lines & c->elcr);
		}
		goto out;
	}
	c = &pic->chip[(port & ~1) == PIC_SLAVE_CMD];
	if (in) {
		if (port & 1)
			*val = c->imr;
		else if (c->poll)
			*val = pic_poll(pic, c, &acked);
		else
			*val = c->read_isr ? c->isr : c->irr;
	} else if (port & 1) {
		pic_write_data(c, *val);
	} else {
		irq = pic_write_cmd(c, *val);
		if (irq >= 0)
			irq += c == &pic->chip[1] ? 8 : 0;
		/*
		 * The EOI of a line with a resampling irqfd (irqfd.c): the
		 * line falls before pic_update() looks at it, so a level
		 * request is not raised again; the resamplefd is signalled
		 * once the lock is dropped.
		 */
		if (irq >= 0 && irq != PIC_CASCADE_IR &&
		    test_bit(irq, &vm->irqfd_resample_pins)) {
			pic_chip_set(c, irq & 7, 0);
			__set_bit(irq, &acked);
		}
	}
out:
	pic_update(pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	if (acked)
		minihv_irqfd_ack(vm, acked);
}

void minihv_kick_bsp(struct minihv_vm *vm)
{
	unsigned long flags;

	spin_lock_irqsave(&vm->irq_lock, flags);
	if (vm->vcpus[0])
		minihv_vcpu_kick(vm->vcpus[0]);
	spin_unlock_irqrestore(&vm->irq_lock, flags);
}

int minihv_pic_create(struct minihv_vm *vm)
{
	struct minihv_pic *pic;
	int i;

	pic = kzalloc(sizeof(*pic), MINIHV_GFP);
	if (!pic)
		return -ENOMEM;
	spin_lock_init(&pic->lock);
	pic->vm = vm;
	for (i = 0; i < 2; i++)
		pic->chip[i].imr = 0xff;
	pic->chip[0].base = 0x08;
	pic->chip[1].base = 0x70;
	/* IRQ0-2, IRQ8 and IRQ13 are always edge-triggered (PIIX ELCR). */
	pic->chip[0].elcr_mask = 0xf8;
	pic->chip[1].elcr_mask = 0xde;
	vm->pic = pic;
	return 0;
}

void minihv_pic_free(struct minihv_vm *vm)
{
	kfree(vm->pic);
	vm->pic = NULL;
}

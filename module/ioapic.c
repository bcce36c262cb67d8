// SPDX-License-Identifier: GPL-2.0
/*
 * minihv's I/O APIC, created with the local APICs by MINIHV_CREATE_IRQCHIP,
 * as the 82093AA datasheet has it: 24 pins, a redirection table entry per
 * pin, reached through IOREGSEL (FEC00000h) and IOWIN (FEC00010h), and the
 * EOI register of version 20h.
 *
 * MINIHV_IRQ_LINE (KVM_IRQ_LINE's shape) asserts a line with level 1 and
 * de-asserts it with 0, whatever the pin's polarity (how the wire is read;
 * the wire here is the ioctl).  An edge-triggered pin sends its message on
 * each assertion; a level-triggered pin while asserted, waiting (Remote
 * IRR) for the local APIC's EOI of its vector before it sends again.
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "minihv.h"

#define IOAPIC_REG_SELECT	0x00
#define IOAPIC_REG_WINDOW	0x10
#define IOAPIC_REG_EOI		0x40

#define IOAPIC_ID		0x00
#define IOAPIC_VER		0x01
#define IOAPIC_ARB		0x02
#define IOAPIC_REDTBL		0x10	/* two registers per pin */

/* Version 20h, maximum redirection entry 23 (datasheet 3.2.2). */
#define IOAPIC_VERSION		(0x20 | ((MINIHV_IOAPIC_PINS - 1) << 16))

/* Redirection table entry (datasheet 3.2.4). */
#define RTE_VECTOR		0xffULL
#define RTE_DM_SHIFT		8
#define RTE_LOGICAL		BIT_ULL(11)
#define RTE_REMOTE_IRR		BIT_ULL(14)
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_DEST_SHIFT		56
/* Bits the guest may write: all but delivery status (12) and Remote IRR (14). */
#define RTE_WRITABLE		(0xff000000000000ffULL | 0xfULL << 8 | BIT_ULL(11) | \
				 BIT_ULL(13) | RTE_LEVEL | RTE_MASKED)

struct minihv_ioapic {
	spinlock_t lock;			/* the fields marked [lock] */
	u32 select;				/* [lock] IOREGSEL */
	u32 id;					/* [lock] */
	u64 rte[MINIHV_IOAPIC_PINS];		/* [lock] */
	unsigned long lines;			/* [lock] asserted pins */
};

/* Sends pin @pin's message if it is asserted, unmasked and not waiting for an EOI. */
static void ioapic_service(struct minihv_vm *vm, struct minihv_ioapic *io, int pin)
{
	u64 rte = io->rte[pin];
	struct minihv_apic_msg msg = {
		.vector = rte & RTE_VECTOR,
		.mode = (rte >> RTE_DM_SHIFT) & 7,
		.logical = rte & RTE_LOGICAL,
		.level = rte & RTE_LEVEL,
		.dest = rte >> RTE_DEST_SHIFT,
	};

	if (!test_bit(pin, &io->lines) || (rte & RTE_MASKED) || (rte & RTE_REMOTE_IRR))
		return;
	if (rte & RTE_LEVEL)
		io->rte[pin] |= RTE_REMOTE_IRR;
	else
		clear_bit(pin, &io->lines);	/* an edge is consumed */
	minihv_lapic_deliver(vm, &msg);
}

int minihv_ioapic_set_irq(struct minihv_vm *vm, u32 pin, u32 level)
{
	struct minihv_ioapic *io = vm->ioapic;
	unsigned long flags;

	if (!io)
		return -ENXIO;
	if (pin >= MINIHV_IOAPIC_PINS || level > 1)
		return -EINVAL;
	spin_lock_irqsave(&io->lock, flags);
	if (!level)
		clear_bit(pin, &io->lines);
	else if (!test_and_set_bit(pin, &io->lines) || (io->rte[pin] & RTE_LEVEL))
		ioapic_service(vm, io, pin);
	spin_unlock_irqrestore(&io->lock, flags);
	return 0;
}

/*
 * A local APIC's EOI of a level-triggered vector clears Remote IRR and
 * re-samples the line.  A pin with a resampling irqfd (irqfd.c) drops its
 * line first, so the EOI does not send it again, and its resamplefd is
 * signalled after the lock is dropped: KVM's ack notifiers run at the
 * same point, before Remote IRR is cleared.
 */
void minihv_ioapic_eoi(struct minihv_vm *vm, int vector)
{
	struct minihv_ioapic *io = vm->ioapic;
	unsigned long flags, acked = 0;
	int pin;

	if (!io)
		return;
	spin_lock_irqsave(&io->lock, flags);
	for (pin = 0; pin < MINIHV_IOAPIC_PINS; pin++) {
		if ((io->rte[pin] & RTE_VECTOR) != vector || !(io->rte[pin] & RTE_REMOTE_IRR))
			continue;
		if (test_bit(pin, &vm->irqfd_resample_pins)) {
			clear_bit(pin, &io->lines);
			__set_bit(pin, &acked);
		}
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		ioapic_service(vm, io, pin);
	}
	spin_unlock_irqrestore(&io->lock, flags);
	if (acked)
		minihv_irqfd_ack(vm, acked);
}

static u32 ioapic_read_reg(struct minihv_ioapic *io)
{
	u32 reg = io->select & 0xff;

	switch (reg) {
	case IOAPIC_ID:
	case IOAPIC_ARB:
		return io->id << 24;
	case IOAPIC_VER:
		return IOAPIC_VERSION;
	default:
		if (reg >= IOAPIC_REDTBL && reg < IOAPIC_REDTBL + 2 * MINIHV_IOAPIC_PINS) {
			u64 rte = io->rte[(reg - IOAPIC_REDTBL) / 2];

			return (reg & 1) ? rte >> 32 : (u32)rte;
		}
		return 0;
	}
}

static void ioapic_write_reg(struct minihv_vm *vm, struct minihv_ioapic *io, u32 val)
{
	u32 reg = io->select & 0xff;
	int pin;
	u64 rte;

	if (reg == IOAPIC_ID) {
		io->id = (val >> 24) & 0xf;
		return;
	}
	if (reg < IOAPIC_REDTBL || reg >= IOAPIC_REDTBL + 2 * MINIHV_IOAPIC_PINS)
		return;		/* version and arbitration are read-only */
	pin = (reg - IOAPIC_REDTBL) / 2;
	rte = io->rte[pin];
	if (reg & 1)
		rte = (rte & 0xffffffffULL) | ((u64)val << 32);
	else
		rte = (rte & ~0xffffffffULL) | val;
	io->rte[pin] = (io->rte[pin] & ~RTE_WRITABLE) | (rte & RTE_WRITABLE);
	/* Remote IRR means nothing for an edge-triggered pin. */
	if (!(io->rte[pin] & RTE_LEVEL))
		io->rte[pin] &= ~RTE_REMOTE_IRR;
	/* A line held while the pin was masked is seen on unmasking. */
	ioapic_service(vm, io, pin);
}

bool minihv_ioapic_mmio(struct minihv_vm *vm, u64 gpa, int len, bool write, void *data)
{
	struct minihv_ioapic *io = vm->ioapic;
	u32 off = gpa - MINIHV_IOAPIC_BASE, val = 0;
	unsigned long flags;

	if (!io || gpa < MINIHV_IOAPIC_BASE || gpa >= MINIHV_IOAPIC_BASE + PAGE_SIZE)
		return false;
	/* 32-bit accesses to the three registers; anything else reads 0, writes nothing. */
	if (write)
		memcpy(&val, data, min(len, 4));
	spin_lock_irqsave(&io->lock, flags);
	switch (off) {
	case IOAPIC_REG_SELECT:
		if (write)
			io->select = val;
		else
			val = io->select;
		break;
	case IOAPIC_REG_WINDOW:
		if (write)
			ioapic_write_reg(vm, io, val);
		else
			val = ioapic_read_reg(io);
		break;
	case IOAPIC_REG_EOI:
		spin_unlock_irqrestore(&io->lock, flags);
		if (write)
			minihv_ioapic_eoi(vm, val & 0xff);
		return true;
	default:
		val = 0;
	}
	spin_unlock_irqrestore(&io->lock, flags);
	if (!write) {
		memset(data, 0, len);
		memcpy(data, &val, min(len, 4));
	}
	return true;
}

int minihv_ioapic_create(struct minihv_vm *vm)
{
	struct minihv_ioapic *io;
	int pin;

	io = kzalloc(sizeof(*io), MINIHV_GFP);
	if (!io)
		return -ENOMEM;
	spin_lock_init(&io->lock);
	/* Every pin starts masked (datasheet 3.2.4). */
	for (pin = 0; pin < MINIHV_IOAPIC_PINS; pin++)
		io->rte[pin] = RTE_MASKED;
	/* Publishes the pins set above to READ_ONCE(vm->ioapic) readers. */
	smp_store_release(&vm->ioapic, io);
	return 0;
}

void minihv_ioapic_free(struct minihv_vm *vm)
{
	kfree(vm->ioapic);
	vm->ioapic = NULL;
}

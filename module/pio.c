// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O the kernel serves: the ports of the devices in the module
 * (pic.c, pit.c), found in a small table before a port I/O exit goes to
 * userspace (KVM's KVM_PIO_BUS), each only while its device exists.  An
 * access belongs to the device its first port is in; the 8-bit devices
 * see a wider access as one byte per port, as the ISA bus splits it, and
 * bytes past their ports read FFh.  String I/O to them is done here too,
 * an item at a time, a bounded number of items per exit as on the
 * userspace path, so a device's state never depends on the path taken.
 */
#include <linux/kernel.h>

#include "minihv.h"

/* Items a REP INS/OUTS moves per exit before it re-executes. */
#define PIO_STRING_MAX		256

struct pio_range {
	u16 first, len;
	bool needs_pit;		/* else needs the irqchip's 8259 pair */
	bool bytewise;		/* an 8-bit device */
	void (*io)(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val);
};

static const struct pio_range pio_ranges[] = {
	{ 0x20, 2, false, true, minihv_pic_io },		/* master 8259 */
	{ 0xa0, 2, false, true, minihv_pic_io },		/* slave 8259 */
	{ 0x4d0, 2, false, true, minihv_pic_io },	/* ELCR */
	{ 0x40, 4, true, true, minihv_pit_io },		/* 8254 */
	{ 0x61, 1, true, true, minihv_pit_io },		/* port B */
	{ MINIHV_PM_TIMER_PORT, 4, true, false, minihv_pm_timer_io },
};

static const struct pio_range *pio_find(struct minihv_vm *vm, u16 port)
{
	const struct pio_range *r;

	for (r = pio_ranges; r < pio_ranges + ARRAY_SIZE(pio_ranges); r++) {
		if (port < r->first || port >= r->first + r->len)
			continue;
		if (r->needs_pit ? !READ_ONCE(vm->pit) : !vm->pic)
			return NULL;
		return r;
	}
	return NULL;
}

/* One item of @size bytes; returns an IN's data. */
static u32 pio_access(struct minihv_vm *vm, const struct pio_range *r, u16 port,
		      int size, bool in, u32 out)
{
	u32 data = 0, b;
	int i;

	if (!r->bytewise) {
		r->io(vm, port, size, in, &out);
		return out;
	}
	for (i = 0; i < size; i++) {
		b = in ? 0xff : (out >> (i * 8)) & 0xff;
		if (port + i < r->first + r->len)
			r->io(vm, port + i, 1, in, &b);
		data |= (b & 0xff) << (i * 8);
	}
	return data;
}

static int pio_string(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
		      const struct minihv_io_exit *io, const struct pio_range *r,
		      bool *done)
{
	u64 mask = io->addr_size == 8 ? ~0ULL : BIT_ULL(io->addr_size * 8) - 1;
	int idx = io->in ? VCPU_REGS_RDI : VCPU_REGS_RSI;
	u64 base = io->in ? m->seg_base[SEG_ES] : m->seg_base[io->seg];
	u64 count = io->rep ? (vcpu->regs[VCPU_REGS_RCX] & mask) : 1;
	s64 step = (m->rflags & X86_EFLAGS_DF) ? -io->size : io->size;
	u64 i, off = vcpu->regs[idx] & mask, linear = 0;
	u32 item = 0;
	int ret = 0;

	count = min_t(u64, count, PIO_STRING_MAX);
	for (i = 0; i < count && !ret; i++) {
		linear = base + ((off + i * step) & mask);
		if (io->in) {
			item = pio_access(vcpu->vm, r, io->port, io->size, true, 0);
			ret = minihv_write_guest_virt(vcpu->vm, &m->paging, linear,
						      &item, io->size);
		} else {
			ret = minihv_read_guest_virt(vcpu->vm, &m->paging, linear,
						     &item, io->size);
			if (!ret)
				pio_access(vcpu->vm, r, io->port, io->size, false, item);
		}
	}
	if (ret)
		i--;		/* the item that failed was not moved */
	*done = minihv_string_io_advance(vcpu, idx, off, step, i, io->addr_size, io->rep);
	if (ret)
		return minihv_string_io_error(vcpu, linear, io->port, ret);
	return MINIHV_RESUME_GUEST;
}

bool minihv_kernel_pio(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
		       const struct minihv_io_exit *io, bool *done, int *ret)
{
	const struct pio_range *r = pio_find(vcpu->vm, io->port);
	u32 val;

	if (!r)
		return false;
	vcpu->exit_stats[MINIHV_STAT_IO]--;
	vcpu->exit_stats[MINIHV_STAT_IRQCHIP]++;
	if (io->string) {
		*ret = pio_string(vcpu, m, io, r, done);
		return true;
	}
	val = pio_access(vcpu->vm, r, io->port, io->size, io->in,
			 vcpu->regs[VCPU_REGS_RAX]);
	if (io->in)
		minihv_set_reg_sized(&vcpu->regs[VCPU_REGS_RAX], val, io->size);
	*done = true;
	*ret = MINIHV_RESUME_GUEST;
	return true;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The legacy PC platform in the kernel (Documentation/platform.rst): the
 * 8259 pair (pic.c), created with the I/O APIC by MINIHV_CREATE_IRQCHIP;
 * the 8254 PIT and the ACPI PM timer (pit.c), created by
 * MINIHV_CREATE_PIT2; and the port I/O path that serves their ports
 * without leaving the kernel (pio.c).
 */
#ifndef MINIHV_PLATFORM_H
#define MINIHV_PLATFORM_H

#include <linux/types.h>

struct minihv_vm;
struct minihv_vcpu;
struct minihv_cpu_mode;
struct minihv_io_exit;

/* The vector of an interrupt the 8259 delivers through LINT0 (ExtINT). */
#define MINIHV_EXTINT		256

/* pic.c: -errno from create; set_irq drives input @irq (0-15, not 2). */
int minihv_pic_create(struct minihv_vm *vm);
void minihv_pic_free(struct minihv_vm *vm);
void minihv_pic_set_irq(struct minihv_vm *vm, u32 irq, u32 level);
/* INTR to the BSP's LINT0, and the INTA cycle that takes the vector. */
bool minihv_pic_output(struct minihv_vm *vm);
u8 minihv_pic_intack(struct minihv_vm *vm);
/* Kicks vCPU 0, the processor whose LINT0 the 8259 and the PIT wake. */
void minihv_kick_bsp(struct minihv_vm *vm);

/* pit.c */
int minihv_pit_create(struct minihv_vm *vm, void __user *argp);
void minihv_pit_free(struct minihv_vm *vm);
/* vCPU 0, before each entry: a channel 0 tick that fired becomes IRQ0. */
void minihv_pit_sync(struct minihv_vm *vm);

/*
 * The port handlers pio.c's table names: one byte at @port (the PM timer:
 * @size bytes), IN data in *@val.
 */
void minihv_pic_io(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val);
void minihv_pit_io(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val);
void minihv_pm_timer_io(struct minihv_vm *vm, u16 port, int size, bool in, u32 *val);

/*
 * pio.c: a port I/O exit a device in the kernel serves.  Returns false
 * when the port is userspace's; otherwise true with *@r the exit handler's
 * result (1: re-enter, 0: an error exit for userspace) and *@done set when
 * RIP is to move past the instruction.
 */
bool minihv_kernel_pio(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
		       const struct minihv_io_exit *io, bool *done, int *r);

#endif /* MINIHV_PLATFORM_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Indices of the guest general-purpose registers in vcpu->regs[], in the
 * x86 encoding order (SDM Vol 2 table 2-2), so that a ModRM reg field
 * indexes the array directly.  Shared with the entry assembly, which uses
 * REG_OFF() (and gprs.S's macros); vcpu.c checks the layout at compile
 * time.
 */
#ifndef MINIHV_REGS_H
#define MINIHV_REGS_H

#define VCPU_REGS_RAX	0
#define VCPU_REGS_RCX	1
#define VCPU_REGS_RDX	2
#define VCPU_REGS_RBX	3
#define VCPU_REGS_RSP	4
#define VCPU_REGS_RBP	5
#define VCPU_REGS_RSI	6
#define VCPU_REGS_RDI	7
#define VCPU_REGS_R8	8
#define VCPU_REGS_R9	9
#define VCPU_REGS_R10	10
#define VCPU_REGS_R11	11
#define VCPU_REGS_R12	12
#define VCPU_REGS_R13	13
#define VCPU_REGS_R14	14
#define VCPU_REGS_R15	15
#define NR_VCPU_REGS	16

/* Byte offset of register r in an unsigned long array. */
#define REG_OFF(r)	((r) * 8)

#endif /* MINIHV_REGS_H */

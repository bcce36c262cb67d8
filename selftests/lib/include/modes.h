/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guests in every CPU mode without guest code of the test's own: the
 * descriptor and page tables of a fixed guest-physical layout, the state
 * that puts a vCPU in each mode, and random guests (random code, IDT and
 * registers from a seed) built the same way for any hypervisor, so that
 * run_bounds_test runs them on minihv and differential_test on minihv and
 * KVM from the same seeds.
 */
#ifndef SELFTEST_MODES_H
#define SELFTEST_MODES_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/minihv.h>

#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)
#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_PG		(1ULL << 31)
#define CR4_PSE		(1ULL << 4)
#define CR4_PAE		(1ULL << 5)

/*
 * Guest-physical layout of the mode tests (RAM_SIZE from 0):
 *   1000h GDT: null, 64-bit code (08h), 32-bit code (10h), data (18h)
 *   2000h IDT, 64-bit gates
 *   3000h 32-bit paging: one page directory of 4 MiB pages (PSE)
 *   4000h PAE: the four PDPTEs, pointing at the page directories at 8000h
 *   6000h PML4, 7000h PDPT: long mode, through the same page directories
 *   8000h-BFFFh four page directories of 2 MiB pages
 * All paging modes map the low 4 GiB to themselves, so MMIO_GPA is a
 * linear address too.  Code at CODE_GPA, a handler at HANDLER_GPA, the
 * stack below STACK_TOP.
 */
#define RAM_SIZE	(4 << 20)
#define GDT_GPA		0x1000
#define IDT_GPA		0x2000
#define PD32_GPA	0x3000
#define PDPT_PAE_GPA	0x4000
#define PML4_GPA	0x6000
#define PDPT_GPA	0x7000
#define PD_GPA		0x8000
#define CODE_GPA	0x10000
#define HANDLER_GPA	0x11000
#define STACK_TOP	0x30000

#define SEL_CODE64	0x08
#define SEL_CODE32	0x10
#define SEL_DATA	0x18

enum cpu_mode { REAL, PROT32, PAGING32, PAE32, COMPAT, LONG64 };

/* The descriptor and page tables above, written into guest memory @mem. */
void write_tables(uint8_t *mem);
/* A 64-bit interrupt gate for @vector to @handler (SDM Vol 3 6.14.1). */
void set_gate(uint8_t *mem, int vector, uint64_t handler);
/* A flat 4 GiB segment (or a 64-bit code segment, @l). */
struct minihv_segment flat_seg(uint16_t sel, uint8_t type, bool l);
/*
 * Changes @sregs, a vCPU's reset state, and @regs to run CODE_GPA in
 * @mode with the tables above.
 */
void mode_state(enum cpu_mode mode, struct minihv_sregs *sregs, struct minihv_regs *regs);

/* ---- random guests ---- */

uint64_t xorshift64(uint64_t *s);
void fill_random(uint64_t *seed, uint8_t *p, size_t len);
/* Guest @i of the run seeded @base: its own seed. */
#define RANDOM_GUEST_SEED(base, i)	((base) + (i) * 0x9e3779b97f4a7c15ULL)
#define NR_CPU_MODES			(LONG64 + 1)
/*
 * Random guest @i of the run seeded @base, in mode i % NR_CPU_MODES: the
 * tables, random code from CODE_GPA to STACK_TOP, every other guest a
 * random IDT, and random GPRs, flags and RIP in @regs; @sregs starts as
 * the vCPU's reset state.  Returns the mode.
 */
enum cpu_mode random_guest(uint64_t base, unsigned long i, uint8_t *mem,
			   struct minihv_sregs *sregs, struct minihv_regs *regs);

#endif /* SELFTEST_MODES_H */

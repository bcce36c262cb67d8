// SPDX-License-Identifier: GPL-2.0
/*
 * Guests in every CPU mode, and random guests: see modes.h.
 */
#include <string.h>

#include "modes.h"

void write_tables(uint8_t *mem)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_GPA);
	uint32_t *pd32 = (uint32_t *)(mem + PD32_GPA);
	uint64_t *pdpt_pae = (uint64_t *)(mem + PDPT_PAE_GPA);
	uint64_t *pml4 = (uint64_t *)(mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + PD_GPA);
	int i;

	gdt[1] = 0x00af9b000000ffffULL;		/* 64-bit code */
	gdt[2] = 0x00cf9b000000ffffULL;		/* 32-bit code */
	gdt[3] = 0x00cf93000000ffffULL;		/* data */
	for (i = 0; i < 1024; i++)
		pd32[i] = (i << 22) | 0x83;		/* P RW PS */
	for (i = 0; i < 4; i++) {
		pdpt_pae[i] = (PD_GPA + i * 0x1000) | 1;	/* PAE PDPTE: P only */
		pdpt[i] = (PD_GPA + i * 0x1000) | 3;
	}
	pml4[0] = PDPT_GPA | 3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;
}

/* A 64-bit interrupt gate for @vector to @handler (SDM Vol 3 6.14.1). */
void set_gate(uint8_t *mem, int vector, uint64_t handler)
{
	uint32_t *gate = (uint32_t *)(mem + IDT_GPA + vector * 16);

	gate[0] = (SEL_CODE64 << 16) | (handler & 0xffff);
	gate[1] = (handler & 0xffff0000) | 0x8e00;	/* P, DPL 0, interrupt gate */
	gate[2] = handler >> 32;
	gate[3] = 0;
}

struct minihv_segment flat_seg(uint16_t sel, uint8_t type, bool l)
{
	return (struct minihv_segment){
		.limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.s = 1, .g = 1, .l = l, .db = !l,
	};
}


void mode_state(enum cpu_mode mode, struct minihv_sregs *sregs, struct minihv_regs *regs)
{
	/* IF = 1: nothing is injected, and IF = 0 only where a test wants it. */
	*regs = (struct minihv_regs){ .rflags = 0x202, .rsp = STACK_TOP };
	if (mode == REAL) {
		/* CS = 1000h: CODE_GPA at IP 0; the reset state otherwise. */
		sregs->cs.selector = CODE_GPA >> 4;
		sregs->cs.base = CODE_GPA;
		regs->rsp = 0xfff0;
	} else {
		sregs->cs = flat_seg(mode == LONG64 ? SEL_CODE64 : SEL_CODE32, 0xb,
				     mode == LONG64);
		sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss =
			flat_seg(SEL_DATA, 0x3, false);
		sregs->tr = (struct minihv_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
		sregs->ldt = (struct minihv_segment){ .unusable = 1 };
		sregs->gdt.base = GDT_GPA;
		sregs->gdt.limit = 4 * 8 - 1;
		sregs->idt.base = IDT_GPA;
		sregs->idt.limit = 256 * 16 - 1;
		sregs->cr0 = CR0_PE | CR0_ET;
		regs->rip = CODE_GPA;
	}
	switch (mode) {
	case PAGING32:
		sregs->cr0 |= CR0_PG;
		sregs->cr3 = PD32_GPA;
		sregs->cr4 = CR4_PSE;
		break;
	case PAE32:
		sregs->cr0 |= CR0_PG;
		sregs->cr3 = PDPT_PAE_GPA;
		sregs->cr4 = CR4_PAE;
		break;
	case COMPAT:
	case LONG64:
		sregs->cr0 |= CR0_PG;
		sregs->cr3 = PML4_GPA;
		sregs->cr4 = CR4_PAE;
		sregs->efer = EFER_LME | EFER_LMA;
		break;
	default:
		break;
	}
}

uint64_t xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void fill_random(uint64_t *seed, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = xorshift64(seed);

		memcpy(p + i, &v, 8);
	}
}

enum cpu_mode random_guest(uint64_t base, unsigned long i, uint8_t *mem,
			   struct minihv_sregs *sregs, struct minihv_regs *regs)
{
	enum cpu_mode mode = (enum cpu_mode)(i % NR_CPU_MODES);
	uint64_t seed = RANDOM_GUEST_SEED(base, i);

	write_tables(mem);
	memset(mem + IDT_GPA, 0, 0x1000);
	if (i & 1)
		fill_random(&seed, mem + IDT_GPA, 0x1000);
	fill_random(&seed, mem + CODE_GPA, STACK_TOP - CODE_GPA);
	mode_state(mode, sregs, regs);
	regs->rax = xorshift64(&seed);
	regs->rbx = xorshift64(&seed);
	regs->rcx = xorshift64(&seed);
	regs->rdx = xorshift64(&seed);
	regs->rsi = xorshift64(&seed);
	regs->rdi = xorshift64(&seed);
	regs->rbp = xorshift64(&seed);
	regs->r8 = xorshift64(&seed);
	regs->r15 = xorshift64(&seed);
	/* Arithmetic flags, TF, IF, DF, AC at random; bit 1 is always 1. */
	regs->rflags = (xorshift64(&seed) & 0x40fd5) | 0x2;
	regs->rip = (mode == REAL ? 0 : CODE_GPA) + xorshift64(&seed) % 0x10000;
	return mode;
}

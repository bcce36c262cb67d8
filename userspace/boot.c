// SPDX-License-Identifier: GPL-2.0
/* The boot state of minihv-run's guests: see boot.h. */
#include <stdbool.h>
#include <string.h>

#include "boot.h"

static struct minihv_segment flat_segment(uint16_t selector, bool code, bool is64)
{
	struct minihv_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = selector,
		.type = code ? 0xb : 0x3, .present = 1, .s = 1, .g = 1,
		.db = !is64 || !code, .l = is64 && code,
	};
	return s;
}

void boot_state(uint8_t *ram, uint64_t ram_size, enum mode mode, uint64_t entry,
		struct minihv_sregs *sregs, struct minihv_regs *regs)
{
	uint64_t sys = ram_size - SYS_AREA;

	memset(regs, 0, sizeof(*regs));
	regs->rflags = 2;
	regs->rip = entry;

	if (mode == MODE_REAL) {
		struct minihv_segment seg = {
			.limit = 0xffff, .type = 0x3, .present = 1, .s = 1,
		};

		sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = seg;
		seg.type = 0xb;
		sregs->cs = seg;
		sregs->cr0 = 0x10;	/* ET */
		sregs->cr4 = 0;
		sregs->efer = 0;
		regs->rsp = REAL_MODE_SP;
	} else {
		uint64_t *gdt = (uint64_t *)(ram + sys);
		bool lm = mode == MODE_LONG;

		gdt[0] = 0;
		gdt[1] = 0x00af9b000000ffffULL;	/* 08h: 64-bit code */
		gdt[2] = 0x00cf93000000ffffULL;	/* 10h: data */
		gdt[3] = 0x00cf9b000000ffffULL;	/* 18h: 32-bit code */
		sregs->gdt.base = sys;
		sregs->gdt.limit = 4 * 8 - 1;
		sregs->cs = flat_segment(lm ? 0x08 : 0x18, true, lm);
		sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss =
			flat_segment(0x10, false, lm);
		sregs->cr0 = 0x11;	/* PE | ET */
		sregs->cr4 = 0;
		sregs->efer = 0;
		regs->rsp = sys;
		if (lm) {
			uint64_t *pml4 = (uint64_t *)(ram + sys + 0x1000);
			uint64_t *pdpt = (uint64_t *)(ram + sys + 0x2000);
			uint64_t gb, i;

			pml4[0] = (sys + 0x2000) | 3;
			for (gb = 0; gb * (1ULL << 30) < ram_size; gb++) {
				uint64_t *pd = (uint64_t *)(ram + sys + 0x3000 + gb * 0x1000);

				pdpt[gb] = (sys + 0x3000 + gb * 0x1000) | 3;
				for (i = 0; i < 512; i++)
					pd[i] = ((gb << 30) + (i << 21)) | 0x83; /* P RW PS */
			}
			sregs->cr3 = sys + 0x1000;
			sregs->cr4 = 0x20;		/* PAE */
			sregs->cr0 = 0x80000011;	/* PG | PE | ET */
			sregs->efer = 0x500;		/* LME | LMA */
		}
	}
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The state minihv-run (and minihv-bench) start a guest in: the layout of
 * Documentation/api.rst "minihv-run's guest layout".
 */
#ifndef MINIHV_RUN_BOOT_H
#define MINIHV_RUN_BOOT_H

#include <stdint.h>

#include <linux/minihv.h>

#define SYS_AREA	0x10000ULL	/* 64 KiB at the top of RAM */
#define REAL_MODE_SP	0x7000

enum mode { MODE_REAL, MODE_PROTECTED, MODE_LONG };

/*
 * Fills @sregs (read from the vCPU first, so that what is not set here
 * keeps its reset value) and @regs for @mode with RIP at @entry; in
 * protected and long mode it writes the GDT and, for long mode, page
 * tables identity-mapping RAM (at least its first GiB) into the top
 * SYS_AREA bytes of @ram.
 */
void boot_state(uint8_t *ram, uint64_t ram_size, enum mode mode, uint64_t entry,
		struct minihv_sregs *sregs, struct minihv_regs *regs);

#endif

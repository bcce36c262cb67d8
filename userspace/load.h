/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv-run's image loaders: a bzImage, a Multiboot kernel, an ELF32 or
 * ELF64 executable or a flat binary, from the file's bytes into guest RAM.
 * They touch nothing else (no device, no exit()), so that
 * selftests/loader_fuzz_test.c runs them on crafted images.
 *
 * Every field of a header is checked before it is used: tables and
 * segments inside the file, what is loaded inside RAM (below the runner's
 * 64 KiB in protected and long mode), sizes without overflow.  The work is
 * bounded too: what one load writes to RAM (copies and clears) is at most
 * the kernel's share of RAM plus the initrd's, however the headers lie.
 */
#ifndef MINIHV_RUN_LOAD_H
#define MINIHV_RUN_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot.h"

#define MAX_CMDLINE		2048	/* --append, with its NUL */

/*
 * Multiboot and Linux kernels get a memory map with RAM from 1 MiB to the
 * runner's area: less than 2 MiB leaves them no upper memory (or a
 * negative amount of it).
 */
#define LOAD_MIN_RAM_KERNEL	(2ULL << 20)

struct load {
	/* in */
	uint8_t *ram;
	uint64_t ram_size;
	enum mode mode;			/* a flat binary's; the others set it (out) */
	uint64_t flat_load;		/* where a flat binary goes */
	const char *cmdline;		/* --append, or NULL */
	const char *initrd_path;	/* --initrd, or NULL */
	const uint8_t *initrd;		/* its bytes (NULL when empty) */
	uint64_t initrd_size;
	int tsc_khz;			/* > 0: told to Linux (tsc_early_khz=) */

	/* out */
	uint64_t entry;
	uint64_t image_end;		/* end of the highest byte loaded */
	uint64_t mb_info;		/* Multiboot: the info structure, EBX */
	bool linux_boot;		/* bzImage: RSI = the zero page, platform */
	uint64_t work;			/* bytes copied and cleared in RAM */
	char error[320];		/* why the load failed */
};

/*
 * Recognizes @img (bzImage, Multiboot, ELF, else flat binary) and loads
 * it.  Returns 0, or -1 with a message naming the wrong field in
 * @l->error; RAM may then be partly written.
 */
int load_image(struct load *l, const uint8_t *img, size_t size);

#endif

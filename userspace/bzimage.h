/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Linux x86 boot protocol (Documentation/arch/x86/boot.rst in the
 * kernel), 64-bit entry: minihv-run loads a bzImage the way a boot loader
 * does, fills the zero page (struct boot_params) and enters the kernel's
 * startup_64 in long mode with RSI pointing at it.
 */
#ifndef MINIHV_RUN_BZIMAGE_H
#define MINIHV_RUN_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where minihv-run puts the zero page and the command line. */
#define BZ_BOOT_PARAMS		0x20000
#define BZ_CMDLINE		0x21000

/* A bzImage this runner can enter: protocol 2.12 or later, 64-bit entry. */
struct bz_image {
	const uint8_t *kernel;		/* the protected-mode part of the file */
	size_t kernel_size;
	uint64_t load;			/* where it goes: pref_address */
	uint64_t init_size;		/* memory it needs from there */
	uint32_t cmdline_size;		/* longest command line it takes */
	uint32_t initrd_max;		/* highest address an initrd may end at */
};

/*
 * Recognizes a bzImage ("HdrS" at 202h).  Returns 0 and fills @bz, 1 when
 * @img is no bzImage, or -1 with a reason in @why for one this runner
 * cannot boot (too old, no 64-bit entry) or whose header does not fit the
 * file (setup header, setup_sects, syssize).  Where the kernel goes is
 * the caller's to check.
 */
int bz_parse(const uint8_t *img, size_t size, struct bz_image *bz, const char **why);

/*
 * Writes the zero page at BZ_BOOT_PARAMS in @ram (the file's setup
 * header, the E820 map of RAM below @ram_top with the rest of @ram_size
 * reserved, the command line at BZ_CMDLINE and the initrd at
 * [@initrd, @initrd + @initrd_size) if any).  @img is one bz_parse()
 * accepted; @ram_top is above 1 MiB; @cmdline is shorter than 4 KiB.
 */
void bz_write_boot_params(uint8_t *ram, uint64_t ram_size, uint64_t ram_top,
			  const uint8_t *img, const char *cmdline, uint64_t initrd,
			  uint64_t initrd_size);

#endif

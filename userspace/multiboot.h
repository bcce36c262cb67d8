/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Multiboot version 1 (the Multiboot Specification 0.6.96): what a kernel
 * asks for in its header, and the information structure the loader hands
 * it in EBX.  minihv-run loads such kernels as QEMU's -kernel does.
 */
#ifndef MINIHV_RUN_MULTIBOOT_H
#define MINIHV_RUN_MULTIBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC		0x1badb002
#define MB_LOADER_MAGIC		0x2badb002	/* EAX at the kernel's entry */
#define MB_SEARCH		8192		/* the header is in the first 8 KiB */
#define MB_LOADER_NAME		"minihv-run"	/* boot_loader_name */

/* Header flags (3.1.2): bits 0-15 are requirements, 16-31 optional. */
#define MB_FLAG_ALIGN_MODULES	(1u << 0)
#define MB_FLAG_MEMORY_INFO	(1u << 1)
#define MB_FLAG_VIDEO_MODE	(1u << 2)
#define MB_FLAG_ADDRESSES	(1u << 16)

struct mb_header {
	size_t offset;			/* of the header in the file */
	uint32_t flags;
	/* With MB_FLAG_ADDRESSES: where the image goes ("a.out kludge"). */
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/*
 * The first valid header (magic, flags and checksum sum to 0): returns 0
 * and fills @h, 1 when there is none, or -1 with a reason in @why when its
 * address fields are cut off by the end of the file or of the first 8 KiB.
 */
int mb_find_header(const uint8_t *img, size_t size, struct mb_header *h, const char **why);

/* Module 0 (--initrd), loaded by the caller; string is the file's name. */
struct mb_module {
	uint64_t start, end;
	const char *string;
};

/*
 * Writes the information structure (3.3) at @info in @ram, with what it
 * refers to after it: the memory map of RAM below @ram_top (the rest of
 * @ram_size reserved), @cmdline and @mod, if any.  Uses at most
 * MB_INFO_SIZE bytes: @ram_top is above 1 MiB, and the strings together
 * (with their NULs) take at most MB_INFO_STRINGS bytes.
 */
#define MB_INFO_SIZE		0x2000
#define MB_INFO_STRINGS		(MB_INFO_SIZE - 0x300)
void mb_write_info(uint8_t *ram, uint64_t ram_size, uint64_t ram_top, uint64_t info,
		   const char *cmdline, const struct mb_module *mod);

#endif

// SPDX-License-Identifier: GPL-2.0
/* Multiboot v1 headers and information structures: see multiboot.h. */
#include <string.h>

#include "multiboot.h"

int mb_find_header(const uint8_t *img, size_t size, struct mb_header *h, const char **why)
{
	size_t off, end = size < MB_SEARCH ? size : MB_SEARCH;
	uint32_t w[8];

	/* 3.1.1: longword aligned, all of it in the first 8 KiB. */
	for (off = 0; off + 12 <= end; off += 4) {
		memcpy(w, img + off, 12);
		if (w[0] != MB_HEADER_MAGIC || w[0] + w[1] + w[2] != 0)
			continue;
		memset(h, 0, sizeof(*h));
		h->offset = off;
		h->flags = w[1];
		if (h->flags & MB_FLAG_ADDRESSES) {
			if (off + 32 > end) {
				*why = "the Multiboot header's address fields (flag 16) end past the first 8 KiB or the file";
				return -1;
			}
			memcpy(w, img + off, 32);
			h->header_addr = w[3];
			h->load_addr = w[4];
			h->load_end_addr = w[5];
			h->bss_end_addr = w[6];
			h->entry_addr = w[7];
		}
		return 0;
	}
	return 1;
}

/* The information structure, 3.3 "Boot information format". */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;		/* KiB: below 640K, from 1M */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
} __attribute__((packed));

#define MB_INFO_MEMORY		(1u << 0)
#define MB_INFO_CMDLINE		(1u << 2)
#define MB_INFO_MODS		(1u << 3)
#define MB_INFO_MMAP		(1u << 6)
#define MB_INFO_LOADER_NAME	(1u << 9)

struct mb_mmap_entry {
	uint32_t size;			/* of the rest of the entry: 20 */
	uint64_t base, length;
	uint32_t type;			/* 1 RAM, 2 reserved */
} __attribute__((packed));

struct mb_mod {
	uint32_t start, end, string, reserved;
};

#define MB_LOW_RAM_END		0x9fc00		/* 639 KiB, as a PC BIOS */
#define MB_HIGH_RAM		0x100000

void mb_write_info(uint8_t *ram, uint64_t ram_size, uint64_t ram_top, uint64_t info,
		   const char *cmdline, const struct mb_module *mod)
{
	struct mb_info *mi = (struct mb_info *)(ram + info);
	struct mb_mmap_entry *mm = (struct mb_mmap_entry *)(ram + info + 0x100);
	struct mb_mod *mods = (struct mb_mod *)(ram + info + 0x200);
	uint64_t strings = info + 0x300;
	const char *name = MB_LOADER_NAME;
	int n = 0;

	memset(mi, 0, MB_INFO_SIZE);
	mi->flags = MB_INFO_MEMORY | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
	mi->mem_lower = MB_LOW_RAM_END / 1024;
	mi->mem_upper = (ram_top - MB_HIGH_RAM) / 1024;

	mm[n++] = (struct mb_mmap_entry){ 20, 0, MB_LOW_RAM_END, 1 };
	mm[n++] = (struct mb_mmap_entry){ 20, MB_HIGH_RAM, ram_top - MB_HIGH_RAM, 1 };
	if (ram_top < ram_size)
		mm[n++] = (struct mb_mmap_entry){ 20, ram_top, ram_size - ram_top, 2 };
	mi->mmap_addr = info + 0x100;
	mi->mmap_length = n * sizeof(*mm);

	/* Strings: the loader's name, the command line, the module's. */
	strcpy((char *)ram + strings, name);
	mi->boot_loader_name = strings;
	strings += strlen(name) + 1;
	mi->flags |= MB_INFO_CMDLINE;
	mi->cmdline = strings;
	strcpy((char *)ram + strings, cmdline ? cmdline : "");
	strings += strlen((char *)ram + strings) + 1;
	if (mod) {
		mi->flags |= MB_INFO_MODS;
		mi->mods_count = 1;
		mi->mods_addr = info + 0x200;
		mods[0] = (struct mb_mod){ mod->start, mod->end, strings, 0 };
		strcpy((char *)ram + strings, mod->string);
	}
}

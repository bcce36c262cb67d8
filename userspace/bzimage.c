// SPDX-License-Identifier: GPL-2.0
/* The Linux x86 boot protocol, 64-bit entry: see bzimage.h. */
#include <string.h>

#include "bzimage.h"

/* Offsets in the file and in the zero page (boot.rst, zero-page.rst). */
#define BZ_SETUP_SECTS		0x1f1	/* u8: 512-byte sectors after the boot sector */
#define BZ_SYSSIZE		0x1f4	/* u32: protected-mode code, 16-byte paragraphs */
#define BZ_BOOT_FLAG		0x1fe	/* u16: AA55h */
#define BZ_JUMP			0x200	/* jump at 200h; its offset byte ends the header */
#define BZ_HEADER		0x202	/* "HdrS" */
#define BZ_VERSION		0x206	/* u16: protocol version */
#define BZ_TYPE_OF_LOADER	0x210
#define BZ_LOADFLAGS		0x211
#define BZ_RAMDISK_IMAGE	0x218
#define BZ_RAMDISK_SIZE		0x21c
#define BZ_CMD_LINE_PTR		0x228
#define BZ_INITRD_ADDR_MAX	0x22c
#define BZ_XLOADFLAGS		0x236	/* u16 */
#define BZ_CMDLINE_SIZE		0x238
#define BZ_PREF_ADDRESS		0x258	/* u64 */
#define BZ_INIT_SIZE		0x260
#define BZ_HEADER_END_MIN	0x264	/* protocol 2.12 reaches init_size */
#define BP_EXT_RAMDISK_IMAGE	0x0c0
#define BP_EXT_RAMDISK_SIZE	0x0c4
#define BP_EXT_CMD_LINE_PTR	0x0c8
#define BP_E820_ENTRIES		0x1e8
#define BP_E820_TABLE		0x2d0

#define LOADED_HIGH		(1 << 0)
#define XLF_KERNEL_64		(1 << 0)
#define E820_RAM		1
#define E820_RESERVED		2

static uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

int bz_parse(const uint8_t *img, size_t size, struct bz_image *bz, const char **why)
{
	unsigned int sects;
	uint16_t version, xloadflags;
	size_t setup, header_end;
	uint32_t syssize;

	if (size < BZ_HEADER_END_MIN || memcmp(img + BZ_HEADER, "HdrS", 4) ||
	    img[BZ_BOOT_FLAG] != 0x55 || img[BZ_BOOT_FLAG + 1] != 0xaa)
		return 1;
	memcpy(&version, img + BZ_VERSION, 2);
	memcpy(&xloadflags, img + BZ_XLOADFLAGS, 2);
	if (version < 0x20c) {
		*why = "boot protocol (version, 206h) older than 2.12 (no 64-bit entry)";
		return -1;
	}
	if (!(img[BZ_LOADFLAGS] & LOADED_HIGH) || !(xloadflags & XLF_KERNEL_64)) {
		*why = "not a bzImage with a 64-bit entry point (loadflags, xloadflags)";
		return -1;
	}
	/*
	 * The header ends where the jump at 200h lands (boot.rst); the zero
	 * page gets a copy of it, so all of it must be in the file.
	 */
	header_end = BZ_HEADER + img[BZ_JUMP + 1];
	if (header_end < BZ_HEADER_END_MIN) {
		*why = "setup header (the jump at 200h) shorter than protocol 2.12's";
		return -1;
	}
	if (header_end > size) {
		*why = "setup header (the jump at 200h) runs past the end of the file";
		return -1;
	}
	/* 0 means 4 (boot.rst); at least 1024 bytes, past any header end. */
	sects = img[BZ_SETUP_SECTS] ? img[BZ_SETUP_SECTS] : 4;
	setup = (sects + 1) * 512;
	if (setup >= size) {
		*why = "setup_sects: the setup code runs past the end of the file";
		return -1;
	}
	bz->kernel = img + setup;
	bz->kernel_size = size - setup;
	/*
	 * syssize counts the protected-mode code; a signed kernel has its
	 * signature after it, so the file may hold more, never less.
	 */
	syssize = get32(img, BZ_SYSSIZE);
	if (!syssize || syssize > (bz->kernel_size + 15) / 16) {
		*why = "syssize (1F4h) is 0 or more than the file holds after the setup code";
		return -1;
	}
	memcpy(&bz->load, img + BZ_PREF_ADDRESS, 8);
	bz->init_size = get32(img, BZ_INIT_SIZE);
	bz->cmdline_size = get32(img, BZ_CMDLINE_SIZE);
	bz->initrd_max = get32(img, BZ_INITRD_ADDR_MAX);
	if (bz->init_size < bz->kernel_size)
		bz->init_size = bz->kernel_size;
	return 0;
}

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = bp + BP_E820_TABLE + bp[BP_E820_ENTRIES]++ * 20;

	memcpy(e, &addr, 8);
	memcpy(e + 8, &size, 8);
	memcpy(e + 16, &type, 4);
}

void bz_write_boot_params(uint8_t *ram, uint64_t ram_size, uint64_t ram_top,
			  const uint8_t *img, const char *cmdline, uint64_t initrd,
			  uint64_t initrd_size)
{
	uint8_t *bp = ram + BZ_BOOT_PARAMS;
	size_t header_end = BZ_HEADER + img[BZ_JUMP + 1];

	memset(bp, 0, 4096);
	/* The setup header as the file has it, then what a loader fills in. */
	memcpy(bp + BZ_SETUP_SECTS, img + BZ_SETUP_SECTS, header_end - BZ_SETUP_SECTS);
	bp[BZ_TYPE_OF_LOADER] = 0xff;		/* "undefined" boot loader */
	strcpy((char *)ram + BZ_CMDLINE, cmdline ? cmdline : "");
	put32(bp, BZ_CMD_LINE_PTR, BZ_CMDLINE);
	put32(bp, BP_EXT_CMD_LINE_PTR, 0);
	put32(bp, BZ_RAMDISK_IMAGE, initrd);
	put32(bp, BP_EXT_RAMDISK_IMAGE, initrd >> 32);
	put32(bp, BZ_RAMDISK_SIZE, initrd_size);
	put32(bp, BP_EXT_RAMDISK_SIZE, initrd_size >> 32);

	/* A PC's map: low RAM below the EBDA, BIOS area, RAM from 1 MiB. */
	e820_add(bp, 0, 0x9fc00, E820_RAM);
	e820_add(bp, 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
	e820_add(bp, 0x100000, ram_top - 0x100000, E820_RAM);
	if (ram_top < ram_size)
		e820_add(bp, ram_top, ram_size - ram_top, E820_RESERVED);
}

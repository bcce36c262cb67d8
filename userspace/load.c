// SPDX-License-Identifier: GPL-2.0
/* minihv-run's image loaders: see load.h. */
#include <elf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bzimage.h"
#include "load.h"
#include "multiboot.h"

/*
 * Linux takes at most 64 KiB of program headers (load_elf_phdrs() in
 * fs/binfmt_elf.c), 1,170 of ELF64 or 2,048 of ELF32; so does the runner.
 */
#define ELF_MAX_PHDRS_SIZE	0x10000
#define HIGH_RAM		0x100000	/* kernels load from 1 MiB */

static int __attribute__((format(printf, 2, 3))) fail(struct load *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->error, sizeof(l->error), fmt, ap);
	va_end(ap);
	return -1;
}

/* Images end below this: all of RAM in real mode, else the runner's area. */
static uint64_t load_limit(const struct load *l)
{
	return l->mode == MODE_REAL ? l->ram_size : l->ram_size - SYS_AREA;
}

/* [@addr, @addr + @memsz) inside what images may use; @what names it. */
static int check_fit(struct load *l, const char *what, uint64_t addr, uint64_t memsz)
{
	uint64_t limit = load_limit(l);

	if (addr <= limit && memsz <= limit - addr)
		return 0;
	return fail(l, "%s: %#llx bytes at %#llx do not fit below %#llx%s", what,
		    (unsigned long long)memsz, (unsigned long long)addr,
		    (unsigned long long)limit,
		    l->mode == MODE_REAL ? "" : " (the top 64K of RAM is the runner's)");
}

/* @filesz bytes of @data at @addr, then zeroes up to @memsz (>= @filesz). */
static int place(struct load *l, const char *what, uint64_t addr, const void *data,
		 uint64_t filesz, uint64_t memsz)
{
	if (check_fit(l, what, addr, memsz))
		return -1;
	if (filesz)
		memcpy(l->ram + addr, data, filesz);
	memset(l->ram + addr + filesz, 0, memsz - filesz);
	l->work += memsz;
	if (addr + memsz > l->image_end)
		l->image_end = addr + memsz;
	return 0;
}

static bool is_elf(const uint8_t *img, size_t size, int class)
{
	return size >= EI_NIDENT && !memcmp(img, ELFMAG, SELFMAG) && img[EI_CLASS] == class;
}

/* A program header of either class; the ELF structures are read by copy. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, bool is64, struct phdr *ph)
{
	if (is64) {
		Elf64_Phdr e;

		memcpy(&e, p, sizeof(e));
		*ph = (struct phdr){ e.p_type, e.p_offset, e.p_paddr, e.p_filesz, e.p_memsz };
	} else {
		Elf32_Phdr e;

		memcpy(&e, p, sizeof(e));
		*ph = (struct phdr){ e.p_type, e.p_offset, e.p_paddr, e.p_filesz, e.p_memsz };
	}
}

/*
 * The PT_LOAD segments at their physical addresses; ELF64 runs in long
 * mode, ELF32 in protected mode.  Every header is checked before anything
 * is written, and the segments' sizes together may not exceed RAM: a table
 * of overlapping segments cannot make the runner clear RAM over and over.
 */
static int load_elf(struct load *l, const uint8_t *img, size_t size)
{
	bool is64 = img[EI_CLASS] == ELFCLASS64;
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	unsigned int machine, phentsize, phnum, i, pass;
	uint64_t phoff, total = 0;
	struct phdr ph;
	char what[32];

	if (size < ehsize)
		return fail(l, "ELF header cut off: %zu of %zu bytes", size, ehsize);
	if (img[EI_DATA] != ELFDATA2LSB)
		return fail(l, "EI_DATA %u: not a little-endian ELF", img[EI_DATA]);
	if (is64) {
		Elf64_Ehdr eh;

		memcpy(&eh, img, sizeof(eh));
		machine = eh.e_machine;
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		l->entry = eh.e_entry;
	} else {
		Elf32_Ehdr eh;

		memcpy(&eh, img, sizeof(eh));
		machine = eh.e_machine;
		phoff = eh.e_phoff;
		phentsize = eh.e_phentsize;
		phnum = eh.e_phnum;
		l->entry = eh.e_entry;
	}
	if (machine != (is64 ? EM_X86_64 : EM_386))
		return fail(l, "e_machine %u: not an %s ELF", machine, is64 ? "x86-64" : "i386");
	if (phentsize != phsize)
		return fail(l, "e_phentsize %u: not sizeof(%s) (%zu)", phentsize,
			    is64 ? "Elf64_Phdr" : "Elf32_Phdr", phsize);
	if (!phnum)
		return fail(l, "e_phnum 0: no program headers, nothing to load");
	if (phnum * phsize > ELF_MAX_PHDRS_SIZE)
		return fail(l, "e_phnum %u: program headers over 64 KiB", phnum);
	if (phoff > size || phnum * phsize > size - phoff)
		return fail(l, "e_phoff %#llx: %u program headers run past the end of the file (%zu bytes)",
			    (unsigned long long)phoff, phnum, size);

	l->mode = is64 ? MODE_LONG : MODE_PROTECTED;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < phnum; i++) {
			read_phdr(img + phoff + i * phsize, is64, &ph);
			if (ph.type != PT_LOAD)
				continue;
			snprintf(what, sizeof(what), "program header %u", i);
			if (pass) {
				place(l, what, ph.paddr, img + ph.offset, ph.filesz, ph.memsz);
				continue;
			}
			if (ph.offset > size || ph.filesz > size - ph.offset)
				return fail(l, "%s: p_offset %#llx and p_filesz %#llx run past the end of the file (%zu bytes)",
					    what, (unsigned long long)ph.offset,
					    (unsigned long long)ph.filesz, size);
			if (ph.filesz > ph.memsz)
				return fail(l, "%s: p_filesz %#llx exceeds p_memsz %#llx", what,
					    (unsigned long long)ph.filesz,
					    (unsigned long long)ph.memsz);
			if (check_fit(l, what, ph.paddr, ph.memsz))
				return -1;
			/* No overflow: at most 2,048 sizes below 4 GiB. */
			total += ph.memsz;
			if (total > load_limit(l))
				return fail(l, "%s: the PT_LOAD segments' p_memsz add up to more than the %#llx bytes of RAM they may use",
					    what, (unsigned long long)load_limit(l));
		}
	}
	return 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/*
 * A Multiboot kernel (multiboot.h): loaded by the header's addresses
 * (flag 16) or else as the ELF32 it must then be, entered in 32-bit
 * protected mode with paging off, EAX = 2BADB002h and EBX = the
 * information structure, at the bottom of the system area.
 */
static int load_multiboot(struct load *l, const uint8_t *img, size_t size,
			  const struct mb_header *h)
{
	uint32_t unknown = h->flags & 0xffff &
			   ~(MB_FLAG_ALIGN_MODULES | MB_FLAG_MEMORY_INFO);
	const char *mod_name = l->initrd_path ? base_name(l->initrd_path) : "";
	size_t strings;
	struct mb_module mod;

	if (l->ram_size < LOAD_MIN_RAM_KERNEL)
		return fail(l, "a Multiboot kernel needs at least 2M of RAM (--mem): its memory map has RAM from 1 MiB to the runner's top 64K");
	/* Requirements (bits 0-15) the loader cannot meet fail the load (3.1.2). */
	if (unknown)
		return fail(l, "Multiboot header asks for what minihv-run cannot give (flags %#x%s)",
			    unknown, (unknown & MB_FLAG_VIDEO_MODE) ? ": a video mode" : "");
	/*
	 * Module 0's string is the file's name, not its path: QEMU (as GRUB)
	 * passes the -initrd text as given, which would tell the guest where
	 * the file lies on the host.
	 */
	strings = sizeof(MB_LOADER_NAME) + (l->cmdline ? strlen(l->cmdline) : 0) + 1 +
		  strlen(mod_name) + 1;
	if (strings > MB_INFO_STRINGS)
		return fail(l, "--append and the --initrd file's name need %zu bytes, the Multiboot information area holds %d",
			    strings, MB_INFO_STRINGS);
	l->mode = MODE_PROTECTED;
	if (h->flags & MB_FLAG_ADDRESSES) {
		uint64_t start, end, memsz;

		/* 3.1.3: header_addr is where the header itself is loaded. */
		if (h->load_addr > h->header_addr || h->header_addr - h->load_addr > h->offset)
			return fail(l, "Multiboot load_addr %#x: the load would start before the file (header_addr %#x, header at offset %#zx)",
				    h->load_addr, h->header_addr, h->offset);
		start = h->offset - (h->header_addr - h->load_addr);
		if (h->load_end_addr && h->load_end_addr < h->load_addr)
			return fail(l, "Multiboot load_end_addr %#x is before load_addr %#x",
				    h->load_end_addr, h->load_addr);
		end = h->load_end_addr ? start + (h->load_end_addr - h->load_addr) : size;
		if (end > size)
			return fail(l, "Multiboot load_end_addr %#x lies beyond the end of the file",
				    h->load_end_addr);
		memsz = end - start;
		if (h->bss_end_addr) {
			if (h->bss_end_addr < h->load_addr + memsz)
				return fail(l, "Multiboot bss_end_addr %#x is before the end of the loaded image (%#llx)",
					    h->bss_end_addr,
					    (unsigned long long)(h->load_addr + memsz));
			memsz = h->bss_end_addr - h->load_addr;
		}
		if (place(l, "Multiboot image", h->load_addr, img + start, end - start, memsz))
			return -1;
		l->entry = h->entry_addr;
	} else if (is_elf(img, size, ELFCLASS32)) {
		if (load_elf(l, img, size))
			return -1;
	} else {
		return fail(l, "a Multiboot kernel needs load addresses (flag 16) or ELF32");
	}
	if (l->initrd_path) {
		/* Page aligned after the kernel, whatever flag 0 says. */
		mod.start = (l->image_end + 0xfff) & ~0xfffULL;
		mod.end = mod.start + l->initrd_size;
		mod.string = mod_name;
		if (place(l, "--initrd (module 0)", mod.start, l->initrd, l->initrd_size,
			  l->initrd_size))
			return -1;
	}
	l->mb_info = l->ram_size - SYS_AREA + 0x1000;
	mb_write_info(l->ram, l->ram_size, l->ram_size - SYS_AREA, l->mb_info,
		      l->cmdline, l->initrd_path ? &mod : NULL);
	return 0;
}

/*
 * A bzImage (bzimage.h): the protected-mode kernel at its preferred
 * address with init_size of RAM reserved for it, the initrd page aligned
 * as high as RAM and the kernel allow, the zero page and the command line
 * low, and entry at startup_64 (load address + 200h) in long mode.
 */
static int load_bzimage(struct load *l, const uint8_t *img, const struct bz_image *bz)
{
	uint64_t top = l->ram_size - SYS_AREA, initrd = 0;
	char cmdline[MAX_CMDLINE + 64];
	size_t len;

	if (l->ram_size < LOAD_MIN_RAM_KERNEL)
		return fail(l, "a Linux kernel needs at least 2M of RAM (--mem): its memory map has RAM from 1 MiB to the runner's top 64K");
	l->mode = MODE_LONG;
	/*
	 * The TSC's frequency, which the guest would otherwise measure
	 * against the PIT, slowly and only as well as the host schedules
	 * the vCPU (platform.rst).
	 */
	snprintf(cmdline, sizeof(cmdline), "%s", l->cmdline ? l->cmdline : "");
	len = strlen(cmdline);
	if (l->tsc_khz > 0 && !strstr(cmdline, "tsc_early_khz="))
		snprintf(cmdline + len, sizeof(cmdline) - len, "%stsc_early_khz=%d",
			 len ? " " : "", l->tsc_khz);
	if (strlen(cmdline) > bz->cmdline_size)
		return fail(l, "--append: longer than this kernel's command line (cmdline_size %u)",
			    bz->cmdline_size);
	/* boot.rst: the protected-mode kernel lives at or above 1 MiB. */
	if (bz->load < HIGH_RAM)
		return fail(l, "pref_address %#llx: below 1 MiB, over the zero page and the BIOS area",
			    (unsigned long long)bz->load);
	if (place(l, "kernel (pref_address, init_size)", bz->load, bz->kernel,
		  bz->kernel_size, bz->init_size))
		return -1;
	if (l->initrd_path) {
		uint64_t end = (uint64_t)bz->initrd_max + 1;

		if (end > top)
			end = top;
		if (l->initrd_size > end || ((end - l->initrd_size) & ~0xfffULL) < l->image_end)
			return fail(l, "--initrd %s: no room for it above the kernel below %#llx (initrd_addr_max, --mem)",
				    l->initrd_path, (unsigned long long)end);
		initrd = (end - l->initrd_size) & ~0xfffULL;
		if (place(l, "--initrd", initrd, l->initrd, l->initrd_size, l->initrd_size))
			return -1;
	}
	bz_write_boot_params(l->ram, l->ram_size, top, img, cmdline, initrd, l->initrd_size);
	l->entry = bz->load + 0x200;
	l->linux_boot = true;
	return 0;
}

int load_image(struct load *l, const uint8_t *img, size_t size)
{
	struct mb_header mb;
	struct bz_image bz;
	const char *why = NULL;
	int r;

	l->entry = 0;
	l->image_end = 0;
	l->mb_info = 0;
	l->work = 0;
	l->linux_boot = false;
	l->error[0] = '\0';
	if (l->ram_size < HIGH_RAM || l->ram_size % 4096)
		return fail(l, "RAM must be a multiple of 4K, at least 1M");
	if (!size)
		return fail(l, "empty file");
	if (l->cmdline && strlen(l->cmdline) >= MAX_CMDLINE)
		return fail(l, "--append: a command line of at most %d characters",
			    MAX_CMDLINE - 1);
	r = bz_parse(img, size, &bz, &why);
	if (r < 0)
		return fail(l, "a Linux kernel it cannot boot: %s", why);
	if (!r)
		return load_bzimage(l, img, &bz);
	r = mb_find_header(img, size, &mb, &why);
	if (r < 0)
		return fail(l, "%s", why);
	if (!r)
		return load_multiboot(l, img, size, &mb);
	if (l->cmdline || l->initrd_path)
		return fail(l, "--append and --initrd are for Linux and Multiboot kernels");
	if (is_elf(img, size, ELFCLASS32) || is_elf(img, size, ELFCLASS64))
		return load_elf(l, img, size);
	l->entry = l->flat_load;
	return place(l, "image", l->flat_load, img, size, size);
}

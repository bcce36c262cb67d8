// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-run's image loaders (userspace/load.c) on crafted images, without
 * a device: valid ELF32, ELF64, Multiboot (by addresses and as ELF32) and
 * bzImage files load; crafted ones are refused at once; and
 * a seeded fuzzer mutates the valid ones' headers and loads each mutant.
 *
 * The file, the initrd and guest RAM each end at a PROT_NONE page (and
 * start after one), and the file is read-only while it loads: a read past
 * the end of the file or a write outside RAM faults the test.  Every load
 * must succeed or say why, and write at most twice RAM (the kernel's share
 * of RAM plus the initrd's) whatever the headers claim.
 *
 * The fuzzer draws from MINIHV_FUZZ_SEED (default: the time), printed in
 * the TAP output; on a fault the iteration is printed too.
 */
#include <elf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "load.h"

#define PAGE		4096UL
#define RAM_SIZE	LOAD_MIN_RAM_KERNEL	/* 2 MiB: every loader's minimum */
#define FILE_MAX	(32 * PAGE)
#define INITRD_MAX	(2 * PAGE)
#define ITERATIONS	10000			/* per format */
#define KERNEL_ADDR	0x100000
#define CODE_SIZE	0x400

/* A buffer of @len bytes between two PROT_NONE pages; returns its end. */
static uint8_t *guarded(size_t len)
{
	size_t pages = (len + PAGE - 1) / PAGE;
	uint8_t *m = mmap(NULL, (pages + 2) * PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED ||
	    mprotect(m + PAGE, pages * PAGE, PROT_READ | PROT_WRITE))
		return NULL;
	return m + PAGE + pages * PAGE;
}

struct bufs {
	uint8_t *file_end, *initrd_end, *ram;
};

static void setup_bufs(struct __test_metadata *_metadata, struct bufs *b)
{
	b->file_end = guarded(FILE_MAX);
	b->initrd_end = guarded(INITRD_MAX);
	b->ram = guarded(RAM_SIZE);
	ASSERT_NE(NULL, b->file_end);
	ASSERT_NE(NULL, b->initrd_end);
	ASSERT_NE(NULL, b->ram);
	b->ram -= RAM_SIZE;
}

/* ---- valid images ---- */

static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

static void fill_code(uint8_t *p, size_t len, uint8_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = seed + i * 7;
}

/*
 * Two PT_LOADs at 1 MiB: code from the file, then data with bss; a
 * PT_NOTE between them that the loader skips.
 */
static size_t make_elf(uint8_t *f, bool is64)
{
	size_t ehsize = is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	size_t phsize = is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	uint64_t ph[3][5] = {	/* type, offset, paddr, filesz, memsz */
		{ PT_LOAD, 0x200, KERNEL_ADDR, CODE_SIZE, CODE_SIZE },
		{ PT_NOTE, 0x100, 0, 0x10, 0x10 },
		{ PT_LOAD, 0x200 + CODE_SIZE, KERNEL_ADDR + 0x1000, 0x100, 0x3000 },
	};
	size_t size = 0x200 + CODE_SIZE + 0x100, i;

	memset(f, 0, size);
	memcpy(f, ELFMAG, SELFMAG);
	f[EI_CLASS] = is64 ? ELFCLASS64 : ELFCLASS32;
	f[EI_DATA] = ELFDATA2LSB;
	f[EI_VERSION] = EV_CURRENT;
	put16(f, 16, ET_EXEC);
	put16(f, 18, is64 ? EM_X86_64 : EM_386);
	put32(f, 20, EV_CURRENT);
	if (is64) {
		put64(f, 24, KERNEL_ADDR);		/* e_entry */
		put64(f, 32, ehsize);			/* e_phoff */
		put16(f, 52, ehsize);
		put16(f, 54, phsize);
		put16(f, 56, 3);
	} else {
		put32(f, 24, KERNEL_ADDR);
		put32(f, 28, ehsize);
		put16(f, 40, ehsize);
		put16(f, 42, phsize);
		put16(f, 44, 3);
	}
	for (i = 0; i < 3; i++) {
		uint8_t *p = f + ehsize + i * phsize;

		if (is64) {
			put32(p, 0, ph[i][0]);
			put64(p, 8, ph[i][1]);
			put64(p, 16, ph[i][2]);		/* p_vaddr */
			put64(p, 24, ph[i][2]);		/* p_paddr */
			put64(p, 32, ph[i][3]);
			put64(p, 40, ph[i][4]);
		} else {
			put32(p, 0, ph[i][0]);
			put32(p, 4, ph[i][1]);
			put32(p, 8, ph[i][2]);
			put32(p, 12, ph[i][2]);
			put32(p, 16, ph[i][3]);
			put32(p, 20, ph[i][4]);
		}
	}
	fill_code(f + 0x200, CODE_SIZE + 0x100, 0x11);
	return size;
}

#define MB_HDR(f, off, flags)							\
	do {									\
		put32(f, (off), 0x1badb002);					\
		put32(f, (off) + 4, (flags));					\
		put32(f, (off) + 8, -(0x1badb002u + (flags)));			\
	} while (0)

/* The a.out kludge: the file from its header at 1 MiB, bss after it. */
static size_t make_multiboot(uint8_t *f)
{
	size_t size = 0x20 + CODE_SIZE;

	memset(f, 0, size);
	MB_HDR(f, 0, 0x10003u);
	put32(f, 12, KERNEL_ADDR);			/* header_addr */
	put32(f, 16, KERNEL_ADDR);			/* load_addr */
	put32(f, 20, 0);				/* load_end_addr: all */
	put32(f, 24, KERNEL_ADDR + 0x4000);		/* bss_end_addr */
	put32(f, 28, KERNEL_ADDR + 0x20);		/* entry_addr */
	fill_code(f + 0x20, CODE_SIZE, 0x22);
	return size;
}

/* An ELF32 with a header asking only for page-aligned modules. */
static size_t make_multiboot_elf(uint8_t *f)
{
	size_t size = make_elf(f, false);

	MB_HDR(f, 0x100, 1u);		/* over the PT_NOTE's bytes */
	return size;
}

/* Protocol 2.15, four setup sectors, 64-bit entry, a 4 KiB kernel at 1 MiB. */
static size_t make_bzimage(uint8_t *f)
{
	size_t setup = 5 * 512, size = setup + 0x1000;

	memset(f, 0, size);
	f[0x1f1] = 4;					/* setup_sects */
	put32(f, 0x1f4, 0x1000 / 16);			/* syssize */
	f[0x1fe] = 0x55;
	f[0x1ff] = 0xaa;
	f[0x200] = 0xeb;				/* jmp short ... */
	f[0x201] = 0x6a;				/* ... to 26Ch */
	memcpy(f + 0x202, "HdrS", 4);
	put16(f, 0x206, 0x20f);
	f[0x211] = 1;					/* LOADED_HIGH */
	put32(f, 0x22c, 0x7fffffff);			/* initrd_addr_max */
	put16(f, 0x236, 1);				/* XLF_KERNEL_64 */
	put32(f, 0x238, MAX_CMDLINE + 64);		/* cmdline_size */
	put64(f, 0x258, KERNEL_ADDR);			/* pref_address */
	put32(f, 0x260, 0x10000);			/* init_size */
	fill_code(f + setup, 0x1000, 0x33);
	return size;
}

enum format { ELF32, ELF64, MULTIBOOT, MULTIBOOT_ELF, BZIMAGE, NR_FORMATS };

static const char *const format_names[NR_FORMATS] = {
	"ELF32", "ELF64", "Multiboot", "Multiboot ELF32", "bzImage",
};

static size_t make_image(enum format fmt, uint8_t *f)
{
	switch (fmt) {
	case ELF32: return make_elf(f, false);
	case ELF64: return make_elf(f, true);
	case MULTIBOOT: return make_multiboot(f);
	case MULTIBOOT_ELF: return make_multiboot_elf(f);
	default: return make_bzimage(f);
	}
}

/* @l for @b's RAM, no command line, no initrd, a real-mode flat binary at 7C00h. */
static void init_load(struct load *l, struct bufs *b)
{
	memset(l, 0, sizeof(*l));
	l->ram = b->ram;
	l->ram_size = RAM_SIZE;
	l->mode = MODE_REAL;
	l->flat_load = 0x7c00;
}

/* Loads @size bytes of @img from the end of the guarded file buffer, read-only. */
static int load_guarded(struct bufs *b, struct load *l, const uint8_t *img, size_t size)
{
	uint8_t *f = b->file_end - size;
	int r;

	mprotect(b->file_end - FILE_MAX, FILE_MAX, PROT_READ | PROT_WRITE);
	memmove(f, img, size);
	mprotect(b->file_end - FILE_MAX, FILE_MAX, PROT_READ);
	r = load_image(l, f, size);
	mprotect(b->file_end - FILE_MAX, FILE_MAX, PROT_READ | PROT_WRITE);
	return r;
}

static uint8_t image[FILE_MAX];

TEST(valid_images_load)
{
	struct bufs b;
	struct load l;
	enum format fmt;
	size_t size;

	setup_bufs(_metadata, &b);
	for (fmt = 0; fmt < NR_FORMATS; fmt++) {
		size = make_image(fmt, image);
		init_load(&l, &b);
		memset(b.ram, 0xcc, RAM_SIZE);
		ASSERT_EQ(0, load_guarded(&b, &l, image, size))
			TH_LOG("%s: %s", format_names[fmt], l.error);
		EXPECT_GE(RAM_SIZE - SYS_AREA, l.image_end);
		switch (fmt) {
		case ELF32:
		case ELF64:
		case MULTIBOOT_ELF:
			EXPECT_EQ(0, memcmp(b.ram + KERNEL_ADDR, image + 0x200, CODE_SIZE));
			/* bss cleared up to p_memsz */
			EXPECT_EQ(0, b.ram[KERNEL_ADDR + 0x1000 + 0x2fff]);
			EXPECT_EQ(KERNEL_ADDR, l.entry);
			EXPECT_EQ(fmt == ELF64 ? MODE_LONG : MODE_PROTECTED, l.mode);
			break;
		case MULTIBOOT:
			EXPECT_EQ(0, memcmp(b.ram + KERNEL_ADDR, image, size));
			EXPECT_EQ(0, b.ram[KERNEL_ADDR + 0x3fff]);
			EXPECT_EQ(KERNEL_ADDR + 0x20, l.entry);
			break;
		default:
			EXPECT_EQ(0, memcmp(b.ram + KERNEL_ADDR, image + 5 * 512, 0x1000));
			EXPECT_EQ(KERNEL_ADDR + 0x200, l.entry);
			EXPECT_TRUE(l.linux_boot);
		}
		EXPECT_EQ(fmt == MULTIBOOT || fmt == MULTIBOOT_ELF, l.mb_info != 0);
	}
}

/*
 * Issue 33: 65,535 program headers of size 0 in a 120-byte file, each a
 * PT_LOAD of all the RAM the guest may use.  The old loader cleared RAM
 * 65,535 times (21 s at 16 MiB, hours at 4 GiB).
 */
TEST(elf_65535_headers_of_size_0)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf64_Phdr *ph = (Elf64_Phdr *)(image + sizeof(*eh));
	struct bufs b;
	struct load l;

	setup_bufs(_metadata, &b);
	memset(image, 0, 120);
	make_elf(image, true);
	eh->e_phoff = sizeof(*eh);
	eh->e_phentsize = 0;
	eh->e_phnum = 65535;
	*ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_memsz = RAM_SIZE - SYS_AREA };
	init_load(&l, &b);
	EXPECT_EQ(-1, load_guarded(&b, &l, image, 120));
	EXPECT_NE(NULL, strstr(l.error, "e_phentsize 0")) TH_LOG("error: %s", l.error);
	EXPECT_EQ(0, l.work) TH_LOG("%llu bytes written", (unsigned long long)l.work);
}

/*
 * e_phentsize 1 with the table's last bytes at the end of the file: the
 * old loader read each header as a whole Elf64_Phdr, up to 55 bytes past
 * the end (here into the guard page).
 */
TEST(elf_small_phentsize_at_end_of_file)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	Elf32_Ehdr *eh32 = (Elf32_Ehdr *)image;
	size_t size = sizeof(Elf64_Ehdr) + 8;
	struct bufs b;
	struct load l;

	setup_bufs(_metadata, &b);
	make_elf(image, true);
	eh->e_phoff = size - 8;
	eh->e_phentsize = 1;
	eh->e_phnum = 8;
	memset(image + size - 8, 0, 8);
	image[size - 8] = PT_LOAD;
	init_load(&l, &b);
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "e_phentsize 1")) TH_LOG("error: %s", l.error);

	make_elf(image, false);
	size = sizeof(Elf32_Ehdr) + 4;
	eh32->e_phoff = size - 4;
	eh32->e_phentsize = 1;
	eh32->e_phnum = 4;
	memset(image + size - 4, 0, 4);
	image[size - 4] = PT_LOAD;
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "e_phentsize 1")) TH_LOG("error: %s", l.error);
}

/* Well-formed headers, overlapping segments: the work stays bounded. */
TEST(elf_overlapping_segments_bounded)
{
	unsigned int n = 0x10000 / sizeof(Elf64_Phdr), i;
	Elf64_Ehdr *eh = (Elf64_Ehdr *)image;
	size_t size = sizeof(*eh) + n * sizeof(Elf64_Phdr);
	struct bufs b;
	struct load l;

	ASSERT_GE(sizeof(image), size);
	setup_bufs(_metadata, &b);
	make_elf(image, true);
	eh->e_phnum = n;
	for (i = 0; i < n; i++)
		memcpy(image + sizeof(*eh) + i * sizeof(Elf64_Phdr),
		       &(Elf64_Phdr){ .p_type = PT_LOAD, .p_paddr = KERNEL_ADDR,
				      .p_memsz = 0x80000 }, sizeof(Elf64_Phdr));
	init_load(&l, &b);
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "add up")) TH_LOG("error: %s", l.error);
	EXPECT_EQ(0, l.work);
	/* One more header is over Linux's 64 KiB. */
	eh->e_phnum = n + 1;
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size + sizeof(Elf64_Phdr)));
	EXPECT_NE(NULL, strstr(l.error, "e_phnum")) TH_LOG("error: %s", l.error);
}

/* Less RAM than a Multiboot or Linux kernel's memory map needs (-M 1M). */
TEST(kernels_need_2m)
{
	enum format fmts[] = { MULTIBOOT, BZIMAGE };
	struct bufs b;
	struct load l;
	size_t size, i;

	setup_bufs(_metadata, &b);
	for (i = 0; i < 2; i++) {
		size = make_image(fmts[i], image);
		init_load(&l, &b);
		l.ram_size = 1 << 20;
		EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
		EXPECT_NE(NULL, strstr(l.error, "at least 2M")) TH_LOG("error: %s", l.error);
		EXPECT_EQ(0, l.work);
	}
}

/* Module 0's string is the file's name, not the host path. */
TEST(multiboot_module_string_is_basename)
{
	static const char path[] = "/home/secret-user/images/initrd.img";
	struct bufs b;
	struct load l;
	size_t size = make_multiboot(image);
	uint8_t *p;

	setup_bufs(_metadata, &b);
	init_load(&l, &b);
	memset(b.ram, 0, RAM_SIZE);
	memset(b.initrd_end - 100, 0x5a, 100);
	l.initrd_path = path;
	l.initrd = b.initrd_end - 100;
	l.initrd_size = 100;
	ASSERT_EQ(0, load_guarded(&b, &l, image, size)) TH_LOG("%s", l.error);
	p = memmem(b.ram, RAM_SIZE, "initrd.img", 11);
	EXPECT_NE(NULL, p);
	EXPECT_EQ(NULL, memmem(b.ram, RAM_SIZE, "secret-user", 11));
	/* The module, page aligned after the bss. */
	EXPECT_EQ(0x5a, b.ram[KERNEL_ADDR + 0x4000]);
	EXPECT_EQ(0x5a, b.ram[KERNEL_ADDR + 0x4000 + 99]);
}

/* Crafted Multiboot and bzImage headers, each refused naming its field. */
TEST(crafted_kernel_headers)
{
	struct bufs b;
	struct load l;
	size_t size;

	setup_bufs(_metadata, &b);
	init_load(&l, &b);

	/* Address fields cut off by the end of the first 8 KiB. */
	memset(image, 0, 8192 + 64);
	MB_HDR(image, 8192 - 16, 0x10000u);
	EXPECT_EQ(-1, load_guarded(&b, &l, image, 8192 + 64));
	EXPECT_NE(NULL, strstr(l.error, "8 KiB")) TH_LOG("error: %s", l.error);
	/* ... and by the end of the file. */
	EXPECT_EQ(-1, load_guarded(&b, &l, image + 8192 - 32, 16 + 12 + 4));
	EXPECT_NE(NULL, strstr(l.error, "flag 16")) TH_LOG("error: %s", l.error);

	size = make_multiboot(image);
	put32(image, 24, KERNEL_ADDR + 4);		/* bss_end_addr */
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "bss_end_addr")) TH_LOG("error: %s", l.error);
	size = make_multiboot(image);
	put32(image, 20, KERNEL_ADDR + 0x10000);	/* load_end_addr */
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "load_end_addr")) TH_LOG("error: %s", l.error);

	size = make_bzimage(image);
	put64(image, 0x258, 0);				/* pref_address */
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "pref_address")) TH_LOG("error: %s", l.error);
	size = make_bzimage(image);
	put32(image, 0x1f4, 0x2000);			/* syssize */
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "syssize")) TH_LOG("error: %s", l.error);
	size = make_bzimage(image);
	image[0x201] = 0xff;				/* header to 301h */
	EXPECT_EQ(-1, load_guarded(&b, &l, image, 0x280));
	EXPECT_NE(NULL, strstr(l.error, "past the end")) TH_LOG("error: %s", l.error);
	size = make_bzimage(image);
	put32(image, 0x260, RAM_SIZE);			/* init_size */
	EXPECT_EQ(-1, load_guarded(&b, &l, image, size));
	EXPECT_NE(NULL, strstr(l.error, "init_size")) TH_LOG("error: %s", l.error);
}

/* ---- the fuzzer ---- */

static volatile sig_atomic_t fuzz_iteration = -1;

/* A fault in the loader: say where, then die of it (the harness reports). */
static void on_fault(int sig)
{
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "# loader fault at iteration %d\n",
			 (int)fuzz_iteration);

	if (write(STDERR_FILENO, msg, n) < 0)
		n = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* xorshift64 (Marsaglia), as the other seeded tests draw. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fuzz_seed(void)
{
	const char *env = getenv("MINIHV_FUZZ_SEED");

	return env ? strtoull(env, NULL, 0) : ((uint64_t)time(NULL) << 16 | getpid());
}

/* A value a header field might be crafted to. */
static uint64_t interesting(uint64_t *rng, size_t size)
{
	static const uint64_t values[] = {
		0, 1, 0x7f, 0xff, 0x100, 0x7fff, 0xffff, 0x10000, 0x100000,
		RAM_SIZE - SYS_AREA, RAM_SIZE, 0x7fffffff, 0x80000000, 0xffffffff,
		0x100000000ULL, ~0ULL,
	};
	uint64_t r = rnd(rng);

	switch (r % 4) {
	case 0: return values[(r >> 8) % (sizeof(values) / sizeof(values[0]))];
	case 1: return size - (r >> 8) % 64;
	case 2: return (r >> 8) % 0x4000;
	default: return rnd(rng);
	}
}

/* Header bytes of @fmt: where mutations go most of the time. */
static size_t header_end(enum format fmt)
{
	switch (fmt) {
	case ELF32: return sizeof(Elf32_Ehdr) + 3 * sizeof(Elf32_Phdr);
	case ELF64: return sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr);
	case MULTIBOOT: return 0x20;
	case MULTIBOOT_ELF: return 0x110;
	default: return 0x270;
	}
}

static void mutate(uint64_t *rng, enum format fmt, uint8_t *f, size_t *size)
{
	unsigned int n = 1 + rnd(rng) % 4, i;

	for (i = 0; i < n; i++) {
		uint64_t r = rnd(rng), v = interesting(rng, *size);
		size_t span = r % 8 ? header_end(fmt) : *size;
		size_t off = (r >> 8) % span, width = 1u << ((r >> 4) % 4);

		if (r % 3 == 0)
			off &= ~(width - 1);
		if (off + width > *size)
			width = 1;
		memcpy(f + off, &v, width);
	}
	if (rnd(rng) % 10 == 0)
		*size = 1 + rnd(rng) % *size;
}

static void fuzz(struct __test_metadata *_metadata, enum format fmt)
{
	static char cmdline[MAX_CMDLINE];
	uint64_t seed = fuzz_seed(), rng = (seed ^ (fmt * 0x9e3779b97f4a7c15ULL)) | 1;
	unsigned int ok = 0, refused = 0;
	struct sigaction sa = { .sa_handler = on_fault };
	struct bufs b;
	struct load l;
	size_t size;
	int i, r;

	fprintf(stderr, "# %s: seed %#llx (MINIHV_FUZZ_SEED repeats it), %d iterations\n",
		format_names[fmt], (unsigned long long)seed, ITERATIONS);
	setup_bufs(_metadata, &b);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	memset(cmdline, 'x', sizeof(cmdline) - 1);
	for (i = 0; i < ITERATIONS; i++) {
		uint64_t k = rnd(&rng);

		fuzz_iteration = i;
		size = make_image(fmt, image);
		mutate(&rng, fmt, image, &size);
		init_load(&l, &b);
		l.mode = k % 3;
		l.flat_load = (k >> 2) % 2 ? 0x7c00 : interesting(&rng, RAM_SIZE);
		if ((k >> 3) % 4 == 0)
			l.cmdline = cmdline + sizeof(cmdline) - 1 - (k >> 5) % sizeof(cmdline);
		if ((k >> 13) % 3 == 0) {
			l.initrd_size = (k >> 15) % (INITRD_MAX + 1);
			l.initrd = l.initrd_size ? b.initrd_end - l.initrd_size : NULL;
			l.initrd_path = "/host/path/initrd";
		}
		r = load_guarded(&b, &l, image, size);
		if (r) {
			refused++;
			ASSERT_EQ(-1, r);
			ASSERT_NE(0, l.error[0]) TH_LOG("iteration %d: no reason given", i);
		} else {
			ok++;
			ASSERT_GE(RAM_SIZE, l.image_end) TH_LOG("iteration %d", i);
		}
		ASSERT_GE(2 * RAM_SIZE, l.work)
			TH_LOG("iteration %d: %llu bytes written (%s)", i,
			       (unsigned long long)l.work, l.error);
	}
	fuzz_iteration = -1;
	fprintf(stderr, "# %s: %u loaded, %u refused\n", format_names[fmt], ok, refused);
	/* Mutants of both kinds, or the fuzzer is not reaching the loader. */
	EXPECT_NE(0, ok);
	EXPECT_NE(0, refused);
}

TEST(fuzz_elf32) { fuzz(_metadata, ELF32); }
TEST(fuzz_elf64) { fuzz(_metadata, ELF64); }
TEST(fuzz_multiboot) { fuzz(_metadata, MULTIBOOT); }
TEST(fuzz_multiboot_elf32) { fuzz(_metadata, MULTIBOOT_ELF); }
TEST(fuzz_bzimage) { fuzz(_metadata, BZIMAGE); }

TEST_HARNESS_MAIN

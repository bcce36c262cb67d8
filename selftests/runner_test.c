// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-run end to end.  The sample guests: each prints its line and
 * ends with its documented exit status (userspace/guests/expected.txt), in
 * real, protected and long mode, from flat binaries and ELF files.  Then
 * the runner's own promises: --timeout, the crash diagnosis, the devices
 * it emulates, MMIO in real mode, --cpus with its start protocol, and
 * usage errors.
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "sysutil.h"

/* 0: the device runs guests; else why not, for SKIP. */
static const char *cannot_run_guests(void)
{
	int fd = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	int slots;

	if (fd < 0)
		return "minihv.ko is not loaded";
	slots = ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_NR_MEMSLOTS);
	close(fd);
	return slots > 0 ? NULL : "this backend does not run guests yet";
}

#define SAMPLE(name, guest, status, text, ...)					\
TEST(name)									\
{										\
	static const char *const args[] = { __VA_ARGS__ };			\
	const char *why = cannot_run_guests();					\
	char out[512];								\
	int r;									\
										\
	if (why)								\
		SKIP(return, "%s", why);					\
	r = run_runner(guest, args, out, sizeof(out), false);			\
	if (r == -ENOENT)							\
		SKIP(return, "minihv-run or %s not installed", guest);		\
	EXPECT_EQ(status, r) TH_LOG("output: %s", out);				\
	EXPECT_STREQ(text "\n", out);						\
}

SAMPLE(real_mode_greeting, "hello.bin", 0, "Hello from a minihv guest!", NULL)
SAMPLE(protected_mode_flat, "protected.bin", 0, "Hello from 32-bit protected mode!",
       "-m", "protected", NULL)
SAMPLE(protected_mode_elf32, "protected.elf", 0, "Hello from 32-bit protected mode!", NULL)
SAMPLE(long_mode_flat_exit_port, "long.bin", 43, "Hello from 64-bit long mode!",
       "-m", "long", NULL)
SAMPLE(protected_mode_16bit, "pm16.bin", 1, "Hello from 16-bit protected mode!",
       "-m", "protected", NULL)
SAMPLE(long_mode_elf64_c, "hello64.elf", 0, "Hello from a 64-bit ELF guest in C!", NULL)

/*
 * A Multiboot kernel of our own (userspace/guests/multiboot.S), loaded as
 * ELF32 and by its header's addresses: it checks the magic and its info
 * block and prints back its command line and module 0's first line (the
 * test machine's /init), then what QEMU's fw_cfg says where there is one:
 * a Multiboot kernel gets the PC platform unless --bare.
 */
SAMPLE(multiboot_elf32, "multiboot.elf", 0,
       "multiboot: cmdline 'console=ttyS0 minihv=1'\nmultiboot: module '#!/bin/busybox sh'\n"
       "multiboot: fw_cfg 1 CPUs, 16 MiB",
       "--append", "console=ttyS0 minihv=1", "--initrd", "/init", NULL)
SAMPLE(multiboot_load_addresses, "multiboot.bin", 0,
       "multiboot: cmdline ''\nmultiboot: module '#!/bin/busybox sh'\n"
       "multiboot: fw_cfg 1 CPUs, 16 MiB",
       "--initrd", "/init", NULL)
SAMPLE(multiboot_fw_cfg_counts, "multiboot.elf", 0,
       "multiboot: cmdline ''\nmultiboot: module '#!/bin/busybox sh'\n"
       "multiboot: fw_cfg 3 CPUs, 48 MiB",
       "--cpus", "3", "-M", "48M", "--initrd", "/init", NULL)
SAMPLE(multiboot_bare, "multiboot.elf", 0,
       "multiboot: cmdline ''\nmultiboot: module '#!/bin/busybox sh'",
       "--bare", "--initrd", "/init", NULL)

/* The guest must run: skip where it cannot, fail when the runner is missing. */
static int run_or_skip(struct __test_metadata *_metadata, const char *guest,
		       const char *const *args, char *out, size_t len,
		       bool with_stderr)
{
	const char *why = cannot_run_guests();
	int r;

	if (why) {
		SKIP(return -1, "%s", why);
	}
	r = run_runner(guest, args, out, len, with_stderr);
	ASSERT_NE(-ENOENT, r) TH_LOG("minihv-run or %s is not installed", guest);
	return r;
}

/* No --initrd: the kernel finds no module, its check 6 (status 2 * 6 + 1). */
TEST(multiboot_without_module)
{
	static const char *const args[] = { "--append", "x", NULL };
	char out[512];
	int r = run_or_skip(_metadata, "multiboot.elf", args, out, sizeof(out), true);

	if (r != -1)
		EXPECT_EQ(13, r) TH_LOG("output: %s", out);
}

TEST(timeout_stops_spinning_guest)
{
	static const char *const args[] = { "-t", "1", NULL };
	char out[512];
	int r = run_or_skip(_metadata, "spin.bin", args, out, sizeof(out), true);

	if (r != -1)
		EXPECT_EQ(124, r) TH_LOG("output: %s", out);
}

/* Bochs 2.7 resets the whole machine on an SVM guest's triple fault. */
static bool triple_fault_kills_machine(void)
{
	char vendor[64] = "";
	FILE *f = fopen("/sys/class/dmi/id/bios_vendor", "re");
	int fd = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	int v = fd >= 0 ? ioctl(fd, MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR) : 0;

	if (fd >= 0)
		close(fd);
	if (f) {
		if (!fgets(vendor, sizeof(vendor), f))
			vendor[0] = '\0';
		fclose(f);
	}
	return strstr(vendor, "Bochs") && v == MINIHV_VENDOR_SVM;
}

TEST(crash_is_diagnosed)
{
	static const char *const args[] = { NULL };
	char out[2048];
	int r;

	if (triple_fault_kills_machine())
		SKIP(return, "Bochs 2.7 ignores the SVM SHUTDOWN intercept (the whole machine would reset)");
	r = run_or_skip(_metadata, "triple.bin", args, out, sizeof(out), true);
	if (r == -1)
		return;
	EXPECT_EQ(4, r) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "triple fault")) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "RIP")) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "CR0")) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, "EFER")) TH_LOG("output: %s", out);
	/* The exit log under the report: how the guest got there. */
	EXPECT_NE(NULL, strstr(out, "exits (vendor reason")) TH_LOG("output: %s", out);
}

/* --trace: each exit on stderr as the run returns, port exits included. */
TEST(trace_prints_exits)
{
	static const char *const args[] = { "--trace", NULL };
	static char out[1 << 16];
	const char *p = out;
	int r, lines = 0;

	r = run_or_skip(_metadata, "hello.bin", args, out, sizeof(out), true);
	if (r == -1)
		return;
	EXPECT_EQ(0, r) TH_LOG("output: %.2000s", out);
	EXPECT_NE(NULL, strstr(out, "Hello from a minihv guest!"));
	while ((p = strstr(p, "minihv-run: trace vCPU 0: "))) {
		lines++;
		p++;
	}
	/* At least one port exit per character of the greeting. */
	EXPECT_LE(26, lines) TH_LOG("output: %.2000s", out);
}

TEST(pc_without_devices)
{
	static const char *const args[] = { "-m", "protected", NULL };
	char out[512];
	int r = run_or_skip(_metadata, "devices.bin", args, out, sizeof(out), true);

	if (r != -1)
		EXPECT_EQ(1, r) TH_LOG("check %d failed; output: %s", r >> 1, out);
}

/* The number after @key in @out, or -1. */
static long number_after(const char *out, const char *key)
{
	const char *p = strstr(out, key);

	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

/*
 * The --mem-* options, by what --stats says backs the RAM at the end:
 * preallocated anonymous RAM is all resident and (on a 2 MiB boundary,
 * given to THP) partly in huge pages; preallocated hugetlbfs RAM is all
 * huge pages.
 */
TEST(memory_backends)
{
	static const char *const prealloc[] = { "-M", "32M", "--mem-prealloc", "--mem-merge",
						"--stats", NULL };
	static const char *const hugetlb[] = { "-M", "8M", "--mem-backend", "hugetlb",
					       "--mem-prealloc", "--stats", NULL };
	static const char *const odd[] = { "-M", "3M", "--mem-backend", "hugetlb", NULL };
	static const char *const bad[] = { "--mem-backend", "file", NULL };
	long old = read_number("/proc/sys/vm/nr_hugepages");
	char out[4096];
	FILE *f;

	if (run_or_skip(_metadata, "hello.bin", prealloc, out, sizeof(out), true) == -1)
		return;
	EXPECT_EQ(0, run_runner("hello.bin", prealloc, out, sizeof(out), true)) TH_LOG("%s", out);
	EXPECT_EQ(32, number_after(out, "memory: ")) TH_LOG("%s", out);
	EXPECT_LT(0, number_after(out, "resident, ")) TH_LOG("no THP: %s", out);

	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%ld\n", old + 4);
	fclose(f);
	EXPECT_LE(old + 4, read_number("/proc/sys/vm/nr_hugepages")) TH_LOG("no four free 2 MiB pages");
	EXPECT_EQ(0, run_runner("hello.bin", hugetlb, out, sizeof(out), true)) TH_LOG("%s", out);
	EXPECT_EQ(8, number_after(out, "resident, ")) TH_LOG("%s", out);
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	if (f) {
		fprintf(f, "%ld\n", old);
		fclose(f);
	}
	EXPECT_EQ(2, run_runner("hello.bin", odd, out, sizeof(out), true));
	EXPECT_NE(NULL, strstr(out, "multiple of 2M")) TH_LOG("%s", out);
	EXPECT_EQ(2, run_runner("hello.bin", bad, out, sizeof(out), true));
}

TEST(real_mode_mmio)
{
	static const char *const args[] = { "-M", "1M", NULL };
	char out[512];
	int r = run_or_skip(_metadata, "realmmio.bin", args, out, sizeof(out), true);

	if (r != -1)
		EXPECT_EQ(1, r) TH_LOG("check %d failed; output: %s", r >> 1, out);
}

static int count_lines(const char *out, const char *line)
{
	size_t len = strlen(line);
	const char *p = out;
	int n = 0;

	while ((p = strstr(p, line))) {
		if (p == out || p[-1] == '\n')
			n += p[len] == '\n';
		p += len;
	}
	return n;
}

/*
 * smp.bin: vCPU 0 starts the others through ports F0h/F1h, each prints a
 * whole line and counts to 1000 in shared memory, vCPU 0 checks the sum
 * and exits with N (status 2N + 1).
 */
static void smp_guest(struct __test_metadata *_metadata, const char *cpus)
{
	const char *const args[] = { "-m", "protected", "--cpus", cpus, NULL };
	int n = atoi(cpus), i, r;
	char out[4096], line[32];

	r = run_or_skip(_metadata, "smp.bin", args, out, sizeof(out), true);
	if (r == -1)
		return;
	EXPECT_EQ(2 * n + 1, r) TH_LOG("output: %s", out);
	for (i = 0; i < n; i++) {
		snprintf(line, sizeof(line), "Hello from vCPU %x", i);
		EXPECT_EQ(1, count_lines(out, line)) TH_LOG("'%s' in: %s", line, out);
	}
	EXPECT_EQ(1, count_lines(out, "All vCPUs counted.")) TH_LOG("output: %s", out);
}

TEST(smp_guest_4_vcpus)
{
	smp_guest(_metadata, "4");
}

TEST(smp_guest_16_vcpus)
{
	smp_guest(_metadata, "16");
}

/* vCPUs waiting for a start and a spinning vCPU 0: all end at the timeout. */
TEST(smp_timeout_stops_every_vcpu)
{
	static const char *const args[] = { "-c", "4", "-t", "1", NULL };
	char out[512];
	int r = run_or_skip(_metadata, "spin.bin", args, out, sizeof(out), true);

	if (r != -1)
		EXPECT_EQ(124, r) TH_LOG("output: %s", out);
}

TEST(usage_errors)
{
	static const char *const none[] = { NULL };
	static const char *const missing[] = { "/no/such/guest.bin", NULL };
	static const char *const bad_mode[] = { "-m", "unreal", NULL };
	static const char *const bad_mem[] = { "-M", "12Q", NULL };
	static const char *const overlap[] = { "-m", "protected", "-l", "0xfffff0", NULL };
	static const char *const version[] = { "-V", NULL };
	static const char *const no_cpus[] = { "--cpus", "0", NULL };
	static const char *const many_cpus[] = { "--cpus", "17", NULL };
	static const char *const not_multiboot[] = { "--append", "quiet", NULL };
	static const char *const bare_platform[] = { "--bare", "--platform", NULL };
	char out[1024];

	EXPECT_EQ(2, run_runner(NULL, none, out, sizeof(out), true));
	EXPECT_NE(NULL, strstr(out, "usage")) TH_LOG("output: %s", out);
	EXPECT_EQ(2, run_runner(NULL, missing, out, sizeof(out), true));
	EXPECT_EQ(2, run_runner("hello.bin", bad_mode, out, sizeof(out), true));
	EXPECT_EQ(2, run_runner("hello.bin", bad_mem, out, sizeof(out), true));
	EXPECT_EQ(2, run_runner("hello.bin", no_cpus, out, sizeof(out), true));
	EXPECT_EQ(2, run_runner("hello.bin", many_cpus, out, sizeof(out), true));
	EXPECT_EQ(2, run_runner("multiboot.elf", bare_platform, out, sizeof(out), true));
	EXPECT_NE(NULL, strstr(out, "--bare")) TH_LOG("output: %s", out);
	if (!cannot_run_guests()) {
		EXPECT_EQ(2, run_runner("protected.bin", overlap, out, sizeof(out), true));
		EXPECT_NE(NULL, strstr(out, "runner's")) TH_LOG("output: %s", out);
		EXPECT_EQ(2, run_runner("hello.bin", not_multiboot, out, sizeof(out), true));
		EXPECT_NE(NULL, strstr(out, "Multiboot")) TH_LOG("output: %s", out);
	}
	EXPECT_EQ(0, run_runner(NULL, version, out, sizeof(out), true));
}

/*
 * Crafted images (selftests/loader_fuzz_test.c has many more,
 * without a device): refused with exit status 2 and the field named, at
 * once.  The runner gets 10 s of CPU time (RLIMIT_CPU, inherited): a loader
 * that works through a crafted header for longer dies of SIGXCPU.
 */
static void run_crafted(struct __test_metadata *_metadata, const void *img, size_t len,
			const char *mem, const char *expect)
{
	char path[] = "/tmp/crafted-XXXXXX", out[1024];
	const char *const args[] = { "-M", mem, "-t", "10", path, NULL };
	struct rlimit cpu = { 10, 11 };
	int fd, r;

	if (cannot_run_guests())
		SKIP(return, "%s", cannot_run_guests());
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, img, len));
	close(fd);
	ASSERT_EQ(0, setrlimit(RLIMIT_CPU, &cpu));
	r = run_runner(NULL, args, out, sizeof(out), true);
	unlink(path);
	ASSERT_NE(-ENOENT, r) TH_LOG("minihv-run is not installed");
	EXPECT_EQ(2, r) TH_LOG("output: %s", out);
	EXPECT_NE(NULL, strstr(out, expect)) TH_LOG("output: %s", out);
}

/*
 * 120 bytes: an ELF64 header and one PT_LOAD of all the RAM a guest may
 * use, read 65,535 times through e_phentsize 0.  The loader before the
 * fix cleared 16 MiB 65,535 times.
 */
TEST(crafted_elf_refused_quickly)
{
	static uint8_t img[120];
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + sizeof(*eh));

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_machine = EM_X86_64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phnum = 65535;
	eh->e_phentsize = 0;
	ph->p_type = PT_LOAD;
	ph->p_memsz = (16 << 20) - 0x10000;
	run_crafted(_metadata, img, sizeof(img), "16M", "e_phentsize 0");
}

/* A Multiboot header whose address fields run past the first 8 KiB. */
TEST(crafted_multiboot_refused)
{
	static uint32_t img[(8192 + 64) / 4];
	uint32_t *h = &img[(8192 - 16) / 4];

	h[0] = 0x1badb002;
	h[1] = 0x10000;
	h[2] = -(h[0] + h[1]);
	run_crafted(_metadata, img, sizeof(img), "16M", "8 KiB");
}

/* A bzImage whose kernel would load at 0, over the zero page. */
TEST(crafted_bzimage_refused)
{
	static uint8_t img[5 * 512 + 4096];

	img[0x1f1] = 4;				/* setup_sects */
	img[0x1f5] = 1;				/* syssize 100h: 4 KiB */
	img[0x1fe] = 0x55;
	img[0x1ff] = 0xaa;
	img[0x201] = 0x6a;			/* header to 26Ch */
	memcpy(img + 0x202, "HdrS", 4);
	img[0x206] = 0x0f;			/* protocol 2.15 */
	img[0x207] = 0x02;
	img[0x211] = 1;				/* LOADED_HIGH */
	img[0x236] = 1;				/* XLF_KERNEL_64 */
	img[0x239] = 0x08;			/* cmdline_size 800h */
	img[0x261] = 0x10;			/* init_size 1000h, pref_address 0 */
	run_crafted(_metadata, img, sizeof(img), "16M", "pref_address");
}

/*
 * -M 1M leaves a Multiboot kernel no RAM above 1 MiB: refused up front.
 * Before, this one (a HLT at 10000h) ran, told that RAM above 1 MiB was
 * (0xf0000 - 0x100000) / 1024 KiB: about 4 TiB.
 */
TEST(kernel_with_1m_refused)
{
	static uint32_t img[16];

	img[0] = 0x1badb002;
	img[1] = 0x10000;			/* load addresses */
	img[2] = -(img[0] + img[1]);
	img[3] = 0x10000;			/* header_addr */
	img[4] = 0x10000;			/* load_addr, load_end 0, bss_end 0 */
	img[7] = 0x10000 + 8 * 4;		/* entry_addr: img[8] */
	img[8] = 0xf4;				/* HLT */
	run_crafted(_metadata, img, sizeof(img), "1M", "at least 2M");
}

TEST_HARNESS_MAIN

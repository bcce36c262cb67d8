// SPDX-License-Identifier: GPL-2.0
/*
 * The host's memory management under guests: minihv holds no page a
 * guest can reach (Documentation/design.rst, "Memory"), so the kernel may
 * swap a guest's pages out, KSM-merge them, back them with transparent
 * huge pages and split and collapse those, and the guest always sees what
 * the VMM's mapping holds.  Where that mapping is a huge page the guest
 * gets a huge nested leaf (debugfs <vm>/tdp, a test hook).
 *
 * Each test fails where minihv pinned the pages it mapped: swap-out and
 * merging leave pinned pages in place, and a pinned guest outgrows its
 * memory cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#ifndef MFD_HUGE_1GB
#define MFD_HUGE_1GB	(30U << 26)	/* MFD_HUGE_SHIFT 26: log2 of the page size */
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB	4U
#endif

#define GPA_EXTRA	0x10000000ULL	/* 256 MiB: above the RAM slot, 2 MiB-aligned */
#define HUGE		(2ULL << 20)
#define WORDS		512		/* 8-byte words in a page */
#define SEED		0x9e3779b97f4a7c15ULL

/* Word 0 of page @i, as the tests fill it: unique, never 0. */
#define PATTERN(i)	((uint64_t)(i) * SEED + 1)

static int set_region(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size, void *mem)
{
	struct minihv_userspace_memory_region mr = {
		.slot = slot, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};

	return ioctl(vm_fd, MINIHV_SET_USER_MEMORY_REGION, &mr) ? -errno : 0;
}

/*
 * Passes over @npages pages at @gpa, each reporting the sum of every
 * page's word 0 weighted by its place and bumping every page's word 1:
 * reads and writes of every page, whose results the host checks.
 */
static void guest_pass(uint64_t gpa, uint64_t npages)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;
	uint64_t i, sum;

	for (;;) {
		for (sum = 0, i = 0; i < npages; i++) {
			sum += p[i * WORDS] * (i + 1);
			p[i * WORDS + 1]++;
		}
		GUEST_SYNC(sum);
	}
}

/* The same sum, reading only. */
static void guest_sum(uint64_t gpa, uint64_t npages)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;
	uint64_t i, sum;

	for (;;) {
		for (sum = 0, i = 0; i < npages; i++)
			sum += p[i * WORDS] * (i + 1);
		GUEST_SYNC(sum);
	}
}

static uint64_t host_sum(const uint64_t *mem, uint64_t npages)
{
	uint64_t i, sum = 0;

	for (i = 0; i < npages; i++)
		sum += mem[i * WORDS] * (i + 1);
	return sum;
}

static void fill(uint64_t *mem, uint64_t npages)
{
	uint64_t i;

	for (i = 0; i < npages; i++) {
		mem[i * WORDS] = PATTERN(i);
		mem[i * WORDS + 1] = 0;
	}
}

/* Runs @vcpu to its next GUEST_SYNC; what it reported. */
static uint64_t guest_run_once(struct mh_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	return uc.args[0];
}

/*
 * One guest_pass: the guest's sum must be @want (computed before, so that
 * the host touches no page the guest is to fault back), and afterwards
 * each page's word 1 one more than @count[i], which is updated.
 */
static void expect_pass(struct __test_metadata *_metadata, struct mh_vcpu *vcpu,
			uint64_t want, uint64_t *mem, uint64_t *count, uint64_t npages)
{
	uint64_t i;

	EXPECT_EQ(want, guest_run_once(vcpu)) TH_LOG("the guest read other memory than the host's");
	for (i = 0; i < npages; i++) {
		count[i]++;
		if (mem[i * WORDS + 1] != count[i]) {
			EXPECT_EQ(count[i], mem[i * WORDS + 1])
				TH_LOG("page %lu: the guest's write went elsewhere", (unsigned long)i);
			break;
		}
	}
}

/* @size bytes of anonymous memory aligned to @align. */
static uint64_t *map_aligned(size_t size, size_t align)
{
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t start;

	if (p == MAP_FAILED)
		return NULL;
	start = ((uintptr_t)p + align - 1) & ~(align - 1);
	if (start > (uintptr_t)p)
		munmap(p, start - (uintptr_t)p);
	munmap((uint8_t *)start + size, (uintptr_t)p + align - start);
	return (uint64_t *)start;
}

/* Whether the page at @hva is part of a transparent huge page (/proc/kpageflags bit 22). */
static bool is_thp(const void *hva)
{
	uint64_t pfn = host_phys(hva) >> 12, flags = 0;
	int fd = open("/proc/kpageflags", O_RDONLY);

	if (fd < 0)
		return false;
	if (!pfn || pread(fd, &flags, 8, pfn * 8) != 8)
		flags = 0;
	close(fd);
	return flags & (1ULL << 22);
}

/*
 * Each leaf in [GPA_EXTRA, GPA_EXTRA + @bytes) must map what @mem's page
 * there is now; returns how many leaves of size @size there are.
 */
static int check_leaves_at(struct __test_metadata *_metadata, uint64_t gpa, uint64_t *mem,
			   uint64_t bytes, const char *size)
{
	static struct tdp_leaf leaves[4096];
	int n, i, errors, match = 0;

	n = tdp_read_leaves(gpa, gpa + bytes, leaves, 4096, &errors);
	EXPECT_LE(0, n);
	EXPECT_EQ(0, errors);
	for (i = 0; i < n; i++) {
		uint64_t off = leaves[i].gpa - gpa;

		EXPECT_EQ(host_phys((uint8_t *)mem + off), leaves[i].hpa)
			TH_LOG("gpa %#lx (%s) maps another page than the VMM's",
			       (unsigned long)leaves[i].gpa, leaves[i].size);
		match += !strcmp(leaves[i].size, size);
	}
	return match;
}

static int check_leaves(struct __test_metadata *_metadata, uint64_t *mem, uint64_t bytes,
			const char *size)
{
	return check_leaves_at(_metadata, GPA_EXTRA, mem, bytes, size);
}

/*
 * A THP under a slot is one 2 MiB leaf; giving back one 4 KiB page of it
 * splits it on the host, and the guest goes on with small leaves that
 * see the hole; collapsing it again (MADV_COLLAPSE) brings the large leaf
 * back, over the table of small ones.
 */
TEST(thp_backs_large_leaves)
{
	const uint64_t npages = 2 * HUGE / 4096, hole = 256;
	uint64_t *mem, *count = calloc(npages, 8), want;
	struct mh_vcpu *vcpu;
	struct mh_vm *vm;

	if (!minihv_has_test_hooks())
		SKIP(return, "needs debugfs tdp: " NO_TEST_HOOKS);
	mem = map_aligned(2 * HUGE, HUGE);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, madvise(mem, 2 * HUGE, MADV_HUGEPAGE));
	fill(mem, npages);
	if (!is_thp(mem) || !is_thp((uint8_t *)mem + HUGE))
		SKIP(return, "the host gave no transparent huge page (THP off, or memory fragmented)");

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_pass);
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, GPA_EXTRA, 2 * HUGE, mem));
	vcpu_args_set(vcpu, GPA_EXTRA, npages);
	expect_pass(_metadata, vcpu, host_sum(mem, npages), mem, count, npages);
	EXPECT_EQ(2, check_leaves(_metadata, mem, 2 * HUGE, "2M"));

	/* Split on the host: small leaves, the hole reads 0. */
	ASSERT_EQ(0, madvise(mem + hole * WORDS, 4096, MADV_DONTNEED));
	count[hole] = 0;
	expect_pass(_metadata, vcpu, host_sum(mem, npages), mem, count, npages);
	EXPECT_EQ(1, check_leaves(_metadata, mem, 2 * HUGE, "2M")) TH_LOG("the split huge page is still mapped large");
	EXPECT_LT(16, check_leaves(_metadata, mem, HUGE, "4K"));

	/* Collapsed again: one large leaf where the small ones were. */
	ASSERT_EQ(0, madvise(mem, HUGE, MADV_COLLAPSE)) TH_LOG("MADV_COLLAPSE: %s", strerror(errno));
	ASSERT_TRUE(is_thp(mem));
	want = host_sum(mem, npages);
	expect_pass(_metadata, vcpu, want, mem, count, npages);
	EXPECT_EQ(2, check_leaves(_metadata, mem, 2 * HUGE, "2M"));
	EXPECT_EQ(0, check_leaves(_metadata, mem, 2 * HUGE, "4K"));
	vm_free(vm);
	munmap(mem, 2 * HUGE);
	EXPECT_EQ(0, read_number("/sys/kernel/debug/minihv/pinned_pages"));
}

/*
 * hugetlbfs (a memfd with MFD_HUGETLB): 2 MiB leaves; punching a hole
 * gives a huge page back, and the guest reads a new, zeroed one.
 */
TEST(hugetlbfs_backs_large_leaves)
{
	const uint64_t npages = 2 * HUGE / 4096;
	uint64_t *mem, *count = calloc(npages, 8), i;
	long old = read_number("/proc/sys/vm/nr_hugepages");
	struct mh_vcpu *vcpu;
	struct mh_vm *vm;
	FILE *f;
	int fd;

	if (!minihv_has_test_hooks())
		SKIP(return, "needs debugfs tdp: " NO_TEST_HOOKS);
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "%ld\n", old + 2);
	fclose(f);
	if (read_number("/proc/sys/vm/nr_hugepages") < old + 2)
		SKIP(return, "the host found no two free 2 MiB huge pages");
	fd = memfd_create("minihv-hugetlb", MFD_HUGETLB);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 2 * HUGE));
	mem = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	fill(mem, npages);

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_pass);
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, GPA_EXTRA, 2 * HUGE, mem));
	vcpu_args_set(vcpu, GPA_EXTRA, npages);
	expect_pass(_metadata, vcpu, host_sum(mem, npages), mem, count, npages);
	EXPECT_EQ(2, check_leaves(_metadata, mem, 2 * HUGE, "2M"));

	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, HUGE, HUGE));
	for (i = npages / 2; i < npages; i++)
		count[i] = 0;
	expect_pass(_metadata, vcpu, host_sum(mem, npages / 2), mem, count, npages);
	EXPECT_EQ(2, check_leaves(_metadata, mem, 2 * HUGE, "2M"));
	vm_free(vm);
	munmap(mem, 2 * HUGE);
	close(fd);
	f = fopen("/proc/sys/vm/nr_hugepages", "w");
	if (f) {
		fprintf(f, "%ld\n", old);
		fclose(f);
	}
}

/* Whether /proc/cpuinfo's first "flags" line lists @flag. */
static bool cpuinfo_has_flag(const char *flag)
{
	char line[4096], word[64];
	bool has = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	snprintf(word, sizeof(word), " %s", flag);
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		line[strcspn(line, "\n")] = ' ';
		strcat(word, " ");
		has = strstr(line, word);
		break;
	}
	if (f)
		fclose(f);
	return has;
}

/*
 * A 1 GiB hugetlbfs page (a memfd with MFD_HUGE_1GB) under a 1 GiB-aligned
 * slot is one 1 GiB leaf where the CPU has 1 GiB nested pages (NPT with
 * GBPAGES, EPT's capability bit 17), 2 MiB leaves elsewhere.  Only a
 * machine that reserved the page at boot can give one (the QEMU machines
 * boot with hugepagesz=1G hugepages=1; lib.sh).
 */
TEST(hugetlbfs_1g_backs_a_1g_leaf)
{
	const uint64_t size = 1ULL << 30, npages = size / 4096, gpa = 1ULL << 30;
	uint64_t *mem, *count = calloc(npages, 8);
	struct mh_vcpu *vcpu;
	struct mh_vm *vm;
	bool gbpages;
	int fd;

	if (!minihv_has_test_hooks())
		SKIP(return, "needs debugfs tdp: " NO_TEST_HOOKS);
	if (read_number("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages") < 1)
		SKIP(return, "no free 1 GiB huge page (boot with hugepagesz=1G hugepages=1)");
	gbpages = cpuinfo_has_flag("pdpe1gb");
	fd = memfd_create("minihv-hugetlb-1g", MFD_HUGETLB | MFD_HUGE_1GB);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, (uintptr_t)mem % size);
	fill(mem, npages);

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_pass);
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, gpa, size, mem));
	vcpu_args_set(vcpu, gpa, npages);
	expect_pass(_metadata, vcpu, host_sum(mem, npages), mem, count, npages);
	if (gbpages) {
		EXPECT_EQ(1, check_leaves_at(_metadata, gpa, mem, size, "1G"));
	} else {
		EXPECT_EQ(size / HUGE, check_leaves_at(_metadata, gpa, mem, size, "2M"));
	}
	vm_free(vm);
	munmap(mem, size);
	close(fd);
	free(count);
}

/* Writes a word of every page of both huge pages, then calls the RET at @code. */
static void guest_touch_then_call(uint64_t gpa, uint64_t code)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;
	uint64_t i;

	for (i = 0; i < 2 * HUGE / 4096; i++)
		p[i * WORDS + 1]++;
	((void (*)(void))code)();
	GUEST_DONE();
}

/*
 * On a CPU with the iTLB multihit erratum (the kernel's sysfs says so)
 * large EPT leaves may not execute: code run from a THP gets its page as
 * a 4 KiB executable leaf, the huge page it lies in is split for it, and
 * the other huge page stays one leaf that cannot execute.
 */
TEST(itlb_multihit_code_runs_from_small_leaves)
{
	const uint64_t code_off = HUGE + 5 * 4096;
	struct tdp_leaf leaves[1024];
	char state[64] = "";
	int n, i, errors, large = 0;
	bool code_leaf = false;
	struct mh_vcpu *vcpu;
	struct ucall uc;
	struct mh_vm *vm;
	uint64_t *mem;
	FILE *f;

	f = fopen("/sys/devices/system/cpu/vulnerabilities/itlb_multihit", "r");
	if (f) {
		if (!fgets(state, sizeof(state), f))
			state[0] = 0;
		fclose(f);
	}
	if (!state[0] || !strncmp(state, "Not affected", 12))
		SKIP(return, "this CPU has no iTLB multihit erratum: large leaves execute");
	if (!minihv_has_test_hooks())
		SKIP(return, "needs debugfs tdp: " NO_TEST_HOOKS);
	mem = map_aligned(2 * HUGE, HUGE);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, madvise(mem, 2 * HUGE, MADV_HUGEPAGE));
	fill(mem, 2 * HUGE / 4096);
	((uint8_t *)mem)[code_off] = 0xc3;	/* RET */
	if (!is_thp(mem) || !is_thp((uint8_t *)mem + HUGE))
		SKIP(return, "the host gave no transparent huge page (THP off, or memory fragmented)");

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_touch_then_call);
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, GPA_EXTRA, 2 * HUGE, mem));
	vcpu_args_set(vcpu, GPA_EXTRA, GPA_EXTRA + code_off);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	n = tdp_read_leaves(GPA_EXTRA, GPA_EXTRA + 2 * HUGE, leaves, 1024, &errors);
	EXPECT_EQ(0, errors);
	for (i = 0; i < n; i++) {
		if (!strcmp(leaves[i].size, "2M")) {
			large++;
			EXPECT_EQ(GPA_EXTRA, leaves[i].gpa);
			EXPECT_FALSE(leaves[i].exec) TH_LOG("an executable 2 MiB leaf");
		}
		if (leaves[i].gpa == GPA_EXTRA + code_off) {
			code_leaf = true;
			EXPECT_STREQ("4K", leaves[i].size);
			EXPECT_TRUE(leaves[i].exec);
		}
	}
	EXPECT_EQ(1, large);
	EXPECT_TRUE(code_leaf) TH_LOG("no leaf for the code page");
	vm_free(vm);
	munmap(mem, 2 * HUGE);
}

/*
 * A swap device: the machine's own, or a zram disk from the modules the
 * test machine carries, in the order they load (/lib/minihv/swap,
 * scripts/lib.sh).  False if neither can be had.
 */
static bool swap_on(void)
{
	char path[320], line[256];
	FILE *f = fopen("/proc/swaps", "r"), *order;
	int lines = 0, r;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	if (lines > 1)
		return true;
	order = fopen("/lib/minihv/swap/lib/modules/order", "r");
	if (!order)
		return false;
	while (fscanf(order, "%63s", line) == 1) {
		snprintf(path, sizeof(path), "/lib/minihv/swap/lib/modules/%s.ko", line);
		r = module_load(path, NULL);
		if (r && r != -EEXIST)
			break;
	}
	fclose(order);
	f = fopen("/sys/block/zram0/disksize", "w");
	if (!f)
		return false;
	fprintf(f, "%d\n", 256 << 20);
	if (fclose(f))
		return false;
	return !system("mkswap /dev/zram0 >/dev/null && swapon /dev/zram0");
}

static bool page_swapped(const void *hva)
{
	return (pagemap_entry(hva) >> 62) & 1;
}

/*
 * MADV_PAGEOUT swaps a guest's pages out between two runs; the guest
 * then reads every one back from swap.  Pinned pages would stay put.
 */
TEST(swapped_out_pages_come_back)
{
	const uint64_t npages = 4096;		/* 16 MiB */
	uint64_t *mem, *count = calloc(npages, 8), want, i, swapped = 0;
	struct mh_vcpu *vcpu;
	struct mh_vm *vm;

	if (!swap_on())
		SKIP(return, "no swap device and no zram to make one");
	mem = mmap(NULL, npages * 4096, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	/* Small pages: swap is what is tested here, not THP. */
	ASSERT_EQ(0, madvise(mem, npages * 4096, MADV_NOHUGEPAGE));
	fill(mem, npages);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_pass);
	ASSERT_EQ(0, set_region(vm_fd(vm), 1, GPA_EXTRA, npages * 4096, mem));
	vcpu_args_set(vcpu, GPA_EXTRA, npages);
	want = host_sum(mem, npages);
	expect_pass(_metadata, vcpu, want, mem, count, npages);

	ASSERT_EQ(0, madvise(mem, npages * 4096, MADV_PAGEOUT));
	for (i = 0; i < npages; i++)
		swapped += page_swapped(mem + i * WORDS);
	EXPECT_LT(npages / 2, swapped) TH_LOG("only %lu of %lu guest pages went to swap",
					      (unsigned long)swapped, (unsigned long)npages);
	/* The guest faults them back in: the same contents. */
	expect_pass(_metadata, vcpu, want, mem, count, npages);
	vm_free(vm);
	munmap(mem, npages * 4096);
	EXPECT_EQ(0, read_number("/sys/kernel/debug/minihv/pinned_pages"));
}

/* Writes every page, then checks every page: more than the cgroup holds. */
static void guest_fill_then_check(uint64_t gpa, uint64_t npages)
{
	volatile uint64_t *p = (volatile uint64_t *)gpa;
	uint64_t i;

	for (i = 0; i < npages; i++)
		p[i * WORDS] = PATTERN(i);
	for (i = 0; i < npages; i++)
		GUEST_ASSERT_EQ(p[i * WORDS], PATTERN(i));
	GUEST_DONE();
}

#define CGROUP		"/sys/fs/cgroup"
#define CG_TEST		CGROUP "/minihv-hostmem"

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -errno;
	r = write(fd, s, strlen(s)) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static long vmstat(const char *name)
{
	char key[64];
	long v, found = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			found = v;
	fclose(f);
	return found;
}

/*
 * A guest of 96 MiB in a memory cgroup of 48 MiB: the kernel reclaims
 * the guest's pages to swap while it runs, and every page reads back what
 * the guest wrote.  With pinned pages the cgroup runs out and its OOM
 * killer ends the VMM.
 */
TEST(memory_cgroup_swaps_a_running_guest)
{
	const uint64_t npages = (96 << 20) / 4096;
	long swapped_before;
	char pid[32];
	int status;
	pid_t child;

	if (!swap_on())
		SKIP(return, "no swap device and no zram to make one");
	if (access(CGROUP "/cgroup.controllers", F_OK))
		ASSERT_EQ(0, mount("none", CGROUP, "cgroup2", 0, NULL));
	if (write_file(CGROUP "/cgroup.subtree_control", "+memory"))
		SKIP(return, "no memory controller in cgroup v2");
	rmdir(CG_TEST);
	ASSERT_EQ(0, mkdir(CG_TEST, 0755));
	ASSERT_EQ(0, write_file(CG_TEST "/memory.max", "48M"));
	swapped_before = vmstat("pswpout");

	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		uint64_t *mem;
		struct mh_vcpu *vcpu;
		struct mh_vm *vm;
		struct ucall uc;

		snprintf(pid, sizeof(pid), "%d", getpid());
		if (write_file(CG_TEST "/cgroup.procs", pid))
			_exit(3);
		mem = mmap(NULL, npages * 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (mem == MAP_FAILED)
			_exit(4);
		vm = vm_create();
		vcpu = vm_vcpu_add(vm, 0, guest_fill_then_check);
		if (set_region(vm_fd(vm), 1, GPA_EXTRA, npages * 4096, mem))
			_exit(5);
		vcpu_args_set(vcpu, GPA_EXTRA, npages);
		vcpu_run(vcpu);
		assert_ucall(vcpu, UCALL_DONE, &uc);
		vm_free(vm);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status)) TH_LOG("the VMM died of signal %d (the cgroup's OOM killer?)",
					      WTERMSIG(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* At least what did not fit went to swap. */
	EXPECT_LT((48 << 20) / 4096, vmstat("pswpout") - swapped_before);
	rmdir(CG_TEST);
}

#define KSM		"/sys/kernel/mm/ksm/"

/* Pages of @a and @b that are one page of the host (/proc/self/pagemap). */
static uint64_t shared_pages(const uint64_t *a, const uint64_t *b, uint64_t npages)
{
	uint64_t i, n = 0, pa;

	for (i = 0; i < npages; i++) {
		pa = host_phys(a + i * WORDS);
		n += pa && pa == host_phys(b + i * WORDS);
	}
	return n;
}

/*
 * Two guests with the same contents share their pages through KSM, go on
 * sharing them while they read, and each gets its own copy back when
 * one writes.  A read fault that took the page for writing would unshare
 * it (copy-on-write); a page held pinned would never be merged.
 */
TEST(ksm_merges_identical_guests)
{
	const uint64_t npages = 512, size = npages * 4096;
	struct mh_vcpu *reader[2], *writer;
	uint64_t *mem[2], want, *count = calloc(npages, 8), shared = 0;
	struct mh_vm *vm[2];
	struct timespec t0, t;
	int i;

	if (access(KSM "run", W_OK))
		SKIP(return, "no KSM in this kernel");
	for (i = 0; i < 2; i++) {
		mem[i] = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, mem[i]);
		ASSERT_EQ(0, madvise(mem[i], size, MADV_NOHUGEPAGE));
		fill(mem[i], npages);
		vm[i] = vm_create();
		reader[i] = vm_vcpu_add(vm[i], 0, guest_sum);
		ASSERT_EQ(0, set_region(vm_fd(vm[i]), 1, GPA_EXTRA, size, mem[i]));
		vcpu_args_set(reader[i], GPA_EXTRA, npages);
		/* Mapped in the guest before KSM looks at them. */
		EXPECT_EQ(host_sum(mem[i], npages), guest_run_once(reader[i]));
		ASSERT_EQ(0, madvise(mem[i], size, MADV_MERGEABLE));
	}
	if (!host_phys(mem[0]))
		SKIP(return, "no PFNs in /proc/self/pagemap (needs CAP_SYS_ADMIN)");
	writer = vm_vcpu_add(vm[0], 1, guest_pass);
	vcpu_args_set(writer, GPA_EXTRA, npages);
	want = host_sum(mem[0], npages);

	ASSERT_EQ(0, write_file(KSM "pages_to_scan", "10000"));
	ASSERT_EQ(0, write_file(KSM "sleep_millisecs", "10"));
	ASSERT_EQ(0, write_file(KSM "run", "1"));
	/* ksmd needs two scans to merge; wait for it, 60 s at most. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(20000);
		shared = shared_pages(mem[0], mem[1], npages);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (shared < npages * 3 / 4 && t.tv_sec - t0.tv_sec < 60);
	/* ksmd stops (after its batch: the write waits for it); merged pages stay. */
	ASSERT_EQ(0, write_file(KSM "run", "0"));
	shared = shared_pages(mem[0], mem[1], npages);
	EXPECT_LE(npages * 3 / 4, shared) TH_LOG("KSM merged %lu of %lu guest pages",
						 (unsigned long)shared, (unsigned long)npages);

	/* Reading keeps them shared. */
	for (i = 0; i < 2; i++)
		EXPECT_EQ(want, guest_run_once(reader[i]));
	EXPECT_EQ(shared, shared_pages(mem[0], mem[1], npages))
		TH_LOG("the guests' reads unshared their pages");

	/* A write unshares: guest 0 sees its writes, guest 1 its old pages. */
	expect_pass(_metadata, writer, want, mem[0], count, npages);
	EXPECT_EQ(0, shared_pages(mem[0], mem[1], npages));
	EXPECT_EQ(0, mem[1][1]);
	EXPECT_EQ(want, guest_run_once(reader[1]));
	EXPECT_EQ(want, guest_run_once(reader[0]));
	ASSERT_EQ(0, write_file(KSM "run", "2"));	/* unmerge the rest */
	for (i = 0; i < 2; i++) {
		vm_free(vm[i]);
		munmap(mem[i], size);
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-bench DEVICE NAME: one round of the benchmark on one hypervisor
 * (/dev/minihv or /dev/kvm, through minihv-run's backends in hv.c).  It
 * prints one line per metric, "BENCH NAME <metric> <value>", which
 * scripts/bench.sh collects over several rounds, alternating minihv and
 * KVM in the same boot, and turns into a table of medians.
 *
 *   cpuid_cycles      TSC ticks per CPUID exit (handled in the kernel)
 *   null_cycles       per VMCALL/VMMCALL exit: the world switch floor
 *   pio_cycles        per port I/O exit to userspace and back
 *   mmio_cycles       per MMIO exit to userspace and back
 *   first_exit_p50_us, first_exit_p99_us
 *                     open the device .. the guest's first exit, 200 VMs
 *   churn_per_s       create-run-destroy cycles per second
 *   kmem_per_vm_kib   Slab + PageTables + KernelStack per VM, 100 VMs of
 *                     1 vCPU and 2 MiB each, each run to its first exit
 *   compute_ratio     a CPU-bound loop: native ticks / guest ticks
 *   memread_thp_ratio, memread_4k_ratio
 *                     random 8-byte reads over 256 MiB, native ticks /
 *                     guest ticks, with RAM in transparent huge pages
 *                     (2 MiB nested leaves) and in 4 KiB pages (4 KiB
 *                     leaves), the native buffer backed the same way
 *
 * The exit loops time themselves in the guest (bench-guest.S); times are
 * those of an emulated machine, so only ratios from the same boot mean
 * anything.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "boot.h"
#include "hv.h"

#define BENCH_LOAD	0x100000	/* where the guest code goes */
#define RESULT		0x1000		/* bench-guest.S stores ticks, N here */
#define RAM_SIZE	(2ULL << 20)
#define FIRST_EXIT_VMS	200
#define CHURN_VMS	200
#define KMEM_VMS	100
#define COMPUTE_ROUNDS	(1ULL << 22)
/* bench-guest.S's MEMREAD_BASE and MEMREAD_MASK: 256 MiB from 2 MiB. */
#define MEMREAD_BASE	(2ULL << 20)
#define MEMREAD_SIZE	(256ULL << 20)
#define MEMREAD_RAM	(MEMREAD_BASE + MEMREAD_SIZE + (2ULL << 20))
#define MEMREAD_READS	(1ULL << 19)

enum { BENCH_CPUID = 1, BENCH_HYPERCALL, BENCH_PIO, BENCH_MMIO, BENCH_COMPUTE = 8,
       BENCH_MEMREAD };

extern const char bench_guest_start[], bench_guest_end[];
extern const char bench_entry[], bench_first[];
uint64_t bench_compute(uint64_t n);
uint64_t bench_memread(const void *base, uint64_t mask, uint64_t n);

struct bench_vm {
	struct hv hv;
	struct hv_vcpu vcpu;
	uint8_t *ram;
	uint64_t ram_size;
};

static const char *device, *name;

static void report(const char *metric, const char *fmt, double v)
{
	printf("BENCH %s %s ", name, metric);
	printf(fmt, v);
	printf("\n");
}

static void die(const char *what, int r)
{
	fprintf(stderr, "minihv-bench: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

static uint64_t guest_addr(const char *sym)
{
	return BENCH_LOAD + (sym - bench_guest_start);
}

/*
 * @size bytes of anonymous memory on a 2 MiB boundary, in transparent huge
 * pages if @thp, else in 4 KiB pages; NULL if it cannot be had.
 */
static uint8_t *map_ram(uint64_t size, bool thp)
{
	const uint64_t align = 2ULL << 20;
	uint8_t *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), *ram;

	if (p == MAP_FAILED)
		return NULL;
	ram = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (ram > p)
		munmap(p, ram - p);
	munmap(ram + size, p + align - ram);
	madvise(ram, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return ram;
}

/*
 * A VM with @size bytes of RAM (THP-backed if @thp), one vCPU in long
 * mode at @entry, RDI/RSI as given.
 */
static void vm_create_sized(struct bench_vm *b, uint64_t size, bool thp, const char *entry,
			    uint64_t rdi, uint64_t rsi)
{
	struct minihv_sregs sregs;
	struct minihv_regs regs;
	int r;

	r = hv_open(&b->hv, device);
	if (r)
		die(device, r);
	r = hv_create_vm(&b->hv);
	if (r)
		die("create VM", r);
	b->ram_size = size;
	b->ram = map_ram(size, thp);
	if (!b->ram)
		die("guest RAM", errno);
	memcpy(b->ram + BENCH_LOAD, bench_guest_start, bench_guest_end - bench_guest_start);
	r = hv_set_memory(&b->hv, 0, 0, size, b->ram);
	if (!r)
		r = hv_create_vcpu(&b->hv, 0, &b->vcpu);
	if (!r)
		r = hv_get_sregs(&b->hv, &b->vcpu, &sregs);
	if (r)
		die("vCPU", r);
	boot_state(b->ram, size, MODE_LONG, guest_addr(entry), &sregs, &regs);
	regs.rdi = rdi;
	regs.rsi = rsi;
	regs.rdx = __builtin_cpu_is("amd") ? 2 : 1;
	r = hv_set_sregs(&b->hv, &b->vcpu, &sregs);
	if (!r)
		r = hv_set_regs(&b->hv, &b->vcpu, &regs);
	if (r)
		die("registers", r);
}

/* A VM with 2 MiB, as the exit benchmarks use. */
static void vm_create(struct bench_vm *b, const char *entry, uint64_t rdi, uint64_t rsi)
{
	vm_create_sized(b, RAM_SIZE, false, entry, rdi, rsi);
}

static void vm_destroy(struct bench_vm *b)
{
	hv_vcpu_close(&b->hv, &b->vcpu);
	hv_close(&b->hv);
	munmap(b->ram, b->ram_size);
}

/* Runs until HLT, serving port I/O and MMIO by doing nothing. */
static void run_to_hlt(struct bench_vm *b)
{
	int r;

	for (;;) {
		r = hv_run(&b->hv, &b->vcpu);
		if (r)
			die("RUN", r);
		switch (*b->vcpu.exit_reason) {
		case MINIHV_EXIT_IO:
		case MINIHV_EXIT_MMIO:
			continue;	/* OUT and MMIO writes only */
		case MINIHV_EXIT_HLT:
			return;
		default:
			fprintf(stderr, "minihv-bench: unexpected exit %u\n", *b->vcpu.exit_reason);
			exit(1);
		}
	}
}

/* Ticks per exit of one kind, timed by the guest. */
static double exit_cycles(int what)
{
	struct bench_vm b;
	uint64_t ticks, n;

	vm_create(&b, bench_entry, what, 0);
	run_to_hlt(&b);
	memcpy(&ticks, b.ram + RESULT, 8);
	memcpy(&n, b.ram + RESULT + 8, 8);
	vm_destroy(&b);
	return (double)ticks / n;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Open the device .. the first exit (the guest's first instruction). */
static void first_exit(double *p50, double *p99)
{
	static double us[FIRST_EXIT_VMS];
	struct bench_vm b;
	int i, r;

	for (i = 0; i < FIRST_EXIT_VMS; i++) {
		double t0 = now_us();

		vm_create(&b, bench_first, 0, 0);
		r = hv_run(&b.hv, &b.vcpu);
		us[i] = now_us() - t0;
		if (r || *b.vcpu.exit_reason != MINIHV_EXIT_IO)
			die("first exit", r ? r : EPROTO);
		vm_destroy(&b);
	}
	qsort(us, FIRST_EXIT_VMS, sizeof(us[0]), cmp_double);
	*p50 = us[FIRST_EXIT_VMS / 2];
	*p99 = us[FIRST_EXIT_VMS * 99 / 100];
}

static double churn_per_s(void)
{
	struct bench_vm b;
	double t0 = now_us();
	int i;

	for (i = 0; i < CHURN_VMS; i++) {
		vm_create(&b, bench_first, 0, 0);
		run_to_hlt(&b);
		vm_destroy(&b);
	}
	return CHURN_VMS / ((now_us() - t0) / 1e6);
}

static long meminfo_kib(const char *field)
{
	size_t len = strlen(field);
	char line[128];
	long v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = atol(line + len + 1);
	if (f)
		fclose(f);
	return v;
}

static long kernel_kib(void)
{
	FILE *f = fopen("/proc/sys/vm/drop_caches", "we");

	if (f) {
		fputs("3", f);
		fclose(f);
	}
	return meminfo_kib("Slab") + meminfo_kib("PageTables") + meminfo_kib("KernelStack");
}

static double kmem_per_vm(void)
{
	static struct bench_vm vms[KMEM_VMS];
	long before, after;
	int i;

	before = kernel_kib();
	for (i = 0; i < KMEM_VMS; i++) {
		vm_create(&vms[i], bench_first, 0, 0);
		run_to_hlt(&vms[i]);
	}
	after = kernel_kib();
	for (i = 0; i < KMEM_VMS; i++)
		vm_destroy(&vms[i]);
	return (double)(after - before) / KMEM_VMS;
}

/*
 * The fastest of three runs each way: a preempted run is only ever slower,
 * and an emulated machine's host preempts it often.
 */
static double compute_ratio(void)
{
	uint64_t t, native = UINT64_MAX, guest = UINT64_MAX;
	struct bench_vm b;
	int i;

	for (i = 0; i < 3; i++) {
		t = __rdtsc();
		bench_compute(COMPUTE_ROUNDS);
		t = __rdtsc() - t;
		if (t < native)
			native = t;

		vm_create(&b, bench_entry, BENCH_COMPUTE, COMPUTE_ROUNDS);
		run_to_hlt(&b);
		memcpy(&t, b.ram + RESULT, 8);
		vm_destroy(&b);
		if (t < guest)
			guest = t;
	}
	return (double)native / guest;
}

/*
 * Random reads over 256 MiB (bench_memread), natively and in a guest,
 * RAM backed by THP or by 4 KiB pages on both sides: native ticks / guest
 * ticks, the fastest of three each way.  The guest's own page tables map
 * 2 MiB pages (boot.c), so the nested leaves make the difference.
 */
static double memread_ratio(bool thp)
{
	uint64_t t, native = UINT64_MAX, guest = UINT64_MAX;
	struct bench_vm b;
	uint8_t *buf;
	int i;

	buf = map_ram(MEMREAD_SIZE, thp);
	if (!buf)
		die("memread buffer", errno);
	memset(buf, 1, MEMREAD_SIZE);
	for (i = 0; i < 3; i++) {
		t = __rdtsc();
		bench_memread(buf, MEMREAD_SIZE - 8, MEMREAD_READS);
		t = __rdtsc() - t;
		if (t < native)
			native = t;
	}
	munmap(buf, MEMREAD_SIZE);
	for (i = 0; i < 3; i++) {
		vm_create_sized(&b, MEMREAD_RAM, thp, bench_entry, BENCH_MEMREAD, MEMREAD_READS);
		memset(b.ram + MEMREAD_BASE, 1, MEMREAD_SIZE);
		run_to_hlt(&b);
		memcpy(&t, b.ram + RESULT, 8);
		vm_destroy(&b);
		if (t < guest)
			guest = t;
	}
	return (double)native / guest;
}

int main(int argc, char **argv)
{
	double p50, p99;

	if (argc != 3) {
		fprintf(stderr, "usage: minihv-bench DEVICE NAME\n");
		return 2;
	}
	device = argv[1];
	name = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	report("cpuid_cycles", "%.1f", exit_cycles(BENCH_CPUID));
	report("null_cycles", "%.1f", exit_cycles(BENCH_HYPERCALL));
	report("pio_cycles", "%.1f", exit_cycles(BENCH_PIO));
	report("mmio_cycles", "%.1f", exit_cycles(BENCH_MMIO));
	first_exit(&p50, &p99);
	report("first_exit_p50_us", "%.1f", p50);
	report("first_exit_p99_us", "%.1f", p99);
	report("churn_per_s", "%.1f", churn_per_s());
	report("kmem_per_vm_kib", "%.1f", kmem_per_vm());
	report("compute_ratio", "%.3f", compute_ratio());
	report("memread_thp_ratio", "%.3f", memread_ratio(true));
	report("memread_4k_ratio", "%.3f", memread_ratio(false));
	return 0;
}

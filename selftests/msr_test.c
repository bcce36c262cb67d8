// SPDX-License-Identifier: GPL-2.0
/*
 * The model MSRs (module/msr.c, Documentation/platform.rst's table): each
 * one read and written by a guest as a kernel would, on the vendor whose
 * CPUs have it, and #GP on the other.  The guest catches #GP itself (a
 * handler that counts it and steps over the 2-byte RDMSR or WRMSR), so a
 * single guest can try an access, learn whether it faulted and go on.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define MSR_TSC			0x10
#define MSR_FEAT_CTL		0x3a
#define MSR_TSC_ADJUST		0x3b
#define MSR_UCODE_REV		0x8b	/* AMD: PATCH_LEVEL */
#define MSR_P6_PERFCTR0		0xc1
#define MSR_PLATFORM_INFO	0xce
#define MSR_MISC_FEATURES	0x140
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_P6_EVNTSEL0		0x186
#define MSR_MISC_ENABLE		0x1a0
#define MSR_K7_EVNTSEL0		0xc0010000
#define MSR_K7_PERFCTR0		0xc0010004
#define MSR_SYSCFG		0xc0010010
#define MSR_HWCR		0xc0010015
#define MSR_INT_PENDING_MSG	0xc0010055
#define MSR_DE_CFG		0xc0011029

#define MISC_ENABLE_FAST_STRING	(1ULL << 0)
#define MISC_ENABLE_BTS_UNAVAIL	(1ULL << 11)
#define MISC_ENABLE_MWAIT	(1ULL << 18)
#define MISC_ENABLE_LIMIT_CPUID	(1ULL << 22)
#define MISC_ENABLE_XD_DISABLE	(1ULL << 34)

volatile uint64_t gp_count;

/* #GP: count it and step over the 2-byte RDMSR/WRMSR (SDM Vol 3 6.13: error code pushed). */
__asm__(".pushsection .text\n"
	"msr_gp_skip:\n"
	"	incq gp_count(%rip)\n"
	"	addq $2, 8(%rsp)\n"
	"	add $8, %rsp\n"
	"	iretq\n"
	".popsection\n");
extern char msr_gp_skip[];

/* RDMSR: 1 if it raised #GP, else 0 with the value in *@v. */
static int rd(uint32_t msr, uint64_t *v)
{
	uint64_t before = gp_count;
	uint32_t lo = 0, hi = 0;

	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	*v = lo | ((uint64_t)hi << 32);
	return gp_count != before;
}

/* WRMSR: 1 if it raised #GP. */
static int wr(uint32_t msr, uint64_t v)
{
	uint64_t before = gp_count;

	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
	return gp_count != before;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((uint64_t)hi << 32);
}

/* The guest must read @v from @msr without #GP. */
#define GUEST_RD_EQ(msr, v) do {				\
	uint64_t __v;						\
	GUEST_ASSERT_EQ(rd(msr, &__v), 0);			\
	GUEST_ASSERT_EQ(__v, (uint64_t)(v));			\
} while (0)

/* Both RDMSR and WRMSR of @msr are #GP (a CPU without it). */
#define GUEST_ABSENT(msr) do {					\
	uint64_t __v;						\
	GUEST_ASSERT_EQ(rd(msr, &__v), 1);			\
	GUEST_ASSERT_EQ(wr(msr, 0), 1);				\
} while (0)

/* Guests take the vendor (MINIHV_VENDOR_*) as their first argument. */
#define AMD(vendor)	((vendor) == MINIHV_VENDOR_SVM)

/* AMD's legacy counters: on every AMD64 CPU, not in CPUID; no PMU, so 0. */
static void guest_amd_legacy_perf(uint64_t vendor)
{
	uint32_t msr;

	for (msr = MSR_K7_EVNTSEL0; msr <= MSR_K7_PERFCTR0 + 3; msr++) {
		if (!AMD(vendor)) {
			GUEST_ABSENT(msr);
			continue;
		}
		GUEST_RD_EQ(msr, 0);
		GUEST_ASSERT_EQ(wr(msr, 0x430076), 0);	/* enable, cycles */
		GUEST_RD_EQ(msr, 0);
	}
	GUEST_DONE();
}

/* Intel's P6 counters, the same story. */
static void p6_counter(uint64_t vendor, uint32_t msr)
{
	if (AMD(vendor)) {
		GUEST_ABSENT(msr);
		return;
	}
	GUEST_RD_EQ(msr, 0);
	GUEST_ASSERT_EQ(wr(msr, 0x4300c0), 0);
	GUEST_RD_EQ(msr, 0);
}

static void guest_p6_perf(uint64_t vendor)
{
	p6_counter(vendor, MSR_P6_PERFCTR0);
	p6_counter(vendor, MSR_P6_PERFCTR0 + 1);
	p6_counter(vendor, MSR_P6_EVNTSEL0);
	p6_counter(vendor, MSR_P6_EVNTSEL0 + 1);
	GUEST_DONE();
}

/* HWCR: TscFreqSel set; McStatusWrEn and TscFreqSel writable, 3, 6, 8 ignored. */
static void guest_hwcr(uint64_t vendor)
{
	if (!AMD(vendor)) {
		GUEST_ABSENT(MSR_HWCR);
		GUEST_DONE();
	}
	GUEST_RD_EQ(MSR_HWCR, 1ULL << 24);
	GUEST_ASSERT_EQ(wr(MSR_HWCR, (1ULL << 24) | (1ULL << 18)), 0);
	GUEST_RD_EQ(MSR_HWCR, (1ULL << 24) | (1ULL << 18));
	GUEST_ASSERT_EQ(wr(MSR_HWCR, (1ULL << 24) | (1 << 8) | (1 << 6) | (1 << 3)), 0);
	GUEST_RD_EQ(MSR_HWCR, 1ULL << 24);
	GUEST_ASSERT_EQ(wr(MSR_HWCR, 1ULL << 24 | 1), 1);	/* SMMLOCK */
	GUEST_RD_EQ(MSR_HWCR, 1ULL << 24);
	GUEST_DONE();
}

/* AMD: SYSCFG 0, DE_CFG's LFENCE-serializing bit, the C1E message register. */
static void guest_amd_config(uint64_t vendor)
{
	if (!AMD(vendor)) {
		GUEST_ABSENT(MSR_SYSCFG);
		GUEST_ABSENT(MSR_DE_CFG);
		GUEST_ABSENT(MSR_INT_PENDING_MSG);
		GUEST_DONE();
	}
	GUEST_RD_EQ(MSR_SYSCFG, 0);
	GUEST_ASSERT_EQ(wr(MSR_SYSCFG, 0), 0);
	GUEST_ASSERT_EQ(wr(MSR_SYSCFG, 1ULL << 23), 1);		/* SME */
	GUEST_RD_EQ(MSR_DE_CFG, 0);
	GUEST_ASSERT_EQ(wr(MSR_DE_CFG, 2), 0);		/* what Linux sets */
	GUEST_RD_EQ(MSR_DE_CFG, 2);
	GUEST_ASSERT_EQ(wr(MSR_DE_CFG, 1 << 9), 1);
	GUEST_RD_EQ(MSR_INT_PENDING_MSG, 0);
	GUEST_ASSERT_EQ(wr(MSR_INT_PENDING_MSG, 0), 0);
	GUEST_ASSERT_EQ(wr(MSR_INT_PENDING_MSG, 3ULL << 27), 1);	/* C1E */
	GUEST_DONE();
}

/* The microcode revision (Intel) / patch level (AMD): both, writes do nothing. */
static void guest_ucode_rev(uint64_t vendor)
{
	GUEST_RD_EQ(MSR_UCODE_REV, 1ULL << 32);
	GUEST_ASSERT_EQ(wr(MSR_UCODE_REV, 0), 0);
	GUEST_RD_EQ(MSR_UCODE_REV, 1ULL << 32);
	GUEST_DONE();
}

/* Intel: PLATFORM_INFO read-only (ratio only), MISC_FEATURES_ENABLES 0, FEATURE_CONTROL locked. */
static void guest_intel_platform(uint64_t vendor)
{
	uint64_t v;

	if (AMD(vendor)) {
		GUEST_ABSENT(MSR_PLATFORM_INFO);
		GUEST_ABSENT(MSR_MISC_FEATURES);
		GUEST_ABSENT(MSR_FEAT_CTL);
		GUEST_DONE();
	}
	GUEST_ASSERT_EQ(rd(MSR_PLATFORM_INFO, &v), 0);
	GUEST_ASSERT_EQ(v & ~0xff00ULL, 0);	/* no CPUID faulting (bit 31) */
	GUEST_ASSERT_EQ(wr(MSR_PLATFORM_INFO, v), 1);
	GUEST_RD_EQ(MSR_MISC_FEATURES, 0);
	GUEST_ASSERT_EQ(wr(MSR_MISC_FEATURES, 0), 0);
	GUEST_ASSERT_EQ(wr(MSR_MISC_FEATURES, 1), 1);	/* CPUID faulting: not offered */
	GUEST_RD_EQ(MSR_FEAT_CTL, 1);				/* locked, VMX off */
	GUEST_ASSERT_EQ(wr(MSR_FEAT_CTL, 5), 1);
	GUEST_DONE();
}

/* Machine check globals on both: no banks, no MCG_CTL. */
static void guest_mcg(uint64_t vendor)
{
	uint64_t v;

	GUEST_RD_EQ(MSR_MCG_CAP, 0);
	GUEST_ASSERT_EQ(wr(MSR_MCG_CAP, 0), 1);
	GUEST_RD_EQ(MSR_MCG_STATUS, 0);
	GUEST_ASSERT_EQ(wr(MSR_MCG_STATUS, 0), 0);
	GUEST_ASSERT_EQ(rd(MSR_MCG_CTL, &v), 1);		/* MCG_CAP.CTL_P clear */
	GUEST_DONE();
}

/* MISC_ENABLE: the writable bits toggle, limit CPUID is honoured, the fixed ones #GP. */
static void guest_misc_enable(uint64_t vendor)
{
	uint64_t reset, v;
	uint32_t a, b, c, d, max;

	GUEST_ASSERT_EQ(rd(MSR_MISC_ENABLE, &reset), 0);
	GUEST_ASSERT(reset & MISC_ENABLE_FAST_STRING);
	GUEST_ASSERT(reset & MISC_ENABLE_BTS_UNAVAIL);
	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset & ~MISC_ENABLE_FAST_STRING), 0);
	GUEST_RD_EQ(MSR_MISC_ENABLE, reset & ~MISC_ENABLE_FAST_STRING);
	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset | MISC_ENABLE_MWAIT), 0);
	GUEST_RD_EQ(MSR_MISC_ENABLE, reset | MISC_ENABLE_MWAIT);

	cpuid(0, 0, &max, &b, &c, &d);
	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset | MISC_ENABLE_LIMIT_CPUID), 0);
	cpuid(0, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a, max < 2 ? max : 2);
	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset), 0);
	cpuid(0, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a, max);

	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset & ~MISC_ENABLE_BTS_UNAVAIL), 1);
	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset | MISC_ENABLE_XD_DISABLE), 1);
	GUEST_ASSERT_EQ(wr(MSR_MISC_ENABLE, reset | (1ULL << 40)), 1);	/* reserved */
	GUEST_ASSERT_EQ(rd(MSR_MISC_ENABLE, &v), 0);
	GUEST_ASSERT_EQ(v, reset);
	GUEST_DONE();
}

/*
 * TSC_ADJUST (SDM Vol 3, "Time-Stamp Counter Adjustment"), now in CPUID:
 * writing it moves the TSC by the difference, and writing the TSC moves
 * it by the TSC's change.
 */
static void guest_tsc_adjust(uint64_t vendor)
{
	const uint64_t step = 1ULL << 40;
	uint32_t a, b, c, d;
	uint64_t t0, t1, t2, adj;

	cpuid(7, 0, &a, &b, &c, &d);
	GUEST_ASSERT(b & (1u << 1));
	GUEST_RD_EQ(MSR_TSC_ADJUST, 0);
	t0 = rdtsc();
	GUEST_ASSERT_EQ(wr(MSR_TSC_ADJUST, step), 0);
	t1 = rdtsc();
	GUEST_ASSERT(t1 - t0 >= step && t1 - t0 < step + (step >> 4));
	GUEST_RD_EQ(MSR_TSC_ADJUST, step);

	/* TSC := 0 from a TSC somewhere in [t1, t2]: ADJUST -= that TSC. */
	t1 = rdtsc();
	GUEST_ASSERT_EQ(wr(MSR_TSC, 0), 0);
	t2 = rdtsc();
	GUEST_ASSERT(t2 < step >> 4);
	GUEST_ASSERT_EQ(rd(MSR_TSC_ADJUST, &adj), 0);
	GUEST_ASSERT((int64_t)adj <= (int64_t)(step - t1));
	GUEST_ASSERT((int64_t)adj >= (int64_t)(step - t1 - (step >> 4)));
	GUEST_DONE();
}

/*
 * The MSRs the vendor keeps in its VMCB or VMCS, or swaps itself: each
 * holds its own value across exits (a table that filed one under another's
 * field would hand back the wrong one).
 */
static const struct { uint32_t msr; uint64_t v; } switched_msrs[] = {
	{ 0xc0000081, 0x0023001000000000ULL },	/* STAR */
	{ 0xc0000082, 0xffffffff81000010ULL },	/* LSTAR */
	{ 0xc0000083, 0xffffffff81000020ULL },	/* CSTAR */
	{ 0xc0000084, 0x47700 },		/* SFMASK */
	{ 0xc0000100, 0x7000030 },		/* FS_BASE */
	{ 0xc0000101, 0x7000040 },		/* GS_BASE */
	{ 0xc0000102, 0xffff888000000050ULL },	/* KERNEL_GS_BASE */
	{ 0x174, 0x60 },			/* SYSENTER_CS */
	{ 0x175, 0xffffc90000000070ULL },	/* SYSENTER_ESP */
	{ 0x176, 0xffffffff81000080ULL },	/* SYSENTER_EIP */
	{ 0x277, 0x0007010600070106ULL },	/* PAT */
};

static void guest_switched(uint64_t vendor)
{
	unsigned int i;

	for (i = 0; i < sizeof(switched_msrs) / sizeof(switched_msrs[0]); i++)
		GUEST_ASSERT_EQ(wr(switched_msrs[i].msr, switched_msrs[i].v), 0);
	GUEST_SYNC(1);
	for (i = 0; i < sizeof(switched_msrs) / sizeof(switched_msrs[0]); i++)
		GUEST_RD_EQ(switched_msrs[i].msr, switched_msrs[i].v);
	GUEST_DONE();
}

static void guest_unknown(uint64_t vendor)
{
	GUEST_ABSENT(0x12345678);
	GUEST_ABSENT(0xc0010200);	/* AMD's core counters: PerfCtrExtCore hidden */
	GUEST_ABSENT(0x17c);		/* MCG_EXT_CTL */
	GUEST_DONE();
}

static void run_msr_guest(struct __test_metadata *_metadata, void *guest)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest);
	int vendor = ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR);
	struct ucall uc;

	ASSERT_TRUE(vendor == MINIHV_VENDOR_VMX || vendor == MINIHV_VENDOR_SVM);
	vm_install_handler(vm, 13, (uintptr_t)msr_gp_skip);
	vcpu_args_set(vcpu, vendor, 0);
	vcpu_run(vcpu);
	/* A guest may stop once on the way (guest_switched), then go on. */
	if (get_ucall(vcpu, &uc) == UCALL_SYNC)
		vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

#define MSR_TEST(name) TEST(name) { run_msr_guest(_metadata, guest_##name); }

MSR_TEST(amd_legacy_perf)
MSR_TEST(p6_perf)
MSR_TEST(hwcr)
MSR_TEST(amd_config)
MSR_TEST(ucode_rev)
MSR_TEST(intel_platform)
MSR_TEST(mcg)
MSR_TEST(misc_enable)
MSR_TEST(tsc_adjust)
MSR_TEST(switched)
MSR_TEST(unknown)

TEST_HARNESS_MAIN

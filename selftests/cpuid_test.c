// SPDX-License-Identifier: GPL-2.0
/*
 * The CPU model userspace sets (MINIHV_GET_SUPPORTED_CPUID,
 * MINIHV_SET_CPUID; KVM's GET_SUPPORTED_CPUID and SET_CPUID2 shapes):
 * the default table, a table of the test's own as the guest sees it,
 * subleaves, missing leaves, and every refused table leaving the previous
 * one in place.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

/* What the guest read: leaf, subleaf, and the four registers. */
volatile uint32_t got[4][4];

static void guest_cpuid(void)
{
	uint32_t *g;

	for (;;) {
		g = (uint32_t *)got[0];
		cpuid(0, 0, &g[0], &g[1], &g[2], &g[3]);
		g = (uint32_t *)got[1];
		cpuid(7, 0, &g[0], &g[1], &g[2], &g[3]);
		g = (uint32_t *)got[2];
		cpuid(7, 1, &g[0], &g[1], &g[2], &g[3]);
		g = (uint32_t *)got[3];
		cpuid(0x12345, 0, &g[0], &g[1], &g[2], &g[3]);
		GUEST_SYNC(0);
	}
}

static struct minihv_cpuid *table(uint32_t nent)
{
	struct minihv_cpuid *t = calloc(1, sizeof(*t) + nent * sizeof(t->entries[0]));

	t->nent = nent;
	return t;
}

static void set_entry(struct minihv_cpuid_entry *e, uint32_t leaf, uint32_t index,
		      uint32_t flags, uint32_t a)
{
	memset(e, 0, sizeof(*e));
	e->function = leaf;
	e->index = index;
	e->flags = flags;
	e->eax = a;
	e->ebx = a + 1;
	e->ecx = a + 2;
	e->edx = a + 3;
}

static int set_cpuid(struct mh_vcpu *vcpu, struct minihv_cpuid *t)
{
	return ioctl(vcpu_fd(vcpu), MINIHV_SET_CPUID, t) ? -errno : 0;
}

/* Runs the guest's four CPUIDs and copies what it read. */
static void read_guest(struct mh_vm *vm, struct mh_vcpu *vcpu, uint32_t out[4][4])
{
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	memcpy(out, addr_gpa2hva(vm, (uintptr_t)got), sizeof(got));
}

TEST(supported_table)
{
	struct mh_vm *vm = vm_create();
	struct minihv_cpuid *t = table(1);
	uint32_t i, need;
	bool sig = false, leaf1 = false;

	EXPECT_EQ(1, ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_CPUID));
	EXPECT_EQ(-E2BIG, ioctl(vm_dev_fd(vm), MINIHV_GET_SUPPORTED_CPUID, t) ? -errno : 0);
	need = t->nent;
	ASSERT_LT(1, need) TH_LOG("nent says how many are needed");
	ASSERT_GE(MINIHV_CPUID_MAX_ENTRIES, need);
	free(t);
	t = table(need);
	ASSERT_EQ(0, ioctl(vm_dev_fd(vm), MINIHV_GET_SUPPORTED_CPUID, t));
	EXPECT_EQ(need, t->nent);
	for (i = 0; i < t->nent; i++) {
		struct minihv_cpuid_entry *e = &t->entries[i];

		if (e->function == 0x40000000)
			sig = !memcmp(&e->ebx, "mini", 4) && !memcmp(&e->ecx, "hvmi", 4);
		if (e->function == 1) {
			leaf1 = true;
			EXPECT_TRUE(e->ecx & (1u << 31)) TH_LOG("the hypervisor bit");
			EXPECT_FALSE(e->ecx & (1u << 5)) TH_LOG("no VMX");
		}
		if (e->function == 7)
			EXPECT_EQ(MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX, e->flags);
	}
	EXPECT_TRUE(sig);
	EXPECT_TRUE(leaf1);
	free(t);
	vm_free(vm);
}

TEST(own_table_and_refusals)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_cpuid);
	struct minihv_cpuid *t = table(3), *big = table(MINIHV_CPUID_MAX_ENTRIES + 1);
	uint32_t out[4][4], def0[4];

	read_guest(vm, vcpu, out);
	memcpy(def0, out[0], sizeof(def0));		/* the default leaf 0 */
	EXPECT_NE(0, out[0][1]) TH_LOG("a vendor string");

	set_entry(&t->entries[0], 0, 0, 0, 0x100);
	set_entry(&t->entries[1], 7, 0, MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX, 0x700);
	set_entry(&t->entries[2], 7, 1, MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX, 0x710);
	ASSERT_EQ(0, set_cpuid(vcpu, t));
	read_guest(vm, vcpu, out);
	EXPECT_EQ(0x100, out[0][0]);
	EXPECT_EQ(0x103, out[0][3]);
	EXPECT_EQ(0x700, out[1][0]) TH_LOG("subleaf 0");
	EXPECT_EQ(0x710, out[2][0]) TH_LOG("subleaf 1");
	EXPECT_EQ(0, out[3][0] | out[3][1] | out[3][2] | out[3][3]) TH_LOG("a missing leaf reads 0");

	/* Each refused table leaves the last one in place. */
	EXPECT_EQ(-E2BIG, set_cpuid(vcpu, big));
	t->entries[1].flags = 2;
	EXPECT_EQ(-EINVAL, set_cpuid(vcpu, t));
	t->entries[1].flags = MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX;
	t->entries[2].padding[1] = 1;
	EXPECT_EQ(-EINVAL, set_cpuid(vcpu, t));
	t->entries[2].padding[1] = 0;
	t->padding = 1;
	EXPECT_EQ(-EINVAL, set_cpuid(vcpu, t));
	EXPECT_EQ(-EFAULT, ioctl(vcpu_fd(vcpu), MINIHV_SET_CPUID, (void *)8) ? -errno : 0);
	read_guest(vm, vcpu, out);
	EXPECT_EQ(0x100, out[0][0]);
	EXPECT_EQ(0x710, out[2][0]);

	/* nent 0: the default again. */
	t->padding = 0;
	t->nent = 0;
	ASSERT_EQ(0, set_cpuid(vcpu, t));
	read_guest(vm, vcpu, out);
	EXPECT_EQ(0, memcmp(def0, out[0], sizeof(def0)));
	free(t);
	free(big);
	vm_free(vm);
}

/*
 * What Debian's kernel met on VT-x first: the microcode revision MSR (8Bh)
 * written and read in early_init_intel(), and INVPCID, which VT-x leaves
 * #UD, in its first TLB flush; then the thermal features.  Both vendors answer the same.
 */
static void guest_early_intel(void)
{
	uint32_t a, b, c, d;

	wrmsr(0x8b, 0);
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(rdmsr(0x8b), 1ULL << 32);
	/*
	 * Thermal and power monitoring: ACPI (MSR 19Bh, which the 4-vCPU
	 * boot on bochs-vmx read in intel_init_thermal()), TM, PBE, DS;
	 * MONITOR, EST, TM2, PDCM.
	 */
	GUEST_ASSERT(!(d & ((1u << 22) | (1u << 29) | (1u << 31) | (1u << 21))));
	GUEST_ASSERT(!(c & ((1u << 3) | (1u << 7) | (1u << 8) | (1u << 15))));
	cpuid(7, 0, &a, &b, &c, &d);
	GUEST_ASSERT(!(b & (1u << 10)));		/* INVPCID */
	GUEST_ASSERT(b & (1u << 1));		/* TSC_ADJUST (MSR 3Bh): emulated */
	GUEST_ASSERT(!(c & (1u << 5)));		/* WAITPKG */
	GUEST_DONE();
}

TEST(microcode_msr_and_unrunnable_features)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_early_intel);
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/* ---- XSAVE and XCR0 ---- */

volatile uint64_t gp_count;
volatile uint8_t ymm_in[32] __attribute__((aligned(32))), ymm_out[32] __attribute__((aligned(32)));

/* #GP from XSETBV: count it and step over the 3-byte instruction. */
__asm__(".pushsection .text\n"
	"gp_skip_xsetbv:\n"
	"	incq gp_count(%rip)\n"
	"	addq $3, 8(%rsp)\n"
	"	add $8, %rsp\n"
	"	iretq\n"
	".popsection\n");
extern char gp_skip_xsetbv[];

static inline uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo | ((uint64_t)hi << 32);
}

static inline void xsetbv(uint32_t index, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static void guest_xsave(void)
{
	uint32_t a, b, c, d, supported;
	uint64_t cr4;
	int i;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 26)))
		GUEST_SYNC(0);				/* no XSAVE here: the host skips */
	GUEST_ASSERT(!(c & (1u << 27)));		/* OSXSAVE follows CR4: clear */
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | (1ULL << 18)));
	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 27));
	GUEST_ASSERT_EQ(xgetbv0(), 1);			/* x87 only, as at RESET */
	cpuid(0xd, 0, &a, &b, &c, &d);
	supported = a;
	GUEST_ASSERT_EQ(supported & 3, 3);
	GUEST_ASSERT_EQ(b, 576);			/* the area for XCR0 = 1 */
	xsetbv(0, 3);
	GUEST_ASSERT_EQ(xgetbv0(), 3);
	GUEST_SYNC(2);					/* the host uses AVX now */
	if (supported & 4) {
		xsetbv(0, 7);
		GUEST_ASSERT_EQ(gp_count, 0);
		GUEST_ASSERT_EQ(xgetbv0(), 7);
		cpuid(0xd, 0, &a, &b, &c, &d);
		GUEST_ASSERT_EQ(b, 832);		/* AVX: 256 bytes at 576 */
		__asm__ volatile("vmovdqu ymm_in(%%rip), %%ymm15" : : : "memory");
		for (i = 0; i < 10; i++)
			cpuid(0, 0, &a, &b, &c, &d);
		GUEST_SYNC(3);				/* the host clobbers its ymm0 */
		__asm__ volatile("vmovdqu %%ymm15, ymm_out(%%rip)" : : : "memory");
		for (i = 0; i < 32; i++)
			GUEST_ASSERT_EQ(ymm_out[i], ymm_in[i]);
	}
	/* Each of these is #GP(0): no x87, AVX without SSE, XCR 1, bit 62. */
	xsetbv(0, 2);
	xsetbv(0, 5);
	xsetbv(1, 1);
	xsetbv(0, 1 | (1ULL << 62));
	GUEST_ASSERT_EQ(gp_count, 4);
	GUEST_ASSERT_EQ(xgetbv0() & 3, 3);		/* unchanged by them */
	GUEST_DONE();
}

/* SSE state: the guest's XMM0 across an exit to userspace that uses its own. */
static void guest_sse(void)
{
	int i;

	__asm__ volatile("movdqu ymm_in(%%rip), %%xmm15" : : : "memory");
	GUEST_SYNC(1);
	__asm__ volatile("movdqu %%xmm15, ymm_out(%%rip)" : : : "memory");
	for (i = 0; i < 16; i++)
		GUEST_ASSERT_EQ(ymm_out[i], ymm_in[i]);
	GUEST_DONE();
}

TEST(sse_state_survives_userspace)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_sse);
	uint8_t *in = addr_gpa2hva(vm, (uintptr_t)ymm_in);
	struct ucall uc;
	int i;

	for (i = 0; i < 32; i++)
		in[i] = 0xa0 + i;
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	__asm__ volatile("pxor %%xmm15, %%xmm15" : : : "xmm15");
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/* AVX (AVX1: VXORPS) in the host process, when enabled: SIGILL if the guest's XCR0 stayed. */
static void host_uses_avx(void)
{
	uint32_t a, b, c, d;
	uint32_t lo, hi;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
	if (!(c & (1u << 27)))
		return;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) == 6)
		__asm__ volatile("vxorps %%ymm15, %%ymm15, %%ymm15" : : : "xmm15");
}

TEST(xsave_xcr0_and_avx_state)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_xsave);
	uint8_t *in = addr_gpa2hva(vm, (uintptr_t)ymm_in);
	struct ucall uc;
	int i;

	vm_install_handler(vm, 13, (uintptr_t)gp_skip_xsetbv);
	for (i = 0; i < 32; i++)
		in[i] = 0xa0 + i;
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	if (uc.args[0] == 0) {
		vm_free(vm);
		SKIP(return, "the CPU has no XSAVE");
	}
	ASSERT_EQ(2, uc.args[0]);
	host_uses_avx();
	vcpu_run(vcpu);
	if (get_ucall(vcpu, &uc) == UCALL_SYNC) {
		ASSERT_EQ(3, uc.args[0]);
		host_uses_avx();
		vcpu_run(vcpu);
	}
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

TEST_HARNESS_MAIN

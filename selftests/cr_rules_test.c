// SPDX-License-Identifier: GPL-2.0
/*
 * The rules of CR0, CR4 and EFER (SDM Vol 3 2.5, 4.1, 10.8.5; APM Vol 2
 * 3.1, 14.6), the same on both vendors: a 64-bit guest runs one sequence
 * of MOV to CR0/CR4 and WRMSR to EFER, legal and illegal, catching each
 * #GP in its own handler, and reports which writes faulted and whether
 * the registers kept their values.  Some of those writes exit to minihv
 * (module/cr.c), some are checked by the CPU itself; the outcome must
 * not depend on which, nor on the vendor.  SET_SREGS asks the same rules.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define CR0_PE		(1ULL << 0)
#define CR0_WP		(1ULL << 16)
#define CR0_NW		(1ULL << 29)
#define CR0_CD		(1ULL << 30)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define CR4_PGE		(1ULL << 7)
#define CR4_LA57	(1ULL << 12)
#define CR4_VMXE	(1ULL << 13)
#define CR4_RSVD15	(1ULL << 15)
#define CR4_FSGSBASE	(1ULL << 16)
#define CR4_PKE		(1ULL << 22)
#define MSR_EFER	0xc0000080
#define EFER_SCE	(1ULL << 0)
#define EFER_LME	(1ULL << 8)

/* #GPs the guest took; its handler resumes after the instruction (R11 bytes). */
volatile uint64_t gp_count;
void gp_handler(void);

__asm__(
	"	.text\n"
	"	.globl gp_handler\n"
	"gp_handler:\n"
	"	incq gp_count(%rip)\n"
	"	add $8, %rsp\n"		/* the error code */
	"	add %r11, (%rsp)\n"	/* RIP: past the faulting instruction */
	"	iretq\n");

/* MOV %rax, %cr0 and %cr4 are 3 bytes (0F 22 /r), WRMSR 2 (0F 30). */
static int write_cr0(uint64_t v)
{
	uint64_t before = gp_count;

	__asm__ volatile("mov $3, %%r11\n\tmov %%rax, %%cr0" : : "a"(v) : "r11", "memory");
	return gp_count != before;
}

static int write_cr4(uint64_t v)
{
	uint64_t before = gp_count;

	__asm__ volatile("mov $3, %%r11\n\tmov %%rax, %%cr4" : : "a"(v) : "r11", "memory");
	return gp_count != before;
}

static int write_efer(uint64_t v)
{
	uint64_t before = gp_count;

	__asm__ volatile("mov $2, %%r11\n\twrmsr" : : "c"(MSR_EFER), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)) : "r11", "memory");
	return gp_count != before;
}

static uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

/* The writes, in order; bit i of what the guest reports: write i was #GP. */
#define NR_WRITES	16
#define EXPECTED_GP	0x3ef6ULL	/* writes 1, 2, 4-7 and 9-13 fault */

static void guest_code(void)
{
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);
	uint64_t faults = 0;
	int i = 0;

	/* CR0 */
	faults |= (uint64_t)write_cr0(cr0 ^ CR0_WP) << i++;		/* 0: legal */
	faults |= (uint64_t)write_cr0(cr0 | (1ULL << 32)) << i++;	/* 1: bits 63:32 */
	faults |= (uint64_t)write_cr0(cr0 & ~CR0_PG) << i++;		/* 2: PG off in 64-bit code */
	faults |= (uint64_t)write_cr0(cr0) << i++;			/* 3: legal */
	faults |= (uint64_t)write_cr0(cr0 & ~CR0_PE) << i++;		/* 4: PG without PE */
	faults |= (uint64_t)write_cr0((cr0 | CR0_NW) & ~CR0_CD) << i++;	/* 5: NW without CD */
	/* CR4 */
	faults |= (uint64_t)write_cr4(cr4 & ~CR4_PAE) << i++;		/* 6: PAE off in IA-32e mode */
	faults |= (uint64_t)write_cr4(cr4 | CR4_RSVD15) << i++;		/* 7: reserved bit */
	faults |= (uint64_t)write_cr4(cr4) << i++;			/* 8: legal */
	faults |= (uint64_t)write_cr4(cr4 ^ CR4_LA57) << i++;		/* 9: LA57 in IA-32e mode */
	faults |= (uint64_t)write_cr4(cr4 | CR4_VMXE) << i++;		/* 10: VMX is not the guest's */
	/* EFER */
	faults |= (uint64_t)write_efer(efer | (1ULL << 1)) << i++;	/* 11: reserved bit */
	faults |= (uint64_t)write_efer(efer & ~EFER_LME) << i++;	/* 12: LME while paging */
	/* CR4 again: a bit CPUID hides, and PGE, which VT-x leaves to the guest */
	faults |= (uint64_t)write_cr4(cr4 | CR4_PKE) << i++;		/* 13: no PKU in CPUID */
	faults |= (uint64_t)write_cr4(cr4 ^ CR4_PGE) << i++;		/* 14: legal */
	faults |= (uint64_t)write_cr4(cr4) << i++;			/* 15: legal */
	GUEST_ASSERT_EQ(i, NR_WRITES);
	/* Only the legal writes took effect, and the last of them restored all. */
	GUEST_ASSERT_EQ(read_cr0(), cr0);
	GUEST_ASSERT_EQ(read_cr4(), cr4);
	GUEST_ASSERT_EQ(rdmsr(MSR_EFER), efer);
	GUEST_SYNC(faults);
	/* A legal EFER write still goes through after all that. */
	GUEST_ASSERT_EQ(write_efer(efer ^ EFER_SCE), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_EFER), efer ^ EFER_SCE);
	GUEST_DONE();
}

TEST(cr_writes_same_outcome_on_both_vendors)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_code);
	struct ucall uc;

	vm_install_handler(vm, 13, (uintptr_t)gp_handler);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	EXPECT_EQ(EXPECTED_GP, uc.args[0]) TH_LOG("writes that raised #GP: %#llx, want %#llx",
						  (unsigned long long)uc.args[0], EXPECTED_GP);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/*
 * SET_SREGS asks the same rules: a state no guest could reach is -EINVAL,
 * and CR4 bits the guest's CPUID does not offer (here FSGSBASE, after a
 * CPU model without leaf 7) are such a state too.
 */
TEST(set_sregs_takes_the_same_rules)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_code);
	struct minihv_sregs sregs, bad;
	struct minihv_cpuid *cpuid = calloc(1, sizeof(*cpuid) + sizeof(cpuid->entries[0]));

	vcpu_sregs_get(vcpu, &sregs);
	bad = sregs;
	bad.cr0 &= ~CR0_PE;
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad)) TH_LOG("PG without PE");
	bad = sregs;
	bad.cr4 &= ~CR4_PAE;
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad)) TH_LOG("long mode without PAE");
	bad = sregs;
	bad.cr4 |= CR4_VMXE;
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad)) TH_LOG("CR4.VMXE");
	bad = sregs;
	bad.cr4 |= CR4_RSVD15;
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad)) TH_LOG("CR4 bit 15");
	EXPECT_EQ(0, _vcpu_sregs_set(vcpu, &sregs));

	ASSERT_NE(NULL, cpuid);
	cpuid->nent = 1;
	cpuid->entries[0].function = 1;
	ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_SET_CPUID, cpuid));
	bad = sregs;
	bad.cr4 |= CR4_FSGSBASE;
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad)) TH_LOG("FSGSBASE without CPUID");
	free(cpuid);
	vm_free(vm);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The MMIO emulator against the CPU: the guest runs each arithmetic and
 * logic instruction minihv emulates on a device register (an address
 * outside every slot, served by this test as a 64-bit register file) and
 * the same instruction on RAM, which the CPU executes itself, from the
 * same flags; the results and the arithmetic flags must agree.  KVM's
 * emulator does these (differential_test's random guests found minihv
 * stopping at SBB, XOR, ADC, SUB, TEST and XCHG on MMIO where KVM went on).
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define CF		0x001ULL
#define PF		0x004ULL
#define AF		0x010ULL
#define ZF		0x040ULL
#define SF		0x080ULL
#define OF		0x800ULL
#define ARITH		(CF | PF | AF | ZF | SF | OF)

static const uint64_t values[][2] = {
	{ 0, 0 }, { 1, 1 }, { 0x7fffffffffffffffULL, 1 }, { 0x8000000000000000ULL, ~0ULL },
	{ 0x0f0f0f0f0f0f0f0fULL, 0x0101010101010101ULL }, { 0x123456789abcdef0ULL, 0xfedcba9876543210ULL },
};
#define NR_VALUES	(sizeof(values) / sizeof(values[0]))

/* What the guest found wrong: which check, then the device's and the CPU's answers. */
static void report(int line, int i, int cf, uint64_t got, uint64_t want, uint64_t fgot,
		   uint64_t fwant)
{
	ucall(UCALL_SYNC, (line * 1000 + i * 10 + cf) | ((fgot ^ fwant) << 32), got, 0, want);
}

/*
 * @insn with the device register as its memory operand and a register,
 * the register first (@mem_dst: the memory is the destination) or second,
 * at the width of type T; then the same on RAM.  AF is compared only for
 * the instructions that define it (@af).
 */
#define CHECK_REG(T, insn, mem_dst, af)						\
	do {									\
		volatile T *dev = (volatile T *)MMIO_GPA;			\
		unsigned int i, cf;						\
		for (i = 0; i < NR_VALUES; i++)					\
			for (cf = 0; cf < 2; cf++) {				\
				T ram = (T)values[i][0], rd = (T)values[i][1];	\
				T rr = rd, dv;					\
				uint64_t fi = 0x2 | cf, fd, fr;			\
				*dev = (T)values[i][0];				\
				if (mem_dst)					\
					__asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[r], %[m]\n\tpushf\n\tpop %[fo]" \
							 : [m] "+m"(*dev), [r] "+r"(rd), [fo] "=&r"(fd) \
							 : [fi] "r"(fi) : "cc", "memory"); \
				else						\
					__asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[m], %[r]\n\tpushf\n\tpop %[fo]" \
							 : [m] "+m"(*dev), [r] "+r"(rd), [fo] "=&r"(fd) \
							 : [fi] "r"(fi) : "cc", "memory"); \
				if (mem_dst)					\
					__asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[r], %[m]\n\tpushf\n\tpop %[fo]" \
							 : [m] "+m"(ram), [r] "+r"(rr), [fo] "=&r"(fr) \
							 : [fi] "r"(fi) : "cc", "memory"); \
				else						\
					__asm__ volatile("push %[fi]\n\tpopf\n\t" insn " %[m], %[r]\n\tpushf\n\tpop %[fo]" \
							 : [m] "+m"(ram), [r] "+r"(rr), [fo] "=&r"(fr) \
							 : [fi] "r"(fi) : "cc", "memory"); \
				dv = *dev;					\
				fd &= (af) ? ARITH : ARITH & ~AF;		\
				fr &= (af) ? ARITH : ARITH & ~AF;		\
				if (dv != ram || rd != rr || fd != fr)		\
					report(__LINE__, i, cf, dv ^ ((uint64_t)rd << 32), \
					       ram ^ ((uint64_t)rr << 32), fd, fr); \
			}							\
	} while (0)

/* @insn with an immediate source (already in the string) on the device and on RAM. */
#define CHECK_IMM(T, insn, af)							\
	do {									\
		volatile T *dev = (volatile T *)MMIO_GPA;			\
		unsigned int i, cf;						\
		for (i = 0; i < NR_VALUES; i++)					\
			for (cf = 0; cf < 2; cf++) {				\
				T ram = (T)values[i][0], dv;			\
				uint64_t fi = 0x2 | cf, fd, fr;			\
				*dev = (T)values[i][0];				\
				__asm__ volatile("push %[fi]\n\tpopf\n\t" insn ", %[m]\n\tpushf\n\tpop %[fo]" \
						 : [m] "+m"(*dev), [fo] "=&r"(fd) \
						 : [fi] "r"(fi) : "cc", "memory"); \
				__asm__ volatile("push %[fi]\n\tpopf\n\t" insn ", %[m]\n\tpushf\n\tpop %[fo]" \
						 : [m] "+m"(ram), [fo] "=&r"(fr) \
						 : [fi] "r"(fi) : "cc", "memory"); \
				dv = *dev;					\
				fd &= (af) ? ARITH : ARITH & ~AF;		\
				fr &= (af) ? ARITH : ARITH & ~AF;		\
				if (dv != ram || fd != fr)			\
					report(__LINE__, i, cf, dv, ram, fd, fr); \
			}							\
	} while (0)

/* Both directions of a two-operand instruction at every width. */
#define CHECK_ALL_WIDTHS(insn, af)						\
	do {									\
		CHECK_REG(uint8_t, insn, 1, af);				\
		CHECK_REG(uint16_t, insn, 1, af);				\
		CHECK_REG(uint32_t, insn, 1, af);				\
		CHECK_REG(uint64_t, insn, 1, af);				\
		CHECK_REG(uint8_t, insn, 0, af);				\
		CHECK_REG(uint16_t, insn, 0, af);				\
		CHECK_REG(uint32_t, insn, 0, af);				\
		CHECK_REG(uint64_t, insn, 0, af);				\
	} while (0)

static void guest_alu(void)
{
	CHECK_ALL_WIDTHS("add", 1);
	CHECK_ALL_WIDTHS("or", 0);
	CHECK_ALL_WIDTHS("adc", 1);
	CHECK_ALL_WIDTHS("sbb", 1);
	CHECK_ALL_WIDTHS("and", 0);
	CHECK_ALL_WIDTHS("sub", 1);
	CHECK_ALL_WIDTHS("xor", 0);
	CHECK_ALL_WIDTHS("cmp", 1);
	/* TEST and XCHG have only the r/m, r form (84, 85, 86, 87). */
	CHECK_REG(uint8_t, "test", 1, 0);
	CHECK_REG(uint16_t, "test", 1, 0);
	CHECK_REG(uint32_t, "test", 1, 0);
	CHECK_REG(uint64_t, "test", 1, 0);
	CHECK_REG(uint8_t, "xchg", 1, 1);
	CHECK_REG(uint16_t, "xchg", 1, 1);
	CHECK_REG(uint32_t, "xchg", 1, 1);
	CHECK_REG(uint64_t, "xchg", 1, 1);
	/* Immediates: 80, 81 (imm16, imm32 sign-extended), 83 (imm8 sign-extended), F6, F7. */
	CHECK_IMM(uint8_t, "subb $1", 1);
	CHECK_IMM(uint8_t, "adcb $0x80", 1);
	CHECK_IMM(uint16_t, "andw $0xff00", 0);
	CHECK_IMM(uint32_t, "addl $0x7fffffff", 1);
	CHECK_IMM(uint64_t, "orq $-1", 0);
	CHECK_IMM(uint64_t, "cmpq $0x7f", 1);
	CHECK_IMM(uint64_t, "xorq $-0x12345678", 0);
	CHECK_IMM(uint32_t, "sbbl $-2", 1);
	CHECK_IMM(uint8_t, "testb $1", 0);
	CHECK_IMM(uint32_t, "testl $0x80000000", 0);
	CHECK_IMM(uint16_t, "testw $0x8001", 0);
	GUEST_DONE();
}

TEST(alu_on_mmio_matches_the_cpu)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_alu);
	struct minihv_run *run = vcpu_state(vcpu);
	uint64_t device = 0, reads = 0, writes = 0, mismatches = 0;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		if (run->exit_reason == MINIHV_EXIT_MMIO) {
			ASSERT_EQ(MMIO_GPA, run->mmio.phys_addr);
			if (run->mmio.is_write) {
				device = 0;
				memcpy(&device, run->mmio.data, run->mmio.len);
				writes++;
			} else {
				memcpy(run->mmio.data, &device, run->mmio.len);
				reads++;
			}
			continue;
		}
		if (get_ucall(vcpu, &uc) == UCALL_SYNC) {
			/* A mismatch: line, value pair and CF in, then what each gave. */
			uint32_t id = uc.args[0];

			TH_LOG("line %u, values %u, CF %u: device %#lx, CPU %#lx, flags differ in %#lx",
			       id / 1000, id % 1000 / 10, id % 10, (unsigned long)uc.args[1],
			       (unsigned long)uc.line, (unsigned long)(uc.args[0] >> 32));
			mismatches++;
			continue;
		}
		assert_ucall(vcpu, UCALL_DONE, &uc);
		break;
	}
	EXPECT_EQ(0, mismatches);
	/* Every operation read the device; all but CMP and TEST wrote it back. */
	EXPECT_LT(1000, reads);
	EXPECT_LT(1000, writes);
	vm_free(vm);
}

/*
 * An instruction the decoder reads longer than 15 bytes.  The CPU never
 * runs one (#GP), so only bytes that changed between the CPU's fetch and
 * the decoder's can be: here a stale TLB entry, which the SDM allows
 * (Vol 3 4.10.4.3): the guest maps the linear page CODE_VA to one code
 * page, runs there, maps it to another without INVLPG and calls it
 * again.  The CPU runs the first page's MOV EAX, [RBX] on MMIO; the
 * decoder, walking the page tables, reads the second page: @prefixes DS
 * prefixes before MOV EAX, [disp32] (12: 19 bytes, 16: 23).  The exit is
 * an emulation failure carrying the bytes, and no more than the 15 read:
 * the 16th byte of the report is 0, not one of the kernel's stack.
 */
#define CODE_VA		(1ULL << 39)	/* PML4 entry 1: nothing else there */

static uint64_t tlb_pdpt[512] __attribute__((aligned(4096)));
static uint64_t tlb_pd[512] __attribute__((aligned(4096)));
static uint64_t tlb_pt[512] __attribute__((aligned(4096)));
static uint8_t code_ran[4096] __attribute__((aligned(4096)));
static uint8_t code_read[4096] __attribute__((aligned(4096)));

static void guest_long_insn(void)
{
	void (*at_va)(void) = (void (*)(void))CODE_VA;
	void (*ret_at_va)(void) = (void (*)(void))(CODE_VA + 0x800);

	/* Every page touched first: no nested fault (an exit) below. */
	tlb_pt[511] = 0;
	(void)*(volatile uint8_t *)code_read;
	ret_at_va();			/* CODE_VA -> code_ran in the TLB */
	tlb_pt[0] = (uintptr_t)code_read | 3;
	__asm__ volatile("call *%0" : : "r"(at_va), "b"(MMIO_GPA) : "rax", "memory");
	GUEST_DONE();
}

static void long_insn(struct __test_metadata *_metadata, int prefixes)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_long_insn);
	struct minihv_run *run = vcpu_state(vcpu);
	uint64_t *pml4 = addr_gpa2hva(vm, 0x3000);
	uint8_t *ran = addr_gpa2hva(vm, (uintptr_t)code_ran);
	uint8_t *read = addr_gpa2hva(vm, (uintptr_t)code_read);
	uint8_t want[16] = {}, got[16];
	struct ucall uc;

	pml4[1] = (uintptr_t)tlb_pdpt | 3;
	*(uint64_t *)addr_gpa2hva(vm, (uintptr_t)tlb_pdpt) = (uintptr_t)tlb_pd | 3;
	*(uint64_t *)addr_gpa2hva(vm, (uintptr_t)tlb_pd) = (uintptr_t)tlb_pt | 3;
	*(uint64_t *)addr_gpa2hva(vm, (uintptr_t)tlb_pt) = (uintptr_t)code_ran | 3;
	/* What the CPU runs: MOV EAX, [RBX]; RET.  A RET at 800h in both. */
	memcpy(ran, "\x8b\x03\xc3", 3);
	ran[0x800] = 0xc3;
	read[0x800] = 0xc3;
	/* What the decoder reads: DS prefixes, MOV EAX, [disp32], RET. */
	memset(read, 0x3e, prefixes);
	memcpy(read + prefixes, "\x8b\x04\x25\x00\x00\x00\x80\xc3", 8);
	memcpy(want, read, 15);

	vcpu_run(vcpu);
	if (run->exit_reason != MINIHV_EXIT_INTERNAL_ERROR && get_ucall(vcpu, &uc) == UCALL_EXCEPTION)
		SKIP(goto out, "this CPU refilled its TLB: it ran the %d-byte form (exception %lu)",
		     prefixes + 7, (unsigned long)uc.args[0]);
	ASSERT_EQ(MINIHV_EXIT_INTERNAL_ERROR, run->exit_reason);
	ASSERT_EQ(MINIHV_INTERNAL_ERROR_EMULATION, run->internal.suberror);
	EXPECT_EQ(MMIO_GPA, run->internal.data[0]);
	EXPECT_EQ(CODE_VA, run->internal.data[1]);
	memcpy(got, &run->internal.data[2], 16);
	EXPECT_EQ(0, memcmp(want, got, 16)) {
		TH_LOG("bytes %016lx %016lx, 15 read: %016lx %016lx",
		       (unsigned long)run->internal.data[2], (unsigned long)run->internal.data[3],
		       *(unsigned long *)want, *(unsigned long *)(want + 8));
	}
out:
	vm_free(vm);
}

TEST(insn_longer_than_15_bytes_19)
{
	long_insn(_metadata, 12);
}

TEST(insn_longer_than_15_bytes_23)
{
	long_insn(_metadata, 16);
}

TEST_HARNESS_MAIN

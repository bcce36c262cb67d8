// SPDX-License-Identifier: GPL-2.0
/*
 * Isolation: what one guest, or one user, must not be able to
 * see or take from the host and from the others.
 *
 *   - the SYSCALL MSRs (STAR, LSTAR, CSTAR, SFMASK): a guest always runs
 *     with its own, from reset on, and never with the host's;
 *   - the VPIDs: when the pool runs out, vCPUs still run (untagged);
 *   - MOV to and from CR8 with RSP as the register: not lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define MSR_EFER	0xc0000080
#define MSR_STAR	0xc0000081
#define MSR_LSTAR	0xc0000082
#define MSR_CSTAR	0xc0000083
#define MSR_SFMASK	0xc0000084
#define EFER_SCE	(1ULL << 0)
#define RFLAGS_DF	(1ULL << 10)

#define VECTOR_UD	6
#define VECTOR_GP	13
#define VECTOR_PF	14

static void syscall_msrs_reset(void)
{
	GUEST_ASSERT_EQ(rdmsr(MSR_STAR), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_LSTAR), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_CSTAR), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_SFMASK), 0);
}

/* ---- the SYSCALL MSRs ---- */

/*
 * SYSCALL with none of the four written: the CPU must take the guest's
 * reset values (RIP = LSTAR = 0, where the host put a UD2), not the host's
 * LSTAR (its entry_SYSCALL_64, which the guest does not map: a #PF whose
 * CR2 would tell it where the host kernel is).
 */
static void guest_syscall_unset(void)
{
	syscall_msrs_reset();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	GUEST_ASSERT(rdmsr(MSR_EFER) & EFER_SCE);
	GUEST_SYNC(0);		/* an exit first: the host's code runs in between */
	syscall_msrs_reset();
	__asm__ volatile("syscall" : : : "rcx", "r11", "memory");
	GUEST_ASSERT(0);
}

TEST(syscall_without_guest_msrs_stays_in_guest)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_syscall_unset);
	uint8_t *gpa0 = addr_gpa2hva(vm, 0);
	struct minihv_sregs sregs;
	struct ucall uc;

	gpa0[0] = 0x0f;		/* UD2 at LSTAR's reset value */
	gpa0[1] = 0x0b;
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_EXCEPTION, &uc);
	vcpu_sregs_get(vcpu, &sregs);
	EXPECT_NE(VECTOR_PF, uc.args[0])
		TH_LOG("SYSCALL faulted at %#llx: the host's LSTAR", sregs.cr2);
	EXPECT_EQ(VECTOR_UD, uc.args[0]);
	vm_free(vm);
}

/* The guest's own entry point: straight back to the instruction after. */
void guest_syscall_entry(void);
__asm__(".pushsection .text\n"
	"guest_syscall_entry:\n\t"
	"jmp *%rcx\n\t"
	".popsection");

static void guest_syscall_own(void)
{
	uint64_t rflags, r11;

	syscall_msrs_reset();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, 0x0010000800000000ULL);	/* SYSCALL CS 08h, SS 10h */
	wrmsr(MSR_LSTAR, (uintptr_t)guest_syscall_entry);
	wrmsr(MSR_CSTAR, 0x1234);
	wrmsr(MSR_SFMASK, RFLAGS_DF);
	GUEST_SYNC(0);		/* they survive a round trip through the host */
	GUEST_ASSERT_EQ(rdmsr(MSR_STAR), 0x0010000800000000ULL);
	GUEST_ASSERT_EQ(rdmsr(MSR_LSTAR), (uintptr_t)guest_syscall_entry);
	GUEST_ASSERT_EQ(rdmsr(MSR_CSTAR), 0x1234);
	GUEST_ASSERT_EQ(rdmsr(MSR_SFMASK), RFLAGS_DF);
	/* SFMASK clears DF; R11 keeps it as it was. */
	__asm__ volatile("std\n\t"
			 "syscall\n\t"
			 "pushfq\n\t"
			 "popq %0\n\t"
			 "cld\n\t"
			 "movq %%r11, %1"
			 : "=&r"(rflags), "=&r"(r11) : : "rcx", "r11", "memory", "cc");
	GUEST_ASSERT(!(rflags & RFLAGS_DF));
	GUEST_ASSERT(r11 & RFLAGS_DF);
	GUEST_DONE();
}

TEST(syscall_with_guest_msrs)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_syscall_own);
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

static void guest_sfmask_reserved(void)
{
	wrmsr(MSR_SFMASK, 1ULL << 32);		/* bits 63:32 reserved */
	GUEST_ASSERT(0);
}

static void guest_lstar_noncanonical(void)
{
	wrmsr(MSR_LSTAR, 1ULL << 63);
	GUEST_ASSERT(0);
}

/* SDM Vol 4 table 2-2: IA32_FMASK bits 63:32 are reserved; LSTAR is an address. */
TEST(syscall_msr_bad_writes_gp)
{
	void (*guests[])(void) = { guest_sfmask_reserved, guest_lstar_noncanonical };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct mh_vm *vm = vm_create();
		struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guests[i]);
		struct ucall uc;

		vcpu_run(vcpu);
		assert_ucall(vcpu, UCALL_EXCEPTION, &uc);
		EXPECT_EQ(VECTOR_GP, uc.args[0]) TH_LOG("guest %u", i);
		EXPECT_EQ(0, uc.args[1]);
		vm_free(vm);
	}
}

/* ---- CR8 through RSP ---- */

/*
 * MOV to CR8 from RSP and MOV from CR8 to RSP both exit; RSP lives in the
 * VMCS, not with the other registers.  RSP holds a TPR value (0-15) for
 * one instruction only, kept meanwhile in RBX; interrupts are off.
 */
static void guest_cr8_rsp(void)
{
	uint64_t v;

	__asm__ volatile("movq %%rsp, %%rbx\n\t"
			 "movq $5, %%rsp\n\t"
			 "movq %%rsp, %%cr8\n\t"
			 "movq %%rbx, %%rsp\n\t"
			 "movq %%cr8, %0"
			 : "=&r"(v) : : "rbx", "memory");
	GUEST_ASSERT_EQ(v, 5);

	__asm__ volatile("movq $9, %%rax\n\t"
			 "movq %%rax, %%cr8\n\t"
			 "movq %%rsp, %%rbx\n\t"
			 "movq %%cr8, %%rsp\n\t"
			 "movq %%rsp, %0\n\t"
			 "movq %%rbx, %%rsp"
			 : "=&r"(v) : : "rax", "rbx", "memory");
	GUEST_ASSERT_EQ(v, 9);
	__asm__ volatile("movq %0, %%cr8" : : "r"(0ULL));
	GUEST_DONE();
}

static void cr8_rsp(struct __test_metadata *_metadata, bool irqchip)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu;
	struct ucall uc;

	if (irqchip)
		ASSERT_EQ(0, ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 0)) TH_LOG("%s", strerror(errno));
	vcpu = vm_vcpu_add(vm, 0, guest_cr8_rsp);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

TEST(cr8_from_and_to_rsp)
{
	cr8_rsp(_metadata, false);
}

TEST(cr8_from_and_to_rsp_lapic)
{
	cr8_rsp(_metadata, true);
}

/* ---- VPID exhaustion (VT-x) ---- */

#define VPID_POOL_PARAM	"/sys/module/minihv/parameters/vpid_pool"
#define VPID_POOL	2
#define VPID_VCPUS	5	/* more than the pool */
#define VPID_ROUNDS	4

/* A page per vCPU, written and read back between exits. */
static uint64_t vpid_pages[VPID_VCPUS][512] __attribute__((aligned(4096)));

static void guest_vpid(uint64_t id, uint64_t unused)
{
	volatile uint64_t *p = vpid_pages[id];
	uint64_t round;
	int i;

	for (round = 0; round < VPID_ROUNDS; round++) {
		for (i = 0; i < 512; i++)
			p[i] = id << 32 | round << 16 | i;
		GUEST_SYNC(round);
		for (i = 0; i < 512; i++)
			GUEST_ASSERT_EQ(p[i], id << 32 | round << 16 | i);
	}
	GUEST_DONE();
}

static int write_param(const char *path, long val)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC), n, r = 0;

	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", val);
	if (write(fd, buf, n) != n)
		r = -errno;
	close(fd);
	return r;
}

/* The body, in a child of its own: the parent puts the pool back whatever happens. */
static void run_vpid_vcpus(void)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpus[VPID_VCPUS];
	struct ucall uc;
	uint64_t round;
	int i;

	for (i = 0; i < VPID_VCPUS; i++) {
		vcpus[i] = vm_vcpu_add(vm, i, guest_vpid);
		vcpu_args_set(vcpus[i], i, 0);
	}
	/* Round robin: each vCPU leaves its page between two of the others' runs. */
	for (round = 0; round <= VPID_ROUNDS; round++) {
		for (i = 0; i < VPID_VCPUS; i++) {
			vcpu_run(vcpus[i]);
			assert_ucall(vcpus[i], round < VPID_ROUNDS ? UCALL_SYNC : UCALL_DONE, &uc);
			TEST_ASSERT(round == VPID_ROUNDS || uc.args[0] == round,
				    "vCPU %d: round %lu, wanted %lu", i,
				    (unsigned long)uc.args[0], (unsigned long)round);
		}
	}
	vm_free(vm);
	exit(0);
}

TEST(vpid_pool_exhausted_vcpus_still_run)
{
	struct minihv_features f = {};
	int dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC), status;
	long pool;
	pid_t pid;

	if (dev < 0)
		SKIP(return, "no %s", MINIHV_DEV);
	if (ioctl(dev, MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR) != MINIHV_VENDOR_VMX) {
		close(dev);
		SKIP(return, "VT-x only: VPIDs");
	}
	ASSERT_EQ(0, ioctl(dev, MINIHV_GET_FEATURES, &f));
	close(dev);
	if (!(f.used & (1ULL << MINIHV_FEATURE_VPID)))
		SKIP(return, "this CPU has no VPIDs");
	pool = read_number(VPID_POOL_PARAM);
	if (pool < 0)
		SKIP(return, "no %s", VPID_POOL_PARAM);
	ASSERT_EQ(0, write_param(VPID_POOL_PARAM, VPID_POOL));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		run_vpid_vcpus();
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, write_param(VPID_POOL_PARAM, pool));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("%d vCPUs with a pool of %d VPIDs", VPID_VCPUS, VPID_POOL);
}

TEST_HARNESS_MAIN

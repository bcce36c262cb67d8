/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv selftest library, in the spirit of KVM's kvm_util: an opaque VM,
 * vCPU objects, guest code written in C in the test itself, and guest to
 * host calls ("ucalls") over port I/O.
 *
 * Naming: foo() asserts (the test fails on error, or is skipped when the
 * device or feature is missing); _foo() returns 0 / -errno instead.
 *
 * The guest runs in 64-bit long mode.  Guest-physical memory is one slot
 * from 0 (VM_MEM_SIZE); the first GiB... 4 GiB are identity mapped with
 * 2 MiB pages, so a guest pointer is a guest-physical address.  The test
 * binary's own loadable segments are copied to the same addresses, so the
 * guest can run any function of the test that calls nothing outside it.
 */
#ifndef SELFTEST_MINIHV_UTIL_H
#define SELFTEST_MINIHV_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/minihv.h>

#define VM_MEM_SIZE	(64ULL << 20)
#define UCALL_PORT	0x5a5a
/* Guest-physical addresses above RAM are MMIO; tests use this window. */
#define MMIO_GPA	0x80000000ULL

struct mh_vm;
struct mh_vcpu;

/* UCALL_EXCEPTION's args: vector, error code, the frame's RIP and RFLAGS. */
enum ucall_cmd { UCALL_NONE, UCALL_SYNC, UCALL_DONE, UCALL_ABORT, UCALL_EXCEPTION };

struct ucall {
	uint64_t cmd;
	uint64_t args[4];
	const char *file;	/* UCALL_ABORT: the test's own string */
	uint64_t line;
};

/* ---- host side ---- */

int _vm_create(struct mh_vm **vm);
struct mh_vm *vm_create(void);		/* skips the test if no device */
void vm_free(struct mh_vm *vm);		/* closes and unmaps everything */
void vm_forget(struct mh_vm *vm);	/* unmaps, leaves the fds to the caller */
int vm_fd(struct mh_vm *vm);
int vm_dev_fd(struct mh_vm *vm);
void *addr_gpa2hva(struct mh_vm *vm, uint64_t gpa);
/* Points IDT gate @vector at @handler, guest code ending in IRETQ. */
void vm_install_handler(struct mh_vm *vm, uint8_t vector, uint64_t handler);

/* A vCPU in long mode at guest_code(arg0, arg1) with its own stack. */
struct mh_vcpu *vm_vcpu_add(struct mh_vm *vm, uint32_t id, void *guest_code);
int vcpu_fd(struct mh_vcpu *vcpu);
struct minihv_run *vcpu_state(struct mh_vcpu *vcpu);
void vcpu_args_set(struct mh_vcpu *vcpu, uint64_t a0, uint64_t a1);

int _vcpu_run(struct mh_vcpu *vcpu);	/* the ioctl: 0 or -errno */
void vcpu_run(struct mh_vcpu *vcpu);	/* asserts the ioctl succeeded */
void vcpu_regs_get(struct mh_vcpu *vcpu, struct minihv_regs *regs);
void vcpu_regs_set(struct mh_vcpu *vcpu, struct minihv_regs *regs);
void vcpu_sregs_get(struct mh_vcpu *vcpu, struct minihv_sregs *sregs);
int _vcpu_sregs_set(struct mh_vcpu *vcpu, struct minihv_sregs *sregs);

/*
 * After vcpu_run(): the guest's ucall, or UCALL_NONE when the exit was
 * something else.  Completes the port I/O so the guest can go on.
 */
uint64_t get_ucall(struct mh_vcpu *vcpu, struct ucall *uc);

const char *exit_reason_str(uint32_t reason);

/*
 * One pass of a hostile VMM thread over a vCPU's run structure: every
 * byte rewritten from @rng, the two inputs (immediate_exit,
 * request_interrupt_window) set only rarely, so that the runs it races
 * with still enter the guest (run_page_test, fuzz_test).
 */
void run_scribble(struct minihv_run *run, uint64_t *rng);

/*
 * Assertions usable anywhere in a test, library included: a failure exits
 * the test child with 1, a missing requirement with 255, which is how
 * kselftest_harness.h (6.1) records a skip.
 */
#define TEST_REQUIRE_MSG(cond, ...) \
	do { if (!(cond)) { printf("# " __VA_ARGS__); printf("\n"); fflush(stdout); exit(255); } } while (0)
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));
#define TEST_ASSERT(cond, ...) \
	do { if (!(cond)) test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/* The run's exit must be @reason (with a readable message if not). */
void assert_exit_reason(struct mh_vcpu *vcpu, uint32_t reason);
/* The guest's next ucall must be @cmd; UCALL_ABORT prints its message. */
void assert_ucall(struct mh_vcpu *vcpu, uint64_t cmd, struct ucall *uc);

/* ---- guest side ---- */

void ucall(uint64_t cmd, uint64_t a0, uint64_t a1, const char *file, uint64_t line);

#define GUEST_SYNC(arg)		ucall(UCALL_SYNC, (arg), 0, 0, 0)
#define GUEST_DONE()		ucall(UCALL_DONE, 0, 0, 0, 0)
#define GUEST_ASSERT(cond) \
	do { if (!(cond)) ucall(UCALL_ABORT, 0, 0, __FILE__, __LINE__); } while (0)
#define GUEST_ASSERT_EQ(a, b) \
	do { if ((a) != (b)) ucall(UCALL_ABORT, (uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__); } while (0)

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
			 uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(sub));
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | ((uint64_t)hi << 32);
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

#endif /* SELFTEST_MINIHV_UTIL_H */

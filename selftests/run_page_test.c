// SPDX-License-Identifier: GPL-2.0
/*
 * The run structure is mapped into the VMM, where any of its threads can
 * rewrite it at any moment, also while another thread is inside
 * MINIHV_RUN.  The module must never read back from it a value it wrote
 * there itself (the MMIO address, length and direction, the I/O port and
 * count): a VMM that changes run->mmio.len between the decoder's store
 * and the in-kernel APIC's read of it would have the kernel memset or
 * memcpy that many bytes (Documentation/security.rst, "The run page").
 *
 * Here a second thread rewrites every byte of the run structure in a
 * tight loop while the guest drives each path that fills it: the local
 * APIC and the I/O APIC through their MMIO pages (MOV and read-modify-
 * write forms, served in the kernel), port I/O and string I/O, and MMIO
 * served by userspace.  The guest checks what the in-kernel devices
 * return and where its string instructions leave RDI and RCX; the host
 * only re-enters.  A kernel that reads the page back sees the scribbled
 * values: the guest records wrong results (or the host crashes).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"

#define APIC_BASE	0xfee00000UL
#define APIC_TPR	0x080
#define IOAPIC_BASE	0xfec00000UL
#define IOAPIC_REDTBL(pin)	(0x10 + 2 * (pin))
#define IO_PORT		0x80
#define IN_BYTE		0x5a	/* what the host answers to every IN */
#define STR_LEN		16
#define ROUNDS		1000

/* ---- the guest's side ---- */

/* Bit n: check n went wrong at least once; the first one's round. */
volatile uint64_t bad_checks, first_bad_round, rounds_done, done;
uint8_t str_buf[STR_LEN];

#define CHECKS_IN_KERNEL	0x0e	/* 1-3: the APIC and the I/O APIC */
#define CHECKS_IO		0x70	/* 4-6: port and string I/O */

static void bad(uint64_t round, uint64_t check)
{
	if (!bad_checks)
		first_bad_round = round;
	bad_checks |= 1ULL << check;
}

static inline uint32_t mmio_read32(uint64_t addr)
{
	return *(volatile uint32_t *)addr;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}

static void guest_run_page(void)
{
	uint64_t i, rdi, rcx;
	uint32_t v, want;

	for (i = 0; i < ROUNDS; i++) {
		/* Local APIC, MOV forms: TPR holds bits 7:0. */
		want = (i * 0x10) & 0xf0;
		mmio_write32(APIC_BASE + APIC_TPR, want);
		v = mmio_read32(APIC_BASE + APIC_TPR);
		if (v != want)
			bad(i, 1);
		/* A read-modify-write (OR) served in the kernel: two halves. */
		__asm__ volatile("orl %1, %0"
				 : "+m"(*(volatile uint32_t *)(APIC_BASE + APIC_TPR))
				 : "i"(0x01));
		if (mmio_read32(APIC_BASE + APIC_TPR) != (want | 1))
			bad(i, 2);

		/* I/O APIC: a masked redirection entry, written and read back. */
		want = (1u << 16) | (0x20 + i % 0xd0);
		mmio_write32(IOAPIC_BASE, IOAPIC_REDTBL(3));
		mmio_write32(IOAPIC_BASE + 0x10, want);
		mmio_write32(IOAPIC_BASE, IOAPIC_REDTBL(3));
		if (mmio_read32(IOAPIC_BASE + 0x10) != want)
			bad(i, 3);

		/* Port I/O to userspace. */
		outb(IO_PORT, i);
		if (inb(IO_PORT) != IN_BYTE)
			bad(i, 4);

		/* String I/O: RDI and RCX must end where the count says. */
		memset(str_buf, 0, sizeof(str_buf));
		__asm__ volatile("cld; rep insb"
				 : "=D"(rdi), "=c"(rcx)
				 : "D"(str_buf), "c"((uint64_t)STR_LEN), "d"(IO_PORT)
				 : "memory");
		if (rdi != (uint64_t)str_buf + STR_LEN || rcx ||
		    str_buf[0] != IN_BYTE || str_buf[STR_LEN - 1] != IN_BYTE)
			bad(i, 5);
		__asm__ volatile("cld; rep outsb"
				 : "=S"(rdi), "=c"(rcx)
				 : "S"(str_buf), "c"((uint64_t)STR_LEN), "d"(IO_PORT)
				 : "memory");
		if (rdi != (uint64_t)str_buf + STR_LEN || rcx)
			bad(i, 6);

		/* MMIO served by userspace: a load, a store, an ADD. */
		(void)mmio_read32(MMIO_GPA);
		mmio_write32(MMIO_GPA + 4, i);
		__asm__ volatile("addl %1, %0"
				 : "+m"(*(volatile uint32_t *)(MMIO_GPA + 8))
				 : "i"(3));
		rounds_done = i + 1;
	}
	done = 1;
	outb(IO_PORT, 0);
	GUEST_DONE();
}

/* ---- the host's side ---- */

struct scribbler {
	struct minihv_run *run;
	atomic_int stop;
	uint64_t passes;
};

/* Every byte of the run structure, as fast as it can, until told to stop. */
static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		run_scribble(s->run, &rng);
		s->passes++;
	}
	return NULL;
}

static uint64_t guest_var(struct mh_vm *vm, volatile void *var)
{
	return *(volatile uint64_t *)addr_gpa2hva(vm, (uintptr_t)var);
}

/*
 * The guest does ROUNDS rounds with the scribbler running; the host
 * answers every exit the same way without looking at the run structure
 * (it cannot trust it): IN data at the port I/O page, MMIO read data in
 * run->mmio.data (scribbled too: the guest does not check those).
 */
static void run_scribbled(struct __test_metadata *_metadata, bool irqchip)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu;
	struct scribbler s = {};
	struct minihv_mp_state mp = { .mp_state = MINIHV_MP_STATE_RUNNABLE };
	pthread_t thread;
	struct minihv_regs regs;
	struct ucall uc;
	uint64_t runs = 0, checked;
	int i, r;

	if (irqchip)
		ASSERT_EQ(0, ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 0));
	vcpu = vm_vcpu_add(vm, 0, guest_run_page);
	if (irqchip)
		ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_SET_MP_STATE, &mp));
	s.run = vcpu_state(vcpu);
	ASSERT_EQ(0, pthread_create(&thread, NULL, scribble, &s));

	while (!guest_var(vm, &done)) {
		memset((uint8_t *)s.run + 4096, IN_BYTE, 4096);
		r = _vcpu_run(vcpu);
		TEST_ASSERT(r == 0 || r == -EINTR, "MINIHV_RUN: %s", strerror(-r));
		/* A scribbled immediate_exit: the guest did not run. */
		if (r == -EINTR) {
			sched_yield();
			continue;
		}
		if (++runs < 100ULL * ROUNDS)
			continue;
		atomic_store(&s.stop, 1);
		pthread_join(thread, NULL);
		s.run->immediate_exit = 0;
		s.run->request_interrupt_window = 0;
		vcpu_run(vcpu);
		vcpu_regs_get(vcpu, &regs);
		TEST_ASSERT(0, "the guest made no progress: %lu rounds, then exit %u at RIP %#lx",
			    (unsigned long)guest_var(vm, &rounds_done),
			    s.run->exit_reason, (unsigned long)regs.rip);
	}
	atomic_store(&s.stop, 1);
	pthread_join(thread, NULL);
	s.run->immediate_exit = 0;
	s.run->request_interrupt_window = 0;

	/* The run structure is the kernel's again: the guest's last words. */
	for (i = 0; i < 4; i++) {
		vcpu_run(vcpu);
		if (get_ucall(vcpu, &uc) == UCALL_DONE)
			break;
	}
	ASSERT_EQ(UCALL_DONE, uc.cmd);
	TH_LOG("%lu runs, %lu passes of the scribbler", (unsigned long)runs,
	       (unsigned long)s.passes);
	/* Without the irqchip the APIC pages are userspace's, unanswered. */
	checked = CHECKS_IO | (irqchip ? CHECKS_IN_KERNEL : 0);
	EXPECT_EQ(0, guest_var(vm, &bad_checks) & checked) {
		TH_LOG("wrong results (checks %#lx), the first in round %lu",
		       (unsigned long)guest_var(vm, &bad_checks),
		       (unsigned long)guest_var(vm, &first_bad_round));
	}
	vm_free(vm);
}

TEST(scribbled_run_page_in_kernel_devices)
{
	run_scribbled(_metadata, true);
}

/* Without the irqchip every exit is userspace's: only the host must survive. */
TEST(scribbled_run_page_userspace_devices)
{
	run_scribbled(_metadata, false);
}

TEST_HARNESS_MAIN

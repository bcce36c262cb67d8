// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_test: the ioctl fuzzer.  Four threads share one set of
 * objects (/dev/minihv, up to four VMs, up to eight vCPUs, their run
 * mappings, eight guest-memory buffers) and throw calls at them: every
 * minihv ioctl with arguments of its own shape, valid, at the edges and
 * random (memory regions overlapping, unaligned, huge, at the top of the
 * address space, read-only, deleted or unmapped while a vCPU runs; regs
 * and sregs with random bits; CPUID tables of any length), unknown ioctl
 * numbers, bad pointers, closes racing with runs and with mmap of the
 * run page.  Another thread is a hostile VMM's: it maps one live vCPU's
 * run pages after another and rewrites every byte of the run structure and
 * of the port I/O data in a tight loop while the workers run that vCPU
 * (the kernel must never read back what it wrote there: run_page_test).
 * The last thread is the clock: each millisecond it signals a
 * worker that has been in the same call since the last tick, so a run
 * ends (EINTR) whatever the guest does, and every 64 ms it reads the
 * kernel's check of each live VM's nested tables against its slots.
 *
 * What must hold: every failed call returns a real errno (never one of
 * the kernel's internal codes, 512 and up), the host's log stays clean
 * (no oops, WARN, lockdep or KASAN report), and once everything is closed
 * the module's reference count is back where it started, no VM and no
 * pinned guest page is left (/sys/kernel/debug/minihv/{vms,pinned_pages})
 * and MemAvailable has not fallen by more than 64 MiB.
 *
 * Seeded: thread t draws from seed + t (MINIHV_FUZZ_SEED sets the seed;
 * the races between threads make a run repeat only approximately, as in
 * any threaded fuzzer).  MINIHV_FUZZ_CALLS sets the number of calls
 * (make check: 20,000; make check-debug's goal: 1,000,000).
 *
 * Coverage-guided where the kernel has KCOV (make check-debug's): each
 * call's input is the generator's state before it plus, for a mutated
 * one, which draw to change and how.  A call that reaches code of
 * minihv's no earlier call reached joins the corpus (the rest of the
 * kernel's coverage is not counted: new paths through the memory manager
 * alone drew the corpus to the costliest calls); half the later calls replay a
 * corpus input with one draw changed, so the fuzzer keeps what worked as
 * syzkaller does.  The corpus is printed at the end ("fuzz-corpus"
 * lines), make check-debug keeps it in build/fuzz-corpus, the next
 * initramfs carries it, and the next run replays it first.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/ucontext.h>
#include <time.h>
#include <unistd.h>

#include <linux/kcov.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define THREADS		4
#define NR_VMS		4
#define NR_VCPUS	8
#define NR_BUFS		8
#define NR_STATS	4	/* stats fds kept: each outlives its vCPU's fd */
/* Small: each page mapped, unmapped and freed costs a debug kernel dearly. */
#define BUF_SIZE	(256 << 10)
/*
 * But buf[0] is 4 MiB on a 2 MiB boundary, given to THP: regions over it
 * get 2 MiB nested leaves, which case 20 splits, collapses and pages out.
 */
#define HUGE_BUF_SIZE	(4 << 20)
#define HUGE_ALIGN	(2 << 20)

static size_t buf_size(int i)
{
	return i ? BUF_SIZE : HUGE_BUF_SIZE;
}
#define NR_KINDS	23	/* the cases of one_call() */
/*
 * The clock thread's period (ms), and how many periods apart it checks
 * the nested tables: each check walks every live VM's tables in the
 * kernel.  On the lite debug kernel in Bochs the clock thread took 31% of
 * the process's CPU time with a check every 16 ms, 21% at every 64 ms.
 */
#define TICK_MS		1
#define WALK_TICKS	64
/*
 * The CPU time of one call in TIME_SAMPLE is measured: reading the
 * thread's CPU clock is a system call.  On the lite debug kernel in
 * bochs-vmx, 20,000 calls took 46.6 s of CPU (kernel 32.6 s) this way,
 * against 52.9 s (37.5 s) with two reads around every call: about
 * 0.1 ms a read.
 */
#define TIME_SAMPLE	16

struct fuzz {
	int dev;
	int efd;			/* an eventfd for MINIHV_IOEVENTFD and MINIHV_IRQFD */
	_Atomic int vm[NR_VMS];
	_Atomic int vcpu[NR_VCPUS];
	_Atomic int stats[NR_STATS];
	uint8_t *buf[NR_BUFS];
	size_t run_size;
	_Atomic unsigned long left, bad_errno, last_bad;
	_Atomic bool stop;
	pthread_t threads[THREADS];
	pthread_t scribbler;
	_Atomic unsigned long scribbled;	/* passes over a run structure */
	_Atomic unsigned long irqfds;		/* MINIHV_IRQFD assignments that took */
	/*
	 * Bochs 2.7's SVM ignores the SHUTDOWN intercept: a guest's triple
	 * fault takes the whole machine down (run_bounds_test and
	 * differential_test skip their random guests there for it).  A
	 * random state triple-faults easily (an IDT limit of 0, SP = 1 in
	 * real mode), so there no run may enter with one: each other call
	 * holds @state_lock for reading, and setting a random state, then
	 * the old one back, holds it for writing.  SET_SREGS's and
	 * SET_REGS's checks are fuzzed there all the same; entries with
	 * random states are fuzzed on qemu-svm and bochs-vmx.
	 */
	bool random_state_unsafe;
	pthread_rwlock_t state_lock;
	_Atomic unsigned long restore_failed;
};

struct worker {
	struct fuzz *f;
	uint64_t rng;
	int id;
	int kcov;		/* -1 without KCOV */
	unsigned long *cover;	/* [0]: PCs recorded, then the PCs */
	_Atomic unsigned long done;	/* calls finished: the clock reads it */
	unsigned long seen_done;	/* the clock's reading at its last tick */
	/* Where the time goes, per kind of call (printed at the end). */
	unsigned long kind_calls[NR_KINDS], kind_timed[NR_KINDS], kind_ns[NR_KINDS];
};

/*
 * The current call's mutation: its @mutate_at-th draw is xored with
 * @mutate_xor (0: none).  Per thread, as each worker makes its own calls.
 */
static __thread unsigned int draws, mutate_at, call_kind;
static __thread uint64_t mutate_xor;

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return ++draws == mutate_at ? *s ^ mutate_xor : *s;
}

/* A value worth trying for a field of @bits: edges more often than chance. */
static uint64_t edge(uint64_t *s, int bits)
{
	uint64_t max = bits == 64 ? ~0ULL : (1ULL << bits) - 1;

	switch (rnd(s) % 8) {
	case 0: return 0;
	case 1: return 1;
	case 2: return max;
	case 3: return max >> 1;
	case 4: return 1ULL << (rnd(s) % bits);
	case 5: return rnd(s) % 64;
	default: return rnd(s) & max;
	}
}

/* A pointer argument: mostly a good buffer, sometimes one that is not. */
static void *arg_ptr(uint64_t *s, void *good)
{
	switch (rnd(s) % 16) {
	case 0: return NULL;
	case 1: return (void *)1;
	case 2: return (void *)0xffffffff81000000ULL;	/* the kernel's text */
	case 3: return (void *)0x7ffffffff000ULL;	/* the top of user space */
	default: return good;
	}
}

static int pick(struct worker *w, _Atomic int *fds, int n)
{
	return atomic_load(&fds[rnd(&w->rng) % n]);
}

/* Keeps @fd in a free (or random) slot of @fds, closing what it replaces. */
static void keep(struct worker *w, _Atomic int *fds, int n, int fd)
{
	int old;

	if (fd < 0)
		return;
	old = atomic_exchange(&fds[rnd(&w->rng) % n], fd);
	if (old > 0)
		close(old);
}

static void random_region(struct worker *w, struct minihv_userspace_memory_region *mr)
{
	uint64_t *s = &w->rng;
	int b = rnd(s) % NR_BUFS;
	uint8_t *buf = w->f->buf[b];

	mr->slot = rnd(s) % 4 ? rnd(s) % 10 : edge(s, 32);
	mr->flags = rnd(s) % 4 ? (rnd(s) % 2) * MINIHV_MEM_READONLY : edge(s, 32);
	switch (rnd(s) % 6) {
	case 0:		/* anywhere, any size */
		mr->guest_phys_addr = edge(s, 64);
		mr->memory_size = edge(s, 64);
		mr->userspace_addr = edge(s, 64);
		break;
	case 1:		/* delete */
		mr->memory_size = 0;
		break;
	case 2:		/* at the top of the guest-physical space */
		mr->guest_phys_addr = (1ULL << (32 + rnd(s) % 21)) - 0x1000 * (1 + rnd(s) % 4);
		mr->memory_size = 0x1000 * (1 + rnd(s) % 4);
		mr->userspace_addr = (uintptr_t)buf;
		break;
	default:	/* plausible, often overlapping, sometimes unaligned */
		/* 128 KiB steps: some regions cross a 2 MiB page table. */
		mr->guest_phys_addr = (rnd(s) % 128) << 17;
		mr->memory_size = (1 + rnd(s) % (BUF_SIZE >> 12)) << 12;
		mr->userspace_addr = (uintptr_t)buf + ((rnd(s) % 4) << 12);
		if (mr->userspace_addr + mr->memory_size > (uintptr_t)buf + BUF_SIZE)
			mr->memory_size = (uintptr_t)buf + BUF_SIZE - mr->userspace_addr;
		if (rnd(s) % 8 == 0)
			mr->guest_phys_addr += rnd(s) % 0x1000;
		/* Over the THP buffer: 2 MiB-aligned, so large leaves can map it. */
		if (b == 0 && rnd(s) % 2) {
			mr->guest_phys_addr = (rnd(s) % 64) * HUGE_ALIGN;
			mr->memory_size = (1 + rnd(s) % 2) * HUGE_ALIGN;
			mr->userspace_addr = (uintptr_t)buf;
		}
		break;
	}
}

static void random_sregs(uint64_t *s, struct minihv_sregs *sr)
{
	uint64_t *f = (uint64_t *)sr;
	size_t i, n = sizeof(*sr) / 8;

	/* A few fields of a real state changed, or everything at random. */
	if (rnd(s) % 4 == 0) {
		for (i = 0; i < n; i++)
			f[i] = rnd(s);
		return;
	}
	for (i = 0; i < 1 + rnd(s) % 3; i++)
		f[rnd(s) % n] ^= 1ULL << (rnd(s) % 64);
	if (rnd(s) % 2)
		sr->cr0 = edge(s, 64);
	if (rnd(s) % 2)
		sr->efer = edge(s, 16);
}

/*
 * Sets the random @state through @set, and where a random state must not
 * run (random_state_unsafe) puts @old, the state before, back at once.
 */
static long set_random_state(struct fuzz *f, int vcpu, unsigned long set,
			     const void *state, const void *old)
{
	long r;
	int e;

	if (!f->random_state_unsafe)
		return ioctl(vcpu, set, state);
	/* No other call meanwhile: @vcpu stays the same vCPU, and no run. */
	pthread_rwlock_wrlock(&f->state_lock);
	r = ioctl(vcpu, set, state);
	e = errno;
	if (r == 0 && ioctl(vcpu, set, old))
		atomic_fetch_add(&f->restore_failed, 1);
	pthread_rwlock_unlock(&f->state_lock);
	errno = e;
	return r;
}

/*
 * A vCPU's stats fd (GET_STATS_FD): made and kept, replacing (closing) an
 * older one, or one kept read at a random offset and length into a
 * random buffer, or seeked, while other threads close its vCPU and VM.
 */
static long stats_call(struct worker *w, int vcpu)
{
	struct fuzz *f = w->f;
	uint64_t *s = &w->rng;
	char buf[4096];
	size_t len;
	long r;
	int fd;

	if (rnd(s) % 2) {
		r = ioctl(vcpu, MINIHV_GET_STATS_FD, rnd(s) % 4 ? 0 : edge(s, 64));
		keep(w, f->stats, NR_STATS, r);
		return r;
	}
	fd = pick(w, f->stats, NR_STATS);
	len = rnd(s) % 2 ? rnd(s) % sizeof(buf) : edge(s, 12);
	switch (rnd(s) % 3) {
	case 0:
		return pread(fd, arg_ptr(s, buf), len, rnd(s) % 2 ? rnd(s) % 1024 : edge(s, 64));
	case 1:
		return read(fd, arg_ptr(s, buf), len);
	default:
		return lseek(fd, edge(s, 64), rnd(s) % 3);
	}
}

/*
 * The hostile VMM thread: a live vCPU's run pages (its fd may be closed
 * and reused meanwhile: whatever the mapping then is, or none), rewritten
 * 256 times over, unmapped, the next.
 */
static void *scribbler_main(void *arg)
{
	struct fuzz *f = arg;
	uint64_t rng = 0x2545f4914f6cdd1dULL;
	uint8_t *p;
	int i, j;

	while (!atomic_load(&f->stop)) {
		p = mmap(NULL, f->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 f->vcpu[rnd(&rng) % NR_VCPUS], 0);
		if (p == MAP_FAILED) {
			sched_yield();
			continue;
		}
		for (i = 0; i < 256 && !atomic_load(&f->stop); i++) {
			run_scribble((struct minihv_run *)p, &rng);
			for (j = 0; j < 64; j++)	/* the port I/O data */
				p[4096 + j] = rnd(&rng);
			atomic_fetch_add(&f->scribbled, 1);
		}
		munmap(p, f->run_size);
	}
	return NULL;
}

/* Signals eventfd @fd; a full count (or a closed fd) fails, and that is fine. */
static void poke(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		return;
}

/*
 * A VM of its own with the irqchip and a few irqfds on eventfds of its
 * own and the shared one, some resampling, some of their eventfds closed
 * at once (EPOLLHUP), the shared one signalled while the other threads
 * signal it too; then the VM is closed with the rest still registered,
 * so its teardown races with their wake-ups.
 */
static long irqfd_private_vm(struct fuzz *f, uint64_t *s)
{
	struct minihv_irqfd a = { 0 };
	int vm, efd[4], i, n = 1 + rnd(s) % 4, err = 0;
	long r = 0;

	vm = ioctl(f->dev, MINIHV_CREATE_VM, 0);
	if (vm < 0)
		return vm;
	if (ioctl(vm, MINIHV_CREATE_IRQCHIP, 0)) {
		err = errno;
		close(vm);
		errno = err;
		return -1;
	}
	for (i = 0; i < n; i++)
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	for (i = 0; i < n; i++) {
		a.fd = i == 0 && rnd(s) % 2 ? f->efd : efd[i];
		a.gsi = rnd(s) % MINIHV_IOAPIC_PINS;
		a.flags = rnd(s) % 2 ? MINIHV_IRQFD_FLAG_RESAMPLE : 0;
		a.resamplefd = rnd(s) % 2 ? f->efd : efd[(i + 1) % n];
		if (ioctl(vm, MINIHV_IRQFD, &a)) {
			r = -1;
			err = errno;
		} else {
			atomic_fetch_add(&f->irqfds, 1);
		}
		poke(efd[i]);
	}
	for (i = 0; i < n; i++) {
		if (rnd(s) % 2) {
			close(efd[i]);
			efd[i] = -1;
		}
	}
	poke(f->efd);
	close(vm);
	for (i = 0; i < n; i++)
		if (efd[i] >= 0)
			close(efd[i]);
	errno = err;
	return r;
}

/* A VM slot that holds an fd, from a random start, so the call meets a live VM. */
static int live_vm(struct fuzz *f, uint64_t *s)
{
	int i, start = rnd(s) % NR_VMS, fd = -1;

	for (i = 0; i < NR_VMS && fd < 0; i++)
		fd = atomic_load(&f->vm[(start + i) % NR_VMS]);
	return fd;
}

/*
 * MINIHV_IRQFD: pins in and out of range, assigned and taken back, with
 * and without a resamplefd; the shared eventfd signalled now and then so
 * that wake-ups race with the guests, the ioctls and the VMs' ends; and
 * sometimes an eventfd of its own that is closed right after, so its
 * irqfd goes away on EPOLLHUP.  Most VM slots are empty at any moment:
 * half the calls look for one that is not.
 */
static long irqfd_call(struct fuzz *f, uint64_t *s, int vm, struct minihv_irqfd *a)
{
	int own = -1, err;
	long r;

	if (rnd(s) % 8 == 0)
		return irqfd_private_vm(f, s);
	if (rnd(s) % 2)
		vm = live_vm(f, s);
	if (rnd(s) % 4 == 0)
		own = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->fd = own >= 0 ? own : rnd(s) % 4 ? f->efd : (uint32_t)edge(s, 32);
	a->gsi = rnd(s) % 2 ? rnd(s) % 26 : edge(s, 32);
	a->flags = rnd(s) % 4 ? rnd(s) % 4 : edge(s, 32);
	a->resamplefd = rnd(s) % 4 ? f->efd : (uint32_t)edge(s, 32);
	if (rnd(s) % 8 == 0)
		a->pad[rnd(s) % 16] = rnd(s);
	r = ioctl(vm, MINIHV_IRQFD, arg_ptr(s, a));
	err = errno;
	if (!r && !(a->flags & MINIHV_IRQFD_FLAG_DEASSIGN))
		atomic_fetch_add(&f->irqfds, 1);
	if (own >= 0)
		close(own);
	if (rnd(s) % 2)
		poke(f->efd);
	errno = err;		/* the caller checks the ioctl's */
	return r;
}

/* One call; returns its result, having checked the errno of a failure. */
static long one_call(struct worker *w)
{
	struct fuzz *f = w->f;
	uint64_t *s = &w->rng;
	union {
		struct minihv_userspace_memory_region mr;
		struct minihv_regs regs;
		struct minihv_sregs sregs;
		struct minihv_exit_stats stats;
		struct minihv_irq_level irq;
		struct minihv_pit_config pit;
		struct minihv_ioeventfd ioev;
		struct minihv_irqfd irqfd;
		struct minihv_interrupt intr;
		struct minihv_mp_state mp;
		struct minihv_cpuid cpuid;
		uint8_t raw[16384];
	} a;
	int vm = pick(w, f->vm, NR_VMS), vcpu = pick(w, f->vcpu, NR_VCPUS);
	size_t len;
	int n;
	void *p;
	long r = 0;
	bool reader;

	memset(&a, 0, sizeof(a));
	call_kind = rnd(s) % NR_KINDS;
	/* Cases 12 and 13 take it for writing in set_random_state(). */
	reader = f->random_state_unsafe && call_kind != 12 && call_kind != 13;
	if (reader)
		pthread_rwlock_rdlock(&f->state_lock);
	switch (call_kind) {
	case 0:
		r = ioctl(f->dev, MINIHV_CHECK_EXTENSION, edge(s, 32));
		break;
	case 1:
		if (rnd(s) % 8 == 0)
			keep(w, f->vm, NR_VMS, r = ioctl(f->dev, MINIHV_CREATE_VM, edge(s, 8)));
		break;
	case 2:
		a.cpuid.nent = rnd(s) % 2 ? rnd(s) % 300 : edge(s, 32);
		r = ioctl(f->dev, MINIHV_GET_SUPPORTED_CPUID, arg_ptr(s, &a));
		break;
	case 3: case 4:
		random_region(w, &a.mr);
		r = ioctl(vm, MINIHV_SET_USER_MEMORY_REGION, arg_ptr(s, &a));
		break;
	case 5:
		keep(w, f->vcpu, NR_VCPUS,
		     r = ioctl(vm, MINIHV_CREATE_VCPU, rnd(s) % 4 ? rnd(s) % 20 : edge(s, 64)));
		break;
	case 6:
		if (rnd(s) % 2) {
			r = ioctl(vm, MINIHV_CREATE_IRQCHIP, rnd(s) % 4 ? 0 : edge(s, 64));
			break;
		}
		/* The PIT: mostly a valid config, sometimes a flag or a pad word set. */
		memset(&a.pit, 0, sizeof(a.pit));
		if (rnd(s) % 4 == 0)
			a.pit.flags = edge(s, 32);
		if (rnd(s) % 4 == 0)
			a.pit.pad[rnd(s) % 15] = edge(s, 32);
		r = ioctl(vm, MINIHV_CREATE_PIT2, arg_ptr(s, &a));
		break;
	case 7:
		if (rnd(s) % 3 == 0) {
			r = irqfd_call(f, s, vm, &a.irqfd);
			break;
		}
		if (rnd(s) % 2) {
			/* Ports and MMIO writes the guests make, assigned and taken back. */
			a.ioev.addr = rnd(s) % 2 ? rnd(s) % 0x10010 : edge(s, 64);
			a.ioev.len = rnd(s) % 2 ? 1u << (rnd(s) % 4) : edge(s, 32);
			a.ioev.fd = rnd(s) % 4 ? f->efd : (int)edge(s, 32);
			a.ioev.flags = rnd(s) % 4 ? rnd(s) % 8 : edge(s, 32);
			a.ioev.datamatch = rnd(s) % 2 ? rnd(s) % 4 : edge(s, 64);
			if (rnd(s) % 8 == 0)
				a.ioev.pad[rnd(s) % 36] = rnd(s);
			r = ioctl(vm, MINIHV_IOEVENTFD, arg_ptr(s, &a));
			break;
		}
		a.irq.irq = rnd(s) % 2 ? rnd(s) % 30 : edge(s, 32);
		a.irq.level = rnd(s) % 2 ? rnd(s) % 2 : edge(s, 32);
		r = ioctl(vm, MINIHV_IRQ_LINE, arg_ptr(s, &a));
		break;
	case 8: case 9: case 10: case 11:
		r = ioctl(vcpu, MINIHV_RUN, 0);
		break;
	case 12:
		r = ioctl(vcpu, MINIHV_GET_REGS, arg_ptr(s, &a));
		if (r == 0 && rnd(s) % 2) {
			struct minihv_regs old = a.regs;

			a.regs.rip = rnd(s) % 3 ? rnd(s) % (4 << 20) : edge(s, 64);
			a.regs.rflags = edge(s, 32);
			a.regs.rsp = edge(s, 64);
			r = set_random_state(f, vcpu, MINIHV_SET_REGS, &a, &old);
		}
		break;
	case 13:
		r = ioctl(vcpu, MINIHV_GET_SREGS, arg_ptr(s, &a));
		if (r == 0) {
			struct minihv_sregs old = a.sregs;

			random_sregs(s, &a.sregs);
			r = set_random_state(f, vcpu, MINIHV_SET_SREGS, &a, &old);
		}
		break;
	case 14:
		r = ioctl(vcpu, MINIHV_GET_EXIT_STATS, arg_ptr(s, &a));
		break;
	case 15:
		a.intr.irq = rnd(s) % 2 ? rnd(s) % 256 : edge(s, 32);
		r = ioctl(vcpu, rnd(s) % 3 ? MINIHV_INTERRUPT : MINIHV_NMI, arg_ptr(s, &a));
		break;
	case 16:
		r = ioctl(vcpu, MINIHV_GET_MP_STATE, arg_ptr(s, &a));
		a.mp.mp_state = rnd(s) % 2 ? rnd(s) % 5 : edge(s, 32);
		r = ioctl(vcpu, MINIHV_SET_MP_STATE, arg_ptr(s, &a));
		break;
	case 17:
		r = ioctl(f->dev, MINIHV_GET_SUPPORTED_CPUID, &(struct minihv_cpuid){ .nent = 0 });
		a.cpuid.nent = rnd(s) % 2 ? rnd(s) % 300 : edge(s, 32);
		if (a.cpuid.nent <= (sizeof(a) - sizeof(a.cpuid)) / sizeof(a.cpuid.entries[0]))
			for (size_t i = 0; i < a.cpuid.nent; i++) {
				a.cpuid.entries[i].function = rnd(s) % 3 ? rnd(s) % 0x20 : edge(s, 32);
				a.cpuid.entries[i].index = rnd(s) % 4;
				a.cpuid.entries[i].flags = rnd(s) % 2;
				a.cpuid.entries[i].eax = rnd(s);
				a.cpuid.entries[i].ecx = rnd(s);
			}
		r = ioctl(vcpu, MINIHV_SET_CPUID, arg_ptr(s, &a));
		break;
	case 18:	/* the run page: mapped, touched, unmapped, racing with close */
		/* Unmapped by its own length: more would take another thread's mapping. */
		len = rnd(s) % 2 ? f->run_size : edge(s, 24) << 12;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu,
			 (rnd(s) % 8 ? 0 : edge(s, 8)) << 12);
		if (p != MAP_FAILED) {
			((volatile uint8_t *)p)[rnd(s) % 64] = rnd(s);
			munmap(p, len);
		}
		break;
	case 19:	/* a close racing with whatever the others do */
		if (rnd(s) % 4)
			close(atomic_exchange(&f->vcpu[rnd(s) % NR_VCPUS], -1));
		else
			close(atomic_exchange(&f->vm[rnd(s) % NR_VMS], -1));
		break;
	case 20:	/* guest memory made read-only, or replaced, under its slots */
		n = rnd(s) % NR_BUFS;
		p = f->buf[n];
		switch (rnd(s) % 4) {
		case 0:
			mprotect(p, buf_size(n), rnd(s) % 2 ? PROT_READ : PROT_READ | PROT_WRITE);
			break;
		case 1:
			mmap(p, buf_size(n), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			madvise(p, buf_size(n), MADV_HUGEPAGE);
			break;
		case 2:		/* one page given back: splits a huge page */
			madvise(p + (rnd(s) % (buf_size(n) >> 12) << 12), 4096, MADV_DONTNEED);
			break;
		default:	/* collapsed into huge pages, or swapped out (if swap) */
			madvise(p, buf_size(n), rnd(s) % 2 ? MADV_COLLAPSE : MADV_PAGEOUT);
			break;
		}
		break;
	case 21:	/* an unknown ioctl, or a known one on the wrong fd */
		r = ioctl(rnd(s) % 3 ? vcpu : rnd(s) % 2 ? vm : f->dev,
			  rnd(s) % 2 ? _IO(MINIHVIO, rnd(s) % 256) : (unsigned long)edge(s, 32),
			  arg_ptr(s, &a));
		break;
	default:	/* the ones that only report */
		switch (rnd(s) % 5) {
		case 0:
			r = ioctl(f->dev, MINIHV_GET_VCPU_MMAP_SIZE, 0);
			break;
		case 1:
			r = ioctl(f->dev, MINIHV_GET_API_VERSION, rnd(s) % 4 ? 0 : edge(s, 64));
			break;
		case 2:
			r = ioctl(f->dev, MINIHV_GET_FEATURES, arg_ptr(s, &a));
			break;
		case 3:
			r = ioctl(vcpu, MINIHV_GET_EXIT_LOG, arg_ptr(s, &a));
			break;
		default:
			r = stats_call(w, vcpu);
			break;
		}
		break;
	}
	if (r < 0 && (errno <= 0 || errno >= 512)) {
		atomic_fetch_add(&f->bad_errno, 1);
		atomic_store(&f->last_bad, errno);
	}
	if (reader)
		pthread_rwlock_unlock(&f->state_lock);
	return r;
}

static void on_signal(int sig)
{
	(void)sig;	/* only there to end a MINIHV_RUN with EINTR */
}

/*
 * A SIGBUS killed this fuzzer twice in thousands of runs, and the same
 * seed then ran clean (testing.rst).  Should it come again, say where:
 * the address, the code, where the thread was and with which RFLAGS (AC
 * set would make it an alignment check), and the mapping the address is
 * in.  Then die of it, as before.
 */
static void on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	const greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
	unsigned long addr = (unsigned long)si->si_addr, lo, hi;
	char line[256];
	FILE *maps;

	dprintf(STDOUT_FILENO, "# fuzz: SIGBUS code %d at %#lx, RIP %#llx, RFLAGS %#llx\n",
		si->si_code, addr, (unsigned long long)g[REG_RIP],
		(unsigned long long)g[REG_EFL]);
	maps = fopen("/proc/self/maps", "re");
	while (maps && fgets(line, sizeof(line), maps))
		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi)
			dprintf(STDOUT_FILENO, "# fuzz: in %s", line);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* ---- coverage guidance (KCOV) ---- */

#define COVER_WORDS	(64 << 10)	/* PCs one call can record */
#define SEEN_BITS	(1u << 22)	/* PCs seen so far, hashed */
#define CORPUS_MAX	4096
#define CORPUS_FILE	"fuzz-corpus"	/* next to the test: the initramfs's copy */

/* One call, exactly: the generator's state before it and its mutation. */
struct input {
	uint64_t seed, mutate_xor;
	unsigned int mutate_at;
};

static struct {
	pthread_mutex_t lock;
	struct input in[CORPUS_MAX];
	unsigned int n, loaded, added;
	_Atomic unsigned int replayed;
	unsigned long pcs;		/* distinct (hashed) PCs reached */
	unsigned long text_start, text_end;	/* minihv's, from /proc/modules */
	uint8_t seen[SEEN_BITS / 8];
} corpus = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Where minihv.ko lies: the PCs that count.  False if /proc/modules hides it. */
static bool corpus_find_module(void)
{
	unsigned long size, base;
	char line[256];
	FILE *fp = fopen("/proc/modules", "re");

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "minihv %lu %*d %*s %*s %lx", &size, &base) == 2 && base) {
			corpus.text_start = base;
			corpus.text_end = base + size;
		}
	if (fp)
		fclose(fp);
	return corpus.text_end;
}

/*
 * A KCOV buffer for worker @w, or none when the kernel has no KCOV (or
 * minihv's place is unknown: corpus_find_module() first).  Made
 * before the workers start (their races reuse fd numbers); each worker
 * enables its own, as KCOV traces the thread that enables it.
 */
static void kcov_open(struct worker *w)
{
	unsigned long *cover;
	int fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);

	w->kcov = -1;
	w->cover = NULL;
	if (fd >= 0 && !corpus.text_end) {
		if (!w->id)
			printf("# KCOV, but minihv's address is hidden: no guidance\n");
		close(fd);
		return;
	}
	if (fd < 0)
		return;
	if (ioctl(fd, KCOV_INIT_TRACE, COVER_WORDS)) {
		close(fd);
		return;
	}
	cover = mmap(NULL, COVER_WORDS * sizeof(*cover), PROT_READ | PROT_WRITE,
		     MAP_SHARED, fd, 0);
	if (cover == MAP_FAILED) {
		close(fd);
		return;
	}
	w->kcov = fd;
	w->cover = cover;
}

static void kcov_close(struct worker *w)
{
	if (!w->cover)
		return;
	munmap(w->cover, COVER_WORDS * sizeof(*w->cover));
	close(w->kcov);
	w->cover = NULL;
}

/* The corpus a former run left next to the test (build/fuzz-corpus). */
static void corpus_load(void)
{
	unsigned long long seed, x;
	unsigned int at;
	FILE *fp = fopen(CORPUS_FILE, "re");

	while (fp && corpus.n < CORPUS_MAX &&
	       fscanf(fp, "%llx %x %llx", &seed, &at, &x) == 3)
		corpus.in[corpus.n++] = (struct input){ seed, x, at };
	corpus.loaded = corpus.n;
	if (fp)
		fclose(fp);
}

/* Records minihv's PCs of the call just made; true if one was new. */
static bool corpus_cover(struct worker *w)
{
	unsigned long n = __atomic_load_n(&w->cover[0], __ATOMIC_RELAXED), i;
	bool fresh = false;

	if (n >= COVER_WORDS)
		n = COVER_WORDS - 1;
	pthread_mutex_lock(&corpus.lock);
	for (i = 1; i <= n; i++) {
		uint64_t h = (w->cover[i] * 0x9e3779b97f4a7c15ULL) >> 42;

		if (w->cover[i] - corpus.text_start >= corpus.text_end - corpus.text_start)
			continue;
		if (!(corpus.seen[h / 8] & (1 << (h % 8)))) {
			corpus.seen[h / 8] |= 1 << (h % 8);
			corpus.pcs++;
			fresh = true;
		}
	}
	pthread_mutex_unlock(&corpus.lock);
	return fresh;
}

enum { INPUT_FRESH, INPUT_MUTATED, INPUT_LOADED };

/*
 * The next call's input: the loaded corpus first, each once; then, with
 * KCOV, half the time a corpus input with one of its first 32 draws
 * changed; else the thread's own stream.
 */
static int next_input(struct worker *w, struct input *in)
{
	unsigned int r = atomic_fetch_add(&corpus.replayed, 1);

	if (r < corpus.loaded) {
		*in = corpus.in[r];	/* never changed after loading */
		return INPUT_LOADED;
	}
	if (w->cover && corpus.n && rnd(&w->rng) % 2) {
		pthread_mutex_lock(&corpus.lock);
		*in = corpus.in[rnd(&w->rng) % corpus.n];
		pthread_mutex_unlock(&corpus.lock);
		in->mutate_at = 1 + rnd(&w->rng) % 32;
		in->mutate_xor = rnd(&w->rng) % 2 ? 1ULL << (rnd(&w->rng) % 64) : rnd(&w->rng);
		return INPUT_MUTATED;
	}
	*in = (struct input){ .seed = w->rng };
	return INPUT_FRESH;
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec t;

	clock_gettime(clock, &t);
	return t.tv_sec * 1000000000ULL + t.tv_nsec;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct input in;
	uint64_t stream, start = 0;
	unsigned long n = 0;
	bool timed;
	int kind;

	if (w->cover && ioctl(w->kcov, KCOV_ENABLE, KCOV_TRACE_PC)) {
		kcov_close(w);
		w->cover = NULL;
	}
	while (!atomic_load(&w->f->stop)) {
		unsigned long left = atomic_load(&w->f->left);

		if (!left || !atomic_compare_exchange_weak(&w->f->left, &left, left - 1))
			continue;
		mutate_at = 0;
		kind = next_input(w, &in);
		stream = w->rng;
		w->rng = in.seed;
		draws = 0;
		mutate_at = in.mutate_at;
		mutate_xor = in.mutate_xor;
		if (w->cover)
			__atomic_store_n(&w->cover[0], 0, __ATOMIC_RELAXED);
		/* The thread's CPU time: what the call cost, not its waits. */
		timed = !(n++ % TIME_SAMPLE);
		if (timed)
			start = now_ns(CLOCK_THREAD_CPUTIME_ID);
		one_call(w);
		if (timed) {
			w->kind_ns[call_kind] += now_ns(CLOCK_THREAD_CPUTIME_ID) - start;
			w->kind_timed[call_kind]++;
		}
		w->kind_calls[call_kind]++;
		mutate_at = 0;
		if (w->cover && corpus_cover(w) && kind != INPUT_LOADED) {
			pthread_mutex_lock(&corpus.lock);
			if (corpus.n < CORPUS_MAX) {
				corpus.in[corpus.n++] = in;
				corpus.added++;
			}
			pthread_mutex_unlock(&corpus.lock);
		}
		/* A corpus call leaves the thread's own stream where it was. */
		if (kind != INPUT_FRESH)
			w->rng = stream;
		atomic_fetch_add(&w->done, 1);
	}
	if (w->cover)
		ioctl(w->kcov, KCOV_DISABLE, 0);
	return NULL;
}

/*
 * A random ioctl number may be one that makes an fd (CREATE_VM on the
 * device, CREATE_VCPU on a VM, GET_STATS_FD on a vCPU) and nobody keeps
 * it: close every minihv object fd the process still has, by its name.
 */
static void close_minihv_fds(void)
{
	char path[300], target[64];
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	ssize_t n;

	while (d && (e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strstr(target, "anon_inode:minihv") || !strcmp(target, MINIHV_DEV))
			close(atoi(e->d_name));
	}
	if (d)
		closedir(d);
}

static long mem_available_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *fp = fopen("/proc/meminfo", "re");

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "MemAvailable: %ld kB", &kib) == 1)
			break;
	if (fp)
		fclose(fp);
	return kib;
}

#define DEBUGFS		"/sys/kernel/debug"
#define NR_VMS_FILE	DEBUGFS "/minihv/vms"
#define NR_PINNED_FILE	DEBUGFS "/minihv/pinned_pages"

/*
 * The kernel's walk of every live VM's nested tables, each mapping checked
 * against the slots (debugfs <pid>-<n>/tdp): the error lines it found.
 */
static unsigned long tdp_errors(void)
{
	char path[300], line[160];
	unsigned long long maps, errs;
	unsigned long bad = 0;
	struct dirent *e;
	DIR *d = opendir(DEBUGFS "/minihv");
	FILE *fp;

	while (d && (e = readdir(d))) {
		if (!strchr(e->d_name, '-'))
			continue;
		snprintf(path, sizeof(path), DEBUGFS "/minihv/%s/tdp", e->d_name);
		fp = fopen(path, "re");
		while (fp && fgets(line, sizeof(line), fp)) {
			if (sscanf(line, "mappings %llu errors %llu", &maps, &errs) == 2)
				bad += errs;
			else if (!strncmp(line, "error", 5))
				printf("# %s: %s", path, line);
		}
		if (fp)
			fclose(fp);
	}
	if (d)
		closedir(d);
	return bad;
}

/*
 * Where the machine's time went: each kind of call's count and mean CPU
 * time (of the calls timed, one in TIME_SAMPLE), the signals that ended
 * long calls, and the process's CPU time (user, kernel) against the
 * run's length, for a slow machine's figures.
 */
static void report_time(struct worker *w, uint64_t elapsed_ns, uint64_t clock_ns,
			unsigned long signals)
{
	static const char *const name[NR_KINDS] = {
		"CHECK_EXTENSION", "CREATE_VM", "GET_SUPPORTED_CPUID",
		"SET_USER_MEMORY_REGION", "SET_USER_MEMORY_REGION", "CREATE_VCPU",
		"CREATE_IRQCHIP/PIT2", "IRQ_LINE/IOEVENTFD/IRQFD", "RUN", "RUN", "RUN", "RUN",
		"GET/SET_REGS", "GET/SET_SREGS", "GET_EXIT_STATS", "INTERRUPT/NMI",
		"GET/SET_MP_STATE", "SET_CPUID", "mmap run page", "close",
		"mprotect/mmap guest memory", "unknown ioctl",
		"GET_* reports, stats fd",
	};
	unsigned long n = 0, timed = 0, ns = 0;
	struct rusage ru;
	int k, t;

	getrusage(RUSAGE_SELF, &ru);
	printf("# %.1f s: CPU user %.1f s, kernel %.1f s (the clock thread %.1f s), %lu signals\n",
	       elapsed_ns / 1e9, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, clock_ns / 1e9, signals);
	for (k = 0; k < NR_KINDS; k++) {
		for (t = 0; t < THREADS; t++) {
			n += w[t].kind_calls[k];
			timed += w[t].kind_timed[k];
			ns += w[t].kind_ns[k];
		}
		/* A kind several cases draw is one line. */
		if (k + 1 < NR_KINDS && !strcmp(name[k + 1], name[k]))
			continue;
		printf("#   %-26s %8lu calls %9.1f us of CPU each (%lu timed)\n",
		       name[k], n, timed ? ns / 1e3 / timed : 0, timed);
		n = 0;
		timed = 0;
		ns = 0;
	}
}

FIXTURE(fuzz) {};
FIXTURE_SETUP(fuzz) {}
FIXTURE_TEARDOWN(fuzz) {}

/*
 * make check-debug's million calls take hours in Bochs on a debug kernel:
 * the harness's clock is only a backstop (check.sh's machine limit is
 * the other), each run's length is FUZZ_CALLS.
 */
TEST_F_TIMEOUT(fuzz, ioctls, 6 * 3600)
{
	const char *env_seed = getenv("MINIHV_FUZZ_SEED"), *env_calls = getenv("MINIHV_FUZZ_CALLS");
	struct sigaction sa = { .sa_handler = on_signal };
	struct worker w[THREADS];
	struct kmsg_cursor log;
	struct fuzz f = {};
	struct timespec tick = { .tv_nsec = TICK_MS * 1000000 };
	char problem[256], *text;
	unsigned long walks = 0, bad_maps = 0, calls, done, next_report, signals = 0;
	uint64_t seed, start;
	long avail;
	int i, base;

	f.dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
	f.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (f.dev < 0)
		SKIP(return, "%s: %s", MINIHV_DEV, strerror(errno));
	seed = env_seed ? strtoull(env_seed, NULL, 0) : ((uint64_t)time(NULL) << 16 | getpid());
	f.left = env_calls ? strtoul(env_calls, NULL, 0) : 20000;
	calls = f.left;
	next_report = calls / 10 ?: 1;
	printf("# seed %#llx (MINIHV_FUZZ_SEED repeats it), %lu calls, %d threads\n",
	       (unsigned long long)seed, (unsigned long)f.left, THREADS);
	fflush(stdout);
	ASSERT_EQ(0, kmsg_cursor_open(&log));
	close(f.dev);
	close(f.efd);
	if (access(NR_VMS_FILE, R_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	/* The counts are module-wide: nothing else runs a VM now. */
	ASSERT_EQ(0, read_number(NR_VMS_FILE)) TH_LOG("%s: no debugfs, or VMs left", NR_VMS_FILE);
	ASSERT_EQ(0, read_number(NR_PINNED_FILE));
	base = module_refcnt();
	avail = mem_available_kib();
	f.dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
	f.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, f.dev);
	f.run_size = ioctl(f.dev, MINIHV_GET_VCPU_MMAP_SIZE, 0);
	for (i = 0; i < NR_BUFS; i++) {
		uint8_t *p = mmap(NULL, buf_size(i) + HUGE_ALIGN, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ASSERT_NE(MAP_FAILED, p);
		/* Aligned to 2 MiB; what is left around it stays mapped, unused. */
		f.buf[i] = (uint8_t *)(((uintptr_t)p + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
		madvise(f.buf[i], buf_size(i), MADV_HUGEPAGE);
		memset(f.buf[i], 0xf4, buf_size(i));
	}
	for (i = 0; i < NR_VMS; i++)
		f.vm[i] = -1;
	for (i = 0; i < NR_VCPUS; i++)
		f.vcpu[i] = -1;
	for (i = 0; i < NR_STATS; i++)
		f.stats[i] = -1;
	f.vm[0] = ioctl(f.dev, MINIHV_CREATE_VM, 0);
	ASSERT_LE(0, f.vm[0]);
	f.random_state_unsafe = machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM;
	if (f.random_state_unsafe) {
		pthread_rwlockattr_t attr;

		printf("# Bochs 2.7 SVM: no run enters with a random state (a triple fault takes the machine)\n");
		/* Writers first: four readers in turn could hold it forever. */
		pthread_rwlockattr_init(&attr);
		pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		ASSERT_EQ(0, pthread_rwlock_init(&f.state_lock, &attr));
		pthread_rwlockattr_destroy(&attr);
	}

	corpus_load();
	corpus_find_module();
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, sigaction(SIGBUS, &(struct sigaction){ .sa_sigaction = on_sigbus,
							    .sa_flags = SA_SIGINFO }, NULL));
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .f = &f, .rng = (seed + i) | 1, .id = i };
		kcov_open(&w[i]);
		ASSERT_EQ(0, pthread_create(&f.threads[i], NULL, worker_main, &w[i]));
	}
	ASSERT_EQ(0, pthread_create(&f.scribbler, NULL, scribbler_main, &f));
	/*
	 * This thread is the clock: each tick a signal to a worker stuck in
	 * one call, and every WALK_TICKS a check of the VMs' nested tables
	 * as they run.
	 */
	start = now_ns(CLOCK_MONOTONIC);
	while (atomic_load(&f.left)) {
		nanosleep(&tick, NULL);
		/*
		 * Only a worker still in the call it was in a tick ago: the
		 * others end their calls themselves, and a signal costs both
		 * threads a trip through the kernel.
		 */
		for (done = 0, i = 0; i < THREADS; i++) {
			unsigned long now = atomic_load(&w[i].done);

			if (now == w[i].seen_done) {
				pthread_kill(f.threads[i], SIGUSR1);
				signals++;
			}
			w[i].seen_done = now;
			done += now;
		}
		if (!(++walks % WALK_TICKS))
			bad_maps += tdp_errors();
		/* A long run (make check-debug) says how far it is, each tenth. */
		if (done >= next_report) {
			printf("# %lu of %lu calls\n", done, calls);
			fflush(stdout);
			next_report += calls / 10 ?: 1;
		}
	}
	atomic_store(&f.stop, true);
	for (i = 0; i < THREADS; i++) {
		/* A worker may still be in a run: keep signalling until it is out. */
		while (pthread_tryjoin_np(f.threads[i], NULL)) {
			pthread_kill(f.threads[i], SIGUSR1);
			nanosleep(&tick, NULL);
		}
	}
	pthread_join(f.scribbler, NULL);
	for (i = 0; i < THREADS; i++)
		kcov_close(&w[i]);
	for (i = 0; i < NR_VCPUS; i++)
		if (f.vcpu[i] >= 0)
			close(f.vcpu[i]);
	for (i = 0; i < NR_VMS; i++)
		if (f.vm[i] >= 0)
			close(f.vm[i]);
	for (i = 0; i < NR_STATS; i++)
		if (f.stats[i] >= 0)
			close(f.stats[i]);
	close(f.dev);
	close(f.efd);
	close_minihv_fds();
	for (i = 0; i < NR_BUFS; i++)
		munmap(f.buf[i], buf_size(i));

	for (done = 0, i = 0; i < THREADS; i++)
		done += w[i].done;
	printf("# %lu calls done, nested tables walked %lu times, run pages scribbled %lu times,"
	       " %lu irqfds assigned\n",
	       done, walks / WALK_TICKS, (unsigned long)f.scribbled, (unsigned long)f.irqfds);
	report_time(w, now_ns(CLOCK_MONOTONIC) - start, now_ns(CLOCK_THREAD_CPUTIME_ID), signals);
	if (corpus.pcs) {
		/* make check-debug keeps these lines: the next run starts from them. */
		printf("# KCOV: %lu PCs of minihv's; corpus %u inputs (%u loaded, %u new)\n",
		       corpus.pcs, corpus.n, corpus.loaded, corpus.added);
		for (i = 0; i < (int)corpus.n; i++)
			printf("# fuzz-corpus %llx %x %llx\n",
			       (unsigned long long)corpus.in[i].seed, corpus.in[i].mutate_at,
			       (unsigned long long)corpus.in[i].mutate_xor);
	} else if (corpus.loaded) {
		printf("# replayed a corpus of %u inputs (no KCOV here)\n", corpus.loaded);
	}
	if (!minihv_has_test_hooks())
		printf("# nested tables not checked (no debugfs tdp): %s\n", NO_TEST_HOOKS);
	fflush(stdout);
	EXPECT_EQ(0, bad_maps) TH_LOG("nested mappings that no slot explains");
	EXPECT_EQ(0, f.bad_errno) TH_LOG("a call failed with errno %lu", (unsigned long)f.last_bad);
	EXPECT_EQ(0, f.restore_failed) TH_LOG("SET_(S)REGS refused a state GET_(S)REGS gave");
	EXPECT_EQ(base, module_refcnt());
	/* No VM and no pinned page outlives its fds. */
	EXPECT_EQ(0, read_number(NR_VMS_FILE));
	EXPECT_EQ(0, read_number(NR_PINNED_FILE));
	/* And nothing else large: a loose bound, slab caches keep what was freed. */
	EXPECT_GT(65536, avail - mem_available_kib()) TH_LOG("MemAvailable fell by %ld KiB",
							     avail - mem_available_kib());
	text = kmsg_cursor_read(&log);
	kmsg_cursor_close(&log);
	ASSERT_NE(NULL, text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	free(text);
}

TEST_HARNESS_MAIN

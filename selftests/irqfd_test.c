// SPDX-License-Identifier: GPL-2.0
/*
 * MINIHV_IRQFD: a write to an eventfd raises an I/O APIC pin from the
 * kernel, waking a vCPU halted there; with a resamplefd the line is a
 * level that stays up until the guest's EOI, which signals the
 * resamplefd.  A deassigned irqfd raises nothing; one whose eventfd
 * userspace closed goes away by itself, and a VM closed under live
 * eventfds leaves nothing behind.  Every bad argument gets its errno.
 * I/O APIC and local APIC registers: 82093AA datasheet, SDM Vol 3 ch. 12.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define APIC_BASE	0xfee00000UL
#define APIC_TPR	0x080
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define IOAPIC_BASE	0xfec00000UL
#define RTE_REMOTE_IRR	(1u << 14)
#define RTE_LEVEL	(1u << 15)
#define RTE_MASKED	(1u << 16)

#define EDGE_PIN	5
#define EDGE_VEC	0x41
#define LEVEL_PIN	6
#define LEVEL_VEC	0x42
#define MAX_IRQFDS	1000		/* MINIHV_CAP_IRQFD */
/* How long a woken vCPU may take (bochs-vmx: far less); under the harness's 30 s. */
#define WAKE_TIMEOUT_S	10

/* ---- the guest's side ---- */

volatile uint64_t seen[256];

static inline void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_BASE + reg) = v;
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	*(volatile uint32_t *)(IOAPIC_BASE + 0x10) = v;
}

static uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC_BASE = reg;
	return *(volatile uint32_t *)(IOAPIC_BASE + 0x10);
}

/* Pin @pin to @vec on APIC 0, with @flags (level, masked). */
static void ioapic_route(int pin, uint32_t vec, uint32_t flags)
{
	ioapic_write(0x11 + 2 * pin, 0);
	ioapic_write(0x10 + 2 * pin, vec | flags);
}

static void apic_enable(void)
{
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_TPR, 0);
}

/* An exit the kernel handles: a pending APIC interrupt is injected at its end. */
static inline void exit_in_kernel(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
}

/* Interrupts on for one instruction: whatever is pending arrives. */
static inline void open_window(void)
{
	exit_in_kernel();
	__asm__ volatile("sti; nop; cli");
}

/* Waits with interrupts on (HLT) until @count reaches @n. */
static void wait_for(volatile uint64_t *count, uint64_t n)
{
	while (*count < n)
		__asm__ volatile("sti; hlt; cli");
}

/* The level vector is left in service: the guest EOIs it when the test says. */
void guest_irq(uint64_t vector);
void guest_irq(uint64_t vector)
{
	seen[vector]++;
	if (vector != LEVEL_VEC)
		apic_write(APIC_EOI, 0);
}

#define STUB(n) \
	".globl irqfd_stub_" #n "\n" \
	"irqfd_stub_" #n ": push $" #n "\n jmp irqfd_common\n"
__asm__(".pushsection .text\n"
	"irqfd_common:\n"
	"	push %rax\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n"
	"	push %r8\n push %r9\n push %r10\n push %r11\n push %rbx\n"
	"	mov 80(%rsp), %rdi\n"
	"	mov %rsp, %rbx\n and $-16, %rsp\n call guest_irq\n mov %rbx, %rsp\n"
	"	pop %rbx\n pop %r11\n pop %r10\n pop %r9\n pop %r8\n"
	"	pop %rdi\n pop %rsi\n pop %rdx\n pop %rcx\n pop %rax\n"
	"	add $8, %rsp\n iretq\n"
	STUB(0x41) STUB(0x42)
	".popsection\n");
extern char irqfd_stub_0x41[], irqfd_stub_0x42[];

/* Halts until the host's irqfd writes arrive, @rounds times, one at a time. */
static void guest_edge(uint64_t rounds)
{
	uint64_t i;

	apic_enable();
	ioapic_route(EDGE_PIN, EDGE_VEC, 0);
	GUEST_SYNC(0);
	for (i = 1; i <= rounds; i++) {
		wait_for(&seen[EDGE_VEC], i);
		GUEST_SYNC(seen[EDGE_VEC]);
	}
	/* Nothing more came: one write, one interrupt. */
	open_window();
	GUEST_ASSERT_EQ(seen[EDGE_VEC], rounds);
	GUEST_DONE();
}

static void guest_resample(void)
{
	apic_enable();
	ioapic_route(LEVEL_PIN, LEVEL_VEC, RTE_LEVEL | RTE_MASKED);
	GUEST_SYNC(1);			/* host: one write, the pin masked */
	open_window();
	GUEST_ASSERT_EQ(seen[LEVEL_VEC], 0);
	/* A level still up is seen on unmasking: an edge would be gone. */
	ioapic_route(LEVEL_PIN, LEVEL_VEC, RTE_LEVEL);
	wait_for(&seen[LEVEL_VEC], 1);
	GUEST_ASSERT(ioapic_read(0x10 + 2 * LEVEL_PIN) & RTE_REMOTE_IRR);
	GUEST_SYNC(2);			/* host: a second write before the EOI */
	open_window();
	GUEST_ASSERT_EQ(seen[LEVEL_VEC], 1);
	apic_write(APIC_EOI, 0);
	/* The EOI lowered the line: the second write is not delivered. */
	open_window();
	GUEST_ASSERT_EQ(seen[LEVEL_VEC], 1);
	GUEST_ASSERT(!(ioapic_read(0x10 + 2 * LEVEL_PIN) & RTE_REMOTE_IRR));
	GUEST_SYNC(3);			/* host: resampled; writes again */
	wait_for(&seen[LEVEL_VEC], 2);
	apic_write(APIC_EOI, 0);
	GUEST_SYNC(4);
	GUEST_DONE();
}

static void guest_deassign(void)
{
	apic_enable();
	ioapic_route(EDGE_PIN, EDGE_VEC, 0);
	GUEST_SYNC(1);			/* host: a write */
	wait_for(&seen[EDGE_VEC], 1);
	GUEST_SYNC(2);			/* host: deassign, then a write */
	open_window();
	GUEST_ASSERT_EQ(seen[EDGE_VEC], 1);
	GUEST_DONE();
}

/* ---- the host's side ---- */

static int irqfd(struct mh_vm *vm, int fd, uint32_t gsi, uint32_t flags, int resamplefd)
{
	struct minihv_irqfd a = {
		.fd = fd, .gsi = gsi, .flags = flags, .resamplefd = resamplefd,
	};

	return ioctl(vm_fd(vm), MINIHV_IRQFD, &a) ? -errno : 0;
}

static void signal_efd(int efd)
{
	uint64_t one = 1;

	TEST_ASSERT(write(efd, &one, sizeof(one)) == sizeof(one), "eventfd write");
}

/* The eventfd's count, 0 if it was never signalled (non-blocking). */
static uint64_t drain(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void on_kick(int sig)
{
	(void)sig;	/* only there to end MINIHV_RUN with EINTR */
}

/* A VM with the irqchip, vCPU 0 running @guest, and the two handlers. */
static struct mh_vm *irq_vm(struct mh_vcpu **vcpu, void *guest)
{
	struct minihv_mp_state mp = { .mp_state = MINIHV_MP_STATE_RUNNABLE };
	struct mh_vm *vm = vm_create();

	TEST_ASSERT(!ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 0), "CREATE_IRQCHIP: %s",
		    strerror(errno));
	*vcpu = vm_vcpu_add(vm, 0, guest);
	TEST_ASSERT(!ioctl(vcpu_fd(*vcpu), MINIHV_SET_MP_STATE, &mp), "SET_MP_STATE");
	vm_install_handler(vm, EDGE_VEC, (uintptr_t)irqfd_stub_0x41);
	vm_install_handler(vm, LEVEL_VEC, (uintptr_t)irqfd_stub_0x42);
	return vm;
}

static uint64_t run_to_sync(struct __test_metadata *_metadata, struct mh_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	return uc.args[0];
}

struct runner {
	struct mh_vcpu *vcpu;
	_Atomic pid_t tid;
	int r;
};

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	r->tid = syscall(SYS_gettid);
	r->r = _vcpu_run(r->vcpu);
	return NULL;
}

/* Thread @tid's scheduler state letter (/proc/self/task/<tid>/stat), or 0. */
static char thread_state(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Runs the vCPU on another thread until it has halted one more time and
 * sleeps in the kernel (its halt_exits count moved and the thread is in
 * S state), then signals @efd from this thread and waits for the run to
 * end.  Returns false if it did not end within WAKE_TIMEOUT_S: the
 * signal woke nobody (the run is then ended with immediate_exit).
 */
static bool wake_halted(struct mh_vcpu *vcpu, int stats, int efd)
{
	struct runner r = { .vcpu = vcpu };
	uint64_t halts = stat_by_name(stats, "halt_exits");
	struct timespec deadline;
	pthread_t t;
	bool woke;

	TEST_ASSERT(!pthread_create(&t, NULL, run_thread, &r), "pthread_create");
	while (!r.tid || stat_by_name(stats, "halt_exits") == halts ||
	       thread_state(r.tid) != 'S')
		sched_yield();
	signal_efd(efd);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += WAKE_TIMEOUT_S;
	woke = !pthread_timedjoin_np(t, NULL, &deadline);
	if (!woke) {
		vcpu_state(vcpu)->immediate_exit = 1;
		pthread_kill(t, SIGUSR1);
		pthread_join(t, NULL);
		vcpu_state(vcpu)->immediate_exit = 0;
	}
	TEST_ASSERT(!r.r || !woke, "MINIHV_RUN: %s", strerror(-r.r));
	return woke;
}

/* The delivery test: each write wakes the halted vCPU with the pin's vector. */
TEST(write_wakes_halted_vcpu_with_vector)
{
	struct mh_vcpu *vcpu;
	struct mh_vm *vm = irq_vm(&vcpu, guest_edge);
	int efd = eventfd(0, EFD_NONBLOCK), stats, i;
	struct ucall uc;

	signal(SIGUSR1, on_kick);
	stats = ioctl(vcpu_fd(vcpu), MINIHV_GET_STATS_FD, 0);
	ASSERT_LE(0, stats);
	vcpu_args_set(vcpu, 3, 0);
	ASSERT_EQ(0, irqfd(vm, efd, EDGE_PIN, 0, 0));
	ASSERT_EQ(0, run_to_sync(_metadata, vcpu));
	for (i = 1; i <= 3; i++) {
		ASSERT_TRUE(wake_halted(vcpu, stats, efd))
			TH_LOG("round %d: the eventfd write did not wake the halted vCPU", i);
		assert_ucall(vcpu, UCALL_SYNC, &uc);
		EXPECT_EQ(i, uc.args[0]);
		/* The kernel consumed the count: the irqfd owns the eventfd. */
		EXPECT_EQ(0, drain(efd));
	}
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	EXPECT_LE(3, stat_by_name(stats, "halt_exits"));
	close(stats);
	close(efd);
	vm_free(vm);
}

/* A write before the assignment counts, as in KVM: delivered at once. */
TEST(write_before_assign_is_delivered)
{
	struct mh_vcpu *vcpu;
	struct mh_vm *vm = irq_vm(&vcpu, guest_edge);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct ucall uc;

	vcpu_args_set(vcpu, 1, 0);
	ASSERT_EQ(0, run_to_sync(_metadata, vcpu));
	signal_efd(efd);
	ASSERT_EQ(0, irqfd(vm, efd, EDGE_PIN, 0, 0));
	ASSERT_EQ(1, run_to_sync(_metadata, vcpu));
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	close(efd);
	vm_free(vm);
}

TEST(resample_holds_level_until_eoi)
{
	struct mh_vcpu *vcpu;
	struct mh_vm *vm = irq_vm(&vcpu, guest_resample);
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK);
	struct ucall uc;

	ASSERT_EQ(0, irqfd(vm, efd, LEVEL_PIN, MINIHV_IRQFD_FLAG_RESAMPLE, rfd));
	ASSERT_EQ(1, run_to_sync(_metadata, vcpu));
	signal_efd(efd);
	ASSERT_EQ(2, run_to_sync(_metadata, vcpu));
	EXPECT_EQ(0, drain(rfd)) TH_LOG("resampled before the EOI");
	signal_efd(efd);
	ASSERT_EQ(3, run_to_sync(_metadata, vcpu));
	EXPECT_EQ(1, drain(rfd)) TH_LOG("the EOI signals the resamplefd once");
	signal_efd(efd);
	ASSERT_EQ(4, run_to_sync(_metadata, vcpu));
	EXPECT_EQ(1, drain(rfd));
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	close(rfd);
	close(efd);
	vm_free(vm);
}

TEST(deassign_stops_delivery)
{
	struct mh_vcpu *vcpu;
	struct mh_vm *vm = irq_vm(&vcpu, guest_deassign);
	int efd = eventfd(0, EFD_NONBLOCK);
	struct ucall uc;

	ASSERT_EQ(0, irqfd(vm, efd, EDGE_PIN, 0, 0));
	ASSERT_EQ(1, run_to_sync(_metadata, vcpu));
	signal_efd(efd);
	ASSERT_EQ(2, run_to_sync(_metadata, vcpu));
	/* Deassign needs the pin it was assigned with. */
	EXPECT_EQ(-ENOENT, irqfd(vm, efd, EDGE_PIN + 1, MINIHV_IRQFD_FLAG_DEASSIGN, 0));
	ASSERT_EQ(0, irqfd(vm, efd, EDGE_PIN, MINIHV_IRQFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(-ENOENT, irqfd(vm, efd, EDGE_PIN, MINIHV_IRQFD_FLAG_DEASSIGN, 0));
	signal_efd(efd);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	/* Nobody took the count. */
	EXPECT_EQ(1, drain(efd));
	/* The eventfd is free for another irqfd. */
	EXPECT_EQ(0, irqfd(vm, efd, EDGE_PIN, 0, 0));
	EXPECT_EQ(0, irqfd(vm, efd, EDGE_PIN, MINIHV_IRQFD_FLAG_DEASSIGN, 0));
	close(efd);
	vm_free(vm);
}

/*
 * Eventfds closed while registered, a VM closed under registered ones
 * that are then written: nothing crashes or complains in the kernel log,
 * and a closed eventfd's irqfd is gone (its place under the limit is
 * free again, checked in bad_arguments_get_their_errno).
 */
TEST(eventfd_closed_then_vm_closed)
{
	struct mh_vcpu *vcpu;
	struct mh_vm *vm = irq_vm(&vcpu, guest_edge);
	int efd = eventfd(0, EFD_NONBLOCK), lfd = eventfd(0, EFD_NONBLOCK);
	int rfd = eventfd(0, EFD_NONBLOCK), live = eventfd(0, EFD_NONBLOCK);
	int live_r = eventfd(0, EFD_NONBLOCK), dup_fd;
	struct kmsg_cursor log;
	char problem[256];
	char *text;

	ASSERT_EQ(0, kmsg_cursor_open(&log));
	ASSERT_EQ(0, irqfd(vm, efd, EDGE_PIN, 0, 0));
	ASSERT_EQ(0, irqfd(vm, lfd, LEVEL_PIN, MINIHV_IRQFD_FLAG_RESAMPLE, rfd));
	ASSERT_EQ(0, irqfd(vm, live, EDGE_PIN, 0, 0));
	ASSERT_EQ(0, irqfd(vm, live_r, LEVEL_PIN + 1, MINIHV_IRQFD_FLAG_RESAMPLE, rfd));
	signal_efd(lfd);		/* its line is up when it goes */
	dup_fd = dup(efd);
	close(efd);			/* a dup keeps the file: still registered */
	EXPECT_EQ(-EBUSY, irqfd(vm, dup_fd, EDGE_PIN + 2, 0, 0));
	close(dup_fd);			/* the last close: EPOLLHUP removes it */
	close(lfd);
	close(rfd);			/* a resamplefd the irqfd still holds */
	efd = eventfd(0, EFD_NONBLOCK);	/* likely the same number, another eventfd */
	EXPECT_EQ(0, irqfd(vm, efd, EDGE_PIN, 0, 0));
	vm_free(vm);
	/* The VM is gone: a write reaches no irqfd and leaves its count. */
	signal_efd(live);
	signal_efd(live_r);
	EXPECT_EQ(1, drain(live));
	EXPECT_EQ(1, drain(live_r));
	close(live);
	close(live_r);
	close(efd);
	text = kmsg_cursor_read(&log);
	kmsg_cursor_close(&log);
	ASSERT_NE(NULL, text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem))) TH_LOG("%s", problem);
	free(text);
}

/* The count in this process's VM's debugfs directory ("<pid>-<n>"), or -1. */
static int vm_irqfds(void)
{
	char prefix[32], path[300];
	struct dirent *d;
	DIR *dir = opendir("/sys/kernel/debug/minihv");
	int n = -1;

	snprintf(prefix, sizeof(prefix), "%d-", getpid());
	while (dir && (d = readdir(dir)))
		if (!strncmp(d->d_name, prefix, strlen(prefix))) {
			snprintf(path, sizeof(path), "/sys/kernel/debug/minihv/%s/irqfds",
				 d->d_name);
			n = read_number(path);
		}
	if (dir)
		closedir(dir);
	return n;
}

/*
 * Assign and close, three times the limit over: a closed eventfd's
 * irqfd is shut down on a workqueue and counts against the limit until
 * then, so the VM never holds more than the limit (its debugfs "irqfds")
 * however fast the loop, and the loop is never refused either: an
 * assignment at the limit waits for this VM's shutdowns under way.
 */
TEST(assign_close_loop_stays_within_limit)
{
	struct mh_vm *vm = vm_create();
	int rfd = eventfd(0, EFD_NONBLOCK), efd, r, n, most = -1, i;

	ASSERT_EQ(0, ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 0));
	for (i = 0; i < 3 * MAX_IRQFDS; i++) {
		efd = eventfd(0, EFD_NONBLOCK);
		r = irqfd(vm, efd, LEVEL_PIN, MINIHV_IRQFD_FLAG_RESAMPLE, rfd);
		close(efd);
		ASSERT_EQ(0, r) TH_LOG("assignment %d: %s", i, strerror(-r));
		n = vm_irqfds();
		most = n > most ? n : most;
	}
	ASSERT_NE(-1, most) TH_LOG("no irqfds file in /sys/kernel/debug/minihv/%d-*", getpid());
	EXPECT_LE(most, MAX_IRQFDS);
	vm_free(vm);
	close(rfd);
}

TEST(bad_arguments_get_their_errno)
{
	struct mh_vcpu *vcpu;
	struct mh_vm *vm = irq_vm(&vcpu, guest_edge), *bare = vm_create();
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK);
	int null = open("/dev/null", O_RDONLY), fds[MAX_IRQFDS], spare, i;
	const uint32_t resample = MINIHV_IRQFD_FLAG_RESAMPLE;
	struct minihv_irqfd a = { .fd = efd, .gsi = EDGE_PIN };
	struct rlimit rl = { MAX_IRQFDS + 64, MAX_IRQFDS + 64 };

	EXPECT_EQ(MAX_IRQFDS, ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_IRQFD));
	EXPECT_EQ(-ENXIO, irqfd(bare, efd, EDGE_PIN, 0, 0)) TH_LOG("no irqchip");
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, EDGE_PIN, 1u << 2, 0));
	a.pad[15] = 1;
	EXPECT_EQ(-1, ioctl(vm_fd(vm), MINIHV_IRQFD, &a));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, MINIHV_IOAPIC_PINS, 0, 0));
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, ~0u, 0, 0));
	EXPECT_EQ(-EBADF, irqfd(vm, -1, EDGE_PIN, 0, 0));
	EXPECT_EQ(-EINVAL, irqfd(vm, null, EDGE_PIN, 0, 0));
	EXPECT_EQ(-EBADF, irqfd(vm, efd, EDGE_PIN, resample, -1));
	EXPECT_EQ(-EINVAL, irqfd(vm, efd, EDGE_PIN, resample, null));
	EXPECT_EQ(-EFAULT, ioctl(vm_fd(vm), MINIHV_IRQFD, (void *)8) ? -errno : 0);
	EXPECT_EQ(-ENOENT, irqfd(vm, efd, EDGE_PIN, MINIHV_IRQFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(-EBADF, irqfd(vm, -1, EDGE_PIN, MINIHV_IRQFD_FLAG_DEASSIGN, 0));

	/* One irqfd per eventfd, whatever the pin; a resamplefd may be shared. */
	ASSERT_EQ(0, irqfd(vm, efd, EDGE_PIN, resample, rfd));
	EXPECT_EQ(-EBUSY, irqfd(vm, efd, EDGE_PIN, 0, 0));
	EXPECT_EQ(-EBUSY, irqfd(vm, efd, LEVEL_PIN, 0, 0));
	/* Another VM is another namespace. */
	ASSERT_EQ(0, ioctl(vm_fd(bare), MINIHV_CREATE_IRQCHIP, 0));
	EXPECT_EQ(0, irqfd(bare, efd, EDGE_PIN, 0, 0));

	/* One in place; fill to the limit, then -ENOSPC. */
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl)) TH_LOG("%s", strerror(errno));
	for (i = 0; i < MAX_IRQFDS - 1; i++) {
		fds[i] = eventfd(0, EFD_NONBLOCK);
		ASSERT_LE(0, fds[i]) TH_LOG("%d: %s", i, strerror(errno));
		ASSERT_EQ(0, irqfd(vm, fds[i], i % MINIHV_IOAPIC_PINS, i % 2 ? resample : 0,
				   rfd)) TH_LOG("%d", i);
	}
	spare = eventfd(0, EFD_NONBLOCK);
	EXPECT_EQ(-ENOSPC, irqfd(vm, spare, EDGE_PIN, 0, 0));
	/* A deassign, or an eventfd's last close, makes room. */
	ASSERT_EQ(0, irqfd(vm, fds[0], 0, MINIHV_IRQFD_FLAG_DEASSIGN, 0));
	EXPECT_EQ(0, irqfd(vm, spare, EDGE_PIN, 0, 0));
	EXPECT_EQ(-ENOSPC, irqfd(vm, fds[0], 0, 0, 0));
	close(fds[1]);
	EXPECT_EQ(0, irqfd(vm, fds[0], 0, 0, 0));
	EXPECT_EQ(-ENOSPC, irqfd(vm, fds[1] = eventfd(0, EFD_NONBLOCK), 0, 0, 0));
	/* The VM goes with a thousand registrations; the eventfds stay. */
	vm_free(vm);
	for (i = 0; i < MAX_IRQFDS - 1; i++)
		close(fds[i]);
	close(spare);
	close(null);
	close(rfd);
	close(efd);
	vm_free(bare);
}

TEST_HARNESS_MAIN

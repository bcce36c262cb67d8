// SPDX-License-Identifier: GPL-2.0
/*
 * Object lifetimes: VM and vCPU fds closed in every order, and while
 * another thread is running the vCPU, free everything (the module's
 * reference count comes back); a VM is refused to another process.  The
 * host around running guests: threads moved between CPUs, a CPU taken
 * offline and back, and 1,000 VMs created, run and destroyed with the
 * kernel's memory back where it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * Tests that create many objects or wait on a moving guest: on an
 * emulated two-CPU machine they can outlast the harness's 30 s default,
 * so they take their own limit (through a fixture, as the harness wants).
 */
FIXTURE(slow) {};
FIXTURE_SETUP(slow) {}
FIXTURE_TEARDOWN(slow) {}

/* Each order of closing /dev/minihv, the VM and two vCPUs. */
TEST_F_TIMEOUT(slow, close_in_every_order, 300)
{
	static const int orders[][4] = {
		{ 0, 1, 2, 3 }, { 3, 2, 1, 0 }, { 1, 0, 3, 2 }, { 2, 0, 3, 1 },
		{ 1, 2, 0, 3 }, { 3, 1, 0, 2 },
	};
	int base = module_refcnt();
	size_t i;
	int j;

	ASSERT_LE(0, base);
	for (i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		struct mh_vm *vm = vm_create();
		struct mh_vcpu *v0 = vm_vcpu_add(vm, 0, guest_done);
		struct mh_vcpu *v1 = vm_vcpu_add(vm, 1, guest_done);
		int fds[4] = { vm_dev_fd(vm), vm_fd(vm), vcpu_fd(v0), vcpu_fd(v1) };
		struct ucall uc;

		vcpu_run(v0);
		assert_ucall(v0, UCALL_DONE, &uc);
		for (j = 0; j < 4; j++)
			EXPECT_EQ(0, close(fds[orders[i][j]]));
		vm_forget(vm);
		EXPECT_EQ(base, module_refcnt()) TH_LOG("order %zu leaked", i);
	}
}

static volatile uint64_t *spin_counter = (volatile uint64_t *)0x3800000;

/* Interrupts on, so that Bochs 2.7 lets physical interrupts exit it. */
static void guest_count_forever(void)
{
	GUEST_SYNC(0);
	__asm__ volatile("sti");
	for (;;)
		(*spin_counter)++;
}

struct runner {
	struct mh_vcpu *vcpu;
	int result;
};

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;

	r->result = _vcpu_run(r->vcpu);
	return NULL;
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

TEST(close_while_vcpu_runs)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	int base = module_refcnt();
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_count_forever);
	volatile uint64_t *counter = addr_gpa2hva(vm, 0x3800000);
	struct runner r = { .vcpu = vcpu };
	struct ucall uc;
	pthread_t t;
	uint64_t seen;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, pthread_create(&t, NULL, run_vcpu, &r));

	/* Wait for the guest itself to show it runs, then close everything. */
	while (*counter == 0)
		;
	EXPECT_EQ(0, close(vcpu_fd(vcpu)));
	EXPECT_EQ(0, close(vm_fd(vm)));
	EXPECT_EQ(0, close(vm_dev_fd(vm)));
	seen = *counter;
	while (*counter == seen)
		;	/* still running: the ioctl holds the vCPU */

	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	EXPECT_EQ(-EINTR, r.result);
	vm_forget(vm);
	EXPECT_EQ(base, module_refcnt());
}

/*
 * The guest keeps a count in memory and a copy in a register, and checks
 * them against each other on every step: wrong state after a move (a
 * stale VMCS or TLB entry, lost registers) stops it with an assertion.
 */
static void guest_count_checked(void)
{
	uint64_t mine = 0;

	__asm__ volatile("sti");
	for (;;) {
		GUEST_ASSERT_EQ(*spin_counter, mine);
		mine++;
		*spin_counter = mine;
	}
}

struct mover {
	struct mh_vcpu *vcpu;
	pid_t tid;
	volatile int started;
	int result;
};

static void *run_vcpu_tid(void *arg)
{
	struct mover *m = arg;

	m->tid = gettid();
	m->started = 1;
	m->result = _vcpu_run(m->vcpu);
	return NULL;
}

/* Moves the running vCPU's thread from CPU to CPU while the guest counts. */
TEST_F_TIMEOUT(slow, vcpu_moves_between_cpus, 300)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;
	volatile uint64_t *counter;
	struct mover m = { 0 };
	struct ucall uc;
	pthread_t t;

	if (ncpus < 2)
		SKIP(return, "needs two online CPUs, this machine has %d", ncpus);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_count_checked);
	counter = addr_gpa2hva(vm, 0x3800000);
	m.vcpu = vcpu;
	ASSERT_EQ(0, pthread_create(&t, NULL, run_vcpu_tid, &m));
	while (!m.started)
		;

	for (i = 0; i < 20; i++) {
		cpu_set_t set;
		uint64_t seen;

		CPU_ZERO(&set);
		CPU_SET(i % 2, &set);
		ASSERT_EQ(0, sched_setaffinity(m.tid, sizeof(set), &set));
		/* Progress after the move: the guest runs on the new CPU. */
		seen = *counter;
		while (*counter == seen && vcpu_state(vcpu)->exit_reason != MINIHV_EXIT_IO)
			;
	}
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	if (m.result == 0 && get_ucall(vcpu, &uc) == UCALL_ABORT)
		TH_LOG("guest saw its count change under it: %#lx != %#lx",
		       (unsigned long)uc.args[0], (unsigned long)uc.args[1]);
	EXPECT_EQ(-EINTR, m.result);
	EXPECT_LT(20, *counter);
	vm_free(vm);
}

/* ---- CPU hotplug ---- */

/* Like guest_count_checked, on a counter of its own (the first argument). */
static void guest_count_checked_at(volatile uint64_t *counter)
{
	uint64_t mine = 0;

	__asm__ volatile("sti");
	for (;;) {
		GUEST_ASSERT_EQ(*counter, mine);
		mine++;
		*counter = mine;
	}
}

static int cpu_set_online(int cpu, bool online)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, online ? "1" : "0", 1) != 1)
		r = -errno;
	close(fd);
	return r;
}

/* Returns once the guest's counter moved (the vCPU really runs). */
static void wait_progress(volatile uint64_t *counter)
{
	uint64_t seen = *counter;

	while (*counter == seen)
		sched_yield();
}

/*
 * Two vCPUs count while CPU 1 goes offline (minihv turns VT-x/AMD-V off
 * there, after VMCLEARing what was loaded) and online again (on again);
 * then one vCPU thread is pinned to CPU 1 to prove guests run there.
 */
TEST_F_TIMEOUT(slow, cpu_offline_online_during_run, 300)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	struct mover m[2] = { 0 };
	volatile uint64_t *counter[2];
	struct mh_vm *vm;
	pthread_t t[2];
	cpu_set_t set;
	struct ucall uc;
	int i, c;

	if (access("/sys/devices/system/cpu/cpu1/online", W_OK))
		SKIP(return, "CPU 1 cannot be taken offline here");
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	vm = vm_create();
	for (c = 0; c < 2; c++) {
		uint64_t gpa = 0x3800000 + c * 64;

		m[c].vcpu = vm_vcpu_add(vm, c, guest_count_checked_at);
		vcpu_args_set(m[c].vcpu, gpa, 0);
		counter[c] = addr_gpa2hva(vm, gpa);
		ASSERT_EQ(0, pthread_create(&t[c], NULL, run_vcpu_tid, &m[c]));
	}
	for (c = 0; c < 2; c++)
		wait_progress(counter[c]);

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, cpu_set_online(1, false)) TH_LOG("round %d", i);
		for (c = 0; c < 2; c++)
			wait_progress(counter[c]);
		ASSERT_EQ(0, cpu_set_online(1, true)) TH_LOG("round %d", i);
		for (c = 0; c < 2; c++)
			wait_progress(counter[c]);
	}
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	ASSERT_EQ(0, sched_setaffinity(m[0].tid, sizeof(set), &set));
	wait_progress(counter[0]);
	wait_progress(counter[0]);

	for (c = 0; c < 2; c++) {
		pthread_kill(t[c], SIGUSR1);
		pthread_join(t[c], NULL);
		if (m[c].result == 0 && get_ucall(m[c].vcpu, &uc) == UCALL_ABORT)
			TH_LOG("vCPU %d saw its count change under it", c);
		EXPECT_EQ(-EINTR, m[c].result) TH_LOG("vCPU %d", c);
	}
	vm_free(vm);
}

/* ---- churn ---- */

/* A /proc/meminfo line, in KiB. */
static long meminfo(const char *field)
{
	char line[128];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = atol(line + len + 1);
	if (f)
		fclose(f);
	return v;
}

/*
 * Free pages parked in the per-CPU lists (/proc/zoneinfo "count:"), in
 * KiB: free, but not in MemAvailable until they drain, and 6.12 keeps
 * megabytes there.
 */
static long pcp_free_kib(void)
{
	char line[128];
	long n = 0, v;
	FILE *f = fopen("/proc/zoneinfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %ld", &v) == 1)
			n += v;
	if (f)
		fclose(f);
	return n * (sysconf(_SC_PAGESIZE) / 1024);
}

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

static void create_run_destroy(struct __test_metadata *_metadata)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_done);
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/*
 * 1,000 VMs, one at a time: each leaked VM would keep at least its nested
 * root, its VMCB/VMCS and its two run pages (16 KiB, 16 MiB in all) and
 * its objects in the slab.  The bounds leave room for the kernel's own
 * noise; the first 20 cycles warm up caches that stay.
 */
#define CHURN_CYCLES	1000

TEST_F_TIMEOUT(slow, create_run_destroy_1000_times, 900)
{
	long slab, avail, slab_after, avail_after;
	int base = module_refcnt(), i;

	for (i = 0; i < 20; i++)
		create_run_destroy(_metadata);
	drop_caches();
	slab = meminfo("Slab");
	avail = meminfo("MemAvailable") + pcp_free_kib();
	ASSERT_LT(0, slab);
	ASSERT_LT(0, avail);

	for (i = 0; i < CHURN_CYCLES; i++)
		create_run_destroy(_metadata);

	drop_caches();
	slab_after = meminfo("Slab");
	avail_after = meminfo("MemAvailable") + pcp_free_kib();
	TH_LOG("after %d VMs: Slab %+ld KiB, MemAvailable and per-CPU free pages %+ld KiB", CHURN_CYCLES,
	       slab_after - slab, avail_after - avail);
	EXPECT_GT(1024, slab_after - slab) TH_LOG("slab grew by %ld KiB", slab_after - slab);
	EXPECT_GT(4096, avail - avail_after)
		TH_LOG("MemAvailable fell by %ld KiB", avail - avail_after);
	EXPECT_EQ(base, module_refcnt());
}

TEST(vm_refused_to_another_process)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_done);
	struct minihv_regs regs;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* The child inherited the fds, but not the address space. */
		if (ioctl(vcpu_fd(vcpu), MINIHV_GET_REGS, &regs) != -1 || errno != EIO)
			_exit(1);
		if (ioctl(vcpu_fd(vcpu), MINIHV_RUN, 0) != -1 || errno != EIO)
			_exit(2);
		if (ioctl(vm_fd(vm), MINIHV_CREATE_VCPU, 5) != -1 || errno != EIO)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	vcpu_regs_get(vcpu, &regs);	/* still fine for the owner */
	vm_free(vm);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading minihv.ko repeatedly leaves nothing behind: the
 * device comes and goes with the module, each load finds VMX/SVM off again
 * (a CPU left on would make the next load fail with -EBUSY), each load
 * names the right backend once, and the kernel log stays clean.  A process
 * killed with vCPUs in the guest frees everything, so the module unloads.
 * VMX/SVM turned off for a reboot under a running vCPU ends its
 * run with -EIO, with no oops or warning, and a reload works again.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/minihv.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define CYCLES 20

/*
 * Twenty loads and unloads each enable and disable VMX/SVM on every CPU
 * by IPI: minutes on an emulated two-CPU machine, beyond the harness's
 * 30 s default, so this test has its own limit (a fixture is how
 * kselftest_harness.h takes one).
 */
FIXTURE(cycles) {};
FIXTURE_SETUP(cycles) {}
FIXTURE_TEARDOWN(cycles) {}

static int count_lines_containing(const char *log, const char *what)
{
	int n = 0;

	for (log = strstr(log, what); log; log = strstr(log + 1, what))
		n++;
	return n;
}

TEST_F_TIMEOUT(cycles, load_unload_20_times, 600)
{
	unsigned int vendor = expected_vendor();
	const char *enabled = vendor == MINIHV_VENDOR_VMX ?
		"minihv: VT-x enabled on" : "minihv: AMD-V enabled on";
	const char *other = vendor == MINIHV_VENDOR_VMX ?
		"minihv: AMD-V enabled on" : "minihv: VT-x enabled on";
	struct kmsg_cursor log;
	char problem[256];
	char *text;
	int i, fd;

	ASSERT_NE(0, vendor);
	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	ASSERT_EQ(0, kmsg_cursor_open(&log));

	for (i = 0; i < CYCLES; i++) {
		ASSERT_EQ(0, module_unload("minihv")) TH_LOG("cycle %d", i);
		ASSERT_FALSE(module_is_loaded("minihv"));
		ASSERT_NE(0, access(MINIHV_DEV, F_OK));
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL))
			TH_LOG("cycle %d", i);
		fd = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd) TH_LOG("cycle %d: %s", i, strerror(errno));
		ASSERT_EQ(MINIHV_API_VERSION,
			  ioctl(fd, MINIHV_GET_API_VERSION, 0));
		close(fd);
	}

	text = kmsg_cursor_read(&log);
	ASSERT_NE(NULL, text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	EXPECT_EQ(CYCLES, count_lines_containing(text, enabled));
	EXPECT_EQ(0, count_lines_containing(text, other));
	EXPECT_EQ(CYCLES, count_lines_containing(text, "disabled on all CPUs, unloaded"));
	free(text);
	kmsg_cursor_close(&log);
}

#define KILLED_VCPUS	4

static void guest_count_at(volatile uint64_t *counter)
{
	__asm__ volatile("sti");	/* Bochs: let host interrupts exit */
	for (;;)
		(*counter)++;
}

static void *run_forever(void *vcpu)
{
	_vcpu_run(vcpu);
	return NULL;
}

/*
 * The child: a VM whose vCPUs all run in the guest on their own threads;
 * it says so on @ready and waits to be killed.
 */
static void __attribute__((noreturn)) child_running_vcpus(int ready)
{
	volatile uint64_t *counter[KILLED_VCPUS];
	struct mh_vm *vm = vm_create();
	pthread_t t;
	int i;

	for (i = 0; i < KILLED_VCPUS; i++) {
		uint64_t gpa = 0x3800000 + i * 64;
		struct mh_vcpu *vcpu = vm_vcpu_add(vm, i, guest_count_at);

		vcpu_args_set(vcpu, gpa, 0);
		counter[i] = addr_gpa2hva(vm, gpa);
		if (pthread_create(&t, NULL, run_forever, vcpu))
			_exit(1);
	}
	for (i = 0; i < KILLED_VCPUS; i++)
		while (!*counter[i])
			sched_yield();
	if (write(ready, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(cycles, kill_with_running_vcpus_then_unload, 300)
{
	struct kmsg_cursor log;
	char problem[256], c;
	int pipefd[2], status;
	char *text;
	pid_t pid;

	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	ASSERT_EQ(0, kmsg_cursor_open(&log));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pipefd[0]);
		child_running_vcpus(pipefd[1]);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) TH_LOG("the child's vCPUs never ran");
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	/* The last thread's exit closed every fd: nothing holds the module. */
	EXPECT_EQ(0, module_unload("minihv"));
	ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	text = kmsg_cursor_read(&log);
	ASSERT_NE(NULL, text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	free(text);
	kmsg_cursor_close(&log);
	close(pipefd[0]);
}

/* The debugfs test hook that runs what the reboot notifier runs (main.c). */
#define REBOOT_DISABLE	"/sys/kernel/debug/minihv/reboot_disable"
#define DEBUGFS		"/sys/kernel/debug"

/* As many exits as the guest can make, each one counted where the test sees. */
static void guest_cpuid_loop(volatile uint64_t *counter)
{
	uint32_t a, b, c, d;

	__asm__ volatile("sti");	/* Bochs: let host interrupts exit */
	for (;;) {
		cpuid(0, 0, &a, &b, &c, &d);
		(*counter)++;
	}
}

struct reboot_vcpu {
	struct mh_vcpu *vcpu;
	int pinned;		/* sched_setaffinity()'s result */
	int r;			/* MINIHV_RUN's */
};

/* On CPU 1: one MINIHV_RUN, which only an error ends (CPUID exits stay in the kernel). */
static void *run_on_cpu1(void *arg)
{
	struct reboot_vcpu *rv = arg;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(1, &one);
	rv->pinned = sched_setaffinity(0, sizeof(one), &one);
	rv->r = _vcpu_run(rv->vcpu);
	return NULL;
}

static void pin_to_cpu0(void)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(one), &one), "pin to CPU 0: %s",
		    strerror(errno));
}

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * The reboot notifier turns VMX/SVM off on every CPU by IPI, also under a
 * vCPU thread between an exit and its next entry.  Here the vCPU makes
 * CPUID exits on CPU 1 while this thread, on CPU 0, runs the notifier's
 * own function through its debugfs test hook.  The run must end with
 * -EIO and the ioctls that read and write the VMCS must still return,
 * with nothing in the kernel log (a #UD in a VMX instruction or CLGI
 * would be an oops).  Then the module is reloaded, for the tests after
 * this one, and a guest runs again.
 */
TEST_F_TIMEOUT(cycles, reboot_disable_under_running_vcpu, 300)
{
	struct reboot_vcpu rv = { .r = 1 };
	volatile uint64_t *counter;
	struct minihv_sregs sregs;
	struct minihv_regs regs;
	struct kmsg_cursor log;
	struct mh_vcpu *second;
	char problem[256];
	struct ucall uc;
	struct mh_vm *vm;
	pthread_t t;
	char *text;
	int fd;

	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	if (access(DEBUGFS "/minihv", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (!minihv_has_test_hooks())
		SKIP(return, "needs debugfs reboot_disable: " NO_TEST_HOOKS);
	ASSERT_EQ(0, access(REBOOT_DISABLE, W_OK)) TH_LOG("%s: %s", REBOOT_DISABLE,
							  strerror(errno));
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one CPU: the vCPU cannot run beside the disable");
	ASSERT_EQ(0, kmsg_cursor_open(&log));
	pin_to_cpu0();

	vm = vm_create();
	rv.vcpu = vm_vcpu_add(vm, 0, guest_cpuid_loop);
	vcpu_args_set(rv.vcpu, 0x3800000, 0);
	counter = addr_gpa2hva(vm, 0x3800000);
	ASSERT_EQ(0, pthread_create(&t, NULL, run_on_cpu1, &rv));
	/* Many exits made: the vCPU is in its run loop, wherever in it. */
	while (*counter < 200)
		sched_yield();

	fd = open(REBOOT_DISABLE, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1)) TH_LOG("%s: %s", REBOOT_DISABLE, strerror(errno));
	close(fd);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(0, rv.pinned);
	ASSERT_EQ(-EIO, rv.r);

	/* No entry any more; the VMCS's readers and writers return. */
	EXPECT_EQ(-EIO, _vcpu_run(rv.vcpu));
	vcpu_regs_get(rv.vcpu, &regs);
	vcpu_sregs_get(rv.vcpu, &sregs);
	/* A new vCPU: its VMCS cleared, loaded and written, then its state set. */
	second = vm_vcpu_add(vm, 1, guest_done);
	EXPECT_EQ(-EIO, _vcpu_run(second));
	vm_free(vm);

	/* Nothing holds the module; a reload turns VMX/SVM on again. */
	ASSERT_EQ(0, module_unload("minihv"));
	ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	vm = vm_create();
	rv.vcpu = vm_vcpu_add(vm, 0, guest_done);
	vcpu_run(rv.vcpu);
	assert_ucall(rv.vcpu, UCALL_DONE, &uc);
	vm_free(vm);

	text = kmsg_cursor_read(&log);
	ASSERT_NE(NULL, text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	free(text);
	kmsg_cursor_close(&log);
}

TEST(unload_refused_while_device_open)
{
	int fd;

	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	fd = open(MINIHV_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	/* The open file holds a module reference: unload must wait. */
	EXPECT_EQ(-EWOULDBLOCK, module_unload("minihv"));
	EXPECT_TRUE(module_is_loaded("minihv"));
	EXPECT_EQ(MINIHV_API_VERSION, ioctl(fd, MINIHV_GET_API_VERSION, 0));
	close(fd);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The limits a shared host relies on (Documentation/api.rst, "Limits"):
 * vCPUs and slots per VM up to their caps and not one more; VMs per
 * process bounded by its file limit; and the kernel memory of VMs and
 * vCPUs charged to the creator's memory cgroup, so that a program creating
 * them without end stops at its cgroup's limit with ENOMEM, and everything
 * it had is returned when it exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define DEBUGFS		"/sys/kernel/debug"
#define NR_VMS_FILE	DEBUGFS "/minihv/vms"
#define NR_PINNED_FILE	DEBUGFS "/minihv/pinned_pages"
#define CGROOT		"/sys/fs/cgroup"

static int set_region(int vm_fd, uint32_t slot, uint64_t gpa, uint64_t size, void *uaddr)
{
	struct minihv_userspace_memory_region mr = {
		.slot = slot, .guest_phys_addr = gpa,
		.memory_size = size, .userspace_addr = (uintptr_t)uaddr,
	};

	return ioctl(vm_fd, MINIHV_SET_USER_MEMORY_REGION, &mr) ? -errno : 0;
}

/* Every vCPU id and every slot number the caps promise, then one more. */
TEST(vcpus_and_slots_up_to_the_caps)
{
	int dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC), vm, max_vcpus, nslots, i;
	int vcpus[64];
	uint8_t *mem, *big;

	if (dev < 0)
		SKIP(return, "%s: %s", MINIHV_DEV, strerror(errno));
	max_vcpus = ioctl(dev, MINIHV_CHECK_EXTENSION, MINIHV_CAP_MAX_VCPUS);
	nslots = ioctl(dev, MINIHV_CHECK_EXTENSION, MINIHV_CAP_NR_MEMSLOTS);
	ASSERT_EQ(16, max_vcpus);
	ASSERT_EQ(32, nslots);
	vm = ioctl(dev, MINIHV_CREATE_VM, 0);
	ASSERT_LE(0, vm);

	for (i = 0; i < max_vcpus; i++) {
		vcpus[i] = ioctl(vm, MINIHV_CREATE_VCPU, i);
		EXPECT_LE(0, vcpus[i]) TH_LOG("vCPU %d: %s", i, strerror(errno));
	}
	EXPECT_EQ(-1, ioctl(vm, MINIHV_CREATE_VCPU, max_vcpus));
	EXPECT_EQ(EINVAL, errno);

	mem = mmap(NULL, nslots * 0x1000, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	for (i = 0; i < nslots; i++)
		EXPECT_EQ(0, set_region(vm, i, i * 0x100000ULL, 0x1000, mem + i * 0x1000))
			TH_LOG("slot %d", i);
	EXPECT_EQ(-EINVAL, set_region(vm, nslots, 0x10000000ULL, 0x1000, mem));
	/*
	 * A slot costs nothing per page (nothing is pinned or listed per
	 * page): 128 GiB of address space reserved, not touched, is one
	 * slot; guest-physical addresses end at 2^48.
	 */
	EXPECT_EQ(0, set_region(vm, 0, 0, 0, NULL));
	big = mmap(NULL, 128ULL << 30, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	EXPECT_EQ(0, set_region(vm, 0, 1ULL << 40, 128ULL << 30, big));
	EXPECT_EQ(0, set_region(vm, 0, 0, 0, NULL));
	EXPECT_EQ(-E2BIG, set_region(vm, 0, (1ULL << 48) - (64ULL << 30), 128ULL << 30, big));
	munmap(big, 128ULL << 30);

	for (i = 0; i < max_vcpus; i++)
		close(vcpus[i]);
	close(vm);
	close(dev);
	munmap(mem, nslots * 0x1000);
	EXPECT_EQ(0, read_number(NR_VMS_FILE));
}

/* No cap on VMs but the process's file limit: EMFILE, and nothing kept. */
TEST(vms_bounded_by_the_file_limit)
{
	int dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC), status, pipefd[2];
	pid_t pid;
	int n = 0, err = 0;

	if (dev < 0)
		SKIP(return, "%s: %s", MINIHV_DEV, strerror(errno));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct rlimit rl = { 64, 64 };
		int r[2];

		setrlimit(RLIMIT_NOFILE, &rl);
		while (ioctl(dev, MINIHV_CREATE_VM, 0) >= 0)
			n++;
		r[0] = n;
		r[1] = errno;
		write(pipefd[1], r, sizeof(r));
		_exit(0);
	}
	close(pipefd[1]);
	ASSERT_EQ(sizeof(int), read(pipefd[0], &n, sizeof(int)));
	ASSERT_EQ(sizeof(int), read(pipefd[0], &err, sizeof(int)));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(EMFILE, err);
	EXPECT_LT(50, n);
	EXPECT_GT(64, n);
	/* The child's exit closed them all. */
	EXPECT_EQ(0, read_number(NR_VMS_FILE));
	close(pipefd[0]);
	close(dev);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* A "key value" line of a cgroup file such as memory.events, or -1. */
static long cg_key(const char *path, const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen(path, "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ' ')
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

/* cgroup v2 with the memory controller for children of the root, or false. */
static bool memcg_ready(void)
{
	char buf[256] = "";
	int fd;

	if (access(CGROOT "/cgroup.controllers", R_OK))
		mount("cgroup2", CGROOT, "cgroup2", 0, NULL);
	fd = open(CGROOT "/cgroup.controllers", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (!strstr(buf, "memory"))
		return false;
	return !write_str(CGROOT "/cgroup.subtree_control", "+memory");
}

#define CHILD_VMS	8
#define CHILD_VCPUS	4

/* The child's side of each step: says it is done, waits for the parent. */
static void child_step(int to_parent, int from_parent, int result)
{
	char go;

	write(to_parent, &result, sizeof(result));
	read(from_parent, &go, 1);
}

/*
 * The child, inside the cgroup: waits; creates CHILD_VMS VMs of
 * CHILD_VCPUS vCPUs; closes them; then creates VMs and vCPUs until a call
 * fails and reports how many and why.  The parent reads the cgroup's
 * counters between the steps.
 */
static void memcg_child(int dev, int to_parent, int from_parent)
{
	int fds[CHILD_VMS * (CHILD_VCPUS + 1)], n = 0, i, j, r[2];

	child_step(to_parent, from_parent, 1);
	for (i = 0; i < CHILD_VMS; i++) {
		int vm = ioctl(dev, MINIHV_CREATE_VM, 0);

		fds[n++] = vm;
		for (j = 0; j < CHILD_VCPUS; j++)
			fds[n++] = ioctl(vm, MINIHV_CREATE_VCPU, j);
	}
	for (i = 0; i < n && fds[i] >= 0; i++)
		;
	child_step(to_parent, from_parent, i == n);
	for (i = 0; i < n; i++)
		close(fds[i]);
	child_step(to_parent, from_parent, 1);

	/* Until something fails: the cgroup's limit, set by now. */
	for (n = 0; n < 100000; n++) {
		int vm = ioctl(dev, MINIHV_CREATE_VM, 0);

		if (vm < 0 || ioctl(vm, MINIHV_CREATE_VCPU, 0) < 0)
			break;
	}
	r[0] = n;
	r[1] = errno;
	write(to_parent, r, sizeof(r));
	_exit(0);
}

/* The parent's side: the child's answer to the last step, -1 if it died. */
static int parent_step(int from_child)
{
	int result;

	return read(from_child, &result, sizeof(result)) == sizeof(result) ? result : -1;
}

static void guest_done(void)
{
	GUEST_DONE();
}

/*
 * An OOM kill in the cgroup reports itself with a stack dump: the
 * kernel's answer to a process over its limit, not a fault; cut from the
 * log before it is judged.
 */
static void strip_oom_reports(char *log)
{
	char *hit, *bol, *end;

	while ((hit = strstr(log, "invoked oom-killer"))) {
		for (bol = hit; bol > log && bol[-1] != '\n'; bol--)
			;
		end = strstr(hit, "</TASK>");
		end = end ? strchrnul(end, '\n') : strchrnul(hit, '\n');
		memmove(bol, end, strlen(end) + 1);
	}
}

TEST(kernel_memory_charged_to_the_memcg)
{
	char cg[64], path[128], num[32], problem[256], printk_levels[64] = "";
	int dev = open(MINIHV_DEV, O_RDWR | O_CLOEXEC), up[2], down[2], status, ok, fd;
	long base, full, emptied, ooms;
	struct kmsg_cursor log;
	struct mh_vcpu *vcpu;
	int r[2] = { 0, 0 };
	struct mh_vm *vm;
	struct ucall uc;
	char *text;
	pid_t pid;

	if (dev < 0)
		SKIP(return, "%s: %s", MINIHV_DEV, strerror(errno));
	if (!memcg_ready())
		SKIP(return, "no cgroup v2 memory controller");
	snprintf(cg, sizeof(cg), CGROOT "/minihv-limits-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	/* An OOM kill's report is a warning: off the console, judged below. */
	fd = open("/proc/sys/kernel/printk", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, read(fd, printk_levels, sizeof(printk_levels) - 1));
	ASSERT_EQ(1, pwrite(fd, "4", 1, 0));
	ASSERT_EQ(0, kmsg_cursor_open(&log));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		snprintf(num, sizeof(num), "%d", getpid());
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		if (write_str(path, num))
			_exit(2);
		memcg_child(dev, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	snprintf(path, sizeof(path), "%s/memory.current", cg);

	/* Charged: 32 vCPUs are at least 3 pages each (run pages, VMCB/VMCS). */
	ASSERT_EQ(1, parent_step(up[0]));
	base = read_number(path);
	ASSERT_EQ(1, write(down[1], "g", 1));
	EXPECT_EQ(1, parent_step(up[0]))
		TH_LOG("creating %d VMs of %d vCPUs failed", CHILD_VMS, CHILD_VCPUS);
	full = read_number(path);
	EXPECT_LT(base + CHILD_VMS * CHILD_VCPUS * 3 * 4096, full)
		TH_LOG("memory.current %ld -> %ld: VMs and vCPUs not charged", base, full);
	/* ...and uncharged once closed (slab and per-CPU stocks keep a little). */
	ASSERT_EQ(1, write(down[1], "g", 1));
	ASSERT_EQ(1, parent_step(up[0]));
	emptied = read_number(path);
	EXPECT_GT(base + (full - base) / 2, emptied)
		TH_LOG("memory.current %ld -> %ld -> %ld after closing", base, full, emptied);

	/* Now a limit 4 MiB above what it has: creation must stop there. */
	snprintf(path, sizeof(path), "%s/memory.max", cg);
	snprintf(num, sizeof(num), "%ld", emptied + (4 << 20));
	ASSERT_EQ(0, write_str(path, num));
	ASSERT_EQ(1, write(down[1], "g", 1));
	ok = read(up[0], r, sizeof(r)) == sizeof(r);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	snprintf(path, sizeof(path), "%s/memory.events", cg);
	ooms = cg_key(path, "oom_kill");
	if (ok) {
		/* minihv's allocations fail rather than kill (MINIHV_GFP). */
		printf("# the cgroup's limit stopped creation after %d VMs: %s\n",
		       r[0], strerror(r[1]));
		fflush(stdout);
		EXPECT_EQ(ENOMEM, r[1]);
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	} else {
		/* A kernel allocation on the path (the fd's file) hit the limit. */
		printf("# the cgroup's OOM killer ended the child (oom_kill %ld)\n", ooms);
		fflush(stdout);
		EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		EXPECT_LT(0, ooms);
	}
	EXPECT_LT(0, cg_key(path, "max")) TH_LOG("the limit was never reached");
	EXPECT_GT(100000, r[0]);

	/* Everything the child had is gone, and the host still runs VMs. */
	EXPECT_EQ(0, read_number(NR_VMS_FILE));
	EXPECT_EQ(0, read_number(NR_PINNED_FILE));
	EXPECT_EQ(0, rmdir(cg)) TH_LOG("rmdir %s: %s", cg, strerror(errno));
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_done);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
	pwrite(fd, printk_levels, strlen(printk_levels), 0);
	close(fd);
	text = kmsg_cursor_read(&log);
	kmsg_cursor_close(&log);
	ASSERT_NE(NULL, text);
	strip_oom_reports(text);
	EXPECT_FALSE(kmsg_find_problem(text, problem, sizeof(problem)))
		TH_LOG("kernel log: %s", problem);
	free(text);
	close(dev);
}

TEST_HARNESS_MAIN

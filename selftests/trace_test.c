// SPDX-License-Identifier: GPL-2.0
/*
 * minihv's tracepoints (module/trace.h), read through tracefs while a
 * guest runs: an entry, the vendor's exit reason for a CPUID, an
 * injected interrupt, a run that returns to userspace for port I/O, and
 * a local APIC register write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define TRACEFS		"/sys/kernel/tracing"
#define APIC_TPR	0xfee00080UL

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* Everything in the trace buffer (malloc'd). */
static char *read_trace(void)
{
	size_t used = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int fd = open(TRACEFS "/trace", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + used, cap - used - 1)) > 0) {
		used += n;
		if (used + 1 == cap) {
			char *bigger = realloc(buf, cap * 2);

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	buf[used] = '\0';
	close(fd);
	return buf;
}

static void guest_code(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	*(volatile uint32_t *)APIC_TPR = 0x10;
	GUEST_SYNC(1);
	__asm__ volatile("sti; nop; cli");	/* the host queued 40h */
	GUEST_DONE();
}

volatile uint64_t irqs;

void trace_test_irq(void);
void trace_test_irq(void)
{
	irqs++;
	*(volatile uint32_t *)0xfee000b0UL = 0;	/* EOI */
}

__asm__(".pushsection .text\n"
	"irq_stub_40:\n"
	"	push %rax\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n"
	"	push %r8\n push %r9\n push %r10\n push %r11\n"
	"	call trace_test_irq\n"
	"	pop %r11\n pop %r10\n pop %r9\n pop %r8\n"
	"	pop %rdi\n pop %rsi\n pop %rdx\n pop %rcx\n pop %rax\n"
	"	iretq\n"
	".popsection\n");
extern char irq_stub_40[];

TEST(tracepoints_seen_in_tracefs)
{
	struct minihv_interrupt irq = { .irq = 0x40 };
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;
	struct ucall uc;
	char want[64], *trace;
	int vendor;

	if (access(TRACEFS "/events", F_OK))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events", F_OK))
		SKIP(return, "no tracefs in this kernel");
	ASSERT_EQ(0, access(TRACEFS "/events/minihv/minihv_exit", F_OK))
		TH_LOG("minihv.ko registered no tracepoints");

	vm = vm_create();
	ASSERT_EQ(0, ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 0));
	vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_install_handler(vm, 0x40, (uintptr_t)irq_stub_40);
	vendor = ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR);

	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, write_file(TRACEFS "/events/minihv/enable", "1"));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "1"));
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_INTERRUPT, &irq));
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	write_file(TRACEFS "/events/minihv/enable", "0");

	trace = read_trace();
	ASSERT_NE(NULL, trace);
	EXPECT_NE(NULL, strstr(trace, "minihv_entry: vcpu 0")) TH_LOG("%.2000s", trace);
	/* CPUID's exit: SVM_EXIT_CPUID 72h, EXIT_REASON_CPUID 10. */
	snprintf(want, sizeof(want), "minihv_exit: vcpu 0 reason %#x ",
		 vendor == MINIHV_VENDOR_SVM ? 0x72 : 10);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("%s in %.2000s", want, trace);
	EXPECT_NE(NULL, strstr(trace, "minihv_apic: vcpu 0 write reg 0x80 val 0x10"));
	EXPECT_NE(NULL, strstr(trace, "minihv_inject: vcpu 0 irq vector 0x40"));
	/* The ucalls: port I/O exits to userspace (MINIHV_EXIT_IO, 2). */
	EXPECT_NE(NULL, strstr(trace, "minihv_userspace_exit: vcpu 0 reason 2 error 0"));
	EXPECT_EQ(1, *(volatile uint64_t *)addr_gpa2hva(vm, (uintptr_t)&irqs));
	free(trace);
	vm_free(vm);
}

#define GUEST_CPUIDS	1000

static void guest_cpuids(void)
{
	uint32_t a, b, c, d;
	int i;

	for (i = 0; i < GUEST_CPUIDS; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

/* A counter of tracepoint minihv:@event for this thread, as perf stat opens it. */
static int open_tracepoint_counter(const char *event)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.disabled = 1,
	};
	char path[128];
	long id;

	snprintf(path, sizeof(path), TRACEFS "/events/minihv/%s/id", event);
	id = read_number(path);
	if (id < 0)
		return -1;
	attr.config = id;
	return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static uint64_t exits_counted(struct mh_vcpu *vcpu)
{
	struct minihv_exit_stats stats;
	uint64_t sum = 0;
	int i;

	if (ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_STATS, &stats))
		return 0;
	for (i = 0; i < 32; i++)
		sum += stats.count[i];
	return sum;
}

/*
 * What perf sees: one minihv_exit per exit, the same number minihv counts
 * by kind (MINIHV_GET_EXIT_STATS, --stats), at least one per CPUID; and a
 * minihv_entry before each (an entry abandoned for a pending signal or
 * request has no exit).
 */
TEST(perf_counts_each_exit)
{
	uint64_t exits = 0, entries = 0, before, after;
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;
	struct ucall uc;
	int exit_fd, entry_fd;

	if (access(TRACEFS "/events", F_OK))
		mount("nodev", TRACEFS, "tracefs", 0, NULL);
	if (access(TRACEFS "/events", F_OK))
		SKIP(return, "no tracefs in this kernel");
	exit_fd = open_tracepoint_counter("minihv_exit");
	ASSERT_LE(0, exit_fd) TH_LOG("perf_event_open minihv:minihv_exit: %s", strerror(errno));
	entry_fd = open_tracepoint_counter("minihv_entry");
	ASSERT_LE(0, entry_fd);

	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_cpuids);
	before = exits_counted(vcpu);
	ASSERT_EQ(0, ioctl(exit_fd, PERF_EVENT_IOC_ENABLE, 0));
	ASSERT_EQ(0, ioctl(entry_fd, PERF_EVENT_IOC_ENABLE, 0));
	vcpu_run(vcpu);
	ASSERT_EQ(0, ioctl(exit_fd, PERF_EVENT_IOC_DISABLE, 0));
	ASSERT_EQ(0, ioctl(entry_fd, PERF_EVENT_IOC_DISABLE, 0));
	assert_ucall(vcpu, UCALL_DONE, &uc);
	after = exits_counted(vcpu);

	ASSERT_EQ(sizeof(exits), read(exit_fd, &exits, sizeof(exits)));
	ASSERT_EQ(sizeof(entries), read(entry_fd, &entries, sizeof(entries)));
	TH_LOG("perf: %llu minihv_exit, %llu minihv_entry; minihv counted %llu exits",
	       (unsigned long long)exits, (unsigned long long)entries,
	       (unsigned long long)(after - before));
	EXPECT_LE(GUEST_CPUIDS + 1, exits);
	EXPECT_EQ(after - before, exits);
	EXPECT_LE(exits, entries);
	close(exit_fd);
	close(entry_fd);
	vm_free(vm);
}

TEST_HARNESS_MAIN

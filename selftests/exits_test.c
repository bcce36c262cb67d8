// SPDX-License-Identifier: GPL-2.0
/*
 * One test per kind of exit: what the guest does, what minihv must report
 * (in the kernel: CPUID, MSRs, nested faults; to userspace: port I/O,
 * MMIO, HLT, shutdown, failed entry, signals).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

/* ---- CPUID ---- */

static void guest_cpuid(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1u << 31));		/* hypervisor present */
	GUEST_ASSERT(!(c & (1u << 5)));		/* no VMX */
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	GUEST_ASSERT(!(c & (1u << 2)));		/* no SVM */
	cpuid(7, 0, &a, &b, &c, &d);
	GUEST_ASSERT(!(c & (1u << 16)));	/* no 5-level paging */
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(b, 0x696e696d);		/* "mini" */
	GUEST_ASSERT_EQ(c, 0x696d7668);		/* "hvmi" */
	GUEST_ASSERT_EQ(d, 0x7668696e);		/* "nihv" */
	GUEST_DONE();
}

/* One vCPU runs @guest, which must get to its GUEST_DONE in one run. */
static void run_to_done(struct __test_metadata *_metadata, void *guest)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest);
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

TEST(cpuid_is_emulated)
{
	run_to_done(_metadata, guest_cpuid);
}

/*
 * A CPUID behind a prefix the CPU ignores (66h, SDM Vol 2A 2.1.1): three
 * bytes, not two.  The exit says how long the instruction was (VT-x: the
 * VM-exit instruction length; AMD-V: the next RIP with NRIP save, or
 * minihv measures it).  Two bytes further lands on the A2h: a MOV of AL
 * to the 64-bit address 9090909090909090h, not canonical, so #GP.
 */
static void guest_cpuid_prefixed(void)
{
	uint32_t a = 0x40000000, b, c = 0, d;

	__asm__ volatile(".byte 0x66, 0x0f, 0xa2\n\t"
			 ".byte 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90"
			 : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	GUEST_ASSERT_EQ(b, 0x696e696d);		/* "mini" */
	GUEST_DONE();
}

TEST(cpuid_with_a_prefix)
{
	run_to_done(_metadata, guest_cpuid_prefixed);
}

/* ---- counting ---- */

static void guest_three_cpuids(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	cpuid(1, 0, &a, &b, &c, &d);
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	outb(0x80, 0);
	GUEST_DONE();
}

TEST(exits_counted_by_kind)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_three_cpuids);
	struct minihv_exit_stats stats;
	struct ucall uc;
	uint64_t sum = 0;
	int i;

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_IO);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_STATS, &stats));
	EXPECT_EQ(3, stats.count[MINIHV_STAT_CPUID]);
	EXPECT_EQ(2, stats.count[MINIHV_STAT_IO]);	/* the OUT, the ucall */
	EXPECT_LE(1, stats.count[MINIHV_STAT_PAGE_FAULT]);
	EXPECT_EQ(0, stats.count[MINIHV_STAT_SHUTDOWN]);
	for (i = 0; i < MINIHV_STAT_NR; i++)
		sum += stats.count[i];
	EXPECT_EQ(vcpu_state(vcpu)->exit_count, sum) TH_LOG("every exit counted once");
	vm_free(vm);
}

/*
 * The exit log (MINIHV_GET_EXIT_LOG) after the same guest: its three
 * CPUIDs in order, each with its RIP and the instruction's bytes (0F A2)
 * read back from guest memory, then the OUT and the ucall (nested page
 * faults come in between anywhere).
 */
TEST(exit_log_holds_the_last_exits)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_three_cpuids);
	bool vmx = ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_VENDOR) ==
		   MINIHV_VENDOR_VMX;
	uint64_t cpuid_reason = vmx ? 10 : 0x72, io_reason = vmx ? 30 : 0x7b;
	static struct minihv_exit_log log;
	struct ucall uc;
	int i, n, cpuids = 0, ios = 0;
	uint64_t last_rip = 0;

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_IO);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_LOG, &log));
	EXPECT_EQ(vcpu_state(vcpu)->exit_count, log.total);
	n = log.count;
	ASSERT_EQ(n, log.total < MINIHV_EXIT_LOG_LEN ? log.total : MINIHV_EXIT_LOG_LEN);
	ASSERT_LE(5, n);
	ASSERT_GT(MINIHV_EXIT_LOG_LEN, log.total) TH_LOG("the test wants the whole run in the log");
	/* Oldest first: three CPUIDs in order, then the two port exits. */
	for (i = 0; i < n; i++) {
		const struct minihv_exit_log_entry *e = &log.entries[i];

		if ((e->reason & 0xffff) == io_reason) {
			EXPECT_EQ(3, cpuids) TH_LOG("a port exit before the CPUIDs, entry %d", i);
			ios++;
		}
		if ((e->reason & 0xffff) != cpuid_reason)
			continue;
		ASSERT_LE(2, e->insn_len);
		EXPECT_EQ(0x0f, e->insn[0]);
		EXPECT_EQ(0xa2, e->insn[1]);
		EXPECT_LT(last_rip, e->rip);
		last_rip = e->rip;
		cpuids++;
	}
	EXPECT_EQ(3, cpuids);
	EXPECT_EQ(2, ios);
	/* A bad pointer loses nothing: the log is still there after EFAULT. */
	EXPECT_EQ(-1, ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_LOG, (void *)1));
	EXPECT_EQ(EFAULT, errno);
	vm_free(vm);
}

/*
 * MINIHV_GET_STATS_FD: KVM's binary stats format, read the way KVM's
 * tools read it (header, descriptors at desc_offset, each value at
 * data_offset + offset, by pread), with the same counts as
 * MINIHV_GET_EXIT_STATS; and the fd still reads after the vCPU's own fd
 * and its VM are closed (it holds the vCPU).
 */
TEST(stats_fd_in_kvm_format)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_three_cpuids);
	struct minihv_exit_stats stats;
	struct minihv_stats_header h;
	char id[64] = "";
	uint64_t exits;
	struct ucall uc;
	int fd;

	vcpu_run(vcpu);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	ASSERT_EQ(-1, ioctl(vcpu_fd(vcpu), MINIHV_GET_STATS_FD, 1));
	EXPECT_EQ(EINVAL, errno);
	fd = ioctl(vcpu_fd(vcpu), MINIHV_GET_STATS_FD, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(h), pread(fd, &h, sizeof(h), 0));
	EXPECT_EQ(0, h.flags);
	EXPECT_EQ(MINIHV_STATS_NAME_SIZE, h.name_size);
	EXPECT_LE(10, h.num_desc);
	ASSERT_LT(0, pread(fd, id, sizeof(id) - 1, h.id_offset));
	EXPECT_EQ(0, strncmp(id, "minihv-", 7)) TH_LOG("id '%s'", id);
	ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_STATS, &stats));
	exits = vcpu_state(vcpu)->exit_count;
	EXPECT_EQ(exits, stat_by_name(fd, "exits"));
	EXPECT_EQ(stats.count[MINIHV_STAT_IO], stat_by_name(fd, "io_exits"));
	EXPECT_EQ(3, stat_by_name(fd, "cpuid_exits"));
	EXPECT_EQ(stats.count[MINIHV_STAT_PAGE_FAULT], stat_by_name(fd, "page_fault_exits"));
	EXPECT_EQ(-1, write(fd, "x", 1));
	vm_free(vm);
	/* The vCPU lives on in the stats fd: same values, nothing freed under it. */
	EXPECT_EQ(exits, stat_by_name(fd, "exits"));
	close(fd);
}

/* ---- MSRs ---- */

#define MSR_LSTAR	0xc0000082
#define MSR_EFER	0xc0000080
#define MSR_UNKNOWN	0x12345678
#define MSR_MTRRCAP	0xfe
#define MSR_MTRR_DEF_TYPE 0x2ff

static void guest_msr(void)
{
	uint32_t lo, hi;

	wrmsr(MSR_LSTAR, 0xffffffff81234560ULL);
	GUEST_ASSERT_EQ(rdmsr(MSR_LSTAR), 0xffffffff81234560ULL);
	/* A read ignores RDX:RAX, here a value no write could store. */
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi)
			 : "c"(MSR_LSTAR), "a"(0xdeadbeef), "d"(0x80001234));
	GUEST_ASSERT_EQ(((uint64_t)hi << 32) | lo, 0xffffffff81234560ULL);
	GUEST_ASSERT_EQ(rdmsr(MSR_MTRRCAP), 0);		/* no MTRR ranges */
	GUEST_ASSERT_EQ(rdmsr(MSR_MTRR_DEF_TYPE), 0x806);	/* enabled, WB */
	wrmsr(MSR_MTRR_DEF_TYPE, 0xc00);			/* enabled, FE, UC */
	GUEST_ASSERT_EQ(rdmsr(MSR_MTRR_DEF_TYPE), 0xc00);
	GUEST_ASSERT(rdmsr(MSR_EFER) & (1 << 10));	/* LMA */
	GUEST_ASSERT(!(rdmsr(MSR_EFER) & (1 << 12)));	/* SVME hidden */
	GUEST_SYNC(1);
	rdmsr(MSR_UNKNOWN);				/* #GP */
	GUEST_ASSERT(0);
}

static void guest_mtrr_def_type_bad(void)
{
	wrmsr(MSR_MTRR_DEF_TYPE, 0x802);			/* type 2: reserved */
	GUEST_ASSERT(0);
}

static void guest_mtrrcap_write(void)
{
	wrmsr(MSR_MTRRCAP, 0);					/* read-only */
	GUEST_ASSERT(0);
}

/* MTRR writes the SDM forbids are #GP(0). */
TEST(mtrr_msrs_refuse_bad_writes)
{
	void (*guests[])(void) = { guest_mtrr_def_type_bad, guest_mtrrcap_write };
	unsigned int i;

	for (i = 0; i < 2; i++) {
		struct mh_vm *vm = vm_create();
		struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guests[i]);
		struct ucall uc;

		vcpu_run(vcpu);
		assert_ucall(vcpu, UCALL_EXCEPTION, &uc);
		EXPECT_EQ(13, uc.args[0]);
		EXPECT_EQ(0, uc.args[1]);
		vm_free(vm);
	}
}

TEST(msr_emulated_and_unknown_gp)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_msr);
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_SYNC, &uc);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_EXCEPTION, &uc);
	EXPECT_EQ(13, uc.args[0]);	/* #GP */
	EXPECT_EQ(0, uc.args[1]);	/* error code 0 */
	vm_free(vm);
}

/* ---- hypercalls ---- */

static void guest_hypercall(void)
{
	uint32_t a, b, c, d;
	uint64_t rax = 42;

	cpuid(0, 0, &a, &b, &c, &d);
	if (b == 0x756e6547)		/* "Genu"ineIntel */
		__asm__ volatile("vmcall" : "+a"(rax) : : "memory");
	else
		__asm__ volatile("vmmcall" : "+a"(rax) : : "memory");
	GUEST_ASSERT_EQ(rax, (uint64_t)-1000);	/* -KVM_ENOSYS */
	GUEST_DONE();
}

TEST(hypercall_answers_enosys)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_hypercall);
	struct minihv_exit_stats stats;
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	ASSERT_EQ(0, ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_STATS, &stats));
	EXPECT_EQ(1, stats.count[MINIHV_STAT_HYPERCALL]);
	vm_free(vm);
}

/* ---- port I/O ---- */

static void guest_pio(void)
{
	static const char msg[] = "minihv";
	char buf[6];
	uint32_t v;

	outb(0x80, 0xa5);
	__asm__ volatile("outw %0, %1" : : "a"((uint16_t)0xbeef), "Nd"((uint16_t)0x1234));
	__asm__ volatile("outl %0, %%dx" : : "a"(0xdeadbeef), "d"(0x5678));
	GUEST_ASSERT_EQ(inb(0x61), 0x42);
	__asm__ volatile("inl %%dx, %0" : "=a"(v) : "d"(0x62));
	GUEST_ASSERT_EQ(v, 0x11223344);
	/* REP OUTSB of 6 bytes, REP INSB of 6 bytes. */
	const char *src = msg;
	char *dst = buf;
	uint64_t n = 6;

	/* REP OUTSB and REP INSB of 6 bytes; they move RSI/RDI and RCX. */
	__asm__ volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(0xe9) : "memory");
	GUEST_ASSERT(src == msg + 6 && n == 0);
	n = 6;
	__asm__ volatile("cld; rep insb" : "+D"(dst), "+c"(n) : "d"(0x63) : "memory");
	GUEST_ASSERT(dst == buf + 6 && n == 0);
	GUEST_ASSERT(buf[0] == 'A' && buf[5] == 'F');
	GUEST_DONE();
}

static void expect_io(struct __test_metadata *_metadata, struct mh_vcpu *vcpu,
		      uint8_t dir, uint16_t port, uint8_t size, uint32_t count)
{
	struct minihv_run *run = vcpu_state(vcpu);

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_IO);
	if (port != UCALL_PORT && run->io.port == UCALL_PORT) {
		struct ucall uc;

		assert_ucall(vcpu, UCALL_NONE, &uc);	/* prints what the guest said */
	}
	EXPECT_EQ(dir, run->io.direction);
	EXPECT_EQ(port, run->io.port);
	EXPECT_EQ(size, run->io.size);
	EXPECT_EQ(count, run->io.count);
}

TEST(port_io_exits)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_pio);
	struct minihv_run *run = vcpu_state(vcpu);
	uint8_t *data = (uint8_t *)run + 4096;
	struct ucall uc;
	uint32_t v;

	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_OUT, 0x80, 1, 1);
	EXPECT_EQ(0xa5, *((uint8_t *)run + run->io.data_offset));
	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_OUT, 0x1234, 2, 1);
	EXPECT_EQ(0xbeef, *(uint16_t *)((uint8_t *)run + run->io.data_offset));
	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_OUT, 0x5678, 4, 1);
	memcpy(&v, (uint8_t *)run + run->io.data_offset, 4);
	EXPECT_EQ(0xdeadbeef, v);
	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_IN, 0x61, 1, 1);
	data = (uint8_t *)run + run->io.data_offset;
	data[0] = 0x42;
	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_IN, 0x62, 4, 1);
	v = 0x11223344;
	memcpy((uint8_t *)run + run->io.data_offset, &v, 4);
	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_OUT, 0xe9, 1, 6);
	EXPECT_EQ(0, memcmp((uint8_t *)run + run->io.data_offset, "minihv", 6));
	expect_io(_metadata, vcpu, MINIHV_EXIT_IO_IN, 0x63, 1, 6);
	memcpy((uint8_t *)run + run->io.data_offset, "ABCDEF", 6);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/* ---- MMIO ---- */

static void guest_mmio(void)
{
	volatile uint8_t *b = (volatile uint8_t *)MMIO_GPA;
	volatile uint16_t *w = (volatile uint16_t *)(MMIO_GPA + 0x10);
	volatile uint32_t *l = (volatile uint32_t *)(MMIO_GPA + 0x20);
	volatile uint64_t *q = (volatile uint64_t *)(MMIO_GPA + 0x30);
	uint32_t v;

	*b = 0x12;
	*w = 0x3456;
	*l = 0x789abcde;
	*q = 0x0123456789abcdefULL;
	v = *l;
	GUEST_ASSERT_EQ(v, 0xcafef00d);
	GUEST_ASSERT_EQ(*b, 0x7f);
	GUEST_DONE();
}

static void expect_mmio(struct __test_metadata *_metadata, struct mh_vcpu *vcpu,
			uint64_t gpa, uint32_t len, bool write, uint64_t data)
{
	struct minihv_run *run = vcpu_state(vcpu);
	uint64_t got = 0;

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_MMIO);
	EXPECT_EQ(gpa, run->mmio.phys_addr);
	EXPECT_EQ(len, run->mmio.len);
	EXPECT_EQ(write, run->mmio.is_write);
	if (write) {
		memcpy(&got, run->mmio.data, len);
		EXPECT_EQ(data, got);
	} else {
		memcpy(run->mmio.data, &data, len);
	}
}

TEST(mmio_outside_slots)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_mmio);
	struct ucall uc;

	expect_mmio(_metadata, vcpu, MMIO_GPA, 1, true, 0x12);
	expect_mmio(_metadata, vcpu, MMIO_GPA + 0x10, 2, true, 0x3456);
	expect_mmio(_metadata, vcpu, MMIO_GPA + 0x20, 4, true, 0x789abcde);
	expect_mmio(_metadata, vcpu, MMIO_GPA + 0x30, 8, true, 0x0123456789abcdefULL);
	expect_mmio(_metadata, vcpu, MMIO_GPA + 0x20, 4, false, 0xcafef00d);
	expect_mmio(_metadata, vcpu, MMIO_GPA, 1, false, 0x7f);
	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

/* An instruction the MMIO decoder does not know: an internal error, with its bytes. */
static void guest_mmio_undecodable(void)
{
	__asm__ volatile("lock incl (%0)" : : "r"(MMIO_GPA) : "memory");
	GUEST_ASSERT(0);
}

TEST(mmio_undecodable_is_internal_error)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_mmio_undecodable);
	struct minihv_run *run = vcpu_state(vcpu);

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_INTERNAL_ERROR);
	EXPECT_EQ(MINIHV_INTERNAL_ERROR_EMULATION, run->internal.suberror);
	EXPECT_EQ(MMIO_GPA, run->internal.data[0]);
	EXPECT_EQ(0xf0, run->internal.data[2] & 0xff);	/* the LOCK prefix */
	vm_free(vm);
}

/* ---- HLT, shutdown ---- */

static void guest_hlt(void)
{
	__asm__ volatile("cli; hlt");
	GUEST_DONE();
}

TEST(hlt_exits_to_userspace)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_hlt);
	struct minihv_regs regs;
	struct ucall uc;

	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_HLT);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_EQ(0xf4, *(uint8_t *)addr_gpa2hva(vm, regs.rip - 1))
		TH_LOG("RIP must be just past the HLT");
	vcpu_run(vcpu);		/* and the guest goes on after it */
	assert_ucall(vcpu, UCALL_DONE, &uc);
	vm_free(vm);
}

static void guest_triple_fault(void)
{
	static const struct { uint16_t limit; uint64_t base; } __attribute__((packed))
		no_idt = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(no_idt));
	GUEST_ASSERT(0);
}

/*
 * Bochs 2.7 does not take the SVM SHUTDOWN intercept: a guest triple fault
 * resets the whole test machine (fixed in later Bochs, exception.cc).
 */
static bool bochs_svm(void)
{
	return machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM;
}

TEST(triple_fault_is_shutdown)
{
	struct mh_vm *vm;
	struct mh_vcpu *vcpu;

	if (bochs_svm())
		SKIP(return, "Bochs 2.7 ignores the SVM SHUTDOWN intercept (the whole machine would reset)");
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0, guest_triple_fault);
	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_SHUTDOWN);
	vm_free(vm);
}

/* ---- failed entry ---- */

static void guest_never_runs(void)
{
	GUEST_ASSERT(0);
}

TEST(invalid_state_fails_entry)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_never_runs);
	struct minihv_run *run = vcpu_state(vcpu);
	struct minihv_sregs sregs;

	/* CS.L and CS.D together in long mode: no CPU can run that. */
	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs.db = 1;
	ASSERT_EQ(0, _vcpu_sregs_set(vcpu, &sregs));
	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_FAIL_ENTRY);
	EXPECT_NE(NULL, strstr(run->fail_entry.reason, "CS.L and CS.D"))
		TH_LOG("reason: %s", run->fail_entry.reason);
	/* The VM stays usable: fix the state and it runs. */
	sregs.cs.db = 0;
	ASSERT_EQ(0, _vcpu_sregs_set(vcpu, &sregs));
	vcpu_run(vcpu);
	assert_exit_reason(vcpu, MINIHV_EXIT_IO);
	vm_free(vm);
}

TEST(impossible_sregs_refused)
{
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest_never_runs);
	struct minihv_sregs good, bad;

	vcpu_sregs_get(vcpu, &good);
	bad = good;
	bad.cr0 &= ~1ULL;			/* PG without PE */
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad));
	bad = good;
	bad.cr4 &= ~0x20ULL;			/* long mode without PAE */
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad));
	bad = good;
	bad.efer |= 1ULL << 20;			/* reserved EFER bit */
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad));
	bad = good;
	bad.efer &= ~(1ULL << 10);		/* LME and PG without LMA */
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad));
	bad = good;
	bad.cr0 |= 1ULL << 32;			/* CR0[63:32] */
	EXPECT_EQ(-EINVAL, _vcpu_sregs_set(vcpu, &bad));
	EXPECT_EQ(0, _vcpu_sregs_set(vcpu, &good));
	vm_free(vm);
}

/* ---- signals ---- */

/*
 * Spins forever.  Interrupts on: physical interrupts exit to the host
 * either way (they never reach the guest), but Bochs 2.7 only notices a
 * pending one while the guest's own RFLAGS.IF is set.
 */
static void guest_spin(void)
{
	__asm__ volatile("sti");
	for (;;)
		__asm__ volatile("pause");
}

static void guest_spin_cli(void)
{
	__asm__ volatile("cli");
	for (;;)
		;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void signal_ends_run(struct __test_metadata *_metadata, void *guest)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *vcpu = vm_vcpu_add(vm, 0, guest);

	/* The guest never exits by itself: only the signal can end the run. */
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, _vcpu_run(vcpu));
	EXPECT_EQ(MINIHV_EXIT_INTR, vcpu_state(vcpu)->exit_reason);

	/* immediate_exit: back at once, without entering. */
	vcpu_state(vcpu)->immediate_exit = 1;
	EXPECT_EQ(-EINTR, _vcpu_run(vcpu));
	EXPECT_EQ(MINIHV_EXIT_INTR, vcpu_state(vcpu)->exit_reason);
	vm_free(vm);
}

TEST(signal_interrupts_run)
{
	signal_ends_run(_metadata, guest_spin);
}

TEST(signal_interrupts_run_with_guest_interrupts_off)
{
	/*
	 * Bochs 2.7 applies the guest's RFLAGS.IF to interrupt masking while
	 * it loads guest state, before it counts itself in guest mode, and
	 * re-evaluates it only when IF changes: with IF=0 for good, external
	 * interrupts never exit (VMX) or reach the host (SVM).  Real CPUs
	 * ignore the guest's IF here (SDM 25.2, APM 15.21.1).
	 */
	if (machine_is_bochs())
		SKIP(return, "Bochs 2.7 masks host interrupts by the guest's RFLAGS.IF: the machine would hang");
	signal_ends_run(_metadata, guest_spin_cli);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * minihv selftest library: see include/minihv_util.h.
 *
 * Guest-physical layout (all inside the one RAM slot at 0):
 *   1000h  GDT: null, 64-bit code (08h), data (10h)
 *   2000h  IDT: 256 gates; vectors 0-31 report UCALL_EXCEPTION
 *   3000h  PML4, 4000h PDPT, 5000h-8FFFh four page directories:
 *          identity map of 0-4 GiB with 2 MiB pages
 *   the test binary's PT_LOAD segments, at their own addresses
 *   vCPU n's stack: 64 KiB ending at VM_MEM_SIZE - n * 64 KiB
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minihv_util.h"

#define GDT_GPA		0x1000
#define IDT_GPA		0x2000
#define PML4_GPA	0x3000
#define PDPT_GPA	0x4000
#define PD_GPA		0x5000
#define STACK_SIZE	0x10000

#define MAX_VCPUS	16

struct mh_vm {
	int dev, fd;
	uint8_t *mem;
	struct mh_vcpu *vcpus[MAX_VCPUS];
};

struct mh_vcpu {
	struct mh_vm *vm;
	uint32_t id;
	int fd;
	struct minihv_run *run;
	size_t run_size;
};

extern const uint64_t guest_exception_stubs[32];
void guest_returned(void);

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(1);
}

/* ---- guest side ---- */

static void ucall_send(const struct ucall *uc)
{
	/* Identity-mapped: the stack address is the guest-physical one. */
	__asm__ volatile("outl %%eax, %%dx"
			 : : "a"((uint32_t)(uintptr_t)uc), "d"(UCALL_PORT) : "memory");
}

void ucall(uint64_t cmd, uint64_t a0, uint64_t a1, const char *file, uint64_t line)
{
	struct ucall uc = {
		.cmd = cmd, .args = { a0, a1 }, .file = file, .line = line,
	};

	ucall_send(&uc);
}

void guest_exception_handler(uint64_t vector, uint64_t error, uint64_t rip, uint64_t rflags);
void guest_exception_handler(uint64_t vector, uint64_t error, uint64_t rip, uint64_t rflags)
{
	struct ucall uc = {
		.cmd = UCALL_EXCEPTION, .args = { vector, error, rip, rflags },
	};

	for (;;) {
		ucall_send(&uc);
		__asm__ volatile("cli; hlt");
	}
}

void guest_returned(void)
{
	for (;;)
		ucall(UCALL_DONE, 0, 0, 0, 0);
}

/* ---- host side ---- */

static void load_self(struct mh_vm *vm)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	struct stat st;
	const uint8_t *img;
	const Elf64_Ehdr *eh;
	int i;

	TEST_ASSERT(fd >= 0 && !fstat(fd, &st), "cannot open /proc/self/exe");
	img = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	TEST_ASSERT(img != MAP_FAILED, "cannot map /proc/self/exe");
	eh = (const void *)img;
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const void *)(img + eh->e_phoff + i * eh->e_phentsize);

		if (ph->p_type != PT_LOAD)
			continue;
		TEST_ASSERT(ph->p_vaddr + ph->p_memsz < VM_MEM_SIZE - 16 * STACK_SIZE,
			    "segment at %#lx does not fit in guest RAM (static, non-PIE build?)",
			    (unsigned long)ph->p_vaddr);
		memcpy(vm->mem + ph->p_vaddr, img + ph->p_offset, ph->p_filesz);
	}
	munmap((void *)img, st.st_size);
	close(fd);
}

static void setup_tables(struct mh_vm *vm)
{
	uint64_t *gdt = addr_gpa2hva(vm, GDT_GPA);
	uint64_t *pml4 = addr_gpa2hva(vm, PML4_GPA);
	uint64_t *pdpt = addr_gpa2hva(vm, PDPT_GPA);
	uint64_t i;

	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffULL;	/* 64-bit code */
	gdt[2] = 0x00cf93000000ffffULL;	/* data */

	pml4[0] = PDPT_GPA | 3;
	for (i = 0; i < 4; i++)
		pdpt[i] = (PD_GPA + i * 0x1000) | 3;
	for (i = 0; i < 4 * 512; i++)
		((uint64_t *)addr_gpa2hva(vm, PD_GPA))[i] = (i << 21) | 0x83;

	for (i = 0; i < 32; i++)
		vm_install_handler(vm, i, guest_exception_stubs[i]);
}

/* A 64-bit interrupt gate (SDM Vol 3 6.14.1), selector 08h, DPL 0. */
void vm_install_handler(struct mh_vm *vm, uint8_t vector, uint64_t handler)
{
	uint64_t *gate = addr_gpa2hva(vm, IDT_GPA + vector * 16);

	gate[0] = (handler & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
		  ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

int _vm_create(struct mh_vm **out)
{
	struct minihv_userspace_memory_region mr;
	struct mh_vm *vm = calloc(1, sizeof(*vm));
	int r;

	if (!vm)
		return -ENOMEM;
	vm->dev = open("/dev/minihv", O_RDWR | O_CLOEXEC);
	if (vm->dev < 0) {
		r = -errno;
		free(vm);
		return r;
	}
	vm->fd = ioctl(vm->dev, MINIHV_CREATE_VM, 0);
	if (vm->fd < 0) {
		r = -errno;
		close(vm->dev);
		free(vm);
		return r;
	}
	vm->mem = mmap(NULL, VM_MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(vm->mem != MAP_FAILED, "mmap of guest RAM");
	mr = (struct minihv_userspace_memory_region){
		.slot = 0, .memory_size = VM_MEM_SIZE,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	TEST_ASSERT(!ioctl(vm->fd, MINIHV_SET_USER_MEMORY_REGION, &mr),
		    "SET_USER_MEMORY_REGION: %s", strerror(errno));
	load_self(vm);
	setup_tables(vm);
	*out = vm;
	return 0;
}

struct mh_vm *vm_create(void)
{
	struct mh_vm *vm;
	int r = _vm_create(&vm);

	TEST_REQUIRE_MSG(r != -ENOENT, "SKIP: /dev/minihv missing (is minihv.ko loaded?)");
	TEST_REQUIRE_MSG(r != -EOPNOTSUPP,
			 "SKIP: this backend does not run guests yet (MINIHV_CREATE_VM: EOPNOTSUPP)");
	TEST_ASSERT(!r, "vm_create: %s", strerror(-r));
	return vm;
}

/*
 * The run structure's mapping holds a reference on the vCPU file, so the
 * vCPU lives until both its fd is closed and the mapping is gone.
 */
void vm_forget(struct mh_vm *vm)
{
	int i;

	for (i = 0; i < MAX_VCPUS; i++) {
		if (!vm->vcpus[i])
			continue;
		munmap(vm->vcpus[i]->run, vm->vcpus[i]->run_size);
		free(vm->vcpus[i]);
	}
	munmap(vm->mem, VM_MEM_SIZE);
	free(vm);
}

void vm_free(struct mh_vm *vm)
{
	int i;

	for (i = 0; i < MAX_VCPUS; i++)
		if (vm->vcpus[i])
			close(vm->vcpus[i]->fd);
	close(vm->fd);
	close(vm->dev);
	vm_forget(vm);
}

int vm_fd(struct mh_vm *vm) { return vm->fd; }
int vm_dev_fd(struct mh_vm *vm) { return vm->dev; }

void *addr_gpa2hva(struct mh_vm *vm, uint64_t gpa)
{
	TEST_ASSERT(gpa < VM_MEM_SIZE, "GPA %#lx is not RAM", (unsigned long)gpa);
	return vm->mem + gpa;
}

static struct minihv_segment seg64(uint16_t sel, uint8_t type, bool code)
{
	return (struct minihv_segment){
		.limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .g = 1, .l = code, .db = !code,
	};
}

struct mh_vcpu *vm_vcpu_add(struct mh_vm *vm, uint32_t id, void *guest_code)
{
	struct mh_vcpu *vcpu = calloc(1, sizeof(*vcpu));
	uint64_t stack_top = VM_MEM_SIZE - id * STACK_SIZE;
	struct minihv_sregs sregs;
	struct minihv_regs regs;
	int size;

	TEST_ASSERT(vcpu && id < MAX_VCPUS && !vm->vcpus[id], "vcpu %u", id);
	vm->vcpus[id] = vcpu;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->fd, MINIHV_CREATE_VCPU, id);
	TEST_ASSERT(vcpu->fd >= 0, "CREATE_VCPU %u: %s", id, strerror(errno));
	size = ioctl(vm->dev, MINIHV_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(size >= (int)sizeof(struct minihv_run), "GET_VCPU_MMAP_SIZE");
	vcpu->run_size = size;
	vcpu->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	TEST_ASSERT(vcpu->run != MAP_FAILED, "mmap run: %s", strerror(errno));

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = seg64(0x08, 0xb, true);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg64(0x10, 0x3, false);
	sregs.tr = (struct minihv_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	sregs.ldt = (struct minihv_segment){ .unusable = 1 };
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = 256 * 16 - 1;
	sregs.cr0 = 0x80050033;		/* PG WP NE ET MP PE */
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = 0x620;		/* OSXMMEXCPT OSFXSR PAE */
	sregs.efer = 0x500;		/* LMA LME */
	TEST_ASSERT(!_vcpu_sregs_set(vcpu, &sregs), "SET_SREGS: %s", strerror(errno));

	/*
	 * A return from guest_code lands in guest_returned(): UCALL_DONE.
	 * RSP points at that return address, 8 below a 16-byte boundary, as
	 * after a CALL (the SysV ABI's alignment at function entry): the
	 * compiler keeps SSE locals with MOVAPS, which #GPs when misaligned.
	 */
	*(uint64_t *)addr_gpa2hva(vm, stack_top - 24) = (uintptr_t)guest_returned;
	memset(&regs, 0, sizeof(regs));
	regs.rip = (uintptr_t)guest_code;
	regs.rsp = stack_top - 24;
	regs.rflags = 2;
	vcpu_regs_set(vcpu, &regs);
	return vcpu;
}

int vcpu_fd(struct mh_vcpu *vcpu) { return vcpu->fd; }
struct minihv_run *vcpu_state(struct mh_vcpu *vcpu) { return vcpu->run; }

void vcpu_args_set(struct mh_vcpu *vcpu, uint64_t a0, uint64_t a1)
{
	struct minihv_regs regs;

	vcpu_regs_get(vcpu, &regs);
	regs.rdi = a0;
	regs.rsi = a1;
	vcpu_regs_set(vcpu, &regs);
}

int _vcpu_run(struct mh_vcpu *vcpu)
{
	return ioctl(vcpu->fd, MINIHV_RUN, 0) ? -errno : 0;
}

void vcpu_run(struct mh_vcpu *vcpu)
{
	int r = _vcpu_run(vcpu);

	TEST_ASSERT(!r, "MINIHV_RUN: %s (exit reason %u)", strerror(-r),
		    vcpu->run->exit_reason);
}

void vcpu_regs_get(struct mh_vcpu *vcpu, struct minihv_regs *regs)
{
	TEST_ASSERT(!ioctl(vcpu->fd, MINIHV_GET_REGS, regs), "GET_REGS: %s", strerror(errno));
}

void vcpu_regs_set(struct mh_vcpu *vcpu, struct minihv_regs *regs)
{
	TEST_ASSERT(!ioctl(vcpu->fd, MINIHV_SET_REGS, regs), "SET_REGS: %s", strerror(errno));
}

void vcpu_sregs_get(struct mh_vcpu *vcpu, struct minihv_sregs *sregs)
{
	TEST_ASSERT(!ioctl(vcpu->fd, MINIHV_GET_SREGS, sregs), "GET_SREGS: %s", strerror(errno));
}

int _vcpu_sregs_set(struct mh_vcpu *vcpu, struct minihv_sregs *sregs)
{
	return ioctl(vcpu->fd, MINIHV_SET_SREGS, sregs) ? -errno : 0;
}

uint64_t get_ucall(struct mh_vcpu *vcpu, struct ucall *uc)
{
	struct minihv_run *run = vcpu->run;
	uint32_t gpa;

	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != MINIHV_EXIT_IO || run->io.port != UCALL_PORT ||
	    run->io.direction != MINIHV_EXIT_IO_OUT || run->io.size != 4)
		return UCALL_NONE;
	memcpy(&gpa, (uint8_t *)run + run->io.data_offset, 4);
	memcpy(uc, addr_gpa2hva(vcpu->vm, gpa), sizeof(*uc));
	return uc->cmd;
}

void run_scribble(struct minihv_run *run, uint64_t *rng)
{
	volatile uint8_t *p = (volatile uint8_t *)run;
	uint64_t x = *rng;
	size_t i;

	/* From padding1 on: the two inputs before it are set below. */
	for (i = 2; i < sizeof(*run); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
	/*
	 * Each set immediate_exit costs a run an -EINTR return, each
	 * request_interrupt_window an exit whenever the guest's RFLAGS.IF
	 * allows one, before the guest moves on.
	 */
	p[0] = (x & 0xff) == 0;
	p[1] = (x & 0xff00) == 0;
	*rng = x;
}

const char *exit_reason_str(uint32_t reason)
{
	switch (reason) {
	case MINIHV_EXIT_UNKNOWN: return "UNKNOWN";
	case MINIHV_EXIT_IO: return "IO";
	case MINIHV_EXIT_HLT: return "HLT";
	case MINIHV_EXIT_MMIO: return "MMIO";
	case MINIHV_EXIT_SHUTDOWN: return "SHUTDOWN";
	case MINIHV_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case MINIHV_EXIT_INTR: return "INTR";
	case MINIHV_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	default: return "?";
	}
}

/*
 * A vendor's exit code by name, for an "unexpected exit" (the internal
 * error's data[0]): SDM Vol 3 appendix C, APM Vol 2 appendix C.  Only the
 * exits minihv's tables handle; others print as their number alone.
 */
static const char *vendor_exit_str(struct mh_vcpu *vcpu, uint64_t code)
{
	static const char *const vmx[] = {
		[0] = "EXCEPTION_NMI", [1] = "EXTERNAL_INTERRUPT", [2] = "TRIPLE_FAULT",
		[3] = "INIT_SIGNAL", [7] = "INTERRUPT_WINDOW", [8] = "NMI_WINDOW",
		[10] = "CPUID", [12] = "HLT", [13] = "INVD", [15] = "RDPMC",
		[18] = "VMCALL", [28] = "CR_ACCESS", [29] = "DR_ACCESS",
		[30] = "IO_INSTRUCTION", [31] = "MSR_READ", [32] = "MSR_WRITE",
		[33] = "INVALID_GUEST_STATE", [36] = "MWAIT", [39] = "MONITOR",
		[48] = "EPT_VIOLATION", [49] = "EPT_MISCONFIG", [51] = "RDTSCP",
		[52] = "PREEMPTION_TIMER", [54] = "WBINVD", [55] = "XSETBV",
	};
	static const char *const svm[] = {
		[0x60] = "INTR", [0x61] = "NMI", [0x62] = "SMI", [0x63] = "INIT",
		[0x64] = "VINTR", [0x6f] = "RDPMC", [0x72] = "CPUID", [0x74] = "IRET",
		[0x76] = "INVD", [0x78] = "HLT", [0x7a] = "INVLPGA", [0x7b] = "IOIO",
		[0x7c] = "MSR", [0x7f] = "SHUTDOWN", [0x80] = "VMRUN", [0x81] = "VMMCALL",
		[0x87] = "RDTSCP", [0x88] = "ICEBP", [0x89] = "WBINVD", [0x8a] = "MONITOR",
		[0x8b] = "MWAIT", [0x8d] = "XSETBV",
	};
	bool is_vmx = ioctl(vm_dev_fd(vcpu->vm), MINIHV_CHECK_EXTENSION,
			    MINIHV_CAP_VENDOR) == MINIHV_VENDOR_VMX;
	const char *const *names = is_vmx ? vmx : svm;
	size_t n = is_vmx ? sizeof(vmx) / sizeof(vmx[0]) : sizeof(svm) / sizeof(svm[0]);

	if (is_vmx)
		code &= 0xffff;		/* the basic exit reason */
	else if (code == 0x400)
		return "NPF";
	else if (code >= 0x40 && code < 0x60)
		return "EXCP";
	return code < n && names[code] ? names[code] : "?";
}

void assert_exit_reason(struct mh_vcpu *vcpu, uint32_t reason)
{
	struct minihv_run *run = vcpu->run;
	struct ucall uc;

	if (run->exit_reason == reason)
		return;
	if (get_ucall(vcpu, &uc) == UCALL_ABORT)
		test_fail(uc.file, uc.line, "guest assertion failed (%#lx, %#lx)",
			  (unsigned long)uc.args[0], (unsigned long)uc.args[1]);
	if (uc.cmd == UCALL_EXCEPTION)
		test_fail(__FILE__, __LINE__, "guest took exception %lu (error %#lx), wanted exit %s",
			  (unsigned long)uc.args[0], (unsigned long)uc.args[1],
			  exit_reason_str(reason));
	if (run->exit_reason == MINIHV_EXIT_FAIL_ENTRY)
		test_fail(__FILE__, __LINE__, "exit FAIL_ENTRY, wanted %s: the CPU refused the entry "
			  "(%#llx): %.*s", exit_reason_str(reason),
			  (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			  (int)sizeof(run->fail_entry.reason), run->fail_entry.reason);
	if (run->exit_reason == MINIHV_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT)
		test_fail(__FILE__, __LINE__,
			  "exit INTERNAL_ERROR, wanted %s: an exit minihv does not handle, "
			  "the vendor's %s (%#lx)", exit_reason_str(reason),
			  vendor_exit_str(vcpu, run->internal.data[0]),
			  (unsigned long)run->internal.data[0]);
	test_fail(__FILE__, __LINE__, "exit %s (%u), wanted %s; internal suberror %u data %#lx %#lx %#lx",
		  exit_reason_str(run->exit_reason), run->exit_reason,
		  exit_reason_str(reason), run->internal.suberror,
		  (unsigned long)run->internal.data[0],
		  (unsigned long)run->internal.data[1],
		  (unsigned long)run->internal.data[2]);
}

/* The vCPU's last exits (MINIHV_GET_EXIT_LOG), for a failure's report. */
static void print_exit_log(struct mh_vcpu *vcpu, unsigned int last)
{
	static struct minihv_exit_log log;
	uint32_t i;

	if (ioctl(vcpu_fd(vcpu), MINIHV_GET_EXIT_LOG, &log))
		return;
	printf("# the last exits (reason info1 info2 rip), oldest first:\n");
	for (i = log.count > last ? log.count - last : 0; i < log.count; i++)
		printf("#   %#llx %#llx %#llx %#llx\n", (unsigned long long)log.entries[i].reason,
		       (unsigned long long)log.entries[i].info1,
		       (unsigned long long)log.entries[i].info2,
		       (unsigned long long)log.entries[i].rip);
	fflush(stdout);
}

void assert_ucall(struct mh_vcpu *vcpu, uint64_t cmd, struct ucall *uc)
{
	assert_exit_reason(vcpu, MINIHV_EXIT_IO);
	if (get_ucall(vcpu, uc) == cmd)
		return;
	if (uc->cmd == UCALL_ABORT)
		print_exit_log(vcpu, 12);
	if (uc->cmd == UCALL_ABORT)
		test_fail(uc->file, uc->line, "guest assertion failed (%#lx, %#lx)",
			  (unsigned long)uc->args[0], (unsigned long)uc->args[1]);
	test_fail(__FILE__, __LINE__, "guest made ucall %lu (args %#lx %#lx), wanted %lu",
		  (unsigned long)uc->cmd, (unsigned long)uc->args[0],
		  (unsigned long)uc->args[1], (unsigned long)cmd);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel interrupt controller (MINIHV_CREATE_IRQCHIP): the local
 * APIC as a guest programs it through its xAPIC page, its timer in each
 * mode, priorities and EOI, IPIs to every kind of destination, INIT and
 * SIPI, and the I/O APIC's edge and level pins driven by MINIHV_IRQ_LINE.
 * The guest's handlers count what arrived, per APIC ID and vector; the
 * host reads the counts.  Register names and offsets: SDM Vol 3 ch. 12.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "minihv_util.h"
#include "sysutil.h"

#define APIC_BASE	0xfee00000UL
#define APIC_ID		0x020
#define APIC_TPR	0x080
#define APIC_PPR	0x0a0
#define APIC_EOI	0x0b0
#define APIC_LDR	0x0d0
#define APIC_DFR	0x0e0
#define APIC_SVR	0x0f0
#define APIC_ISR	0x100
#define APIC_TMR	0x180
#define APIC_IRR	0x200
#define APIC_ICR	0x300
#define APIC_ICR2	0x310
#define APIC_LVTT	0x320
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0
#define MSR_TSC_DEADLINE 0x6e0
#define MSR_APIC_BASE	0x1b

#define ICR_FIXED	0x000
#define ICR_NMI		0x400
#define ICR_INIT	0x500
#define ICR_SIPI	0x600
#define ICR_LOGICAL	0x800
#define ICR_ASSERT	0x4000
#define ICR_SELF	(1 << 18)
#define ICR_ALL		(2 << 18)
#define ICR_OTHERS	(3 << 18)
#define LVT_MASKED	(1 << 16)
#define TIMER_PERIODIC	(1 << 17)
#define TIMER_DEADLINE	(2 << 17)

#define IOAPIC_BASE	0xfec00000UL

/* ---- the guest's side ---- */

/* What the handlers saw, by APIC ID (0 or 1) and vector. */
volatile uint64_t seen[2][256];
volatile uint64_t order[16], norder;
volatile uint64_t ready, stop, in_handler_saw;

static inline uint32_t apic_read(uint32_t reg)
{
	return *(volatile uint32_t *)(APIC_BASE + reg);
}

static inline void apic_write(uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_BASE + reg) = v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | ((uint64_t)hi << 32);
}

/* The TSC's frequency in kHz, from minihv's timing leaf 40000010h. */
static uint64_t tsc_khz(void)
{
	uint32_t a, b, c, d;

	cpuid(0x40000010, 0, &a, &b, &c, &d);
	return a;
}

static void send_ipi(uint32_t dest, uint32_t icr)
{
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, icr);
}

static void apic_enable(void)
{
	apic_write(APIC_SVR, 0x1ff);
	apic_write(APIC_TPR, 0);
}

/* An exit the kernel handles: the moment an APIC interrupt is injected. */
static inline void exit_in_kernel(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
}

void guest_irq(uint64_t vector);
void guest_irq(uint64_t vector)
{
	uint32_t id = apic_read(APIC_ID) >> 24;

	seen[id & 1][vector]++;
	if (norder < 16)
		order[norder++] = vector;
	if (vector == 0x60) {
		/* A lower class waits while 60h is in service, IF = 1 or not. */
		__asm__ volatile("sti");
		send_ipi(0, ICR_SELF | 0x50);
		exit_in_kernel();
		in_handler_saw = seen[0][0x50];
		__asm__ volatile("cli");
	}
	if (vector != 2 && vector != 0x48)
		apic_write(APIC_EOI, 0);
}

#define STUB(n) \
	".globl apic_stub_" #n "\n" \
	"apic_stub_" #n ": push $" #n "\n jmp apic_common\n"
__asm__(".pushsection .text\n"
	"apic_common:\n"
	"	push %rax\n push %rcx\n push %rdx\n push %rsi\n push %rdi\n"
	"	push %r8\n push %r9\n push %r10\n push %r11\n push %rbx\n"
	"	mov 80(%rsp), %rdi\n"
	"	mov %rsp, %rbx\n and $-16, %rsp\n call guest_irq\n mov %rbx, %rsp\n"
	"	pop %rbx\n pop %r11\n pop %r10\n pop %r9\n pop %r8\n"
	"	pop %rdi\n pop %rsi\n pop %rdx\n pop %rcx\n pop %rax\n"
	"	add $8, %rsp\n iretq\n"
	STUB(2) STUB(0x40) STUB(0x41) STUB(0x42) STUB(0x43) STUB(0x44) STUB(0x45)
	STUB(0x46) STUB(0x47) STUB(0x48) STUB(0x50) STUB(0x60)
	".popsection\n");
extern char apic_stub_2[], apic_stub_0x40[], apic_stub_0x41[], apic_stub_0x42[],
	apic_stub_0x43[], apic_stub_0x44[], apic_stub_0x45[], apic_stub_0x46[],
	apic_stub_0x47[], apic_stub_0x48[], apic_stub_0x50[], apic_stub_0x60[];

/* Waits with interrupts on (HLT) until @count reaches @n. */
static void wait_for(volatile uint64_t *count, uint64_t n)
{
	while (*count < n)
		__asm__ volatile("sti; hlt; cli");
}

/* ---- the host's side ---- */

static int irqchip(struct mh_vm *vm)
{
	return ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 0) ? -errno : 0;
}

static int irq_line(struct mh_vm *vm, uint32_t pin, uint32_t level)
{
	struct minihv_irq_level l = { .irq = pin, .level = level };

	return ioctl(vm_fd(vm), MINIHV_IRQ_LINE, &l) ? -errno : 0;
}

static int mp_state(struct mh_vcpu *vcpu, int set)
{
	struct minihv_mp_state mp = { .mp_state = set };

	if (set >= 0)
		return ioctl(vcpu_fd(vcpu), MINIHV_SET_MP_STATE, &mp) ? -errno : 0;
	return ioctl(vcpu_fd(vcpu), MINIHV_GET_MP_STATE, &mp) ? -errno : (int)mp.mp_state;
}

/* A VM with the irqchip, @n vCPUs all running @guest, and the handlers. */
static struct mh_vm *apic_vm(struct mh_vcpu **vcpus, int n, void *guest)
{
	struct mh_vm *vm = vm_create();
	int i;

	TEST_ASSERT(!irqchip(vm), "CREATE_IRQCHIP: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		vcpus[i] = vm_vcpu_add(vm, i, guest);
		TEST_ASSERT(!mp_state(vcpus[i], MINIHV_MP_STATE_RUNNABLE), "SET_MP_STATE");
	}
	vm_install_handler(vm, 2, (uintptr_t)apic_stub_2);
	vm_install_handler(vm, 0x40, (uintptr_t)apic_stub_0x40);
	vm_install_handler(vm, 0x41, (uintptr_t)apic_stub_0x41);
	vm_install_handler(vm, 0x42, (uintptr_t)apic_stub_0x42);
	vm_install_handler(vm, 0x43, (uintptr_t)apic_stub_0x43);
	vm_install_handler(vm, 0x44, (uintptr_t)apic_stub_0x44);
	vm_install_handler(vm, 0x45, (uintptr_t)apic_stub_0x45);
	vm_install_handler(vm, 0x46, (uintptr_t)apic_stub_0x46);
	vm_install_handler(vm, 0x47, (uintptr_t)apic_stub_0x47);
	vm_install_handler(vm, 0x48, (uintptr_t)apic_stub_0x48);
	vm_install_handler(vm, 0x50, (uintptr_t)apic_stub_0x50);
	vm_install_handler(vm, 0x60, (uintptr_t)apic_stub_0x60);
	return vm;
}

static uint64_t guest_var(struct mh_vm *vm, volatile void *var)
{
	return *(volatile uint64_t *)addr_gpa2hva(vm, (uintptr_t)var);
}

/* Runs one vCPU to its end, asserting no abort: for the simple guests. */
static void run_to_done(struct __test_metadata *_metadata, struct mh_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	assert_ucall(vcpu, UCALL_DONE, &uc);
}

/* One vCPU with the irqchip runs @guest to its GUEST_DONE. */
static void run_alone(struct __test_metadata *_metadata, void *guest)
{
	struct mh_vcpu *v[1];
	struct mh_vm *vm = apic_vm(v, 1, guest);

	run_to_done(_metadata, v[0]);
	vm_free(vm);
}

/* ---- the ioctls ---- */

TEST(irqchip_ioctls)
{
	struct mh_vm *vm = vm_create(), *vm2;
	struct mh_vcpu *bsp, *ap;

	EXPECT_EQ(1, ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_IRQCHIP));
	EXPECT_LT(0, ioctl(vm_dev_fd(vm), MINIHV_CHECK_EXTENSION, MINIHV_CAP_TSC_KHZ));
	EXPECT_EQ(-ENXIO, irq_line(vm, 4, 1)) TH_LOG("no irqchip yet");
	EXPECT_EQ(-EINVAL, ioctl(vm_fd(vm), MINIHV_CREATE_IRQCHIP, 1) ? -errno : 0);
	ASSERT_EQ(0, irqchip(vm));
	EXPECT_EQ(-EEXIST, irqchip(vm));
	EXPECT_EQ(-EINVAL, irq_line(vm, MINIHV_IOAPIC_PINS, 1));
	EXPECT_EQ(-EINVAL, irq_line(vm, 4, 2));
	EXPECT_EQ(-EFAULT, ioctl(vm_fd(vm), MINIHV_IRQ_LINE, (void *)8) ? -errno : 0);
	EXPECT_EQ(0, irq_line(vm, 4, 1));
	EXPECT_EQ(0, irq_line(vm, 4, 0));
	bsp = vm_vcpu_add(vm, 0, NULL);
	ap = vm_vcpu_add(vm, 1, NULL);
	EXPECT_EQ(MINIHV_MP_STATE_RUNNABLE, mp_state(bsp, -1));
	EXPECT_EQ(MINIHV_MP_STATE_INIT_RECEIVED, mp_state(ap, -1)) TH_LOG("an AP waits for SIPI");
	EXPECT_EQ(-EINVAL, mp_state(ap, 1));
	EXPECT_EQ(MINIHV_MP_STATE_INIT_RECEIVED, mp_state(ap, -1));
	vm_free(vm);

	vm2 = vm_create();
	bsp = vm_vcpu_add(vm2, 0, NULL);
	EXPECT_EQ(-EBUSY, irqchip(vm2)) TH_LOG("after the first vCPU");
	EXPECT_EQ(-ENXIO, mp_state(bsp, -1));
	vm_free(vm2);
}

/* ---- the timer ---- */

static void guest_one_shot(void)
{
	uint64_t t0, t1, khz = tsc_khz();
	uint32_t left;

	apic_enable();
	apic_write(APIC_LVTT, 0x40);		/* one-shot */
	/* The current count runs down from the initial one (here 9 minutes long). */
	apic_write(APIC_TDCR, 0xa);		/* divide by 128 */
	apic_write(APIC_TMICT, 0xffffffff);
	left = apic_read(APIC_TMCCT);
	GUEST_ASSERT(left > 0 && left < 0xffffffff);
	GUEST_ASSERT(apic_read(APIC_TMCCT) <= left);
	apic_write(APIC_TMICT, 0);		/* stopped */
	GUEST_ASSERT_EQ(apic_read(APIC_TMCCT), 0);
	apic_write(APIC_TDCR, 0xb);		/* divide by 1: 1 ns per count */
	t0 = rdtsc();
	apic_write(APIC_TMICT, 2000000);	/* 2 ms */
	wait_for(&seen[0][0x40], 1);
	t1 = rdtsc();
	/* Never early (the accuracy goal itself is a benchmark's). */
	GUEST_ASSERT(t1 - t0 >= 2 * khz);
	GUEST_ASSERT_EQ(apic_read(APIC_TMCCT), 0);
	/* One-shot: one interrupt, however long we wait again. */
	apic_write(APIC_LVTT, 0x41);
	apic_write(APIC_TMICT, 3000000);
	wait_for(&seen[0][0x41], 1);
	GUEST_ASSERT_EQ(seen[0][0x40], 1);
	GUEST_DONE();
}

TEST(timer_one_shot)
{
	run_alone(_metadata, guest_one_shot);
}

static void guest_periodic(void)
{
	uint64_t t0, t1, khz = tsc_khz(), n;
	int i;

	apic_enable();
	apic_write(APIC_TDCR, 0x3);		/* divide by 16 */
	apic_write(APIC_LVTT, 0x40 | TIMER_PERIODIC);
	t0 = rdtsc();
	apic_write(APIC_TMICT, 62500);		/* 16 * 62500 ns = 1 ms */
	wait_for(&seen[0][0x40], 5);
	t1 = rdtsc();
	GUEST_ASSERT(t1 - t0 >= 5 * khz);
	/* A count of 0 stops it. */
	apic_write(APIC_TMICT, 0);
	n = seen[0][0x40];
	apic_write(APIC_LVTT, 0x41);
	apic_write(APIC_TMICT, 5000000);	/* 5 ms one-shot as a clock */
	wait_for(&seen[0][0x41], 1);
	for (i = 0; i < 10; i++)
		exit_in_kernel();
	GUEST_ASSERT(seen[0][0x40] <= n + 1);	/* one may have been on its way */
	GUEST_DONE();
}

TEST(timer_periodic)
{
	run_alone(_metadata, guest_periodic);
}

static void guest_deadline(void)
{
	uint32_t a, b, c, d;
	uint64_t khz = tsc_khz();

	cpuid(1, 0, &a, &b, &c, &d);
	GUEST_ASSERT(c & (1 << 24));		/* TSC-deadline timer */
	apic_enable();
	apic_write(APIC_LVTT, 0x40 | TIMER_DEADLINE);
	/* A deadline in the past fires at once. */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() - 1000);
	wait_for(&seen[0][0x40], 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), 0);	/* cleared when it fired */
	/* Writing 0 disarms: 50 ms later nothing has come. */
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 10 * khz);
	GUEST_ASSERT(rdmsr(MSR_TSC_DEADLINE) != 0);
	wrmsr(MSR_TSC_DEADLINE, 0);
	apic_write(APIC_LVTT, 0x41);		/* one-shot now: the clock */
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), 0);
	apic_write(APIC_TMICT, 50000000);
	wait_for(&seen[0][0x41], 1);
	GUEST_ASSERT_EQ(seen[0][0x40], 1);
	GUEST_DONE();
}

TEST(timer_tsc_deadline)
{
	run_alone(_metadata, guest_deadline);
}

#define MSR_IA32_TSC	0x10

/*
 * The farthest deadline from the earliest TSC: the kernel turns it into
 * nanoseconds, ticks * 10^6 / tsc_khz, a quotient that does not fit in 64
 * bits when the host's TSC runs below 1 GHz (the Bochs machines' at 100
 * MHz) and would fault the host's DIVQ (#DE) if not clamped first.  The
 * timer is armed for good; the host's log must stay clean.
 */
static void guest_deadline_far(void)
{
	apic_enable();
	apic_write(APIC_LVTT, 0x40 | TIMER_DEADLINE);
	wrmsr(MSR_IA32_TSC, 0);
	wrmsr(MSR_TSC_DEADLINE, ~0ULL);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), ~0ULL);
	wrmsr(MSR_TSC_DEADLINE, 1ULL << 63);
	GUEST_ASSERT_EQ(seen[0][0x40], 0);
	wrmsr(MSR_TSC_DEADLINE, 0);
	GUEST_DONE();
}

TEST(timer_tsc_deadline_far_ahead)
{
	run_alone(_metadata, guest_deadline_far);
}

/* ---- priorities and EOI ---- */

static void guest_priority(void)
{
	int i;

	apic_enable();
	/* TPR class 5 holds back vector 40h (class 4): it stays in IRR. */
	apic_write(APIC_TPR, 0x50);
	send_ipi(0, ICR_SELF | 0x40);
	__asm__ volatile("sti");
	for (i = 0; i < 10; i++)
		exit_in_kernel();
	__asm__ volatile("cli");
	GUEST_ASSERT_EQ(seen[0][0x40], 0);
	GUEST_ASSERT(apic_read(APIC_IRR + 0x20) & 1);	/* bit 40h */
	GUEST_ASSERT_EQ(apic_read(APIC_PPR), 0x50);
	/* CR8 is the TPR's class. */
	{
		uint64_t cr8;

		__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
		GUEST_ASSERT_EQ(cr8, 5);
		__asm__ volatile("mov %0, %%cr8" : : "r"(0ULL));
	}
	GUEST_ASSERT_EQ(apic_read(APIC_TPR), 0);
	__asm__ volatile("sti; nop");
	exit_in_kernel();
	__asm__ volatile("cli");
	GUEST_ASSERT_EQ(seen[0][0x40], 1);
	/* While 60h is in service, 50h waits for its EOI (guest_irq). */
	send_ipi(0, ICR_SELF | 0x60);
	__asm__ volatile("sti");
	exit_in_kernel();
	__asm__ volatile("cli");
	GUEST_ASSERT_EQ(seen[0][0x60], 1);
	GUEST_ASSERT_EQ(in_handler_saw, 0);
	GUEST_ASSERT_EQ(seen[0][0x50], 1);
	GUEST_ASSERT_EQ(order[1], 0x60);
	GUEST_ASSERT_EQ(order[2], 0x50);
	/* All ended: ISR words for vectors 40h-5Fh and 60h-7Fh. */
	GUEST_ASSERT_EQ(apic_read(APIC_ISR + 0x20) | apic_read(APIC_ISR + 0x30), 0);
	GUEST_DONE();
}

TEST(priority_tpr_ppr_eoi)
{
	run_alone(_metadata, guest_priority);
}

/* ---- IPIs between two vCPUs ---- */

/* Waits, exiting now and then, until @count reaches @n; false after a bound. */
static bool poll_for(volatile uint64_t *count, uint64_t n)
{
	long i;

	for (i = 0; i < 100000 && *count < n; i++)
		exit_in_kernel();
	return *count >= n;
}

static void guest_ipis(void)
{
	uint32_t id = apic_read(APIC_ID) >> 24;

	apic_enable();
	apic_write(APIC_DFR, 0xffffffff);		/* flat logical model */
	apic_write(APIC_LDR, 1u << (24 + id));
	if (id == 1) {
		ready = 1;
		while (!stop)
			__asm__ volatile("sti; hlt; cli");
		GUEST_DONE();
	}
	while (!ready)
		exit_in_kernel();
	send_ipi(1, 0x41);				/* physical, to APIC 1 */
	GUEST_ASSERT(poll_for(&seen[1][0x41], 1));
	send_ipi(0, ICR_OTHERS | 0x42);
	GUEST_ASSERT(poll_for(&seen[1][0x42], 1));
	send_ipi(0, ICR_ALL | 0x43);
	__asm__ volatile("sti; nop; cli");
	GUEST_ASSERT(poll_for(&seen[1][0x43], 1));
	send_ipi(0, ICR_SELF | 0x44);
	__asm__ volatile("sti; nop; cli");
	send_ipi(2, ICR_LOGICAL | 0x45);		/* logical: LDR bit 1 */
	GUEST_ASSERT(poll_for(&seen[1][0x45], 1));
	send_ipi(0xff, 0x46);				/* physical broadcast */
	__asm__ volatile("sti; nop; cli");
	GUEST_ASSERT(poll_for(&seen[1][0x46], 1));
	send_ipi(1, ICR_NMI);
	GUEST_ASSERT(poll_for(&seen[1][2], 1));
	/* Each went where it was sent, and nowhere else. */
	GUEST_ASSERT_EQ(seen[0][0x41] + seen[0][0x42] + seen[0][0x45], 0);
	GUEST_ASSERT_EQ(seen[0][0x43] + seen[0][0x44] + seen[0][0x46], 3);
	GUEST_ASSERT_EQ(seen[1][0x44], 0);
	GUEST_ASSERT_EQ(seen[1][0x41] + seen[1][0x42] + seen[1][0x43] + seen[1][0x45] +
			seen[1][0x46], 5);
	stop = 1;
	send_ipi(1, 0x41);				/* out of its HLT */
	GUEST_DONE();
}

struct runner {
	struct mh_vcpu *vcpu;
	struct ucall uc;
	uint64_t cmd;
};

static void on_kick(int sig)
{
	(void)sig;	/* only there to end MINIHV_RUN with EINTR */
}

static void *run_thread(void *arg)
{
	struct runner *r = arg;

	if (_vcpu_run(r->vcpu))
		r->cmd = UCALL_NONE;
	else
		r->cmd = get_ucall(r->vcpu, &r->uc);
	return NULL;
}

TEST(ipi_destinations_and_shorthands)
{
	struct mh_vcpu *v[2];
	struct mh_vm *vm = apic_vm(v, 2, guest_ipis);
	struct runner ap = { .vcpu = v[1] };
	pthread_t t;
	struct ucall uc;

	signal(SIGUSR1, on_kick);
	ASSERT_EQ(0, pthread_create(&t, NULL, run_thread, &ap));
	vcpu_run(v[0]);
	if (get_ucall(v[0], &uc) == UCALL_ABORT)
		TH_LOG("vCPU 0: guest assertion at line %lu: %#lx %#lx", (unsigned long)uc.line,
		       (unsigned long)uc.args[0], (unsigned long)uc.args[1]);
	EXPECT_EQ(UCALL_DONE, get_ucall(v[0], &uc));
	if (get_ucall(v[0], &uc) != UCALL_DONE) {
		/* Let the AP go: the test failed already. */
		*(volatile uint64_t *)addr_gpa2hva(vm, (uintptr_t)&stop) = 1;
		vcpu_state(v[1])->immediate_exit = 1;
		pthread_kill(t, SIGUSR1);
	}
	pthread_join(t, NULL);
	EXPECT_EQ(UCALL_DONE, ap.cmd);
	EXPECT_EQ(1, guest_var(vm, &seen[1][2])) TH_LOG("the NMI");
	vm_free(vm);
}

/* ---- INIT and SIPI ---- */

static void guest_init_sipi(void)
{
	apic_enable();
	send_ipi(1, ICR_INIT | ICR_ASSERT);
	send_ipi(1, ICR_SIPI | 0x09);		/* start at 9000h, real mode */
	GUEST_DONE();
}

/*
 * The AP's RUN either waits in the kernel while the BSP sends INIT and
 * SIPI (@waiting), or starts after both came and finds them together.
 */
static void init_sipi(struct __test_metadata *_metadata, bool waiting)
{
	/* MOV AX, 1234h; OUT 5Bh, AX; HLT */
	static const uint8_t ap_code[] = { 0xb8, 0x34, 0x12, 0xe7, 0x5b, 0xf4 };
	struct mh_vm *vm = vm_create();
	struct mh_vcpu *bsp, *ap;
	struct runner r = { 0 };
	struct minihv_regs regs;
	struct minihv_sregs sregs;
	struct minihv_run *run;
	pthread_t t;

	ASSERT_EQ(0, irqchip(vm));
	bsp = vm_vcpu_add(vm, 0, guest_init_sipi);
	ap = vm_vcpu_add(vm, 1, guest_init_sipi);
	memcpy(addr_gpa2hva(vm, 0x9000), ap_code, sizeof(ap_code));
	r.vcpu = ap;
	if (waiting)
		ASSERT_EQ(0, pthread_create(&t, NULL, run_thread, &r));
	run_to_done(_metadata, bsp);
	if (waiting)
		pthread_join(t, NULL);
	else
		run_thread(&r);
	run = vcpu_state(ap);
	ASSERT_EQ(MINIHV_EXIT_IO, run->exit_reason) TH_LOG("%s", exit_reason_str(run->exit_reason));
	EXPECT_EQ(0x5b, run->io.port);
	EXPECT_EQ(0x1234, *(uint16_t *)((uint8_t *)run + run->io.data_offset));
	vcpu_sregs_get(ap, &sregs);
	vcpu_regs_get(ap, &regs);
	EXPECT_EQ(0x900, sregs.cs.selector);
	EXPECT_EQ(0x9000, sregs.cs.base);
	EXPECT_EQ(5, regs.rip);				/* after the OUT */
	EXPECT_EQ(0, sregs.cr0 & 1) TH_LOG("real mode");
	EXPECT_EQ(MINIHV_MP_STATE_RUNNABLE, mp_state(ap, -1));
	vm_free(vm);
}

TEST(init_sipi_starts_a_waiting_ap)
{
	init_sipi(_metadata, true);
}

/* INIT and SIPI found together: the SIPI must not be lost to the INIT. */
TEST(init_sipi_found_together)
{
	init_sipi(_metadata, false);
}

/*
 * INIT ends whatever the old context was doing with events: here an AP
 * sits in its NMI handler, NMIs blocked until an IRET that never comes,
 * when the BSP sends INIT and SIPI.  The real-mode code SIPI starts must
 * take the next NMI (SDM Vol 3 10.4.2: INIT clears NMI blocking); a
 * hypervisor that kept the block would hold it back for good (the AP's
 * run then never ends, and the test times out).
 */
volatile uint64_t nmi_spinning;
__asm__(".pushsection .text\n"
	"nmi_spin:\n"
	"	lock incq nmi_spinning(%rip)\n"
	"1:	pause\n jmp 1b\n"
	".popsection\n");
extern char nmi_spin[];

#define RM_STARTED	0x9200	/* the real-mode code's flags */
#define RM_NMI_SEEN	0x9201

volatile uint64_t bsp_step;

static void guest_nmi_then_init(void)
{
	apic_enable();
	while (!ready)
		exit_in_kernel();
	bsp_step = 1;
	send_ipi(1, ICR_NMI);
	while (!nmi_spinning)
		exit_in_kernel();
	bsp_step = 2;
	send_ipi(1, ICR_INIT | ICR_ASSERT);
	send_ipi(1, ICR_SIPI | 0x09);
	while (!*(volatile uint8_t *)RM_STARTED)
		exit_in_kernel();
	bsp_step = 3;
	send_ipi(1, ICR_NMI);
	GUEST_DONE();
}

/* Where it stood, if the harness is about to time it out. */
static struct mh_vm *nmi_init_vm;

static void nmi_init_report(int sig)
{
	struct mh_vm *vm = nmi_init_vm;

	(void)sig;
	printf("# stuck: BSP step %lu, AP in its NMI handler %lu, real mode started %u, NMI seen %u\n",
	       (unsigned long)*(volatile uint64_t *)addr_gpa2hva(vm, (uintptr_t)&bsp_step),
	       (unsigned long)*(volatile uint64_t *)addr_gpa2hva(vm, (uintptr_t)&nmi_spinning),
	       *(volatile uint8_t *)addr_gpa2hva(vm, RM_STARTED),
	       *(volatile uint8_t *)addr_gpa2hva(vm, RM_NMI_SEEN));
	fflush(stdout);
	_exit(1);
}

static void guest_ap_idle(void)
{
	apic_enable();
	ready = 1;
	for (;;)
		exit_in_kernel();
}

TEST(init_clears_nmi_blocking)
{
	/*
	 * At 9000h, real mode: LIDT [9300h]; flag "started"; wait for the
	 * NMI handler's flag; MOV AX, 1234h; OUT 5Bh, AX; HLT.  The handler
	 * (9100h) sets its flag and IRETs.  The IVT is at 9400h.
	 */
	static const uint8_t ap_code[] = {
		0x31, 0xc0, 0x8e, 0xd8,			/* xor ax, ax; mov ds, ax */
		0x0f, 0x01, 0x1e, 0x00, 0x93,		/* lidt [9300h] */
		0xc6, 0x06, 0x00, 0x92, 0x01,		/* mov byte [9200h], 1 */
		0x80, 0x3e, 0x01, 0x92, 0x00,		/* 1: cmp byte [9201h], 0 */
		0x74, 0xf9,				/* je 1b */
		0xb8, 0x34, 0x12, 0xe7, 0x5b, 0xf4,	/* mov ax; out 5bh, ax; hlt */
	};
	static const uint8_t handler[] = { 0xc6, 0x06, 0x01, 0x92, 0x01, 0xcf };
	static const uint8_t idtr[] = { 0xff, 0x03, 0x00, 0x94, 0x00, 0x00 };
	static const uint16_t ivt_nmi[] = { 0x0100, 0x0900 };	/* 0900:0100 */
	struct mh_vcpu *v[2];
	struct mh_vm *vm;
	struct runner ap;
	struct minihv_regs regs;
	struct minihv_run *run;
	pthread_t t;

	/*
	 * Not in Bochs 2.7.  Its VT-x: VM entry masks a virtual NMI when the
	 * VMCS says "blocking by NMI" but never unmasks one when it does not
	 * (later Bochs unmasks first), so a block the VMM clears stays until
	 * the guest's IRET; minihv's trace there shows the cleared field and
	 * no NMI window exit.  Its AMD-V: while the AP sat in its NMI handler
	 * that CPU took no host interrupt at all (a soft lockup of the test
	 * machine; the same guest on qemu-svm exits on each).  Real CPUs and
	 * QEMU honour both.
	 */
	if (machine_is_bochs())
		SKIP(return, "Bochs 2.7 keeps NMI blocking its own way (see the comment)");
	vm = apic_vm(v, 2, guest_ap_idle);
	ap = (struct runner){ .vcpu = v[1] };

	vcpu_regs_get(v[0], &regs);
	regs.rip = (uintptr_t)guest_nmi_then_init;
	vcpu_regs_set(v[0], &regs);
	vm_install_handler(vm, 2, (uintptr_t)nmi_spin);
	memcpy(addr_gpa2hva(vm, 0x9000), ap_code, sizeof(ap_code));
	memcpy(addr_gpa2hva(vm, 0x9100), handler, sizeof(handler));
	memcpy(addr_gpa2hva(vm, 0x9300), idtr, sizeof(idtr));
	memcpy(addr_gpa2hva(vm, 0x9400 + 2 * 4), ivt_nmi, sizeof(ivt_nmi));
	/* A report of where it stuck, before the harness's own timeout. */
	nmi_init_vm = vm;
	signal(SIGALRM, nmi_init_report);
	alarm(25);
	ASSERT_EQ(0, pthread_create(&t, NULL, run_thread, &ap));
	run_to_done(_metadata, v[0]);
	pthread_join(t, NULL);
	alarm(0);
	run = vcpu_state(v[1]);
	ASSERT_EQ(MINIHV_EXIT_IO, run->exit_reason) TH_LOG("%s", exit_reason_str(run->exit_reason));
	EXPECT_EQ(0x5b, run->io.port);
	EXPECT_EQ(1, *(uint8_t *)addr_gpa2hva(vm, RM_NMI_SEEN));
	vm_free(vm);
}

/* ---- the I/O APIC ---- */

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

static void guest_ioapic(void)
{
	apic_enable();
	GUEST_ASSERT_EQ(ioapic_read(1) & 0xff, 0x20);		/* version */
	GUEST_ASSERT_EQ((ioapic_read(1) >> 16) & 0xff, 23);	/* 24 pins */
	GUEST_ASSERT(ioapic_read(0x10 + 2 * 5) & LVT_MASKED);	/* masked at reset */
	ioapic_write(0x10 + 2 * 5, 0x47);			/* pin 5: edge, 47h, APIC 0 */
	ioapic_write(0x11 + 2 * 5, 0);
	ioapic_write(0x10 + 2 * 6, 0x48 | (1 << 15));		/* pin 6: level, 48h */
	ioapic_write(0x11 + 2 * 6, 0);
	ioapic_write(0x10 + 2 * 7, 0x47 | LVT_MASKED);		/* pin 7: masked */
	GUEST_SYNC(1);				/* host: pin 5 up and down, pin 7 up */
	wait_for(&seen[0][0x47], 1);
	GUEST_SYNC(2);				/* host: pin 6 up, stays up */
	wait_for(&seen[0][0x48], 1);
	GUEST_ASSERT(apic_read(APIC_TMR + 0x20) & (1 << 8));	/* 48h: level */
	/* Remote IRR: no second message until the EOI... */
	GUEST_ASSERT(ioapic_read(0x10 + 2 * 6) & (1 << 14));
	apic_write(APIC_EOI, 0);
	/* ... and the line still up sends it again. */
	wait_for(&seen[0][0x48], 2);
	GUEST_SYNC(3);				/* host: pin 6 down */
	apic_write(APIC_EOI, 0);
	__asm__ volatile("sti; nop; cli");
	exit_in_kernel();
	GUEST_ASSERT_EQ(seen[0][0x48], 2);
	GUEST_ASSERT_EQ(seen[0][0x47], 1);			/* pin 7 stayed masked */
	ioapic_write(0x10 + 2 * 7, 0x47);			/* unmasked: its edge waited */
	__asm__ volatile("sti; nop; cli");
	wait_for(&seen[0][0x47], 2);
	GUEST_DONE();
}

TEST(ioapic_edge_level_mask)
{
	struct mh_vcpu *v[1];
	struct mh_vm *vm = apic_vm(v, 1, guest_ioapic);
	struct ucall uc;

	vcpu_run(v[0]);
	assert_ucall(v[0], UCALL_SYNC, &uc);
	ASSERT_EQ(0, irq_line(vm, 5, 1));
	ASSERT_EQ(0, irq_line(vm, 5, 0));
	ASSERT_EQ(0, irq_line(vm, 7, 1));
	vcpu_run(v[0]);
	assert_ucall(v[0], UCALL_SYNC, &uc);
	ASSERT_EQ(2, uc.args[0]);
	ASSERT_EQ(0, irq_line(vm, 6, 1));
	vcpu_run(v[0]);
	assert_ucall(v[0], UCALL_SYNC, &uc);
	ASSERT_EQ(3, uc.args[0]);
	ASSERT_EQ(0, irq_line(vm, 6, 0));
	run_to_done(_metadata, v[0]);
	vm_free(vm);
}

/* ---- a guest mistake ---- */

static void guest_bad_apic_base(void)
{
	/* Moving the APIC page is not supported: #GP, not a host problem. */
	wrmsr(MSR_APIC_BASE, 0xfed00000 | (1 << 11) | (1 << 8));
	GUEST_DONE();
}

TEST(apic_base_move_is_gp)
{
	struct mh_vcpu *v[1];
	struct mh_vm *vm = apic_vm(v, 1, guest_bad_apic_base);
	struct ucall uc;

	vcpu_run(v[0]);
	ASSERT_EQ(UCALL_EXCEPTION, get_ucall(v[0], &uc));
	EXPECT_EQ(13, uc.args[0]);
	vm_free(vm);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * One runner, two hypervisors: every sample guest goes through minihv-run
 * on /dev/minihv, then on /dev/kvm (KVM's own modules, loaded while
 * minihv is out: the two never own VT-x/AMD-V at once), and must print the
 * same and end with the same exit status.  A difference is a bug in one
 * of them; minihv is the usual suspect.
 *
 * Then random guests (lib/modes.c, as run_bounds_test makes them) from the
 * same seeds on both, through minihv-run's own backend layer (hv.c): each
 * must end in the same kind of exit (HLT, shutdown, internal error, failed
 * entry, or still running at the timer), with two exceptions, counted and
 * printed: minihv stopping with an emulation failure where KVM's emulator
 * (some 5,000 lines) went on; and one side still running at the timer
 * while the other had ended (the budget is wall time, and the two
 * hypervisors go through MMIO-heavy code at different speeds: one reached
 * a triple fault in 200 ms that the other had not reached yet).  minihv decodes only the MMIO forms
 * emulate.c names (MOV, MOVZX/MOVSX, the arithmetic and logic group,
 * TEST, XCHG) and string I/O to RAM; random code touching MMIO with
 * anything else (a shift, STOS, LEAVE, IMUL...) is beyond it by design.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include <linux/kvm.h>
#include <linux/minihv.h>

#include "hv.h"
#include "kselftest_harness.h"
#include "modes.h"
#include "sysutil.h"

#define MAX_ARGS	8
#define OUT_LEN		2048

static const struct sample {
	const char *guest;
	const char *args[MAX_ARGS];
	bool any_order;		/* lines from several vCPUs */
	const char *timeout;	/* seconds; NULL: 20 */
} samples[] = {
	{ "hello.bin", { NULL } },
	{ "protected.bin", { "-m", "protected", NULL } },
	{ "protected.elf", { NULL } },
	{ "long.bin", { "-m", "long", NULL } },
	{ "hello64.elf", { NULL } },
	{ "pm16.bin", { "-m", "protected", NULL } },
	{ "devices.bin", { "-m", "protected", NULL } },
	{ "realmmio.bin", { "-M", "1M", NULL } },
	{ "smp.bin", { "-m", "protected", "-c", "4", NULL }, true },
	{ "spin.bin", { NULL }, false, "1" },	/* stopped by the timeout */
};
#define NR_SAMPLES	(sizeof(samples) / sizeof(samples[0]))

struct result {
	int status;
	char out[OUT_LEN];
};

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines of @out in place (the order vCPUs print in is free). */
static void sort_lines(char *out)
{
	char *lines[64], copy[OUT_LEN], *save, *l;
	size_t n = 0, i;

	strcpy(copy, out);
	for (l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof(lines[0]), cmp_lines);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		strcat(out, lines[i]);
		strcat(out, "\n");
	}
}

/* Every sample through minihv-run with @device. */
static void run_samples(const char *device, struct result *res)
{
	const char *argv[MAX_ARGS + 5];
	size_t i, n;

	for (i = 0; i < NR_SAMPLES; i++) {
		n = 0;
		argv[n++] = "-t";
		argv[n++] = samples[i].timeout ? samples[i].timeout : "20";
		argv[n++] = "-d";
		argv[n++] = device;
		while (samples[i].args[n - 4] && n < MAX_ARGS + 4) {
			argv[n] = samples[i].args[n - 4];
			n++;
		}
		argv[n] = NULL;
		res[i].status = run_runner(samples[i].guest, argv, res[i].out,
					   sizeof(res[i].out), false);
		if (samples[i].any_order)
			sort_lines(res[i].out);
	}
}

/*
 * KVM nested in QEMU's TCG stops making progress at times (the whole test
 * machine goes silent: seen in make check and make bench on 6.1), so on
 * QEMU machines this test would make make check fail at random.  The two
 * Bochs machines, AMD-V and VT-x, run it.
 */
static bool qemu_machine(void)
{
	char vendor[64] = "";
	FILE *f = fopen("/sys/class/dmi/id/sys_vendor", "re");

	if (f) {
		if (!fgets(vendor, sizeof(vendor), f))
			vendor[0] = '\0';
		fclose(f);
	}
	return strstr(vendor, "QEMU");
}

/* ---- random guests on both ---- */

#define RG_TIMER_US	100000	/* a guest still running after this "times out" */

struct rg_result {
	uint32_t reason;	/* final exit, or MINIHV_EXIT_INTR: the timer */
	uint64_t rip;
	uint8_t insn[8];	/* bytes at RIP, when RIP is in RAM */
	uint32_t suberror;	/* of an internal error */
	int err;		/* a failed ioctl other than the timer's EINTR */
};

/*
 * Bounding KVM's entries.  Bochs 2.7 holds the host's interrupts while a
 * guest that entered with RFLAGS.IF = 0 spins (Documentation/design.rst,
 * "Emulator defects"), so neither the timer's signal nor an IPI ends such
 * an entry: KVM held a CPU for 21 s (an RCU stall, ended by its NMI) on
 * about one random guest in a thousand, and once for good.  minihv bounds
 * every entry with the VMX preemption timer (SDM 25.5.1); KVM arms that
 * timer only for an in-kernel local APIC's timer ("hv_timer").  So on KVM
 * each random guest's VM gets a local APIC (the split irqchip: the 8259s
 * and the I/O APIC stay in userspace, so their ports are exits as on
 * minihv), moved beyond the guests' reach (they address the low 4 GiB)
 * and with a periodic timer: every RG_KVM_TICK_NS an exit, after which KVM
 * takes the host's interrupts and so the timer's signal.  The timer must
 * not be masked: KVM consumes an expiry only of an unmasked timer, and
 * while one is unconsumed it handles the preemption timer's exits in its
 * fastpath, re-entering with the host's interrupts still off (a masked
 * timer let a CPU stall for 21 s in 2,000 guests).  The LVT's delivery
 * mode is ExtINT, which KVM hands to an 8259 (here in userspace, and
 * never asked), so the guest is interrupted by nothing.  What the guest
 * could tell: MSR 0x1b's value, and HLT, which an in-kernel APIC halts in
 * the kernel instead of exiting (kvm_bound_halted() gives the exit back).
 */
#define RG_KVM_TICK_NS		1000000u
#define RG_KVM_APIC_BASE	0xffff00000ull	/* below MAXPHYADDR 36 */
#define MSR_IA32_APICBASE	0x1b
#define APICBASE_BSP_EN		0x900		/* BSP, global enable */
#define APIC_SPIV		0xf0
#define APIC_LVTT		0x320
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0
#define APIC_SPIV_ENABLE	(1u << 8)
#define APIC_DM_EXTINT		0x700
#define APIC_LVTT_PERIODIC	(1u << 17)
#define APIC_TDCR_DIV_1		0xb

/* Before the vCPU: the local APIC in the kernel, the rest in userspace. */
static int kvm_bound_vm(struct hv *hv)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };

	return ioctl(hv->vm, KVM_ENABLE_CAP, &cap) ? -errno : 0;
}

static void apic_reg_set(struct kvm_lapic_state *l, unsigned int reg, uint32_t val)
{
	memcpy(&l->regs[reg], &val, sizeof(val));
}

/* After SET_SREGS (which writes the APIC base): move it, start the tick. */
static int kvm_bound_vcpu(struct hv_vcpu *v)
{
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msrs = {
		.hdr.nmsrs = 1,
		.e = { .index = MSR_IA32_APICBASE, .data = RG_KVM_APIC_BASE | APICBASE_BSP_EN },
	};
	struct kvm_lapic_state l;

	if (ioctl(v->fd, KVM_SET_MSRS, &msrs) != 1)
		return -EINVAL;
	if (ioctl(v->fd, KVM_GET_LAPIC, &l))
		return -errno;
	apic_reg_set(&l, APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_reg_set(&l, APIC_TDCR, APIC_TDCR_DIV_1);
	apic_reg_set(&l, APIC_LVTT, APIC_DM_EXTINT | APIC_LVTT_PERIODIC);
	/* KVM's APIC bus runs at 1 GHz: a count is a nanosecond. */
	apic_reg_set(&l, APIC_TMICT, RG_KVM_TICK_NS);
	apic_reg_set(&l, APIC_TMCCT, RG_KVM_TICK_NS);
	return ioctl(v->fd, KVM_SET_LAPIC, &l) ? -errno : 0;
}

/* A guest that executed HLT sits halted in KVM until the timer. */
static bool kvm_bound_halted(struct hv_vcpu *v)
{
	struct kvm_mp_state mp;

	return !ioctl(v->fd, KVM_GET_MP_STATE, &mp) && mp.mp_state == KVM_MP_STATE_HALTED;
}

/* Whether KVM runs an in-kernel APIC's timer on the preemption timer. */
static bool kvm_has_hv_timer(void)
{
	char c = 'N';
	FILE *f = fopen("/sys/module/kvm_intel/parameters/preemption_timer", "re");

	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = 'N';
		fclose(f);
	}
	return c == 'Y';
}

static volatile sig_atomic_t rg_alarm;

static void rg_on_alarm(int sig)
{
	rg_alarm = 1;
}

/*
 * Runs until a final exit or the timer (a one-shot ITIMER_REAL without
 * SA_RESTART); port and MMIO exits are completed with zeros, as
 * run_bounds_test does.
 */
static uint32_t rg_run(struct hv *hv, struct hv_vcpu *v, int *err)
{
	struct itimerval it = { .it_value = { .tv_usec = RG_TIMER_US } };
	struct minihv_run *e = v->exit;
	uint32_t reason = MINIHV_EXIT_INTR;
	int r;

	rg_alarm = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	while (!rg_alarm) {
		r = hv_run(hv, v);
		if (r) {
			if (r != -EINTR)
				*err = -r;
			reason = MINIHV_EXIT_INTR;
			break;
		}
		reason = *v->exit_reason;
		if (reason == MINIHV_EXIT_IO) {
			if (e->io.direction == MINIHV_EXIT_IO_IN)
				memset((uint8_t *)v->run + e->io.data_offset, 0,
				       e->io.size * e->io.count);
		} else if (reason == MINIHV_EXIT_MMIO) {
			if (!e->mmio.is_write)
				memset(e->mmio.data, 0, sizeof(e->mmio.data));
		} else {
			break;
		}
	}
	it = (struct itimerval){};
	setitimer(ITIMER_REAL, &it, NULL);
	/* The timer went off between two exits to userspace. */
	if (reason == MINIHV_EXIT_IO || reason == MINIHV_EXIT_MMIO)
		reason = MINIHV_EXIT_INTR;
	return reason;
}

/* Random guests base + 0 .. n - 1 on @device, each in a VM of its own. */
static int run_random_guests(const char *device, uint64_t base, unsigned long n,
			     struct rg_result *res)
{
	struct sigaction sa = { .sa_handler = rg_on_alarm };
	uint8_t *mem = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool kvm = !strcmp(device, "/dev/kvm");
	struct minihv_sregs sregs;
	struct minihv_regs regs;
	struct hv_vcpu v;
	unsigned long i;
	struct hv hv;
	int r = 0;

	if (mem == MAP_FAILED)
		return -errno;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	for (i = 0; i < n && !r; i++) {
		memset(mem, 0, RAM_SIZE);
		r = hv_open(&hv, device);
		if (r)
			break;
		r = hv_create_vm(&hv);
		if (!r && kvm)
			r = kvm_bound_vm(&hv);
		if (!r)
			r = hv_set_memory(&hv, 0, 0, RAM_SIZE, mem);
		if (!r)
			r = hv_create_vcpu(&hv, 0, &v);
		if (!r)
			r = hv_get_sregs(&hv, &v, &sregs);
		if (!r) {
			random_guest(base, i, mem, &sregs, &regs);
			r = hv_set_sregs(&hv, &v, &sregs);
		}
		if (!r)
			r = hv_set_regs(&hv, &v, &regs);
		if (!r && kvm)
			r = kvm_bound_vcpu(&v);
		if (!r) {
			res[i].reason = rg_run(&hv, &v, &res[i].err);
			if (kvm && res[i].reason == MINIHV_EXIT_INTR && !res[i].err &&
			    kvm_bound_halted(&v))
				res[i].reason = MINIHV_EXIT_HLT;
			res[i].suberror = v.exit->internal.suberror;
			if (!hv_get_regs(&hv, &v, &regs) && !hv_get_sregs(&hv, &v, &sregs)) {
				uint64_t lin = sregs.cs.base + regs.rip;

				res[i].rip = regs.rip;
				/* Paging maps the low 4 GiB to itself: linear is physical. */
				if (lin < RAM_SIZE - sizeof(res[i].insn))
					memcpy(res[i].insn, mem + lin, sizeof(res[i].insn));
			}
			hv_vcpu_close(&hv, &v);
		}
		hv_close(&hv);
		/* A long run (hours in Bochs) says how far it is, each tenth. */
		if (n >= 1000 && !((i + 1) % (n / 10))) {
			printf("# %s: %lu of %lu guests\n", kvm ? "KVM" : "minihv", i + 1, n);
			fflush(stdout);
		}
	}
	munmap(mem, RAM_SIZE);
	return r;
}

/* run_random_guests() on KVM, through with_kvm(). */
struct rg_batch {
	uint64_t base;
	unsigned long n;
	struct rg_result *res;
	int r;
	bool hv_timer;		/* KVM's entries bounded (kvm_bound_vm()) */
};

static void random_guests_on_kvm(void *arg)
{
	struct rg_batch *b = arg;

	b->hv_timer = kvm_has_hv_timer();
	b->r = run_random_guests("/dev/kvm", b->base, b->n, b->res);
}

static const char *rg_kind(const struct rg_result *r)
{
	switch (r->reason) {
	case MINIHV_EXIT_HLT: return "HLT";
	case MINIHV_EXIT_SHUTDOWN: return "shutdown";
	case MINIHV_EXIT_INTR: return r->err ? "run failed" : "timeout";
	case MINIHV_EXIT_INTERNAL_ERROR: return "internal error";
	case MINIHV_EXIT_FAIL_ENTRY: return "failed entry";
	default: return "other";
	}
}

/*
 * Runs @fn(@arg) with KVM's modules loaded in minihv's place (the two never
 * own VT-x/AMD-V at once), then loads minihv again, its result in *@back.
 * Returns 0, or loading KVM's -errno (@fn did not run then).
 */
static int with_kvm(void (*fn)(void *), void *arg, int *back)
{
	int core, vendor;

	*back = module_unload("minihv");
	if (*back)
		return *back;
	core = kvm_load_core();
	vendor = core ? core : kvm_load_vendor();
	if (!vendor)
		fn(arg);
	kvm_unload();
	*back = module_load(minihv_ko_path(), NULL);
	return vendor;
}

/* After with_kvm(): minihv is back, and KVM ran (or the test skips). */
#define ASSERT_KVM_RAN(vendor, back)						\
	do {									\
		ASSERT_EQ(0, back) TH_LOG("minihv.ko: %s", strerror(-(back)));	\
		if ((vendor) == -ENOENT)					\
			SKIP(return, "KVM modules not found in %s", kvm_module_dir()); \
		ASSERT_EQ(0, vendor) TH_LOG("loading KVM: %s", strerror(-(vendor))); \
	} while (0)

static void samples_on_kvm(void *res)
{
	run_samples("/dev/kvm", res);
}

/* Loading KVM's modules takes most of a minute on an emulated machine. */
FIXTURE(kvm) {};
FIXTURE_SETUP(kvm) {}
FIXTURE_TEARDOWN(kvm) {}

TEST_F_TIMEOUT(kvm, sample_guests_same_on_minihv_and_kvm, 600)
{
	static struct result on_minihv[NR_SAMPLES], on_kvm[NR_SAMPLES];
	int vendor, back;
	size_t i;

	if (qemu_machine())
		SKIP(return, "KVM nested in QEMU TCG hangs the machine at times; the Bochs machines run this");
	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	run_samples(MINIHV_DEV, on_minihv);
	vendor = with_kvm(samples_on_kvm, on_kvm, &back);
	ASSERT_KVM_RAN(vendor, back);

	for (i = 0; i < NR_SAMPLES; i++) {
		EXPECT_NE(-ENOENT, on_minihv[i].status)
			TH_LOG("%s or minihv-run is not installed", samples[i].guest);
		EXPECT_EQ(on_kvm[i].status, on_minihv[i].status)
			TH_LOG("%s: exit status, KVM %d, minihv %d", samples[i].guest,
			       on_kvm[i].status, on_minihv[i].status);
		EXPECT_STREQ(on_kvm[i].out, on_minihv[i].out)
			TH_LOG("%s: output differs", samples[i].guest);
	}
}

/*
 * MINIHV_KVM_GUESTS random guests (default 48: 8 per CPU mode) from the
 * seed MINIHV_FUZZ_SEED (else the clock) on minihv, then on KVM.  Every
 * guest whose exit kind differs is printed, with where each stopped.
 * A long run (make check KVM_GUESTS=10000) takes hours in Bochs: the
 * harness's clock is a backstop, check.sh's machine limit the other.
 */
TEST_F_TIMEOUT(kvm, random_guests_same_on_minihv_and_kvm, 6 * 3600)
{
	const char *env_n = getenv("MINIHV_KVM_GUESTS"), *env_seed = getenv("MINIHV_FUZZ_SEED");
	unsigned long n = env_n ? strtoul(env_n, NULL, 0) : 48, i, differ = 0, beyond = 0;
	unsigned long timing = 0;
	uint64_t base = env_seed ? strtoull(env_seed, NULL, 0) : (uint64_t)time(NULL) << 20 | 1;
	struct rg_result *on_minihv, *on_kvm;
	struct rg_batch rg = { .r = -1 };
	int vendor, back, r_minihv, r_kvm;

	if (qemu_machine())
		SKIP(return, "KVM nested in QEMU TCG hangs the machine at times; the Bochs machines run this");
	if (machine_is_bochs() && expected_vendor() == MINIHV_VENDOR_SVM)
		SKIP(return, "Bochs 2.7 SVM: a random guest's triple fault resets the machine");
	on_minihv = calloc(n, sizeof(*on_minihv));
	on_kvm = calloc(n, sizeof(*on_kvm));
	ASSERT_TRUE(on_minihv && on_kvm);
	printf("# seed %#llx (MINIHV_FUZZ_SEED repeats it), %lu guests\n",
	       (unsigned long long)base, n);
	fflush(stdout);
	if (!module_is_loaded("minihv"))
		ASSERT_EQ(0, module_load(minihv_ko_path(), NULL));
	r_minihv = run_random_guests(MINIHV_DEV, base, n, on_minihv);
	rg.base = base;
	rg.n = n;
	rg.res = on_kvm;
	vendor = with_kvm(random_guests_on_kvm, &rg, &back);
	r_kvm = rg.r;
	ASSERT_KVM_RAN(vendor, back);
	ASSERT_EQ(0, r_minihv) TH_LOG("setting up a guest on minihv: %s", strerror(-r_minihv));
	ASSERT_EQ(0, r_kvm) TH_LOG("setting up a guest on KVM: %s", strerror(-r_kvm));
	printf("# KVM's entries bounded by its APIC timer on the preemption timer: %s\n",
	       rg.hv_timer ? "yes" : "no (kvm_intel's preemption_timer is off)");

	for (i = 0; i < n; i++) {
		const struct rg_result *a = &on_minihv[i], *b = &on_kvm[i];

		EXPECT_EQ(0, a->err) TH_LOG("guest %lu: MINIHV_RUN: %s", i, strerror(a->err));
		EXPECT_EQ(0, b->err) TH_LOG("guest %lu: KVM_RUN: %s", i, strerror(b->err));
		if (a->reason == b->reason)
			continue;
		if (a->reason == MINIHV_EXIT_INTERNAL_ERROR &&
		    (a->suberror == MINIHV_INTERNAL_ERROR_EMULATION ||
		     a->suberror == MINIHV_INTERNAL_ERROR_STRING_IO))
			beyond++;
		else if (!a->err && !b->err &&
			 (a->reason == MINIHV_EXIT_INTR || b->reason == MINIHV_EXIT_INTR))
			timing++;
		else
			differ++;
		printf("# guest %lu (mode %lu, seed %#llx): minihv %s (%u) at %#llx [%02x %02x %02x %02x], KVM %s at %#llx [%02x %02x %02x %02x]\n",
		       i, i % NR_CPU_MODES, (unsigned long long)RANDOM_GUEST_SEED(base, i),
		       rg_kind(a), a->suberror, (unsigned long long)a->rip,
		       a->insn[0], a->insn[1], a->insn[2], a->insn[3],
		       rg_kind(b), (unsigned long long)b->rip,
		       b->insn[0], b->insn[1], b->insn[2], b->insn[3]);
	}
	printf("# %lu random guests: %lu ended the same, %lu beyond minihv's emulator, %lu still running on one side only, %lu otherwise different\n",
	       n, n - beyond - timing - differ, beyond, timing, differ);
	fflush(stdout);
	EXPECT_EQ(0, differ);
	free(on_minihv);
	free(on_kvm);
}

TEST_HARNESS_MAIN

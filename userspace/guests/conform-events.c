// SPDX-License-Identifier: GPL-2.0
/*
 * The events: part of the conformance kernel.  Which of several pending
 * events the CPU takes first, and events whose delivery needs the
 * hypervisor's help half-way.
 *
 * The order is architectural: at an instruction boundary an NMI goes
 * before a maskable interrupt, and a fault the instruction raises is
 * delivered before the boundary at which interrupts are looked at (SDM
 * Vol 3 6.9, "Priority Among Concurrent Exceptions and Interrupts").  STI
 * holds interrupts for one more instruction (SDM Vol 2B, STI); an NMI
 * blocks NMIs until the next IRET (SDM Vol 3 6.7.1).
 *
 * A hypervisor that emulates or injects events can get each of these
 * wrong: inject an interrupt over the fault it is about to inject, inject
 * into an interrupt shadow, nest NMIs, or lose or double an event whose
 * delivery was interrupted by an exit.  The last is what the "fresh
 * stack" checks provoke: the CPU pushes the frame onto a page the nested
 * page tables do not map yet, the delivery exits (EPT violation, #NPF)
 * with the event in the IDT-vectoring information (SDM Vol 3 27.2.4) or
 * EXITINTINFO (APM Vol 2 15.7.2), and the hypervisor must deliver it again,
 * once, with the right return address: for INT n, INT3 and INT1 that is
 * after the instruction, which on AMD-V without NRIP save the hypervisor
 * must work out itself.
 */
#include "conform.h"

#define EV_VECTOR	0x41		/* a fixed IPI to self */
#define SOFT_VECTOR	0x42		/* INT 42h */
#define ICR_FIXED	0x4000		/* physical destination, assert */
#define ICR_NMI		0x4400		/* delivery mode 100b */
#define CR4_RESERVED	(1u << 31)	/* no CPU defines CR4 bit 31 */
#define LOG_LEN		8

/* The checks an emulator may get wrong (conform.skip=), by name. */
#define SHADOW_NAME	"shadow: the STI shadow holds the IPI over a nested page fault in it"
#define INTN_NAME	"intn: INT 42h pushed to a page not yet mapped arrives once, EIP after INT"
#define INT1_NAME	"int1: ICEBP pushed to a page not yet mapped arrives once as #DB, EIP after it"

/* Pages nothing touches before the check that pushes a frame there. */
#define FRESH_PAGE(n)	(0x400000u + (n) * 0x100000u)

static volatile struct {
	u32 vector, eip;
} ev_log[LOG_LEN];
static volatile u32 ev_count, nmi_depth, nmi_max_depth, nmi_resend;
static u32 self_id;

/* Labels in the checks' instructions, for the EIPs the frames must hold. */
extern char ev_sti_nop_end[], ev_mov_cr4[], ev_mov_cr4_end[], ev_ud2[], ev_ud2_end[];
extern char ev_int_end[], ev_int3_end[], ev_icebp_end[], ev_load_end[];

static bool ev_hook(struct frame *f)
{
	u32 v = f->vector;

	if (v > 6 && v != 13 && v != EV_VECTOR && v != SOFT_VECTOR)
		return false;
	if (ev_count < LOG_LEN) {
		ev_log[ev_count].vector = v;
		ev_log[ev_count].eip = f->eip;
	}
	ev_count++;
	switch (v) {
	case 2:
		if (++nmi_depth > nmi_max_depth)
			nmi_max_depth = nmi_depth;
		/* A second NMI now must wait for this handler's IRET. */
		if (nmi_resend) {
			nmi_resend = 0;
			icr_send(self_id, ICR_NMI);
			pm_delay_us(1000);
		}
		nmi_depth--;
		break;
	case 6:
		/*
		 * UD2; or ICEBP on an emulator that lacks it (QEMU 7.2's TCG
		 * raises #UD): step its one byte, so that check fails and the
		 * run goes on.
		 */
		f->eip += f->eip == (u32)ev_ud2 ? 2 : 1;
		break;
	case 13:		/* MOV to CR4 */
		f->eip += 3;
		break;
	case EV_VECTOR:
		apic_write(APIC_EOI, 0);
		break;
	}
	return true;
}

static void ev_reset(void)
{
	ev_count = 0;
	nmi_max_depth = 0;
}

/* Waits up to 100 ms for @n events: how long an IPI may take to arrive. */
static void ev_wait(u32 n)
{
	u32 start = pm_now();

	while (ev_count < n && pm_since(start) < PM_TMR_HZ / 10)
		;
}

static bool ev_is(u32 i, u32 vector, const void *eip)
{
	return ev_count > i && ev_log[i].vector == vector &&
	       (!eip || ev_log[i].eip == (u32)eip);
}

/* A failed check's line shows the first events taken, as vector@EIP. */
static void ev_report(bool ok, const char *name)
{
	u32 i, v[6] = { 0 };

	for (i = 0; i < 3 && i < ev_count; i++) {
		v[2 * i] = ev_log[i].vector;
		v[2 * i + 1] = ev_log[i].eip;
	}
	report(ok, name, "%u taken: %x@%x %x@%x %x@%x", ev_count,
	       v[0], v[1], v[2], v[3], v[4], v[5]);
}

/*
 * A fixed IPI made pending with IF = 0, then an NMI: the NMI is taken
 * at once; the IPI after STI and one more instruction.
 */
static void __attribute__((noinline)) check_nmi_then_irq(void)
{
	u32 taken_before_sti;
	bool sent;

	ev_reset();
	asm volatile("cli");
	sent = icr_send(self_id, ICR_FIXED | EV_VECTOR);
	sent &= icr_send(self_id, ICR_NMI);
	ev_wait(1);
	taken_before_sti = ev_count;
	asm volatile("sti; nop\n"
		     ".globl ev_sti_nop_end\n"
		     "ev_sti_nop_end: cli" ::: "memory");
	ev_report(sent && taken_before_sti == 1 && ev_is(0, 2, NULL) &&
		  ev_is(1, EV_VECTOR, NULL) && ev_count == 2,
		  "events: an NMI with IF clear is taken at once, ahead of a pending IPI");
	ev_report(ev_count == 2 && ev_is(1, EV_VECTOR, ev_sti_nop_end),
		  "events: the pending IPI is taken after the instruction that follows STI");
}

/*
 * The instruction in the STI shadow reads a page not yet mapped: the
 * nested page fault exits inside the shadow, and the IPI must still wait
 * for the end of that instruction, not arrive before it.
 */
static void __attribute__((noinline)) check_shadow_over_exit(void)
{
	u32 v;

	if (skipped("vmrun-shadow")) {
		report_skip(SHADOW_NAME, "vmrun-shadow");
		return;
	}
	ev_reset();
	asm volatile("cli");
	icr_send(self_id, ICR_FIXED | EV_VECTOR);
	asm volatile("sti\n"
		     "mov (%1), %0\n"
		     ".globl ev_load_end\n"
		     "ev_load_end: cli"
		     : "=r"(v) : "r"(FRESH_PAGE(4)) : "memory");
	ev_report(ev_count == 1 && ev_is(0, EV_VECTOR, ev_load_end), SHADOW_NAME);
}

/* An NMI sent from the NMI handler: held until the handler's IRET. */
static void __attribute__((noinline)) check_nmi_blocking(void)
{
	ev_reset();
	nmi_resend = 1;
	icr_send(self_id, ICR_NMI);
	ev_wait(2);
	ev_report(ev_count == 2 && ev_is(0, 2, NULL) && ev_is(1, 2, NULL) &&
		  nmi_max_depth == 1,
		  "events: an NMI raised in the NMI handler is taken after its IRET, not nested");
}

/*
 * MOV to CR4 of a reserved bit, in the STI shadow, with an IPI pending:
 * the #GP the hypervisor injects (it intercepts CR4 writes) first, the IPI
 * when the handler's IRET sets IF again, at the next instruction.  (Not
 * RDMSR of an unknown MSR: QEMU's TCG reads those as 0.)
 */
static void __attribute__((noinline)) check_fault_before_irq(void)
{
	ev_reset();
	asm volatile("cli");
	icr_send(self_id, ICR_FIXED | EV_VECTOR);
	asm volatile("sti\n"
		     ".globl ev_mov_cr4, ev_mov_cr4_end\n"
		     "ev_mov_cr4: mov %0, %%cr4\n"
		     "ev_mov_cr4_end: cli"
		     :: "r"(read_cr4() | CR4_RESERVED) : "memory");
	ev_report(ev_count == 2 && ev_is(0, 13, ev_mov_cr4) &&
		  ev_is(1, EV_VECTOR, ev_mov_cr4_end),
		  "events: #GP of MOV to CR4 in an STI shadow comes first, the pending IPI after its IRET");
}

/*
 * UD2 with ESP on a fresh page and an IPI pending: the #UD whose delivery
 * took a nested page fault arrives once, then the IPI.
 */
static void __attribute__((noinline)) check_fault_fresh_stack(void)
{
	ev_reset();
	asm volatile("cli");
	icr_send(self_id, ICR_FIXED | EV_VECTOR);
	asm volatile("mov %%esp, %%esi\n"
		     "mov %0, %%esp\n"
		     "sti\n"
		     ".globl ev_ud2, ev_ud2_end\n"
		     "ev_ud2: ud2\n"
		     "ev_ud2_end: cli\n"
		     "mov %%esi, %%esp"
		     :: "r"(FRESH_PAGE(0) + 4096) : "esi", "memory");
	ev_report(ev_count == 2 && ev_is(0, 6, ev_ud2) && ev_is(1, EV_VECTOR, ev_ud2_end),
		  "events: #UD pushed to a page not yet mapped arrives once, then the pending IPI");
}

/* INT 42h, INT3 and INT1 (ICEBP) with ESP on fresh pages: once, EIP after. */
static void __attribute__((noinline)) check_soft_fresh_stack(void)
{
	if (skipped("intn")) {
		report_skip(INTN_NAME, "intn");
	} else {
		ev_reset();
		asm volatile("mov %%esp, %%esi\n"
			     "mov %0, %%esp\n"
			     "int $0x42\n"
			     ".globl ev_int_end\n"
			     "ev_int_end: mov %%esi, %%esp"
			     :: "r"(FRESH_PAGE(1) + 4096) : "esi", "memory");
		ev_report(ev_count == 1 && ev_is(0, SOFT_VECTOR, ev_int_end), INTN_NAME);
	}

	ev_reset();
	asm volatile("mov %%esp, %%esi\n"
		     "mov %0, %%esp\n"
		     "int3\n"
		     ".globl ev_int3_end\n"
		     "ev_int3_end: mov %%esi, %%esp"
		     :: "r"(FRESH_PAGE(2) + 4096) : "esi", "memory");
	ev_report(ev_count == 1 && ev_is(0, 3, ev_int3_end),
		  "events: INT3 pushed to a page not yet mapped arrives once, EIP after INT3");

	if (skipped("icebp")) {
		report_skip(INT1_NAME, "icebp");
		return;
	}
	ev_reset();
	asm volatile("mov %%esp, %%esi\n"
		     "mov %0, %%esp\n"
		     ".byte 0xf1\n"
		     ".globl ev_icebp_end\n"
		     "ev_icebp_end: mov %%esi, %%esp"
		     :: "r"(FRESH_PAGE(3) + 4096) : "esi", "memory");
	ev_report(ev_count == 1 && ev_is(0, 1, ev_icebp_end), INT1_NAME);
}

void check_events(void)
{
	self_id = apic_read(APIC_ID) >> 24;
	apic_write(APIC_SVR, apic_read(APIC_SVR) | 0x1ff);
	trap_hook = ev_hook;
	check_nmi_then_irq();
	check_shadow_over_exit();
	check_nmi_blocking();
	check_fault_fresh_stack();
	check_soft_fresh_stack();
	check_fault_before_irq();	/* last: hangs QEMU's TCG run natively */
	trap_hook = NULL;
	asm volatile("cli");
}

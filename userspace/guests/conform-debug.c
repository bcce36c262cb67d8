// SPDX-License-Identifier: GPL-2.0
/*
 * The conformance kernel's debug part ("debug:" lines): what a kernel's
 * or a debugger's #DB and #BP handlers rely on, after SDM Vol 3 chapter
 * 17 ("Debug, Branch Profile, TSC, and Intel Resource Director
 * Technology Features") and APM Vol 2 13.1 ("Software-Debug
 * Resources"), which agree on all of it:
 *
 *   - single step (EFLAGS.TF, 17.3.1.4) over an instruction the CPU runs
 *     itself and over ones a hypervisor completes for the guest (CPUID,
 *     RDMSR, IN, an MMIO read, MOV from DR7): one #DB after each, DR6.BS;
 *   - data and instruction breakpoints (17.2.4, 17.3.1.1-2): B0, BS
 *     clear, the data one a trap, the instruction one a fault that RF
 *     lets the instruction pass;
 *   - DR7.GD (17.3.1.3): the next MOV DR faults with DR6.BD, GD cleared;
 *   - the MOV SS and POP SS shadows (SDM Vol 3 6.8.3): the step trap of
 *     the MOV waits until after the next instruction;
 *   - INT3 and ICEBP (17.3.2, 17.3.1.5 and Vol 2 "INT n/INTO/INT3/INT1");
 *   - RF in the frame of a fault, none in a trap's (17.3.1.1);
 *   - DR6's fixed bits (17.2.3);
 *   - STI; HLT single-stepped while IRQ0 is on its way.
 *
 * Each stepped or probed instruction is a snippet of assembly below,
 * with labels at the instruction and after it, so a check compares the
 * frame's EIP with an address, not with a guess.
 */
#include "conform.h"

#define EFLAGS_TF	(1u << 8)
#define EFLAGS_IF	(1u << 9)
#define EFLAGS_RF	(1u << 16)

/* DR6 (SDM Vol 3 17.2.3): B0-B3, BD, BS, BT are the cause bits. */
#define DR6_B0		(1u << 0)
#define DR6_BD		(1u << 13)
#define DR6_BS		(1u << 14)
#define DR6_CAUSES	(0xfu | DR6_BD | DR6_BS | (1u << 15))
#define DR6_FIXED	0xffff0ff0u	/* the value with no cause (17.2.3) */
#define DR6_RTM		(1u << 16)	/* 0 writable where CPUID.7:EBX[11] */
#define DR6_BLD		(1u << 11)	/* the same, CPUID.7:ECX[24] */

/* DR7 (17.2.4): L0, R/W0 at 17:16, LEN0 at 19:18, GD. */
#define DR7_L0		(1u << 0)
#define DR7_GD		(1u << 13)
#define DR7_RW0_RW	(3u << 16)	/* data reads and writes */
#define DR7_LEN0_4	(3u << 18)	/* 4 bytes */

#define VEC_DB		1
#define VEC_BP		3
#define VEC_UD		6
#define VEC_GP		13
#define VEC_IRQ0	0x41		/* IRQ0 through the I/O APIC, below */

#define IOAPIC_BASE	0xfec00000u
#define PIT_GSI		2		/* the MADT's override for IRQ0 */

static inline u32 read_dr6(void) { u32 v; asm volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static inline u32 read_dr7(void) { u32 v; asm volatile("mov %%dr7, %0" : "=r"(v)); return v; }
static inline void write_dr0(u32 v) { asm volatile("mov %0, %%dr0" :: "r"(v)); }
static inline void write_dr6(u32 v) { asm volatile("mov %0, %%dr6" :: "r"(v)); }
static inline void write_dr7(u32 v) { asm volatile("mov %0, %%dr7" :: "r"(v)); }

/*
 * SNIPPET(name, setup, insn): a function that saves the registers, runs
 * @setup, then @insn at name_insn; name_after is where it ends.
 * STEPPED() sets EFLAGS.TF with POPF first: the step trap comes after the
 * instruction following the POPF (17.3.1.4: an instruction that sets TF
 * is not itself followed by a trap).  The handler clears TF again.
 */
#define SNIPPET(name, setup, insn)					\
	asm(".text\n"							\
	    ".globl " #name ", " #name "_insn, " #name "_after\n"	\
	    #name ":\n\t"						\
	    "pushal\n\t"						\
	    setup "\n"							\
	    #name "_insn:\n\t"						\
	    insn "\n"							\
	    #name "_after:\n\t"						\
	    "popal\n\t"							\
	    "ret\n");							\
	void name(void);						\
	extern const char name##_insn[], name##_after[]

#define SET_TF	"pushfl\n\torl $0x100, (%esp)\n\tpopfl"
#define STEPPED(name, setup, insn) SNIPPET(name, setup "\n\t" SET_TF, insn)

static volatile u32 bp_var;

/* Ones the CPU runs itself, and ones minihv and KVM complete (exits). */
STEPPED(step_nop, "", "nop");
STEPPED(step_cpuid, "xor %eax, %eax\n\txor %ecx, %ecx", "cpuid");
STEPPED(step_rdmsr, "mov $0x1b, %ecx", "rdmsr");		/* APIC_BASE */
STEPPED(step_in, "", "in $0x61, %al");
STEPPED(step_mmio, "", "mov 0xfee00030, %eax");		/* APIC version */
STEPPED(step_dr7, "", "mov %dr7, %eax");
/* The shadows: one trap, after the NOP (SDM Vol 3 6.8.3). */
STEPPED(step_mov_ss, "mov %ss, %eax", "mov %eax, %ss\n\tnop");
STEPPED(step_pop_ss, "push %ss", "pop %ss\n\tnop");
/* STI; HLT: HLT is at step_sti_hlt_insn + 1 (STI is FBh). */
STEPPED(step_sti_hlt, "", "sti\n\thlt");

SNIPPET(bp_write, "", "movl $1, bp_var");
SNIPPET(bp_read, "", "mov bp_var, %eax");
SNIPPET(bp_exec, "", "incl bp_var");
SNIPPET(gd_mov, "", "mov %dr0, %eax");
SNIPPET(int3, "", "int3");
SNIPPET(icebp, "", ".byte 0xf1");
SNIPPET(rdmsr_bad, "mov $0xdeadbeef, %ecx", "rdmsr");		/* no such MSR */

/* ---- what the handlers saw ---- */

#define MAX_EVENTS	8

struct event {
	u32 vector, error, eip, eflags, dr6, dr7;
};

static struct event events[MAX_EVENTS];
static volatile u32 nr_events;
static volatile bool set_rf;		/* the instruction breakpoint's handler */
static volatile u32 keep_tf_eip;	/* STI; HLT: go on stepping from here */
static volatile u32 fault_len;		/* a #UD or #GP expected: skip this */
static volatile u32 depth;
static bool dr6_unchecked;

static void events_clear(void)
{
	nr_events = 0;
	write_dr6(DR6_FIXED);
}

/*
 * #DB: DR6 and DR7 read (then DR6 reset: the CPU never clears it,
 * 17.2.3), TF cleared in the frame so that one step is one trap.  A #DB
 * that comes while the hook is at it (DR7.GD left set by the delivery)
 * is counted and its MOV DR (3 bytes) skipped, so it cannot recurse.
 */
static bool debug_hook(struct frame *f)
{
	struct event *e = &events[nr_events < MAX_EVENTS ? nr_events : MAX_EVENTS - 1];
	bool nested = depth;

	if (f->vector != VEC_DB && f->vector != VEC_BP && f->vector != VEC_IRQ0 &&
	    !((f->vector == VEC_UD || f->vector == VEC_GP) && fault_len))
		return false;
	depth++;
	*e = (struct event){ f->vector, f->error, f->eip, f->eflags, 0, 0 };
	if (nr_events < MAX_EVENTS)
		nr_events++;
	if (f->vector == VEC_DB && nested) {
		f->eip += 3;
	} else if (f->vector == VEC_DB) {
		e->dr6 = read_dr6();
		e->dr7 = read_dr7();
		write_dr6(DR6_FIXED);
		if (f->eip != keep_tf_eip)
			f->eflags &= ~EFLAGS_TF;
		if (set_rf)
			f->eflags |= EFLAGS_RF;
		if (nr_events >= 4)		/* a breakpoint that keeps firing */
			write_dr7(0);
	} else if (f->vector == VEC_UD || f->vector == VEC_GP) {
		f->eip += fault_len;
		fault_len = 0;
	} else if (f->vector == VEC_IRQ0) {
		apic_write(APIC_EOI, 0);
	}
	depth--;
	return true;
}

/* The cause bits of @dr6 are @want, unless the machine cannot say. */
static bool dr6_is(u32 dr6, u32 want)
{
	return dr6_unchecked || (dr6 & DR6_CAUSES) == want;
}

/* Exactly one event, of @vector at @eip. */
static bool one_event(u32 vector, const char *eip)
{
	return nr_events == 1 && events[0].vector == vector && events[0].eip == (u32)eip;
}

static void report_events(bool ok, const char *name, const char *want_eip)
{
	report(ok, name, "%u events, the first: vector %u at %x (want %x), DR6 %x, EFLAGS %x",
	       nr_events, events[0].vector, events[0].eip, (u32)want_eip, events[0].dr6,
	       events[0].eflags);
}

/* ---- single step (17.3.1.4) ---- */

struct stepped {
	const char *name;
	void (*run)(void);
	const char *after;
	bool exits;		/* minihv and KVM complete it: conform.skip=step-exit */
};

static const struct stepped stepped[] = {
	{ "debug: single step over NOP: one #DB after it, DR6.BS",
	  step_nop, step_nop_after, false },
	{ "debug: single step over an exit, CPUID: one #DB after it, DR6.BS",
	  step_cpuid, step_cpuid_after, true },
	{ "debug: single step over an exit, RDMSR: one #DB after it, DR6.BS",
	  step_rdmsr, step_rdmsr_after, true },
	{ "debug: single step over an exit, IN from 61h: one #DB after it, DR6.BS",
	  step_in, step_in_after, true },
	{ "debug: single step over an exit, MMIO read: one #DB after it, DR6.BS",
	  step_mmio, step_mmio_after, true },
	{ "debug: single step over an exit, MOV from DR7: one #DB after it, DR6.BS",
	  step_dr7, step_dr7_after, true },
};

static void check_single_step(const struct stepped *s)
{
	if (s->exits && skipped("step-exit")) {
		report_skip(s->name, "step-exit");
		return;
	}
	events_clear();
	s->run();
	report_events(one_event(VEC_DB, s->after) && dr6_is(events[0].dr6, DR6_BS),
		      s->name, s->after);
}

/*
 * MOV SS and POP SS (SDM Vol 3 6.8.3; Vol 2 "MOV", "POP"):
 * the debug exceptions of the instruction are held until the one after
 * it has run, then delivered with its trap as one #DB.
 */
static void check_ss_shadow(void)
{
	events_clear();
	step_mov_ss();
	report_events(one_event(VEC_DB, step_mov_ss_after) && dr6_is(events[0].dr6, DR6_BS),
		      "debug: shadow of MOV SS: one #DB, after the next instruction",
		      step_mov_ss_after);
	events_clear();
	step_pop_ss();
	report_events(one_event(VEC_DB, step_pop_ss_after) && dr6_is(events[0].dr6, DR6_BS),
		      "debug: shadow of POP SS: one #DB, after the next instruction",
		      step_pop_ss_after);
}

/* ---- breakpoints (17.2.4, 17.3.1.1, 17.3.1.2) ---- */

/*
 * Data breakpoints are traps: the #DB comes after the access, DR6.Bn
 * set, BS clear (17.2.3: BS is the step's alone).  The instruction
 * breakpoint is a fault before the instruction; the handler sets RF in
 * the frame (17.3.1.1), so after IRET the instruction runs once.
 */
static void check_breakpoints(void)
{
	static const char *const names[] = {
		"debug: breakpoint on a data write: #DB after it, DR6.B0, BS clear",
		"debug: breakpoint on a data read (R/W 11b): #DB after it, DR6.B0",
		"debug: breakpoint on an instruction: #DB before it, DR6.B0; RF lets it run once",
	};
	u32 i;

	if (skipped("dr7-vmrun")) {
		for (i = 0; i < 3; i++)
			report_skip(names[i], "dr7-vmrun");
		return;
	}
	bp_var = 0;
	events_clear();
	write_dr0((u32)&bp_var);
	write_dr7(DR7_L0 | DR7_RW0_RW | DR7_LEN0_4);
	bp_write();
	write_dr7(0);
	report_events(one_event(VEC_DB, bp_write_after) && dr6_is(events[0].dr6, DR6_B0) &&
		      bp_var == 1, names[0], bp_write_after);

	events_clear();
	write_dr7(DR7_L0 | DR7_RW0_RW | DR7_LEN0_4);
	bp_read();
	write_dr7(0);
	report_events(one_event(VEC_DB, bp_read_after) && dr6_is(events[0].dr6, DR6_B0),
		      names[1], bp_read_after);

	events_clear();
	write_dr0((u32)bp_exec_insn);
	set_rf = true;
	write_dr7(DR7_L0);			/* R/W0 00b, LEN0 00b: execution */
	bp_exec();
	write_dr7(0);
	set_rf = false;
	report(one_event(VEC_DB, bp_exec_insn) && dr6_is(events[0].dr6, DR6_B0) &&
	       bp_var == 2, names[2],
	       "%u events, the first at %x (want %x), DR6 %x; the INC ran %u times",
	       nr_events, events[0].eip, (u32)bp_exec_insn, events[0].dr6, bp_var - 1);
}

/*
 * DR7.GD (17.2.4, 17.3.1.3): the next MOV to or from a debug register is a #DB
 * fault, before it, with DR6.BD; the CPU clears GD as it delivers it, so
 * the handler can use the registers, and the MOV then runs.  minihv
 * emulates this (MOV DR exits), so DR6 is its own and always checked.
 */
static void check_gd(void)
{
	events_clear();
	write_dr7(DR7_GD);
	gd_mov();
	write_dr7(0);
	report(one_event(VEC_DB, gd_mov_insn) && (events[0].dr6 & DR6_CAUSES) == DR6_BD &&
	       !(events[0].dr7 & DR7_GD),
	       "debug: DR7.GD: the next MOV DR is a #DB fault, DR6.BD, GD cleared",
	       "%u events, the first: vector %u at %x (want %x), DR6 %x, DR7 %x",
	       nr_events, events[0].vector, events[0].eip, (u32)gd_mov_insn,
	       events[0].dr6, events[0].dr7);
}

/* ---- INT3, ICEBP, RF ---- */

/*
 * INT3 is a trap (#BP, EIP after the CCh byte); its frame has RF clear,
 * as every trap's: RF is set in the frame of faults only (17.3.1.1).
 * A fault minihv raises has RF like the CPU's own (#GP for an MSR that
 * does not exist: the RDMSR exits).
 */
static void check_int3_rf(void)
{
	events_clear();
	int3();
	report_events(one_event(VEC_BP, int3_after),
		      "debug: INT3 is a #BP trap, EIP after the CCh byte", int3_after);
	report(nr_events == 1 && !(events[0].eflags & EFLAGS_RF),
	       "debug: RF clear in the frame of a trap (#BP)", "EFLAGS %x", events[0].eflags);
	events_clear();
	fault_len = 2;				/* RDMSR */
	rdmsr_bad();
	fault_len = 0;
	report(one_event(VEC_GP, rdmsr_bad_insn) && events[0].error == 0 &&
	       (events[0].eflags & EFLAGS_RF),
	       "debug: RF set in the frame of a fault (#GP(0), RDMSR of no MSR)",
	       "%u events, vector %u error %x at %x, EFLAGS %x", nr_events, events[0].vector,
	       events[0].error, events[0].eip, events[0].eflags);
}

/*
 * ICEBP (F1h, INT1): a #DB trap after it with no cause bit in DR6 (SDM
 * Vol 2 "INT n/INTO/INT3/INT1": not a single step, not a breakpoint).
 */
static void check_icebp(void)
{
	const char *name = "debug: ICEBP (F1h) is a #DB trap after it, no DR6 cause bit";

	if (skipped("icebp")) {
		report_skip(name, "icebp");
		return;
	}
	events_clear();
	fault_len = 1;				/* a #UD is a failure, no bail-out */
	icebp();
	fault_len = 0;
	report_events(one_event(VEC_DB, icebp_after) && dr6_is(events[0].dr6, 0),
		      name, icebp_after);
}

/*
 * Writing 0 to DR6 leaves the fixed ones (17.2.3: bits 31:16 and 11:4
 * read 1, bit 12 reads 0); bit 16 (RTM) and bit 11 (bus lock) may be 0
 * where CPUID enumerates the feature.
 */
static void check_dr6_fixed(void)
{
	u32 r[4] = { 0 }, may = 0, v;

	cpuid(0, 0, r);
	if (r[0] >= 7) {
		cpuid(7, 0, r);
		may = (r[1] & (1u << 11) ? DR6_RTM : 0) | (r[2] & (1u << 24) ? DR6_BLD : 0);
	}
	write_dr6(0);
	v = read_dr6();
	write_dr6(DR6_FIXED);
	report((v | may) == DR6_FIXED,
	       "debug: DR6 written 0 reads FFFF0FF0h (its fixed bits)", "read %x", v);
}

/* ---- STI; HLT, stepped, with IRQ0 on its way ---- */

static void ioapic_write(u32 reg, u32 v)
{
	*(volatile u32 *)IOAPIC_BASE = reg;
	*(volatile u32 *)(IOAPIC_BASE + 0x10) = v;
}

/* "#DB@HLT" and the like, for the failure's detail. */
static const char *event_name(const struct event *e)
{
	const u32 hlt = (u32)step_sti_hlt_insn + 1, after = (u32)step_sti_hlt_after;

	if (e->vector == VEC_DB)
		return e->eip == hlt ? "#DB@HLT" : e->eip == after ? "#DB@after-HLT" : "#DB@?";
	if (e->vector == VEC_IRQ0)
		return e->eip == hlt ? "IRQ0@HLT" : e->eip == after ? "IRQ0@after-HLT" :
		       "IRQ0@later";
	return "other";
}

/*
 * TF set, then STI; HLT, with PIT channel 0 (mode 0, 55 ms) about to
 * raise IRQ0 through the I/O APIC.  The step trap after STI is not held
 * by STI's shadow (that holds interrupts only; SDM Vol 3 6.8.3 holds
 * debug exceptions for MOV SS and POP SS alone): #DB at the HLT.  Then
 * HLT's own trap, with DR6.BS, EIP after it; whether the CPU halts first
 * until IRQ0 wakes it the SDM does not say, but the trap comes before
 * the interrupt (Vol 3 6.9: traps on the previous instruction before
 * maskable interrupts), so IRQ0 is taken after the HLT or later.
 */
static void check_sti_hlt(void)
{
	const char *name = "debug: single step over STI; HLT: #DB at HLT, #DB after it, then IRQ0";
	u32 bsp = apic_read(APIC_ID) >> 24, start;
	bool ok;

	if (skipped("step-exit") || skipped("sti-step")) {
		report_skip(name, skipped("sti-step") ? "sti-step" : "step-exit");
		return;
	}
	apic_write(APIC_SVR, apic_read(APIC_SVR) | 0x1ff);
	ioapic_write(0x11 + 2 * PIT_GSI, bsp << 24);
	ioapic_write(0x10 + 2 * PIT_GSI, VEC_IRQ0);	/* fixed, edge, unmasked */
	events_clear();
	keep_tf_eip = (u32)step_sti_hlt_insn + 1;
	outb(0x43, 0x30);				/* ch. 0, LSB/MSB, mode 0 */
	outb(0x40, 0xff);
	outb(0x40, 0xff);
	step_sti_hlt();					/* returns with IF set */
	for (start = pm_now(); nr_events < 3 && pm_since(start) < PM_TMR_HZ;)
		;
	asm volatile("cli");
	keep_tf_eip = 0;
	ioapic_write(0x10 + 2 * PIT_GSI, 1u << 16);	/* masked */
	ok = nr_events == 3 && events[0].vector == VEC_DB &&
	     events[0].eip == (u32)step_sti_hlt_insn + 1 && dr6_is(events[0].dr6, DR6_BS) &&
	     events[1].vector == VEC_DB && events[1].eip == (u32)step_sti_hlt_after &&
	     dr6_is(events[1].dr6, DR6_BS) && events[2].vector == VEC_IRQ0 &&
	     events[2].eip != (u32)step_sti_hlt_insn + 1;
	report(ok, name, "%u events: %s %s %s", nr_events, event_name(&events[0]),
	       nr_events > 1 ? event_name(&events[1]) : "-",
	       nr_events > 2 ? event_name(&events[2]) : "-");
}

void check_debug(void)
{
	u32 i;

	dr6_unchecked = skipped("dr6");
	if (dr6_unchecked)
		print("# debug: DR6 of a #DB the CPU raised is not checked (conform.skip=dr6)\n");
	trap_hook = debug_hook;
	for (i = 0; i < sizeof(stepped) / sizeof(stepped[0]); i++)
		check_single_step(&stepped[i]);
	check_breakpoints();
	check_gd();
	check_ss_shadow();
	check_int3_rf();
	check_icebp();
	check_dr6_fixed();
	check_sti_hlt();
	trap_hook = 0;
}

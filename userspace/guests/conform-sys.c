// SPDX-License-Identifier: GPL-2.0
/*
 * The conformance kernel's system-call part ("syscall:" lines): the
 * fast system-call instructions from 32-bit protected mode at CPL 0,
 * their #GP and #UD rules and where they enter, after SDM Vol 2B
 * "SYSENTER" and "SYSCALL", SDM Vol 3 5.8.7 ("Performing Fast Calls to
 * System Procedures with the SYSENTER and SYSEXIT Instructions") and APM
 * Vol 2 6.1 ("Fast System Call and Return").  The two vendors differ in
 * one place the checks follow CPUID's vendor for: SYSCALL outside
 * 64-bit mode is #UD on Intel, a working call on AMD (legacy mode, STAR).
 *
 * Each instruction runs in a snippet that saves the registers and its
 * stack pointer; an entry point records what it found and goes back
 * there (no SYSEXIT or SYSRET: both go to CPL 3, which this kernel has no
 * segments for).
 */
#include "conform.h"

#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_EFER		0xc0000080
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define EFER_SCE		(1u << 0)

#define EFLAGS_IF		(1u << 9)
#define VEC_UD			6
#define VEC_GP			13

/* What an entry point saw. */
struct sys_entry {
	u32 entered, esp, cs, eflags, ecx;
};

struct sys_entry sys_seen;
u32 sys_saved_esp;
u32 sys_stack[64];

/*
 * sys_sysenter / sys_syscall: STI right before the instruction (its
 * shadow covers it), so the entry's EFLAGS shows whether IF was cleared.
 * A fault the hook takes resumes after the 2-byte instruction, at
 * *_back; so do the entry points, on the saved stack.
 */
asm(".text\n"
    ".globl sys_sysenter, sys_sysenter_insn, sys_syscall, sys_syscall_insn\n"
    ".globl sys_syscall_back, sysenter_entry, syscall_entry\n"
    "sys_sysenter:\n\t"
    "pushal\n\t"
    "mov %esp, sys_saved_esp\n\t"
    "sti\n"
    "sys_sysenter_insn:\n\t"
    "sysenter\n"
    "sys_sysenter_back:\n\t"
    "cli\n\t"
    "popal\n\t"
    "ret\n"
    "sysenter_entry:\n\t"
    "mov %esp, sys_seen + 4\n\t"
    "movl $1, sys_seen\n\t"
    "mov %cs, sys_seen + 8\n\t"
    "pushfl\n\t"
    "popl sys_seen + 12\n\t"
    "mov sys_saved_esp, %esp\n\t"
    "jmp sys_sysenter_back\n"
    "sys_syscall:\n\t"
    "pushal\n\t"
    "mov %esp, sys_saved_esp\n\t"
    "sti\n"
    "sys_syscall_insn:\n\t"
    "syscall\n"
    "sys_syscall_back:\n\t"
    "cli\n\t"
    "popal\n\t"
    "ret\n"
    "syscall_entry:\n\t"
    "mov %ecx, sys_seen + 16\n\t"
    "mov %esp, sys_seen + 4\n\t"
    "movl $1, sys_seen\n\t"
    "mov %cs, sys_seen + 8\n\t"
    "pushfl\n\t"
    "popl sys_seen + 12\n\t"
    "mov sys_saved_esp, %esp\n\t"
    "jmp sys_syscall_back\n");

void sys_sysenter(void);
void sys_syscall(void);
void sysenter_entry(void);
void syscall_entry(void);
extern const char sys_sysenter_insn[], sys_syscall_insn[], sys_syscall_back[];

/* The fault a check expects: vector, error code, where; -1 for none. */
static volatile int sys_vector;
static volatile u32 sys_error, sys_eip;
static volatile bool sys_armed;

static bool sys_hook(struct frame *f)
{
	if (!sys_armed || (f->vector != VEC_UD && f->vector != VEC_GP))
		return false;
	sys_vector = f->vector;
	sys_error = f->error;
	sys_eip = f->eip;
	f->eip += 2;			/* SYSENTER 0F 34, SYSCALL 0F 05 */
	return true;
}

/* Runs @snippet with the hook taking its #UD or #GP. */
static void sys_run(void (*snippet)(void))
{
	sys_vector = -1;
	sys_seen = (struct sys_entry){ 0 };
	sys_armed = true;
	snippet();
	sys_armed = false;
}

static void wrmsr(u32 msr, u64 v)
{
	wrmsr_safe(msr, v);
}

/*
 * SYSENTER (SDM Vol 2B): #GP(0) when IA32_SYSENTER_CS[15:2] is 0.  With
 * CS 08h it loads CS 08h and SS 10h (CS + 8), EIP and ESP from the MSRs,
 * and clears IF, VM and RF; CPL 0 may use it too.  The same on AMD in
 * legacy mode (APM Vol 2 6.1.1).
 */
static void check_sysenter(void)
{
	u32 top = (u32)&sys_stack[64];

	wrmsr(MSR_SYSENTER_CS, 0);
	sys_run(sys_sysenter);
	report(sys_vector == VEC_GP && sys_error == 0 && sys_eip == (u32)sys_sysenter_insn &&
	       !sys_seen.entered,
	       "syscall: SYSENTER with IA32_SYSENTER_CS 0 is #GP(0)",
	       "vector %d error %x at %x, entered %u", sys_vector, sys_error, sys_eip,
	       sys_seen.entered);

	wrmsr(MSR_SYSENTER_CS, 0x08);
	wrmsr(MSR_SYSENTER_ESP, top);
	wrmsr(MSR_SYSENTER_EIP, (u32)sysenter_entry);
	sys_run(sys_sysenter);
	wrmsr(MSR_SYSENTER_CS, 0);
	report(sys_seen.entered && sys_seen.esp == top && sys_seen.cs == 0x08 &&
	       !(sys_seen.eflags & EFLAGS_IF) && sys_vector < 0,
	       "syscall: SYSENTER with CS 08h enters at SYSENTER_EIP, ESP from SYSENTER_ESP, IF clear",
	       "entered %u, ESP %x (want %x), CS %x, EFLAGS %x, fault %d", sys_seen.entered,
	       sys_seen.esp, top, sys_seen.cs, sys_seen.eflags, sys_vector);
}

/*
 * SYSCALL (SDM Vol 2B; APM Vol 2 6.1.1): #UD with EFER.SCE clear.  With
 * SCE set, outside 64-bit mode: Intel #UD; AMD legacy mode: ECX the
 * return EIP, CS from STAR[47:32], SS that + 8, EIP STAR[31:0], IF, VM
 * and RF cleared.
 */
static void check_syscall_rules(bool intel)
{
	const char *name = "syscall: SYSCALL outside 64-bit mode: #UD on Intel, enters at STAR on AMD";
	u64 efer = 0, star = 0;
	bool ok;

	rdmsr_safe(MSR_EFER, &efer);
	rdmsr_safe(MSR_STAR, &star);
	wrmsr(MSR_EFER, efer & ~(u64)EFER_SCE);
	sys_run(sys_syscall);
	report(sys_vector == VEC_UD && sys_eip == (u32)sys_syscall_insn && !sys_seen.entered,
	       "syscall: SYSCALL with EFER.SCE clear is #UD",
	       "vector %d at %x, entered %u", sys_vector, sys_eip, sys_seen.entered);

	wrmsr(MSR_STAR, (u64)0x08 << 32 | (u32)syscall_entry);
	wrmsr(MSR_EFER, efer | EFER_SCE);
	sys_run(sys_syscall);
	if (intel)
		ok = sys_vector == VEC_UD && sys_eip == (u32)sys_syscall_insn && !sys_seen.entered;
	else
		ok = sys_vector < 0 && sys_seen.entered && sys_seen.cs == 0x08 &&
		     sys_seen.ecx == (u32)sys_syscall_back && !(sys_seen.eflags & EFLAGS_IF);
	report(ok, name, "%s: vector %d at %x, entered %u, CS %x, ECX %x (want %x), EFLAGS %x",
	       intel ? "Intel" : "AMD", sys_vector, sys_eip, sys_seen.entered,
	       sys_seen.cs, sys_seen.ecx, (u32)sys_syscall_back, sys_seen.eflags);
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_STAR, star);
}

/*
 * WRMSR to IA32_LSTAR checks the address is canonical (SDM Vol 2B
 * "WRMSR": #GP(0)); bit 63 set with bit 47 clear is non-canonical with
 * 48 and 57 address bits alike.  A CPU without long mode has no LSTAR:
 * #GP as well.  The old value stays.
 */
static void check_lstar(void)
{
	u64 before = 0, after = 0;
	int f;

	rdmsr_safe(MSR_LSTAR, &before);
	f = wrmsr_safe(MSR_LSTAR, 1ull << 63);
	rdmsr_safe(MSR_LSTAR, &after);
	report(f == VEC_GP && after == before,
	       "syscall: WRMSR of a non-canonical IA32_LSTAR is #GP, LSTAR unchanged",
	       "fault %d, LSTAR %x:%x then %x:%x", f, (u32)(before >> 32), (u32)before,
	       (u32)(after >> 32), (u32)after);
}

void check_syscall(void)
{
	bool intel = vendor_is("GenuineIntel");

	trap_hook = sys_hook;
	check_sysenter();
	check_syscall_rules(intel);
	trap_hook = 0;
	check_lstar();
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the PC conformance kernel share: conform.c's TAP
 * output, the trap frame of conform-entry.S, port and MSR access with an
 * expected fault.
 */
#ifndef CONFORM_H
#define CONFORM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/*
 * The plan: one per report() call.  Each part of the kernel (a file of
 * its own but for the platform checks in conform.c) says how many it has.
 */
#define NR_PLATFORM_CHECKS	30
#define NR_EVENTS_CHECKS	9	/* conform-events.c */
#define NR_DEBUG_CHECKS		18	/* conform-debug.c */
#define NR_SYSCALL_CHECKS	5	/* conform-sys.c */
#define NR_CHECKS		(NR_PLATFORM_CHECKS + NR_EVENTS_CHECKS + NR_DEBUG_CHECKS + \
				 NR_SYSCALL_CHECKS)
#define COM1		0x3f8
#define COM1_LSR	(COM1 + 5)
#define LSR_THRE	0x20
#define FW_CFG_SEL	0x510
#define FW_CFG_DATA	0x511
#define PM_TMR		0x608
#define PM1A_CNT	0x604
#define PM_TMR_HZ	3579545u
#define PIT_HZ		1193182u
#define PORT_EXIT	0xf4

#define APIC_BASE	0xfee00000u
#define APIC_ID		0x020
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define ICR_BUSY	(1u << 12)
#define IPI_VECTOR	0x40
#define MAX_CPUS	16

/* ---- from conform-entry.S ---- */

struct frame {
	u32 edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* PUSHA */
	u32 vector, error, eip, cs, eflags;
};

extern const u32 trap_stubs[];
extern u64 idt[256];
void idt_load(void);

/* ---- port I/O, MSRs, control registers ---- */

static inline void outb(u16 port, u8 v) { asm volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { asm volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;

	asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline u32 inl(u16 port)
{
	u32 v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 apic_read(u32 reg) { return *(volatile u32 *)(APIC_BASE + reg); }
static inline void apic_write(u32 reg, u32 v) { *(volatile u32 *)(APIC_BASE + reg) = v; }

static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
		     : "a"(leaf), "c"(sub));
}

/*
 * A fault the check expects: trap() records the vector and skips the
 * faulting instruction (@len bytes: RDMSR and WRMSR 2, MOV CR4 and
 * XSETBV 3).  Any other exception is a bail-out.
 */
extern volatile int fault_vector;
extern volatile u32 fault_skip;

static inline void expect_fault(u32 len)
{
	fault_vector = -1;
	fault_skip = len;
}

static inline int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;

	expect_fault(2);
	asm volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	fault_skip = 0;
	*val = (u64)hi << 32 | lo;
	return fault_vector;
}

static inline int wrmsr_safe(u32 msr, u64 val)
{
	expect_fault(2);
	asm volatile("wrmsr" :: "a"((u32)val), "d"((u32)(val >> 32)), "c"(msr) : "memory");
	fault_skip = 0;
	return fault_vector;
}

static inline u32 read_cr4(void) { u32 v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }

static inline int write_cr4_safe(u32 v)
{
	expect_fault(3);
	asm volatile("mov %0, %%cr4" :: "r"(v) : "memory");
	fault_skip = 0;
	return fault_vector;
}

/* ---- in conform.c, for every part ---- */

void print(const char *fmt, ...);
void report(bool ok, const char *name, const char *detail, ...);
/*
 * The test machine's emulator is known to get something wrong that no
 * guest can tell from inside: the runner names it on the Multiboot
 * command line, "conform.skip=a,b,..." (selftests/conformance_test.c
 * says which machine and why).  skipped(@what) says whether @what is
 * named; report_skip() is the check's TAP line with "# SKIP".
 */
bool skipped(const char *what);
void report_skip(const char *name, const char *what);
bool vendor_is(const char *v);
u32 pm_now(void);
u32 pm_since(u32 start);
void pm_delay_us(u32 us);
/* An IPI through the local APIC; false if ICR stays busy for 100 ms. */
bool icr_send(u32 dest, u32 lo);

/*
 * A part that takes exceptions or interrupts of its own sets trap_hook
 * for the time it needs it: trap() calls it first, and it returns true
 * when it has dealt with the event.
 */
extern bool (*volatile trap_hook)(struct frame *f);

/* The parts after the platform checks, in conform_main()'s order. */
void check_events(void);
void check_debug(void);
void check_syscall(void);

#endif /* CONFORM_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-side virtio fuzzer's platform: what virtio-fuzz.h promises,
 * on minihv-run's PC for a Multiboot kernel (Documentation/api.rst,
 * "minihv-run's guest layout").  RAM is identity-mapped (paging off), the
 * devices' registers are plain loads and stores, the debug port E9h
 * prints, the ACPI PM timer (608h) is the clock, and the run ends through
 * ACPI's S5 (exit status 0) or port F4h (2n + 1).
 */
#include <stdarg.h>

#include "virtio-fuzz.h"

#define PORT_DEBUGCON	0xe9
#define PORT_EXIT	0xf4
#define PM1A_CNT	0x604
#define PM_TMR		0x608
#define MB_LOADER_MAGIC	0x2badb002u
#define CMDLINE_MAX	256

static inline void outb(uint16_t port, uint8_t v)
{
	asm volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	asm volatile("outw %0, %1" :: "a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
} __attribute__((packed));

static uint64_t ram_size;
/*
 * A copy: the information structure sits in the runner's top 64 KiB of
 * RAM, which the fuzzer lets the devices write.
 */
static char cmdline[CMDLINE_MAX];

void *vf_ram(uint64_t gpa)
{
	return (void *)(uint32_t)gpa;
}

uint64_t vf_ram_size(void)
{
	return ram_size;
}

/* The registers take 32-bit accesses; the fuzzer also tries 8 and 16. */
uint32_t vf_mmio_read(uint64_t addr, unsigned int size)
{
	volatile void *p = vf_ram(addr);

	if (size == 1)
		return *(volatile uint8_t *)p;
	if (size == 2)
		return *(volatile uint16_t *)p;
	return *(volatile uint32_t *)p;
}

void vf_mmio_write(uint64_t addr, unsigned int size, uint32_t v)
{
	volatile void *p = vf_ram(addr);

	if (size == 1)
		*(volatile uint8_t *)p = v;
	else if (size == 2)
		*(volatile uint16_t *)p = v;
	else
		*(volatile uint32_t *)p = v;
}

uint32_t vf_clock(void)
{
	return inl(PM_TMR) & VF_CLOCK_MASK;
}

static void put_num(uint64_t v, unsigned int base)
{
	char buf[24];
	int n = 0;

	/* Base 10 only for 32 bits: no 64-bit division without libgcc. */
	do {
		buf[n++] = "0123456789abcdef"[base == 16 ? v & 15 : (uint32_t)v % 10];
		v = base == 16 ? v >> 4 : (uint32_t)v / 10;
	} while (v);
	while (n)
		outb(PORT_DEBUGCON, buf[--n]);
}

/* %s, %d, %u, %x and %llx: all the fuzzer prints. */
void vf_print(const char *fmt, ...)
{
	const char *s;
	va_list ap;
	int n;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			outb(PORT_DEBUGCON, *fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				outb(PORT_DEBUGCON, *s);
			break;
		case 'd':
			n = va_arg(ap, int);
			if (n < 0)
				outb(PORT_DEBUGCON, '-');
			put_num(n < 0 ? -(uint32_t)n : (uint32_t)n, 10);
			break;
		case 'u':
			put_num(va_arg(ap, uint32_t), 10);
			break;
		case 'x':
			put_num(va_arg(ap, uint32_t), 16);
			break;
		case 'l':
			fmt += 2;	/* "llx" */
			put_num(va_arg(ap, uint64_t), 16);
			break;
		default:
			outb(PORT_DEBUGCON, *fmt);
		}
	}
	va_end(ap);
}

uint64_t vf_arg(const char *key, uint64_t def)
{
	const char *p, *k;
	uint64_t v = 0;
	unsigned int d;

	for (p = cmdline; *p; p++) {
		if (p != cmdline && p[-1] != ' ')
			continue;
		for (k = key; *k && *p == *k; k++, p++)
			;
		if (*k)
			continue;
		if (p[0] == '0' && p[1] == 'x') {
			for (p += 2; (d = *p - '0') < 10 || (d = (*p | 0x20) - 'a' + 10) - 10 < 6;
			     p++)
				v = v << 4 | d;
		} else {
			for (; (d = *p - '0') < 10; p++)
				v = v * 10 + d;
		}
		return v;
	}
	return def;
}

void vf_end(bool ok, uint32_t code)
{
	/* ACPI S5: SLP_TYP 5, SLP_EN (ACPI 1.0 4.7.2.4; the DSDT's \_S5 is 5). */
	if (ok)
		outw(PM1A_CNT, 5 << 10 | 1 << 13);
	else
		outb(PORT_EXIT, code ? code : 0x7f);
	for (;;)
		asm volatile("cli; hlt");
}

void vf_start(uint32_t magic, const struct mb_info *mbi);
void vf_start(uint32_t magic, const struct mb_info *mbi)
{
	const char *s;
	unsigned int i;

	if (magic != MB_LOADER_MAGIC || !(mbi->flags & 1)) {
		vf_print("virtio-fuzz: FAIL not started by a Multiboot loader\n");
		vf_end(false, 1);
	}
	/* mem_upper: KiB from 1 MiB up to the runner's top 64 KiB (api.rst). */
	ram_size = ((uint64_t)mbi->mem_upper + 1024 + 64) * 1024;
	if (mbi->flags & (1 << 2))
		for (s = (const char *)mbi->cmdline, i = 0; s[i] && i < CMDLINE_MAX - 1; i++)
			cmdline[i] = s[i];
	vf_main();
}

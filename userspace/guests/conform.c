// SPDX-License-Identifier: GPL-2.0
/*
 * The PC conformance kernel: a Multiboot kernel (conform-entry.S has its
 * header, entry and 16-bit code) that checks what a kernel written for a
 * PC, or for QEMU's -kernel, takes for granted, and reports TAP on COM1:
 *
 *   fw_cfg:    QEMU's fw_cfg against the Multiboot map and the ACPI tables
 *   acpi:      the tables' checksums and the FADT's port blocks
 *   real mode: the 8259 and PIT ch. 0 as a BIOS programs them, IRQ0
 *              through the IVT, STI; HLT, EOI, the counter latch and
 *              the read-back status
 *   smp:       INIT-SIPI-SIPI, the APs against fw_cfg's count, fixed IPIs
 *   pm timer:  the ACPI PM timer's rate against PIT channel 2
 *   msr:       the model MSRs a kernel reads without asking CPUID
 *   cpuid:     XCR0 against leaf 0Dh; CR4 and EFER bits against CPUID
 *   debug:     single step, breakpoints, DR6 and RF (conform-debug.c)
 *   syscall:   SYSENTER and SYSCALL's #GP and #UD rules (conform-sys.c)
 *
 * Every check is a function with a TAP line; the names are the interface
 * selftests/conformance_test.c (and its minihv-versus-KVM comparison)
 * reads.  At the end the kernel powers the PC off through ACPI (minihv-run
 * exit status 0) when every check passed, else writes the number that
 * failed to port F4h (status 2n + 1).  Documentation/platform.rst, "The
 * conformance kernel".
 */
#include "conform.h"

/* ---- from conform-entry.S ---- */

struct rm_result {			/* rm_res in conform-entry.S */
	u32 count, cr0, ticks, stuck, pm_first, pm_last;
	u32 latch1, latch2, status, isr;
};

extern char rm_base[], ap_base[], ap_tramp[], ap_tramp_end[];
extern struct rm_result rm_result;
void rm_run(void);

/* ---- COM1 and TAP ---- */

static void putc_com1(char c)
{
	while (!(inb(COM1_LSR) & LSR_THRE))
		;
	outb(COM1, c);
}

static void put_num(u32 v, u32 base)
{
	char buf[12];
	int n = 0;

	do {
		buf[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		putc_com1(buf[--n]);
}

/* %s, %d, %u, %x (no widths): all a TAP line needs. */
static void vprint(const char *fmt, va_list ap)
{
	const char *s;
	int n;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			putc_com1(*fmt);
			continue;
		}
		switch (*++fmt) {
		case 's':
			for (s = va_arg(ap, const char *); *s; s++)
				putc_com1(*s);
			break;
		case 'd':
			n = va_arg(ap, int);
			if (n < 0)
				putc_com1('-');
			put_num(n < 0 ? -n : n, 10);
			break;
		case 'u':
			put_num(va_arg(ap, u32), 10);
			break;
		case 'x':
			put_num(va_arg(ap, u32), 16);
			break;
		default:
			putc_com1(*fmt);
		}
	}
}

void print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprint(fmt, ap);
	va_end(ap);
}

static u32 test_no, failed;

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
} __attribute__((packed));

/* One TAP line; the detail (after "# ") only when the check failed. */
void report(bool ok, const char *name, const char *detail, ...)
{
	va_list ap;

	test_no++;
	failed += !ok;
	print("%sok %u - %s", ok ? "" : "not ", test_no, name);
	if (!ok) {
		print(" # ");
		va_start(ap, detail);
		vprint(detail, ap);
		va_end(ap);
	}
	print("\n");
}

static const struct mb_info *mbi;

/* Where @key ends in @s, or 0. */
static const char *str_after(const char *s, const char *key)
{
	u32 i;

	for (; *s; s++) {
		for (i = 0; key[i] && s[i] == key[i]; i++)
			;
		if (!key[i])
			return s + i;
	}
	return 0;
}

/* One item of the comma-separated list after "conform.skip=". */
bool skipped(const char *what)
{
	const char *p = 0;
	u32 n;

	if (mbi && (mbi->flags & (1 << 2)))	/* Multiboot 0.6.96 3.3: cmdline */
		p = str_after((const char *)mbi->cmdline, "conform.skip=");
	while (p && *p && *p != ' ') {
		for (n = 0; what[n] && p[n] == what[n]; n++)
			;
		if (!what[n] && (p[n] == ',' || p[n] == ' ' || !p[n]))
			return true;
		while (*p && *p != ',' && *p != ' ')
			p++;
		if (*p == ',')
			p++;
	}
	return false;
}

/* TAP 13's directive: the line counts in the plan, the harness skips it. */
void report_skip(const char *name, const char *what)
{
	test_no++;
	print("ok %u - %s # SKIP conform.skip=%s\n", test_no, name, what);
}

/* ACPI S5 (SLP_TYP 5, SLP_EN: ACPI 1.0 4.7.2.4; the DSDT's \_S5 is 5). */
static void __attribute__((noreturn)) finish(void)
{
	if (test_no != NR_CHECKS)
		print("Bail out! %u checks ran, the plan says %u\n", test_no, NR_CHECKS);
	if (!failed && test_no == NR_CHECKS)
		outw(PM1A_CNT, 5 << 10 | 1 << 13);
	else
		outb(PORT_EXIT, failed ? failed : 0x7f);
	for (;;)
		asm volatile("cli; hlt");
}

static volatile u32 ipi_count[MAX_CPUS];
volatile int fault_vector;
volatile u32 fault_skip;
bool (*volatile trap_hook)(struct frame *f);

void trap(struct frame *f);
void trap(struct frame *f)
{
	if (trap_hook && trap_hook(f))
		return;
	if (f->vector == IPI_VECTOR) {
		ipi_count[(apic_read(APIC_ID) >> 24) % MAX_CPUS]++;
		apic_write(APIC_EOI, 0);
		return;
	}
	if (f->vector == 0xff)		/* the APIC's spurious vector: no EOI */
		return;
	if (fault_skip) {
		fault_vector = f->vector;
		f->eip += fault_skip;
		fault_skip = 0;
		return;
	}
	print("Bail out! exception %u (error %x) at %x\n", f->vector, f->error, f->eip);
	failed++;
	test_no = 0;
	finish();
}

/* 32-bit interrupt gates (SDM Vol 3 6.11), code selector 08h. */
static void idt_setup(void)
{
	const u32 *s;

	for (s = trap_stubs; s[0] != 0xffffffffu; s += 2)
		idt[s[0]] = (u64)(s[1] >> 16) << 48 | (u64)0x8e00 << 32 |
			    0x08u << 16 | (s[1] & 0xffff);
	idt_load();
}

/* ---- small helpers ---- */

u32 pm_now(void)
{
	return inl(PM_TMR) & 0xffffff;
}

u32 pm_since(u32 start)
{
	return (pm_now() - start) & 0xffffff;
}

/* A delay the protocol asks for (INIT, SIPI): not a synchronisation. */
void pm_delay_us(u32 us)
{
	u32 start = pm_now(), ticks = us * 3580 / 1000 + 1;

	while (pm_since(start) < ticks)
		;
}

static bool mem_eq(const void *a, const void *b, u32 n)
{
	const u8 *x = a, *y = b;

	while (n--)
		if (*x++ != *y++)
			return false;
	return true;
}

static void mem_copy(void *d, const void *s, u32 n)
{
	u8 *x = d;
	const u8 *y = s;

	while (n--)
		*x++ = *y++;
}

static u8 checksum(const void *p, u32 n)
{
	const u8 *b = p;
	u8 sum = 0;

	while (n--)
		sum += *b++;
	return sum;
}

/* ---- fw_cfg (QEMU docs/specs/fw_cfg.rst) and ACPI ---- */

static void fw_cfg_select(u16 key)
{
	outw(FW_CFG_SEL, key);
}

static void fw_cfg_read(void *buf, u32 n)
{
	u8 *b = buf;

	while (n--)
		*b++ = inb(FW_CFG_DATA);
}

static u32 be32(const u8 *p)
{
	return (u32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

struct mb_mmap {
	u32 size;
	u64 base, length;
	u32 type;
} __attribute__((packed));

struct e820 {
	u64 base, length;
	u32 type;
} __attribute__((packed));

static u32 nb_cpus;
static u8 madt_ids[MAX_CPUS];
static u32 madt_count;
static const u8 *rsdt, *fadt, *madt;

/* The file directory's item for @name (big-endian entries), or 0. */
static u16 fw_cfg_find(const char *name, u32 *size)
{
	u8 hdr[4], e[64];
	u32 n, i;

	fw_cfg_select(0x19);			/* FW_CFG_FILE_DIR */
	fw_cfg_read(hdr, 4);
	for (n = be32(hdr), i = 0; i < n && i < 64; i++) {
		fw_cfg_read(e, sizeof(e));	/* size, select, reserved, name[56] */
		if (mem_eq(e + 8, name, 9)) {
			*size = be32(e);
			return e[4] << 8 | e[5];
		}
	}
	return 0;
}

/* fw_cfg.rst: key 0000h reads "QEMU"; key 0001h bit 0: the port interface. */
static void check_fw_cfg_signature(void)
{
	char sig[4];
	u32 id = 0;

	fw_cfg_select(0x00);
	fw_cfg_read(sig, 4);
	report(mem_eq(sig, "QEMU", 4), "fw_cfg: signature \"QEMU\" at key 0",
	       "read %x %x %x %x", sig[0] & 0xff, sig[1] & 0xff, sig[2] & 0xff, sig[3] & 0xff);
	fw_cfg_select(0x01);
	fw_cfg_read(&id, 4);
	report(id & 1, "fw_cfg: ID has the traditional port interface (bit 0)", "ID %x", id);
}

/*
 * FW_CFG_RAM_SIZE (03h, 64 bits) is all RAM, which ends where the
 * Multiboot map's highest entry does (Multiboot 0.6.96 3.3: the map may
 * mark the top reserved, but it lists it).
 */
static void check_fw_cfg_ram(void)
{
	const u8 *p = (const u8 *)mbi->mmap_addr, *end = p + mbi->mmap_length;
	u64 ram = 0, top = 0;

	fw_cfg_select(0x03);
	fw_cfg_read(&ram, 8);
	for (; p < end; p += ((const struct mb_mmap *)p)->size + 4) {
		const struct mb_mmap *m = (const void *)p;

		if (m->base + m->length > top)
			top = m->base + m->length;
	}
	report(ram == top && (mbi->flags & (1 << 6)),
	       "fw_cfg: RAM size matches the Multiboot memory map's end",
	       "fw_cfg %x KiB, map %x KiB", (u32)(ram >> 10), (u32)(top >> 10));
	print("# fw_cfg: %u MiB\n", (u32)(ram >> 20));
}

/*
 * The "etc/e820" file (QEMU: 20-byte entries, base, length, type) and the
 * Multiboot map describe the same usable RAM: each RAM range of one lies
 * in a RAM range of the other.  They need not match entry for entry: QEMU
 * lists RAM as one range from 0 and leaves the BIOS's holes to SeaBIOS,
 * a Multiboot loader passes the BIOS's map on.
 */
#define MAX_E820	16

static bool ram_in(u64 base, u64 len, const struct e820 *map, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (map[i].type == 1 && base >= map[i].base &&
		    base + len <= map[i].base + map[i].length)
			return true;
	return false;
}

static void check_fw_cfg_e820(void)
{
	const u8 *p = (const u8 *)mbi->mmap_addr, *end = p + mbi->mmap_length;
	struct e820 fw[MAX_E820], mb[MAX_E820];
	u32 size = 0, nfw, nmb = 0, i, bad = 0;
	u16 key = fw_cfg_find("etc/e820", &size);

	nfw = size / sizeof(fw[0]) < MAX_E820 ? size / sizeof(fw[0]) : MAX_E820;
	if (key) {
		fw_cfg_select(key);
		fw_cfg_read(fw, nfw * sizeof(fw[0]));
	}
	for (; p < end && nmb < MAX_E820; p += ((const struct mb_mmap *)p)->size + 4, nmb++) {
		const struct mb_mmap *m = (const void *)p;

		mb[nmb] = (struct e820){ m->base, m->length, m->type };
	}
	for (i = 0; i < nmb; i++)
		bad += mb[i].type == 1 && !ram_in(mb[i].base, mb[i].length, fw, nfw);
	for (i = 0; i < nfw; i++)
		bad += fw[i].type == 1 && !ram_in(fw[i].base, fw[i].length, mb, nmb);
	report(key && nfw && !bad,
	       "fw_cfg: etc/e820 and the Multiboot map agree on usable RAM",
	       "item %x, %u entries, Multiboot %u, %u RAM ranges not in the other",
	       key, nfw, nmb, bad);
}

/* ACPI 1.0 5.2.4: "RSD PTR " on a 16-byte boundary in E0000h-FFFFFh. */
static const u8 *acpi_table(const char *sig)
{
	u32 i, n;

	if (!rsdt)
		return 0;
	n = (*(const u32 *)(rsdt + 4) - 36) / 4;
	for (i = 0; i < n; i++) {
		const u8 *t = (const u8 *)((const u32 *)(rsdt + 36))[i];

		if (mem_eq(t, sig, 4))
			return t;
	}
	return 0;
}

static void check_acpi_tables(void)
{
	const u8 *p, *rsdp = 0;
	u32 bad = 0;

	for (p = (const u8 *)0xe0000; p < (const u8 *)0x100000 && !rsdp; p += 16)
		if (mem_eq(p, "RSD PTR ", 8) && !checksum(p, 20))
			rsdp = p;
	if (rsdp)
		rsdt = (const u8 *)*(const u32 *)(rsdp + 16);
	if (rsdt && checksum(rsdt, *(const u32 *)(rsdt + 4)))
		bad++;
	fadt = acpi_table("FACP");
	madt = acpi_table("APIC");
	bad += fadt && checksum(fadt, *(const u32 *)(fadt + 4));
	bad += madt && checksum(madt, *(const u32 *)(madt + 4));
	report(rsdp && rsdt && fadt && madt && !bad,
	       "acpi: RSDP, RSDT, FADT and MADT found, checksums 0",
	       "RSDP %x RSDT %x FADT %x MADT %x, %u bad", (u32)rsdp, (u32)rsdt,
	       (u32)fadt, (u32)madt, bad);
}

/* FADT (ACPI 1.0 5.2.5): PM1a_CNT_BLK at 64, PM_TMR_BLK at 76. */
static void check_acpi_fadt(void)
{
	u32 cnt = fadt ? *(const u32 *)(fadt + 64) : 0;
	u32 tmr = fadt ? *(const u32 *)(fadt + 76) : 0;

	report(cnt == PM1A_CNT && tmr == PM_TMR,
	       "acpi: FADT names PM1a control 604h and the PM timer 608h",
	       "PM1a_CNT_BLK %x, PM_TMR_BLK %x", cnt, tmr);
}

/*
 * FW_CFG_NB_CPUS (05h, 16 bits) counts the processors the MADT lists as
 * enabled (ACPI 1.0 5.2.8.1: type 0, flags bit 0).
 */
static void check_fw_cfg_cpus(void)
{
	const u8 *p, *end;
	u16 n = 0;

	fw_cfg_select(0x05);
	fw_cfg_read(&n, 2);
	nb_cpus = n;
	if (madt) {
		end = madt + *(const u32 *)(madt + 4);
		for (p = madt + 44; p + 2 <= end && p[1]; p += p[1])
			if (p[0] == 0 && (*(const u32 *)(p + 4) & 1) && madt_count < MAX_CPUS)
				madt_ids[madt_count++] = p[3];
	}
	report(n >= 1 && n == madt_count,
	       "fw_cfg: CPU count matches the MADT's enabled local APICs",
	       "fw_cfg %u, MADT %u", n, madt_count);
	print("# fw_cfg: %u CPUs\n", n);
}

/* ---- real mode: 8259, PIT channel 0, IRQ0 ---- */

static void check_real_mode(void)
{
	const struct rm_result *r = &rm_result;
	u32 pm_ticks, want;

	print("# real mode: 8259 and PIT as a BIOS sets them, STI; HLT for IRQ0\n");
	rm_run();
	report(!(r->cr0 & 1), "real mode: CR0.PE clear after the switch back",
	       "CR0 %x", r->cr0);
	report(r->ticks >= 1,
	       "real mode: PIT channel 0 mode 2 raises IRQ0 through the 8259 at vector 08h",
	       "no IRQ0 within a second");
	report(r->ticks >= 5 && !r->stuck && !(r->isr & 1),
	       "real mode: HLT wakes for each IRQ0; the handler's EOI clears ISR",
	       "%u ticks, stuck %u, ISR %x", r->ticks, r->stuck, r->isr);
	/*
	 * 4 periods of count / 1.193182 MHz between the first tick and the
	 * fifth.  The counter keeps its own beat, as the 8254 does, so a
	 * first tick the host delivered late and a fifth on time measure
	 * short: by less than one period (a quarter), while a wrong rate
	 * (twice, or half) is off by half or more.  Longer only by the
	 * host's scheduling.  (A 10% bound failed once under make check's
	 * two machines: 127599 PM ticks for 143184.)
	 */
	pm_ticks = (r->pm_last - r->pm_first) & 0xffffff;
	want = 4 * r->count * 3;	/* 3.579545 MHz / 1.193182 MHz = 3.0000 */
	report(r->ticks >= 5 && pm_ticks > want - want / 4 && pm_ticks <= 10 * want,
	       "real mode: 4 IRQ0 periods take 4 * count PIT clocks by the PM timer",
	       "%u PM ticks, %u expected", pm_ticks, want);
	/* 8254 datasheet: a latched count of a mode 2 counter is in [1, N]. */
	report(r->latch1 >= 1 && r->latch1 <= r->count && r->latch2 >= 1 &&
	       r->latch2 <= r->count && r->latch1 != r->latch2,
	       "real mode: counter latch reads a running count in [1, N]",
	       "latched %u then %u, N %u", r->latch1, r->latch2, r->count);
	/* Status byte: bits 5:4 RW = 11b (LSB, MSB), 3:1 mode 010b, 0 binary. */
	report((r->status & 0x3f) == 0x34,
	       "real mode: read-back status says LSB/MSB, mode 2, binary",
	       "status %x", r->status);
}

/* ---- SMP: INIT-SIPI-SIPI and IPIs (SDM Vol 3 10.4.4, 10.6) ---- */

static volatile u32 ap_count;
static volatile u32 ap_seen[MAX_CPUS];

void ap_main(u32 apic_id);
void ap_main(u32 apic_id)
{
	__atomic_fetch_add(&ap_count, 1, __ATOMIC_SEQ_CST);
	ap_seen[apic_id]++;
	idt_load();
	apic_write(APIC_SVR, apic_read(APIC_SVR) | 0x1ff);	/* enabled, spurious FFh */
	for (;;)
		asm volatile("sti; hlt");
}

bool icr_send(u32 dest, u32 lo)
{
	u32 start = pm_now();

	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
	while (apic_read(APIC_ICR_LO) & ICR_BUSY)
		if (pm_since(start) > PM_TMR_HZ / 10)
			return false;
	return true;
}

static bool in_madt(u32 id)
{
	u32 i;

	for (i = 0; i < madt_count; i++)
		if (madt_ids[i] == id)
			return true;
	return false;
}

static void check_smp(void)
{
	u32 bsp = apic_read(APIC_ID) >> 24, i, start, want, twice = 0, strange = 0;
	u32 vector = (u32)ap_base >> 12, missed = 0, targets = 0;
	bool sent;

	report(in_madt(bsp), "smp: the BSP's local APIC ID is in the MADT",
	       "APIC ID %u", bsp);
	mem_copy(ap_base, ap_tramp, ap_tramp_end - ap_tramp);
	apic_write(APIC_SVR, apic_read(APIC_SVR) | 0x1ff);
	/*
	 * The SDM's MP initialization (10.4.4.1): INIT to all excluding self
	 * (ICR 000C4500h), 10 ms, SIPI (000C46xxh), 200 us, SIPI again, 200 us.
	 * A started AP ignores the second SIPI, so each counts once.
	 */
	sent = icr_send(0, 0x000c4500);
	pm_delay_us(10000);
	sent &= icr_send(0, 0x000c4600 | vector);
	pm_delay_us(200);
	sent &= icr_send(0, 0x000c4600 | vector);
	pm_delay_us(200);
	want = nb_cpus ? nb_cpus - 1 : 0;
	for (start = pm_now(); ap_count < want && pm_since(start) < PM_TMR_HZ;)
		;
	pm_delay_us(10000);	/* an AP counted twice shows up in this time */
	report(sent && ap_count == want,
	       "smp: INIT-SIPI-SIPI starts fw_cfg's CPU count less one APs, once each",
	       "%u APs started, fw_cfg says %u CPUs, ICR %s", ap_count, nb_cpus,
	       sent ? "idle" : "stuck busy");
	for (i = 0; i < MAX_CPUS; i++) {
		twice += ap_seen[i] > 1;
		strange += ap_seen[i] && (i == bsp || !in_madt(i));
	}
	report(ap_count && !twice && !strange,
	       "smp: each AP has a distinct APIC ID from the MADT, not the BSP's",
	       "%u started twice, %u not in the MADT or the BSP's", twice, strange);

	/* A fixed IPI, physical destination, vector 40h, to each AP in turn. */
	for (i = 0; i < madt_count; i++) {
		u32 id = madt_ids[i];

		if (id == bsp || id >= MAX_CPUS)
			continue;
		targets++;
		icr_send(id, 0x4000 | IPI_VECTOR);
		for (start = pm_now(); !ipi_count[id] && pm_since(start) < PM_TMR_HZ;)
			;
		missed += ipi_count[id] != 1;
	}
	report(ap_count && targets == ap_count && !missed,
	       "smp: a fixed IPI from the BSP reaches each AP once",
	       "%u of %u APs did not count exactly one", missed, targets);
}

/* ---- the PM timer against PIT channel 2 ---- */

/*
 * Channel 2 in mode 0 with the gate high (port 61h bit 0) counts @count
 * PIT clocks, then its output (61h bit 5) goes high (8254 datasheet,
 * mode 0).  Returns the PM ticks that took, or 0 when it never ended.
 */
static u32 pm_per_pit(u16 count)
{
	u32 start, took;

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);	/* gate on, speaker off */
	outb(0x43, 0xb0);			/* ch. 2, LSB/MSB, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	start = pm_now();
	while (!(inb(0x61) & 0x20))
		if (pm_since(start) > PM_TMR_HZ)
			return 0;
	took = pm_since(start);
	outb(0x61, inb(0x61) & ~0x03);
	return took;
}

static void check_pm_timer(void)
{
	u32 a = pm_now(), b, c, best = ~0u, i, t, want = 0xffff * 3;

	for (b = a, i = 0; b == a && i < 100000; i++)
		b = pm_now();
	c = pm_now();
	report(b != a && ((c - a) & 0xffffff) < 0x800000 && inl(PM_TMR) >> 24 == 0,
	       "pm timer: a 24-bit counter at 608h that counts up",
	       "%x, %x, %x", a, b, c);
	/* The smallest of three: the host's scheduling only adds time. */
	for (i = 0; i < 3; i++) {
		t = pm_per_pit(0xffff);
		if (t && t < best)
			best = t;
	}
	report(best != ~0u && best >= want - want / 10 && best <= want + want / 2,
	       "pm timer: 3.579545 MHz, 3 ticks per PIT clock (channel 2, port 61h)",
	       "%u PM ticks for 65535 PIT clocks, %u expected", best, want);
}

/* ---- model MSRs (Documentation/platform.rst, "Model MSRs") ---- */

static const u32 intel_msrs[] = {
	0x10, 0x3a, 0x8b, 0xc1, 0xc2, 0xce, 0xfe, 0x140, 0x179, 0x17a,
	0x186, 0x187, 0x1a0, 0x2ff, 0
};
static const u32 amd_msrs[] = {
	0x10, 0x8b, 0xfe, 0x179, 0x17a, 0x1a0, 0x2ff, 0xc0010000, 0xc0010001,
	0xc0010002, 0xc0010003, 0xc0010004, 0xc0010005, 0xc0010006,
	0xc0010007, 0xc0010010, 0xc0010015, 0xc0010055, 0xc0011029, 0
};

bool vendor_is(const char *v)
{
	u32 r[4];

	cpuid(0, 0, r);
	return mem_eq(&r[1], v, 4) && mem_eq(&r[3], v + 4, 4) && mem_eq(&r[2], v + 8, 4);
}

static void check_msrs(void)
{
	bool intel = vendor_is("GenuineIntel"), amd = vendor_is("AuthenticAMD");
	const u32 *m = intel ? intel_msrs : amd_msrs;
	u32 bad = 0, first = 0;
	u64 v;

	for (; (intel || amd) && *m; m++) {
		if (rdmsr_safe(*m, &v) < 0)
			continue;
		if (!bad++)
			first = *m;
	}
	report((intel || amd) && !bad,
	       "msr: the vendor's model MSRs read without #GP",
	       "%u faulted, the first %x", bad, first);
}

/* ---- CPUID against what the CPU lets a kernel turn on ---- */

static u32 xgetbv0(void)
{
	u32 lo, hi;

	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return lo;
}

static int xsetbv0_safe(u32 v)
{
	expect_fault(3);
	asm volatile("xsetbv" :: "a"(v), "d"(0), "c"(0) : "memory");
	fault_skip = 0;
	return fault_vector;
}

/*
 * SDM Vol 1 13.2-13.3: with CR4.OSXSAVE, XCR0 holds x87 (bit 0, always
 * set) and only bits leaf 0Dh's EDX:EAX lists; leaf 0Dh EBX is the save
 * area the enabled features need (576 bytes for x87 + SSE).  Without
 * XSAVE, CR4.OSXSAVE is reserved (#GP).
 */
static void check_xsave(void)
{
	u32 r[4], d[4] = { 0 }, cr4 = read_cr4(), xcr0 = 0, size = 0;
	bool has, ok;
	int f, g = -1;

	cpuid(1, 0, r);
	has = r[2] & (1u << 26);
	f = write_cr4_safe(cr4 | 1u << 18);
	if (has && f < 0) {
		cpuid(0xd, 0, d);
		xcr0 = xgetbv0();
		g = xsetbv0_safe(3);
		cpuid(0xd, 0, r);
		size = r[1];
		ok = (xcr0 & 1) && !(xcr0 & ~d[0]) && g < 0 && xgetbv0() == 3 && size == 576;
		write_cr4_safe(cr4);
	} else {
		ok = !has && f == 13;
	}
	report(ok, "cpuid: XCR0 within leaf 0Dh, XSETBV x87|SSE sizes the area 576",
	       "XSAVE %u, CR4 fault %d, XCR0 %x, leaf 0Dh %x, XSETBV fault %d, size %u",
	       has, f, xcr0, d[0], g, size);
}

/*
 * MOV to CR4 #GPs on a bit the CPU does not have (SDM Vol 2B, "MOV -
 * Move to/from Control Registers": reserved bits).  Each bit below is
 * set, looked at, and cleared again.
 */
struct cr4_bit {
	const char *name;
	u32 bit, leaf, reg, cpuid_bit;	/* reg: 1 EBX, 2 ECX */
};

static void check_cr4_bit(const struct cr4_bit *b)
{
	u32 r[4], cr4 = read_cr4(), max;
	bool has;
	int f;

	cpuid(b->leaf & 0x80000000, 0, r);
	max = r[0];
	r[b->reg] = 0;
	if (b->leaf <= max)
		cpuid(b->leaf, 0, r);
	has = r[b->reg] & (1u << b->cpuid_bit);
	f = write_cr4_safe(cr4 | 1u << b->bit);
	if (f < 0)
		write_cr4_safe(cr4);
	report(has ? f < 0 : f == 13, b->name, "CPUID %u, MOV to CR4 %s", has,
	       f < 0 ? "took it" : f == 13 ? "#GP" : "another fault");
}

static const struct cr4_bit cr4_bits[] = {
	{ "cpuid: CR4.SMEP (20) settable exactly when CPUID.7:EBX[7]", 20, 7, 1, 7 },
	{ "cpuid: CR4.SMAP (21) settable exactly when CPUID.7:EBX[20]", 21, 7, 1, 20 },
	{ "cpuid: CR4.UMIP (11) settable exactly when CPUID.7:ECX[2]", 11, 7, 2, 2 },
	{ "cpuid: CR4.FSGSBASE (16) settable exactly when CPUID.7:EBX[0]", 16, 7, 1, 0 },
	{ "cpuid: CR4.PKE (22) settable exactly when CPUID.7:ECX[3]", 22, 7, 2, 3 },
	{ "cpuid: CR4.VMXE (13) settable exactly when CPUID.1:ECX[5]", 13, 1, 2, 5 },
};

/* SDM Vol 2B MOV CR: outside IA-32e mode, setting CR4.PCIDE is #GP. */
static void check_pcide(void)
{
	u32 r[4], cr4 = read_cr4();
	int f;

	cpuid(1, 0, r);
	f = write_cr4_safe(cr4 | 1u << 17);
	if (f < 0)
		write_cr4_safe(cr4);
	report(f == 13, "cpuid: CR4.PCIDE (17) is #GP in 32-bit protected mode",
	       "CPUID.1:ECX[17] %u, fault %d", !!(r[2] & (1u << 17)), f);
}

/* APM Vol 2 15.4: EFER.SVME (12) is #GP unless CPUID 8000_0001h:ECX[2]. */
static void check_svme(void)
{
	u32 r[4];
	u64 efer;
	bool has = false;
	int f;

	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		has = r[2] & (1u << 2);
	}
	f = rdmsr_safe(0xc0000080, &efer);
	if (f < 0) {
		f = wrmsr_safe(0xc0000080, efer | 1u << 12);
		if (f < 0)
			wrmsr_safe(0xc0000080, efer);
	}
	report(has ? f < 0 : f == 13,
	       "cpuid: EFER.SVME (12) settable exactly when CPUID.80000001h:ECX[2]",
	       "CPUID %u, fault %d", has, f);
}

/* ---- the order of the report ---- */

void conform_main(u32 magic, const struct mb_info *info);
void conform_main(u32 magic, const struct mb_info *info)
{
	u32 i;

	idt_setup();
	mbi = info;
	print("TAP version 13\n1..%u\n", NR_CHECKS);
	report(magic == 0x2badb002, "multiboot: loader magic 2BADB002h in EAX",
	       "EAX %x", magic);
	check_fw_cfg_signature();
	check_fw_cfg_ram();
	check_fw_cfg_e820();
	check_acpi_tables();
	check_acpi_fadt();
	check_fw_cfg_cpus();
	check_real_mode();
	check_smp();
	check_pm_timer();
	check_msrs();
	check_xsave();
	for (i = 0; i < sizeof(cr4_bits) / sizeof(cr4_bits[0]); i++)
		check_cr4_bit(&cr4_bits[i]);
	check_pcide();
	check_svme();
	check_events();
	check_debug();
	check_syscall();
	finish();
}

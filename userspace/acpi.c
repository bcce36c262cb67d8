// SPDX-License-Identifier: GPL-2.0
/* minihv-run's ACPI tables: see acpi.h.  Section numbers are ACPI 6.4's. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <linux/minihv.h>

#include "acpi.h"

_Static_assert(ACPI_PM_TMR == MINIHV_PM_TIMER_PORT, "the FADT names the kernel's PM timer");

#define IOAPIC_ADDR	0xfec00000u
#define LAPIC_ADDR	0xfee00000u

/* The layout of the RSDT, FADT, FACS, MADT and DSDT inside ACPI_TABLES. */
#define OFF_RSDP	0x000
#define OFF_RSDT	0x040
#define OFF_FADT	0x080
#define OFF_FACS	0x140	/* 64-byte aligned (5.2.10) */
#define OFF_MADT	0x180	/* 204 bytes for 16 vCPUs */
#define OFF_DSDT	0x280	/* to the end of the page */
#define TABLES_SIZE	0x1000

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Every table's bytes sum to 0 (5.2.6). */
static uint8_t checksum(const uint8_t *p, unsigned int len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return -sum;
}

/* The common header (5.2.6); its checksum is set last, by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "MINIHV", 6);		/* OEM ID */
	memcpy(t + 16, "MINIHV  ", 8);		/* OEM table ID */
	put32(t + 24, 1);			/* OEM revision */
	memcpy(t + 28, "MHVR", 4);		/* creator ID */
	put32(t + 32, 1);			/* creator revision */
}

static void finish(uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = checksum(t, len);
}

/*
 * FADT revision 1 (5.2.9; 116 bytes): the PM1 blocks, SCI on IRQ 9, no
 * SMI command port (the machine is always in ACPI mode, 4.8.2.1), the PM
 * timer (24 bits: TMR_VAL_EXT clear), no GPE blocks, C2 and C3 disabled
 * by their latencies.
 */
static void write_fadt(uint8_t *t)
{
	header(t, "FACP", 116, 1);
	put32(t + 36, ACPI_TABLES + OFF_FACS);
	put32(t + 40, ACPI_TABLES + OFF_DSDT);
	put16(t + 46, ACPI_SCI_IRQ);
	put32(t + 56, ACPI_PM1A_EVT);
	put32(t + 64, ACPI_PM1A_CNT);
	put32(t + 76, ACPI_PM_TMR);
	t[88] = 4;			/* PM1_EVT_LEN */
	t[89] = 2;			/* PM1_CNT_LEN */
	t[91] = 4;			/* PM_TMR_LEN */
	put16(t + 96, 101);		/* P_LVL2_LAT > 100: no C2 */
	put16(t + 98, 1001);		/* P_LVL3_LAT > 1000: no C3 */
	/* WBINVD works, C1 (HLT) on every CPU, no fixed power or sleep button. */
	put32(t + 112, (1 << 0) | (1 << 2) | (1 << 4) | (1 << 5));
	finish(t);
}

/* FACS (5.2.10): required, though nothing here uses its waking vector. */
static void write_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	put32(t + 4, 64);
	t[32] = 1;			/* version */
}

/* AML's PkgLength (20.2.4) of @len bytes that follow it; returns its size. */
static unsigned int pkg_length(uint8_t *p, unsigned int len)
{
	if (len + 1 < 0x40) {
		p[0] = len + 1;
		return 1;
	}
	len += 2;			/* up to 4095 with two bytes */
	p[0] = 0x40 | (len & 0xf);
	p[1] = len >> 4;
	return 2;
}

/*
 * One virtio-mmio device (Linux's virtio_mmio ACPI match, "LNRO0005"):
 *   Device (VRnn) { Name (_HID, "LNRO0005") Name (_UID, nn)
 *     Name (_CRS, ResourceTemplate () {
 *       Memory32Fixed (ReadWrite, base, size)
 *       Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { pin } }) }
 * The resource descriptors are 6.4.3.4 (fixed 32-bit memory) and 6.4.3.6
 * (extended interrupt); edge and active high as the irqfd raises it.
 */
static unsigned int aml_virtio(uint8_t *p, const struct acpi_mmio_dev *dev, unsigned int i)
{
	uint8_t body[64], *b = body;
	unsigned int n;

	memcpy(b, "VR", 2);
	b[2] = '0' + i / 10;
	b[3] = '0' + i % 10;
	b += 4;
	memcpy(b, "\x08_HID\x0dLNRO0005\x00", 15);	/* NameOp, StringPrefix */
	b += 15;
	memcpy(b, "\x08_UID\x0a", 6);			/* NameOp, BytePrefix */
	b[6] = i;
	b += 7;
	memcpy(b, "\x08_CRS\x11", 6);			/* NameOp, BufferOp */
	b[6] = 1 + 2 + 23;				/* PkgLength: itself, size, bytes */
	b[7] = 0x0a;					/* BufferSize: BytePrefix */
	b[8] = 23;
	b += 9;
	b[0] = 0x86;					/* Memory32Fixed */
	put16(b + 1, 9);
	b[3] = 1;					/* read-write */
	put32(b + 4, dev->base);
	put32(b + 8, dev->size);
	b += 12;
	b[0] = 0x89;					/* Extended Interrupt */
	put16(b + 1, 6);
	b[3] = (1 << 0) | (1 << 1);			/* consumer, edge, high, exclusive */
	b[4] = 1;					/* one interrupt */
	put32(b + 5, dev->irq);
	b += 9;
	b[0] = 0x79;					/* End Tag, checksum 0 */
	b[1] = 0;
	b += 2;
	p[0] = 0x5b;					/* DeviceOp */
	p[1] = 0x82;
	n = pkg_length(p + 2, b - body);
	memcpy(p + 2 + n, body, b - body);
	return 2 + n + (b - body);
}

/*
 * The DSDT (5.2.11.1): the soft-off sleep package (7.4.2),
 * Name (_S5, Package (4) { 5, 5, 0, 0 }), and Scope (\_SB) with the
 * virtio-mmio devices, in AML (20.2).
 */
static void write_dsdt(uint8_t *t, const struct acpi_mmio_dev *devs, unsigned int ndevs)
{
	static const uint8_t s5[] = {
		0x08, '_', 'S', '5', '_',	/* NameOp, NameSeg */
		0x12, 0x08, 0x04,		/* PackageOp, PkgLength, NumElements */
		0x0a, ACPI_SLP_TYP_S5,		/* BytePrefix 5: PM1a SLP_TYP */
		0x0a, ACPI_SLP_TYP_S5,		/* PM1b */
		0x00, 0x00,			/* ZeroOp, ZeroOp: reserved */
	};
	uint8_t scope[1024], *p = t + 36;
	unsigned int i, len = 5;

	memcpy(p, s5, sizeof(s5));
	p += sizeof(s5);
	if (ndevs) {
		memcpy(scope, "\x5c_SB_", 5);		/* RootChar, NameSeg */
		for (i = 0; i < ndevs; i++)
			len += aml_virtio(scope + len, &devs[i], i);
		*p++ = 0x10;				/* ScopeOp */
		p += pkg_length(p, len);
		memcpy(p, scope, len);
		p += len;
	}
	header(t, "DSDT", p - t, 1);
	finish(t);
}

/*
 * MADT (5.2.12): the local APIC page, PC-AT compatible 8259s (the
 * kernel's, beside the I/O APIC), a Processor Local APIC per vCPU (APIC
 * id = vCPU id), the I/O APIC with GSIs 0-23, and two interrupt source
 * overrides: the PIT's IRQ0 on GSI 2, where the kernel wires it (as every
 * PC since the I/O APIC), and the SCI's polarity and trigger.
 */
static void write_madt(uint8_t *t, unsigned int ncpus)
{
	uint8_t *e = t + 44;
	unsigned int i;

	put32(t + 36, LAPIC_ADDR);
	put32(t + 40, 1);			/* PCAT_COMPAT */
	for (i = 0; i < ncpus; i++, e += 8) {
		e[0] = 0;			/* Processor Local APIC */
		e[1] = 8;
		e[2] = i;			/* ACPI processor UID */
		e[3] = i;			/* APIC ID */
		put32(e + 4, 1);		/* enabled */
	}
	e[0] = 1;				/* I/O APIC */
	e[1] = 12;
	e[2] = 0;				/* I/O APIC ID */
	put32(e + 4, IOAPIC_ADDR);
	put32(e + 8, 0);			/* GSI base */
	e += 12;
	e[0] = 2;				/* Interrupt Source Override */
	e[1] = 10;
	e[2] = 0;				/* ISA */
	e[3] = 0;				/* IRQ0, the PIT ... */
	put32(e + 4, 2);			/* ... on GSI 2 */
	put16(e + 8, 0);			/* conforming: edge, high */
	e += 10;
	e[0] = 2;				/* Interrupt Source Override */
	e[1] = 10;
	e[2] = 0;				/* ISA */
	e[3] = ACPI_SCI_IRQ;
	put32(e + 4, ACPI_SCI_IRQ);
	put16(e + 8, 0xf);			/* level-triggered, active low */
	e += 10;
	header(t, "APIC", e - t, 1);
	finish(t);
}

void acpi_write_tables(uint8_t *ram, unsigned int ncpus, const struct acpi_mmio_dev *devs,
		       unsigned int ndevs)
{
	uint8_t *base = ram + ACPI_TABLES;
	uint8_t *rsdp = base + OFF_RSDP, *rsdt = base + OFF_RSDT;

	_Static_assert(OFF_DSDT + 36 + 14 + 7 + ACPI_MAX_MMIO_DEVS * 64 <= TABLES_SIZE,
		       "the DSDT fits");
	if (ndevs > ACPI_MAX_MMIO_DEVS)
		ndevs = ACPI_MAX_MMIO_DEVS;
	memset(base, 0, TABLES_SIZE);
	write_fadt(base + OFF_FADT);
	write_facs(base + OFF_FACS);
	write_dsdt(base + OFF_DSDT, devs, ndevs);
	write_madt(base + OFF_MADT, ncpus);

	/* RSDT (5.2.7): the FADT and the MADT. */
	header(rsdt, "RSDT", 36 + 8, 1);
	put32(rsdt + 36, ACPI_TABLES + OFF_FADT);
	put32(rsdt + 40, ACPI_TABLES + OFF_MADT);
	finish(rsdt);

	/* RSDP revision 0 (ACPI 1.0, 5.2.5.3): 20 bytes pointing at the RSDT. */
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "MINIHV", 6);
	put32(rsdp + 16, ACPI_TABLES + OFF_RSDT);
	rsdp[8] = checksum(rsdp, 20);
}

/*
 * The PM timer (4.8.3.3): served by the kernel on minihv (pit.c); this is
 * for KVM, which has none, from the same clock at 3.579545 MHz, 24 bits.
 */
static uint32_t pm_timer(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(((unsigned __int128)((uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec) *
			   3579545) / 1000000000ULL) & 0xffffff;
}

/*
 * PM1 status reads 0 (no fixed event ever happens); PM1 enable keeps what
 * the guest writes (it reads back the events it enabled, the global lock's
 * among them); PM1 control reads SCI_EN (ACPI mode, 4.8.3.2.1).  Writing
 * SLP_EN with the S5 SLP_TYP powers the machine off.
 */
bool acpi_pm_io(uint16_t port, int size, bool in, uint32_t *val, bool *off)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint16_t pm1_enable;	/* [lock] */

	if (port >= ACPI_PM1A_EVT && port < ACPI_PM1A_EVT + 2) {
		if (in)
			*val = 0;
		return true;
	}
	if (port >= ACPI_PM1A_EVT + 2 && port < ACPI_PM1A_EVT + 4) {
		unsigned int shift = (port - ACPI_PM1A_EVT - 2) * 8;

		pthread_mutex_lock(&lock);
		if (in)
			*val = pm1_enable >> shift;
		else if (size == 2 && !shift)
			pm1_enable = *val;
		else
			pm1_enable = (pm1_enable & ~(0xff << shift)) | ((*val & 0xff) << shift);
		pthread_mutex_unlock(&lock);
		return true;
	}
	if (port >= ACPI_PM_TMR && port < ACPI_PM_TMR + 4) {
		if (in)
			*val = pm_timer() >> (port - ACPI_PM_TMR) * 8;
		return true;
	}
	if (port != ACPI_PM1A_CNT && port != ACPI_PM1A_CNT + 1)
		return false;
	if (in) {
		*val = port == ACPI_PM1A_CNT ? 1 : 0;
	} else if (port == ACPI_PM1A_CNT && (*val & ACPI_SLP_EN) &&
		   ((*val >> 10) & 7) == ACPI_SLP_TYP_S5) {
		*off = true;
	}
	return true;
}

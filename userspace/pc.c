// SPDX-License-Identifier: GPL-2.0
/* minihv-run's PC devices: see pc.h. */
#include <string.h>
#include <time.h>

#include "pc.h"

#define PORT_KBD_CMD	0x64
#define PORT_CMOS_INDEX	0x70
#define PORT_CMOS_DATA	0x71
#define PORT_PCI_ADDR	0xcf8
#define PORT_RST_CNT	0xcf9
#define PORT_PCI_DATA	0xcfc

#define KBD_PULSE_RESET	0xfe	/* pulse output line 0: the CPU's reset */
#define RST_CNT_RESET	0x04	/* RST_CPU */

/* MC146818 registers (its datasheet; the PC's CMOS). */
#define RTC_SECONDS	0x00
#define RTC_MINUTES	0x02
#define RTC_HOURS	0x04
#define RTC_WEEKDAY	0x06
#define RTC_DAY		0x07
#define RTC_MONTH	0x08
#define RTC_YEAR	0x09
#define RTC_REG_A	0x0a	/* UIP (bit 7) never set: the time is always readable */
#define RTC_REG_B	0x0b	/* 02h: 24-hour, BCD, no interrupts */
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d	/* 80h: valid RAM and time */
#define RTC_CENTURY	0x32

void pc_init(struct pc *pc)
{
	memset(pc, 0, sizeof(*pc));
	pthread_mutex_init(&pc->lock, NULL);
	pc->cmos[RTC_REG_A] = 0x26;
	pc->cmos[RTC_REG_B] = 0x02;
	pc->cmos[RTC_REG_D] = 0x80;
}

static uint8_t bcd(int v)
{
	return ((v / 10) << 4) | (v % 10);
}

/* The clock registers read the host's UTC time; the rest is CMOS RAM. */
static uint8_t cmos_read(struct pc *pc, uint8_t index)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (index) {
	case RTC_SECONDS: return bcd(tm.tm_sec);
	case RTC_MINUTES: return bcd(tm.tm_min);
	case RTC_HOURS: return bcd(tm.tm_hour);
	case RTC_WEEKDAY: return bcd(tm.tm_wday + 1);
	case RTC_DAY: return bcd(tm.tm_mday);
	case RTC_MONTH: return bcd(tm.tm_mon + 1);
	case RTC_YEAR: return bcd(tm.tm_year % 100);
	case RTC_CENTURY: return bcd(19 + tm.tm_year / 100);
	default: return pc->cmos[index & 0x7f];
	}
}

static void cmos_write(struct pc *pc, uint8_t index, uint8_t v)
{
	/* Setting the clock is not passed to the host; the rest is RAM. */
	if (index > RTC_YEAR && index != RTC_REG_A && index != RTC_REG_C &&
	    index != RTC_REG_D && index != RTC_CENTURY)
		pc->cmos[index] = index == RTC_REG_B ? (v & ~0x04) : v;	/* stays BCD */
}

/*
 * PCI configuration mechanism #1 (PCI Local Bus 3.0, 3.2.2.3.2): the
 * host bridge at 00:00.0, as every PC has (Intel's 440FX, 8086:1237,
 * class 0600h), so that the guest trusts the mechanism, and nothing else:
 * every other function reads all ones, the master-abort value.  Writes
 * are dropped.
 */
static uint32_t pci_read(uint32_t addr, unsigned int byte, int size)
{
	uint32_t v = 0xffffffff;

	if ((addr & 0x80ffff00) == 0x80000000) {	/* enabled, bus 0, 00.0 */
		switch (addr & 0xfc) {
		case 0x00: v = 0x12378086; break;	/* device, vendor */
		case 0x08: v = 0x06000002; break;	/* class, revision */
		default: v = 0; break;			/* header type 0, no BARs */
		}
	}
	v >>= byte * 8;
	return size == 4 ? v : v & ((1u << (size * 8)) - 1);
}

bool pc_io(struct pc *pc, uint16_t port, int size, bool in, uint32_t *val, bool *reset)
{
	bool mine = true;

	pthread_mutex_lock(&pc->lock);
	switch (port) {
	case PORT_KBD_CMD:
		if (in)
			mine = false;	/* no controller: the bus floats high */
		else if ((*val & 0xff) == KBD_PULSE_RESET)
			*reset = true;
		break;
	case PORT_CMOS_INDEX:
		if (in)
			*val = 0xff;
		else
			pc->cmos_index = *val & 0x7f;	/* bit 7 masks NMIs */
		break;
	case PORT_CMOS_DATA:
		if (in)
			*val = cmos_read(pc, pc->cmos_index);
		else
			cmos_write(pc, pc->cmos_index, *val);
		break;
	case PORT_PCI_ADDR:
		if (size != 4) {
			/* Byte access at CF9h is the reset control register. */
			mine = false;
			break;
		}
		if (in)
			*val = pc->pci_addr;
		else
			pc->pci_addr = *val & 0x80fffffc;
		break;
	case PORT_RST_CNT:
		if (size == 1 && !in && (*val & RST_CNT_RESET))
			*reset = true;
		else if (in)
			*val = 0;
		break;
	case PORT_PCI_DATA ... PORT_PCI_DATA + 3:
		if (in)
			*val = pci_read(pc->pci_addr, port - PORT_PCI_DATA, size);
		break;
	default:
		mine = false;
	}
	pthread_mutex_unlock(&pc->lock);
	return mine;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ACPI tables minihv-run gives a platform guest (Documentation/
 * platform.rst): they tell it its CPUs and interrupt controllers (MADT)
 * and how to power off (FADT, and a DSDT holding \_S5), which is all a
 * PC's firmware must say for Linux to boot, find its application
 * processors and shut down; and the virtio-mmio devices (the DSDT).  ACPI 6.4 is the reference; the tables use
 * the oldest revisions that carry what is needed.
 */
#ifndef MINIHV_RUN_ACPI_H
#define MINIHV_RUN_ACPI_H

#include <stdbool.h>
#include <stdint.h>

/* Where the tables go: the BIOS area the RSDP is searched in (5.2.5.1). */
#define ACPI_TABLES		0xe0000
/* The fixed-hardware registers the FADT points at, in port space. */
#define ACPI_PM1A_EVT		0x600	/* PM1 status and enable, 4 bytes */
#define ACPI_PM1A_CNT		0x604	/* PM1 control, 2 bytes */
#define ACPI_PM_TMR		0x608	/* PM timer, 4 bytes: MINIHV_PM_TIMER_PORT */
#define ACPI_SCI_IRQ		9
/* SLP_TYP of \_S5 (soft off), and SLP_EN (4.8.3.2.1). */
#define ACPI_SLP_TYP_S5		5
#define ACPI_SLP_EN		(1 << 13)

/* A virtio-mmio device the DSDT announces: its window and I/O APIC pin. */
struct acpi_mmio_dev {
	uint32_t base, size, irq;
};

#define ACPI_MAX_MMIO_DEVS	16

/*
 * Writes RSDP, RSDT, FADT, FACS, MADT and DSDT for @ncpus and the @ndevs
 * virtio-mmio devices @devs at ACPI_TABLES.
 */
void acpi_write_tables(uint8_t *ram, unsigned int ncpus, const struct acpi_mmio_dev *devs,
		       unsigned int ndevs);

/*
 * The PM1 registers: returns true if @port is one of them.  *@off is
 * set when the guest asked for soft off (S5).
 */
bool acpi_pm_io(uint16_t port, int size, bool in, uint32_t *val, bool *off);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The small PC devices a platform guest probes (Documentation/
 * platform.rst): the CMOS clock (ports 70h/71h), the reset paths (the
 * keyboard controller's pulse, OUT 64h FEh; the reset control register,
 * port CF9h), and PCI configuration mechanism #1 (CF8h/CFCh) with only a
 * host bridge behind it.  The 8259 pair, the PIT and the PM timer are
 * the kernel's (MINIHV_CREATE_IRQCHIP, MINIHV_CREATE_PIT2).
 */
#ifndef MINIHV_RUN_PC_H
#define MINIHV_RUN_PC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pc {
	pthread_mutex_t lock;
	uint8_t cmos_index;
	uint8_t cmos[128];		/* CMOS RAM past the clock */
	uint32_t pci_addr;
};

void pc_init(struct pc *pc);
/*
 * Returns true if @port is one of these devices' (IN data in *@val,
 * @size bytes); *@reset is set when the guest asked for a reset.
 */
bool pc_io(struct pc *pc, uint16_t port, int size, bool in, uint32_t *val, bool *reset);

#endif

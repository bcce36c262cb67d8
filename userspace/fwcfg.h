/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's firmware configuration device, the legacy port interface only
 * (QEMU's docs/specs/fw_cfg.rst): write a 16-bit key to the selector
 * port 510h, then read the item a byte at a time from the data port 511h.
 * Test kernels written for QEMU's -kernel take the CPU count and the
 * memory size from it.  Items: the signature "QEMU", the interface ID
 * (1: no DMA), the RAM size, the CPU count and maximum, and the file
 * directory holding one file, etc/e820, the memory map.  Any other key
 * reads zeros, as a key QEMU has no item for; writes to data are dropped.
 */
#ifndef MINIHV_RUN_FWCFG_H
#define MINIHV_RUN_FWCFG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define FW_CFG_PORT_SEL		0x510
#define FW_CFG_PORT_DATA	0x511

#define FW_CFG_E820_MAX		4

struct fw_cfg {
	pthread_mutex_t lock;
	uint16_t key;			/* the last selected item */
	uint32_t offset;		/* the next byte of it to read */
	uint64_t ram_size;
	uint16_t cpus;
	/* etc/e820: QEMU's layout, 20 bytes an entry, little-endian */
	uint8_t e820[FW_CFG_E820_MAX * 20];
	uint32_t e820_size;
};

/*
 * @ram_top: where RAM usable by the guest ends (the runner keeps the top
 * of RAM for its own tables: reserved in the map).
 */
void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint64_t ram_top, unsigned int cpus);
/* Returns true if @port is the device's; IN data in *@val (@size bytes). */
bool fw_cfg_io(struct fw_cfg *f, uint16_t port, int size, bool in, uint32_t *val);

#endif

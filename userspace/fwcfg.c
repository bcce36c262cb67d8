// SPDX-License-Identifier: GPL-2.0
/* minihv-run's fw_cfg: see fwcfg.h. */
#include <string.h>

#include "fwcfg.h"

/* Keys (QEMU's include/standard-headers/linux/qemu_fw_cfg.h) */
#define FW_CFG_SIGNATURE	0x00
#define FW_CFG_ID		0x01
#define FW_CFG_RAM_SIZE		0x03
#define FW_CFG_NB_CPUS		0x05
#define FW_CFG_MAX_CPUS		0x0f
#define FW_CFG_FILE_DIR		0x19
#define FW_CFG_FILE_FIRST	0x20	/* etc/e820 */

#define FW_CFG_ID_TRADITIONAL	1	/* the port interface; bit 1 (DMA) clear */
#define FW_CFG_NAME_SIZE	56
#define FW_CFG_DIR_ENTRY	(4 + 2 + 2 + FW_CFG_NAME_SIZE)

#define E820_RAM		1
#define E820_RESERVED		2

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = v >> (8 * i);
}

/* The directory's numbers are big-endian (fw_cfg.rst, "FW_CFG_FILE_DIR"). */
static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = v >> (8 * (bytes - 1 - i));
}

static void e820_add(struct fw_cfg *f, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t *e = f->e820 + f->e820_size;

	put_le(e, addr, 8);
	put_le(e + 8, size, 8);
	put_le(e + 16, type, 4);
	f->e820_size += 20;
}

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, uint64_t ram_top, unsigned int cpus)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->ram_size = ram_size;
	f->cpus = cpus;
	/* The map every loader gives (bzimage.c, multiboot.c): a PC's. */
	e820_add(f, 0, 0x9fc00, E820_RAM);
	e820_add(f, 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
	e820_add(f, 0x100000, ram_top - 0x100000, E820_RAM);
	if (ram_top < ram_size)
		e820_add(f, ram_top, ram_size - ram_top, E820_RESERVED);
}

/* Byte @off of the selected item; 0 past its end or for an unknown key. */
static uint8_t fw_cfg_byte(const struct fw_cfg *f, uint16_t key, uint32_t off)
{
	uint8_t item[FW_CFG_DIR_ENTRY + 4] = { 0 };
	const uint8_t *src = item;
	uint32_t size = 0;

	switch (key) {
	case FW_CFG_SIGNATURE:
		memcpy(item, "QEMU", 4);
		size = 4;
		break;
	case FW_CFG_ID:
		put_le(item, FW_CFG_ID_TRADITIONAL, 4);
		size = 4;
		break;
	case FW_CFG_RAM_SIZE:
		put_le(item, f->ram_size, 8);
		size = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		put_le(item, f->cpus, 2);
		size = 2;
		break;
	case FW_CFG_FILE_DIR:
		put_be(item, 1, 4);				/* one file */
		put_be(item + 4, f->e820_size, 4);
		put_be(item + 8, FW_CFG_FILE_FIRST, 2);
		strcpy((char *)item + 12, "etc/e820");
		size = sizeof(item);
		break;
	case FW_CFG_FILE_FIRST:
		src = f->e820;
		size = f->e820_size;
		break;
	}
	return off < size ? src[off] : 0;
}

bool fw_cfg_io(struct fw_cfg *f, uint16_t port, int size, bool in, uint32_t *val)
{
	int i;

	if (port != FW_CFG_PORT_SEL && port != FW_CFG_PORT_DATA)
		return false;
	pthread_mutex_lock(&f->lock);
	if (port == FW_CFG_PORT_SEL) {
		/* A 16-bit write selects; QEMU ignores other sizes and reads. */
		if (!in && size == 2) {
			f->key = *val;
			f->offset = 0;
		} else if (in) {
			*val = 0;
		}
	} else if (in) {
		/* Each byte of a wider read is the next byte of the item. */
		*val = 0;
		for (i = 0; i < size; i++)
			*val |= (uint32_t)fw_cfg_byte(f, f->key, f->offset++) << (8 * i);
	}
	pthread_mutex_unlock(&f->lock);
	return true;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The virtio devices (one file each) on virtio.c's transport.  Each init
 * fills a struct virtio_dev, not yet started; Documentation/design.rst,
 * "virtio".
 */
#ifndef MINIHV_RUN_VIRTIO_DEV_H
#define MINIHV_RUN_VIRTIO_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio.h"

/* virtio-rng.c: entropy from getrandom(). */
int virtio_rng_init(struct virtio_dev *d, uint8_t *ram, uint64_t ram_size, uint64_t base,
		    uint32_t pin);

/*
 * virtio-blk.c: the raw image @path, read-only with @ro; disk @index
 * names it in messages.  0, or -errno (the image cannot be opened).
 */
int virtio_blk_init(struct virtio_dev *d, unsigned int index, const char *path, bool ro,
		    uint8_t *ram, uint64_t ram_size, uint64_t base, uint32_t pin);

/*
 * virtio-net.c: Ethernet frames to and from @fd (net.h: a TAP device or
 * the user network), a frame per read() or write(), non-blocking; @mac
 * the guest's address; network @index names it in messages.  0 or -errno.
 */
int virtio_net_init(struct virtio_dev *d, unsigned int index, int fd, const uint8_t mac[6],
		    uint8_t *ram, uint64_t ram_size, uint64_t base, uint32_t pin);

/*
 * virtio-pc.c: the devices of a PC platform guest (--rng, --disk, --net), each
 * in its window from VIRTIO_MMIO_BASE and on its own I/O APIC pin from
 * VIRTIO_FIRST_PIN, fed by an ioeventfd and raising an irqfd.
 */
#define VIRTIO_FIRST_PIN	16	/* 16-23: no ISA device's, free on every PC */

struct hv;
struct acpi_mmio_dev;

struct virtio_disk_opt {
	const char *path;
	bool ro;
};

struct virtio_pc {
	unsigned int n;
	struct virtio_dev dev[VIRTIO_MAX_DEVS];
};

/*
 * Creates the devices: the rng, the disks, then the networks (@nets:
 * --net's specs, net.h).  On an error a message is printed and -errno
 * returned: the runner's usage error.
 */
int virtio_pc_create(struct virtio_pc *pc, struct hv *hv, uint8_t *ram, uint64_t ram_size,
		     bool rng, const struct virtio_disk_opt *disks, unsigned int ndisks,
		     const char *const *nets, unsigned int nnets);
/* Fills @acpi (VIRTIO_MAX_DEVS entries); returns how many. */
unsigned int virtio_pc_acpi(const struct virtio_pc *pc, struct acpi_mmio_dev *acpi);
int virtio_pc_start(struct virtio_pc *pc);
void virtio_pc_stop(struct virtio_pc *pc);
/* A vCPU's MMIO access: false if it is none of the devices'. */
bool virtio_pc_mmio(struct virtio_pc *pc, uint64_t addr, uint8_t *data, uint32_t len,
		    bool is_write);

#endif

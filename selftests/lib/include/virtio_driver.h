/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A driver's side of minihv-run's virtio devices, for the tests and
 * benchmarks that link userspace/virtio.c into their own process: 32-bit
 * register accesses through virtio_mmio(), and the setup of queue 0
 * (virtio 1.2 spec 3.1.1 and 4.2.3.2).
 */
#ifndef MINIHV_VIRTIO_DRIVER_H
#define MINIHV_VIRTIO_DRIVER_H

#include "virtio.h"

static inline uint32_t vd_read(struct virtio_dev *d, uint32_t off)
{
	uint32_t v = 0;

	virtio_mmio(d, d->base + off, (uint8_t *)&v, 4, false);
	return v;
}

static inline void vd_write(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	virtio_mmio(d, d->base + off, (uint8_t *)&v, 4, true);
}

/*
 * Resets the device, negotiates @features and makes queue 0 live with
 * @num entries, its descriptor table, available and used rings at @desc,
 * @avail and @used; then DRIVER_OK.
 */
static inline void vd_init(struct virtio_dev *d, uint64_t features, uint32_t num,
			   uint64_t desc, uint64_t avail, uint64_t used)
{
	vd_write(d, 0x70, 0);
	vd_write(d, 0x70, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vd_write(d, 0x24, 0);
	vd_write(d, 0x20, (uint32_t)features);
	vd_write(d, 0x24, 1);
	vd_write(d, 0x20, features >> 32);
	vd_write(d, 0x70, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			  VIRTIO_STATUS_FEATURES_OK);
	vd_write(d, 0x30, 0);
	vd_write(d, 0x38, num);
	vd_write(d, 0x80, (uint32_t)desc);
	vd_write(d, 0x84, desc >> 32);
	vd_write(d, 0x90, (uint32_t)avail);
	vd_write(d, 0x94, avail >> 32);
	vd_write(d, 0xa0, (uint32_t)used);
	vd_write(d, 0xa4, used >> 32);
	vd_write(d, 0x44, 1);
	vd_write(d, 0x70, vd_read(d, 0x70) | VIRTIO_STATUS_DRIVER_OK);
}

#endif

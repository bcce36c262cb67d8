// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-rng (virtio 1.2 spec 5.4): one queue of writable buffers, each
 * filled from the host's getrandom().  No features, no configuration.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "virtio-dev.h"

static int rng_request(struct virtio_dev *d, unsigned int queue, struct virtio_chain *c)
{
	uint64_t total = 0;
	unsigned int i;
	ssize_t n;

	(void)queue;
	if (c->nread) {
		virtio_guest_error(d, queue, "readable buffer in an entropy request");
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		/* Up to 32 MiB a call, never blocking once the pool is up. */
		n = getrandom(c->b[i].p, c->b[i].len, 0);
		if (n < 0 && errno == EINTR)
			n = 0;
		if (n < 0) {
			fprintf(stderr, "minihv-run: %s: getrandom: %m\n", d->name);
			break;
		}
		total += n;
		if ((uint32_t)n < c->b[i].len)
			break;
	}
	/* What was filled, from the start: the driver takes only those bytes. */
	return total > INT32_MAX ? INT32_MAX : (int)total;
}

static const struct virtio_ops rng_ops = {
	.request = rng_request,
};

int virtio_rng_init(struct virtio_dev *d, uint8_t *ram, uint64_t ram_size, uint64_t base,
		    uint32_t pin)
{
	return virtio_dev_init(d, "virtio-rng", VIRTIO_ID_RNG, 0, 1, &rng_ops, NULL, ram,
			       ram_size, base, pin);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net (virtio 1.2 spec 5.1): a receive queue (0) and a transmit
 * queue (1), Ethernet frames to and from one file descriptor, a frame per
 * read() or write(): a TAP device opened with IFF_NO_PI, or the socket of
 * the user network (net-user.c).  Only the MAC address is offered: no
 * checksum or segmentation offloads (design.rst, "virtio-net"), no
 * control queue, no merged receive buffers, so every frame is one chain
 * with the 12-byte header in front of it.
 *
 * The device's thread (virtio.c) wakes on a notification or when the fd
 * is readable.  It reads a frame only when it holds none, and polls the
 * fd only then: a frame that finds no receive buffer waits in `rx` until
 * the driver adds one and notifies, so a guest that stops taking frames
 * costs nothing, and the backend's own queue (the TAP's, the socket's)
 * drops what follows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio-dev.h"

/* Feature bits (5.1.3). */
#define VIRTIO_NET_F_MAC	5

#define RX_QUEUE	0
#define TX_QUEUE	1

/*
 * The largest frame either way: without GSO the driver sends at most its
 * MTU and a header, and without VIRTIO_NET_F_MTU that is at most 65535.
 */
#define FRAME_MAX	65550

/* struct virtio_net_hdr with num_buffers, always there with VERSION_1 (5.1.6). */
struct net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

_Static_assert(sizeof(struct net_hdr) == 12, "5.1.6");

/* The backend's side: the fd, the frame in hand, counts; [d->lock]. */
struct net {
	int fd;
	uint32_t rx_len;		/* bytes of the frame in rx, 0: none */
	uint64_t rx_frames, tx_frames;
	uint64_t rx_dropped, tx_dropped;	/* too big for the buffer; backend full */
	uint8_t rx[FRAME_MAX];
	uint8_t tx[FRAME_MAX];
};

/* A receive buffer: device-writable only, room for a header (5.1.6.3). */
static int net_receive(struct virtio_dev *d, struct net *n, struct virtio_chain *c)
{
	struct net_hdr h = { .num_buffers = 1 };
	uint32_t len;

	if (c->nread) {
		virtio_guest_error(d, RX_QUEUE, "readable buffer in a receive request");
		return -1;
	}
	if (c->write_len < sizeof(h)) {
		virtio_guest_error(d, RX_QUEUE, "receive buffer of %llu bytes",
				   (unsigned long long)c->write_len);
		return -1;
	}
	if (!n->rx_len)
		return VIRTIO_REQ_LATER;
	/* The driver SHOULD give 1526 bytes (5.1.6.3.1); a frame it cannot take is lost. */
	if (n->rx_len > c->write_len - sizeof(h)) {
		n->rx_dropped++;
		n->rx_len = 0;
		return VIRTIO_REQ_LATER;
	}
	virtio_chain_copy(c, true, 0, &h, sizeof(h));
	virtio_chain_copy(c, true, sizeof(h), n->rx, n->rx_len);
	len = sizeof(h) + n->rx_len;
	n->rx_len = 0;
	n->rx_frames++;
	return len;
}

/*
 * A frame to send: device-readable only, a header asking for nothing we
 * did not offer (no checksum, no segmentation), at most FRAME_MAX bytes.
 */
static int net_transmit(struct virtio_dev *d, struct net *n, struct virtio_chain *c)
{
	struct net_hdr h;
	uint64_t len;

	if (c->n > c->nread) {
		virtio_guest_error(d, TX_QUEUE, "writable buffer in a transmit request");
		return -1;
	}
	if (c->read_len < sizeof(h)) {
		virtio_guest_error(d, TX_QUEUE, "transmit request of %llu bytes",
				   (unsigned long long)c->read_len);
		return -1;
	}
	virtio_chain_copy(c, false, 0, &h, sizeof(h));
	if (h.flags || h.gso_type) {
		virtio_guest_error(d, TX_QUEUE, "offload (flags %#x, gso %#x), feature not negotiated",
				   h.flags, h.gso_type);
		return -1;
	}
	len = c->read_len - sizeof(h);
	if (len > FRAME_MAX) {
		virtio_guest_error(d, TX_QUEUE, "frame of %llu bytes", (unsigned long long)len);
		return -1;
	}
	virtio_chain_copy(c, false, sizeof(h), n->tx, len);
	/* Non-blocking: a full TAP queue or socket drops the frame, as a wire would. */
	if (write(n->fd, n->tx, len) == (ssize_t)len)
		n->tx_frames++;
	else
		n->tx_dropped++;
	return 0;
}

static int net_request(struct virtio_dev *d, unsigned int queue, struct virtio_chain *c)
{
	return queue == RX_QUEUE ? net_receive(d, d->priv, c) : net_transmit(d, d->priv, c);
}

/*
 * Sends what the driver queued, then moves frames from the backend while
 * the receive queue takes them; polls the fd again only with no frame in
 * hand (virtio.c's thread, wait_fd).
 */
static void net_wake(struct virtio_dev *d)
{
	struct net *n = d->priv;
	ssize_t r;

	virtio_process(d);
	while (!n->rx_len) {
		r = read(n->fd, n->rx, sizeof(n->rx));
		if (r <= 0)
			break;	/* EAGAIN: nothing more; an error: the next wake tries again */
		n->rx_len = r;
		virtio_process(d);
	}
	d->wait_fd = n->rx_len ? -1 : n->fd;
}

static const struct virtio_ops net_ops = {
	.request = net_request,
	.wake = net_wake,
};

int virtio_net_init(struct virtio_dev *d, unsigned int index, int fd, const uint8_t mac[6],
		    uint8_t *ram, uint64_t ram_size, uint64_t base, uint32_t pin)
{
	struct net *n;
	char name[24];
	int r;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->fd = fd;
	snprintf(name, sizeof(name), "virtio-net %u", index);
	r = virtio_dev_init(d, name, VIRTIO_ID_NET, 1ULL << VIRTIO_NET_F_MAC, 2, &net_ops, n,
			    ram, ram_size, base, pin);
	if (r) {
		free(n);
		return r;
	}
	d->wait_fd = fd;
	/* Configuration (5.1.4): the MAC address; status is not offered. */
	d->s.config_len = 6;
	memcpy(d->s.config, mac, 6);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2 spec 5.2) on a raw image: reads, writes, flush
 * (fdatasync), the device ID, read-only disks.  The device's thread
 * checks each request and queues its reads, writes and flushes; it and
 * a pool of workers do them with preadv/pwritev/fdatasync without the
 * device's lock, several at once, and complete them in any order (the
 * split ring allows it; design.rst, "virtio-blk's I/O", says why a pool
 * and not io_uring).  A request touches the image only inside its own
 * sectors, all of which must lie inside the disk; a read-only disk is
 * opened O_RDONLY and never written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio-dev.h"

/* Feature bits (5.2.3). */
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9

/* Request types and status (5.2.6). */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2

#define SECTOR		512
#define ID_BYTES	20	/* VIRTIO_BLK_ID_BYTES */
#define SEG_MAX		(VIRTIO_CHAIN_MAX - 2)	/* the header and status take two */

/* Configuration layout (5.2.4). */
#define CFG_CAPACITY	0
#define CFG_SEG_MAX	12
#define CFG_BLK_SIZE	20
#define CFG_LEN		24

/*
 * Requests in flight at once, and the threads that do their I/O.  Linux's
 * virtio_blk keeps up to the queue's size in flight; 64 covers fio's
 * iodepth 32 and bounds what a guest can make us hold (an iovec array
 * of VIRTIO_CHAIN_MAX per slot).
 */
#define BLK_SLOTS	64
#define BLK_WORKERS	4

/* One request in flight: what the I/O needs, copied off the chain. */
struct blk_slot {
	bool busy;		/* taken by blk_request(), until completed */
	bool queued;		/* waiting for a worker */
	unsigned int queue;
	uint16_t head;
	uint32_t type;
	uint64_t pos, len;	/* bytes at image offset pos */
	uint8_t *status;	/* the request's status byte, in guest RAM */
	uint32_t written;	/* the used element's len on success */
	unsigned int niov;
	struct iovec iov[VIRTIO_CHAIN_MAX];
};

struct blk {
	int fd;
	bool ro;
	uint64_t sectors;	/* the image's whole sectors */
	char id[ID_BYTES];
	/* The pool, under the device's lock. */
	struct virtio_dev *dev;
	pthread_cond_t work;	/* a slot was queued, or stop */
	pthread_cond_t idle;	/* a slot completed */
	unsigned int inflight;
	bool starved;		/* a request waited for a slot: wake the device */
	unsigned int draining;	/* blk_drain()s waiting: take no new request */
	bool stop;
	unsigned int fifo[BLK_SLOTS];	/* queued slots, oldest first */
	unsigned int fifo_head, fifo_tail;
	unsigned int nworkers;
	pthread_t worker[BLK_WORKERS];
	struct blk_slot slot[BLK_SLOTS];
};

struct blk_req_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/*
 * Fills @s's iovec with @len bytes of the chain's readable (@out) or
 * writable buffers from byte @skip of them (blk_range_ok() has bounded
 * @len by the chain's own lengths).
 */
static void blk_iov(struct blk_slot *s, struct virtio_chain *c, bool out, uint64_t skip,
		    uint64_t len)
{
	unsigned int i = out ? 0 : c->nread, end = out ? c->nread : c->n;
	uint64_t n;

	s->niov = 0;
	for (; i < end && len; i++) {
		if (skip >= c->b[i].len) {
			skip -= c->b[i].len;
			continue;
		}
		n = c->b[i].len - skip;
		if (n > len)
			n = len;
		s->iov[s->niov++] = (struct iovec){ .iov_base = c->b[i].p + skip, .iov_len = n };
		len -= n;
		skip = 0;
	}
}

/* The chain's last writable byte, the request's status (5.2.6). */
static uint8_t *blk_status_byte(struct virtio_chain *c)
{
	unsigned int i = c->n - 1;

	return c->b[i].p + c->b[i].len - 1;
}

/* Data of @len bytes from @sector: whole sectors, all inside the disk. */
static bool blk_range_ok(const struct blk *b, uint64_t sector, uint64_t len)
{
	return !(len % SECTOR) && sector <= b->sectors && len / SECTOR <= b->sectors - sector;
}

/* A slot's I/O, on a worker without the lock: its status. */
static uint8_t blk_io(struct blk *b, struct blk_slot *s)
{
	uint64_t pos = s->pos, left = s->len;
	struct iovec *iov = s->iov;
	unsigned int n = s->niov;
	ssize_t r;

	if (s->type == VIRTIO_BLK_T_FLUSH)
		return fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	/* A regular file transfers less only at its end, which the range check excludes. */
	while (left) {
		r = s->type == VIRTIO_BLK_T_OUT ? pwritev(b->fd, iov, n, pos)
						: preadv(b->fd, iov, n, pos);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return VIRTIO_BLK_S_IOERR;
		pos += r;
		left -= r;
		/* Past what was done: whole buffers, then part of one. */
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++, n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * Takes the oldest queued request and does it, the lock dropped for the
 * I/O (called and returns with it held): false with none queued.  The
 * device's thread and the workers both serve this way.
 */
static bool blk_serve_one(struct virtio_dev *d, struct blk *b)
{
	uint64_t one = 1;
	struct blk_slot *s;
	uint8_t status;

	if (b->fifo_head == b->fifo_tail)
		return false;
	s = &b->slot[b->fifo[b->fifo_head++ % BLK_SLOTS]];
	pthread_mutex_unlock(&d->lock);
	status = blk_io(b, s);
	pthread_mutex_lock(&d->lock);
	*s->status = status;
	virtio_complete(d, s->queue, s->head, status ? 1 : s->written);
	s->busy = false;
	b->inflight--;
	if (b->draining)
		pthread_cond_broadcast(&b->idle);
	/* The device's thread left a request for want of a slot. */
	if (b->starved) {
		b->starved = false;
		if (write(d->notify_fd, &one, sizeof(one)) != sizeof(one))
			fprintf(stderr, "minihv-run: %s: eventfd: %s\n", d->name, strerror(errno));
	}
	return true;
}

static void *blk_worker(void *arg)
{
	struct blk *b = arg;
	struct virtio_dev *d = b->dev;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		if (blk_serve_one(d, b))
			continue;
		/* Stop only with nothing queued: a taken request always completes. */
		if (b->stop)
			break;
		pthread_cond_wait(&b->work, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/*
 * The workers, started the first time two requests wait (lock held).
 * Without them (none could be started) the device's thread does every
 * request itself, one at a time: slower, the same results.
 */
static void blk_start_workers(struct blk *b)
{
	while (b->nworkers < BLK_WORKERS &&
	       !pthread_create(&b->worker[b->nworkers], NULL, blk_worker, b))
		b->nworkers++;
}

/*
 * Queues a read, write or flush: VIRTIO_REQ_ASYNC; VIRTIO_REQ_LATER with
 * every slot busy (a completion wakes the device's thread) or a reset on
 * its way.  The device's thread serves the queue itself after taking the
 * available requests (blk_wake), so a lone request costs no hand-off;
 * a worker is woken for each request behind the first.
 */
static int blk_queue(struct blk *b, unsigned int queue, struct virtio_chain *c,
		     uint32_t type, uint64_t sector, uint64_t len)
{
	struct blk_slot *s = NULL;
	unsigned int i;

	if (b->draining)
		return VIRTIO_REQ_LATER;
	for (i = 0; i < BLK_SLOTS && !s; i++)
		if (!b->slot[i].busy)
			s = &b->slot[i];
	if (!s) {
		b->starved = true;
		return VIRTIO_REQ_LATER;
	}
	s->busy = true;
	s->queue = queue;
	s->head = c->head;
	s->type = type;
	s->pos = sector * SECTOR;
	s->len = len;
	s->status = blk_status_byte(c);
	s->written = type == VIRTIO_BLK_T_IN ? len + 1 : 1;
	if (type == VIRTIO_BLK_T_IN)
		blk_iov(s, c, false, 0, len);
	else if (type == VIRTIO_BLK_T_OUT)
		blk_iov(s, c, true, sizeof(struct blk_req_header), len);
	b->fifo[b->fifo_tail++ % BLK_SLOTS] = s - b->slot;
	b->inflight++;
	if (b->fifo_tail - b->fifo_head > 1) {
		blk_start_workers(b);
		pthread_cond_signal(&b->work);
	}
	return VIRTIO_REQ_ASYNC;
}

static int blk_request(struct virtio_dev *d, unsigned int queue, struct virtio_chain *c)
{
	struct blk *b = d->priv;
	struct blk_req_header h;
	uint64_t data, written = 1;
	uint8_t status = VIRTIO_BLK_S_OK;

	/* A header to read and a status byte to write, at least (5.2.6). */
	if (c->read_len < sizeof(h) || !c->write_len) {
		virtio_guest_error(d, queue, "request without header or status byte");
		return -1;
	}
	virtio_chain_copy(c, false, 0, &h, sizeof(h));
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		data = c->write_len - 1;
		if (blk_range_ok(b, h.sector, data))
			return blk_queue(b, queue, c, h.type, h.sector, data);
		status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_OUT:
		data = c->read_len - sizeof(h);
		if (!b->ro && blk_range_ok(b, h.sector, data))
			return blk_queue(b, queue, c, h.type, h.sector, data);
		status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!virtio_has_feature(d, VIRTIO_BLK_F_FLUSH)) {
			virtio_guest_error(d, queue, "flush, feature not negotiated");
			return -1;
		}
		if (!b->ro)
			return blk_queue(b, queue, c, h.type, 0, 0);
		break;
	case VIRTIO_BLK_T_GET_ID:
		data = c->write_len - 1 < ID_BYTES ? c->write_len - 1 : ID_BYTES;
		written += virtio_chain_copy(c, true, 0, b->id, data);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
	*blk_status_byte(c) = status;
	return written;
}

/*
 * The device's thread woke: take the available requests, and serve the
 * queue with the workers, taking any that came meanwhile, until it is
 * empty (lock held).
 */
static void blk_wake(struct virtio_dev *d)
{
	do
		virtio_process(d);
	while (blk_serve_one(d, d->priv));
}

/* Lock held, released while waiting. */
static void blk_drain(struct virtio_dev *d)
{
	struct blk *b = d->priv;

	b->draining++;
	while (blk_serve_one(d, b))
		;
	while (b->inflight)
		pthread_cond_wait(&b->idle, &d->lock);
	b->draining--;
}

static void blk_stop(struct virtio_dev *d)
{
	struct blk *b = d->priv;
	unsigned int i;

	pthread_mutex_lock(&d->lock);
	while (blk_serve_one(d, b))
		;
	b->stop = true;
	pthread_cond_broadcast(&b->work);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < b->nworkers; i++)
		pthread_join(b->worker[i], NULL);
	b->nworkers = 0;
}

static const struct virtio_ops blk_ops = {
	.request = blk_request,
	.wake = blk_wake,
	.drain = blk_drain,
	.stop = blk_stop,
};

int virtio_blk_init(struct virtio_dev *d, unsigned int index, const char *path, bool ro,
		    uint8_t *ram, uint64_t ram_size, uint64_t base, uint32_t pin)
{
	uint64_t features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
			    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	uint32_t v32;
	struct stat st;
	struct blk *b;
	char name[24];
	int r;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ro = ro;
	b->dev = d;
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->idle, NULL);
	b->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0 || fstat(b->fd, &st)) {
		r = -errno;
		goto err_free;
	}
	b->sectors = st.st_size / SECTOR;
	snprintf(b->id, sizeof(b->id), "minihv-disk%u", index);
	if (ro)
		features |= 1ULL << VIRTIO_BLK_F_RO;
	snprintf(name, sizeof(name), "virtio-blk %u", index);
	r = virtio_dev_init(d, name, VIRTIO_ID_BLOCK, features, 1, &blk_ops, b, ram, ram_size,
			    base, pin);
	if (r)
		goto err_close;
	d->s.config_len = CFG_LEN;
	memcpy(d->s.config + CFG_CAPACITY, &b->sectors, 8);
	v32 = SEG_MAX;
	memcpy(d->s.config + CFG_SEG_MAX, &v32, 4);
	v32 = SECTOR;
	memcpy(d->s.config + CFG_BLK_SIZE, &v32, 4);
	return 0;

err_close:
	close(b->fd);
err_free:
	free(b);
	return r;
}

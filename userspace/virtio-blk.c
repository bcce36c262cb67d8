// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk (virtio 1.2 spec 5.2) on a raw image: reads, writes, flush
 * (fdatasync), the device ID, read-only disks.  The device's thread does
 * the I/O itself with pread and pwrite, a request at a time (io_uring or
 * a pool is a later measurement, design.rst).  A request touches the
 * image only inside its own sectors, all of which must lie inside the
 * disk; a read-only disk is opened O_RDONLY and never written.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

struct blk {
	int fd;
	bool ro;
	uint64_t sectors;	/* the image's whole sectors */
	char id[ID_BYTES];
};

struct blk_req_header {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/*
 * Moves @len bytes between the image at @pos and the chain's readable
 * (@out) or writable buffers from byte @skip of them.  0, or -1 on an
 * I/O error or a short transfer.
 */
static int blk_rw(struct blk *b, struct virtio_chain *c, bool out, uint64_t skip,
		  uint64_t pos, uint64_t len)
{
	unsigned int i = out ? 0 : c->nread, end = out ? c->nread : c->n;
	uint64_t n;
	ssize_t r;

	for (; i < end && len; i++) {
		if (skip >= c->b[i].len) {
			skip -= c->b[i].len;
			continue;
		}
		n = c->b[i].len - skip;
		if (n > len)
			n = len;
		r = out ? pwrite(b->fd, c->b[i].p + skip, n, pos)
			: pread(b->fd, c->b[i].p + skip, n, pos);
		if (r != (ssize_t)n)
			return -1;
		pos += n;
		len -= n;
		skip = 0;
	}
	return len ? -1 : 0;
}

/* Data of @len bytes from @sector: whole sectors, all inside the disk. */
static bool blk_range_ok(const struct blk *b, uint64_t sector, uint64_t len)
{
	return !(len % SECTOR) && sector <= b->sectors && len / SECTOR <= b->sectors - sector;
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
		if (!blk_range_ok(b, h.sector, data) ||
		    blk_rw(b, c, false, 0, h.sector * SECTOR, data))
			status = VIRTIO_BLK_S_IOERR;
		else
			written += data;
		break;
	case VIRTIO_BLK_T_OUT:
		data = c->read_len - sizeof(h);
		if (b->ro || !blk_range_ok(b, h.sector, data) ||
		    blk_rw(b, c, true, sizeof(h), h.sector * SECTOR, data))
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!virtio_has_feature(d, VIRTIO_BLK_F_FLUSH)) {
			virtio_guest_error(d, queue, "flush, feature not negotiated");
			return -1;
		}
		if (!b->ro && fdatasync(b->fd))
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		data = c->write_len - 1 < ID_BYTES ? c->write_len - 1 : ID_BYTES;
		written += virtio_chain_copy(c, true, 0, b->id, data);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
	/* The status is the last writable byte. */
	virtio_chain_copy(c, true, c->write_len - 1, &status, 1);
	return written;
}

static const struct virtio_ops blk_ops = {
	.request = blk_request,
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

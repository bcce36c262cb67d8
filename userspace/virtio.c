// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio MMIO transport and the split virtqueue: see virtio.h.
 * Section numbers are the virtio 1.2 specification's.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "virtio.h"

/* The MMIO registers (4.2.2, Table 4.1). */
#define REG_MAGIC		0x000
#define REG_VERSION		0x004
#define REG_DEVICE_ID		0x008
#define REG_VENDOR_ID		0x00c
#define REG_DEVICE_FEATURES	0x010
#define REG_DEVICE_FEATURES_SEL	0x014
#define REG_DRIVER_FEATURES	0x020
#define REG_DRIVER_FEATURES_SEL	0x024
#define REG_QUEUE_SEL		0x030
#define REG_QUEUE_NUM_MAX	0x034
#define REG_QUEUE_NUM		0x038
#define REG_QUEUE_READY		0x044
#define REG_QUEUE_NOTIFY	0x050
#define REG_INTERRUPT_STATUS	0x060
#define REG_INTERRUPT_ACK	0x064
#define REG_STATUS		0x070
#define REG_QUEUE_DESC_LOW	0x080
#define REG_QUEUE_DESC_HIGH	0x084
#define REG_QUEUE_DRIVER_LOW	0x090
#define REG_QUEUE_DRIVER_HIGH	0x094
#define REG_QUEUE_DEVICE_LOW	0x0a0
#define REG_QUEUE_DEVICE_HIGH	0x0a4
#define REG_CONFIG_GENERATION	0x0fc
#define REG_CONFIG		0x100

#define VIRTIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_VENDOR		0x56484e4d	/* "MNHV" */

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

_Static_assert(sizeof(struct virtq_desc) == 16, "2.7.5");

/* A message a guest can cause: 5 in a burst, then one a second. */
#define MSG_BURST		5
#define NSEC_PER_SEC		1000000000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

bool virtio_has_feature(const struct virtio_dev *d, unsigned int bit)
{
	return d->s.driver_features & (1ULL << bit);
}

/*
 * Guest RAM at [@gpa, + @len), or NULL when any of it is outside the one
 * slot from 0: a buffer may neither leave RAM nor wrap.
 */
static void *gpa_range(struct virtio_dev *d, uint64_t gpa, uint64_t len)
{
	if (gpa > d->ram_size || len > d->ram_size - gpa)
		return NULL;
	return d->ram + gpa;
}

/*
 * Sets @why in InterruptStatus and raises the pin, unless @why was set
 * already: the driver has not yet taken the last interrupt, and it looks
 * at every queue after its acknowledgement (4.2.3.4), so one more would
 * tell it nothing.  This is a level-triggered line's behaviour, and what
 * lets a device complete requests one by one without one interrupt each.
 */
static void raise_irq(struct virtio_dev *d, uint32_t why)
{
	uint64_t one = 1;

	if ((d->s.isr & why) == why)
		return;
	d->s.isr |= why;
	if (d->irq_fd >= 0) {
		if (write(d->irq_fd, &one, sizeof(one)) != sizeof(one))
			fprintf(stderr, "minihv-run: %s: irqfd: %s\n", d->name, strerror(errno));
	} else if (d->irq_line) {
		d->irq_line(d->irq_arg, d->pin);
	}
}

void virtio_guest_error(struct virtio_dev *d, int queue, const char *fmt, ...)
{
	uint64_t now = now_ns();
	char what[160];
	va_list ap;

	d->errors++;
	if (queue >= 0 && queue < (int)d->s.nqueues)
		d->s.q[queue].broken = true;
	/* Once: the driver resets the device to clear it (2.1.2). */
	if (!(d->s.status & VIRTIO_STATUS_NEEDS_RESET)) {
		d->s.status |= VIRTIO_STATUS_NEEDS_RESET;
		d->s.config_generation++;
		raise_irq(d, VIRTIO_INT_CONFIG);
	}
	if (now - d->last_msg_ns >= NSEC_PER_SEC)
		d->msg_burst = 0;
	if (d->msg_burst >= MSG_BURST)
		return;
	if (++d->msg_burst == 1)
		d->last_msg_ns = now;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* One write: the devices' threads print at once, and stderr has no buffer. */
	if (queue >= 0)
		fprintf(stderr, "minihv-run: %s: guest error on queue %d: %s; device needs reset\n",
			d->name, queue, what);
	else
		fprintf(stderr, "minihv-run: %s: guest error: %s; device needs reset\n", d->name,
			what);
}

/*
 * Adds one descriptor's buffer to the chain: inside RAM, not empty, and
 * every writable buffer after the readable ones (2.7.4.2).
 */
static int chain_add(struct virtio_dev *d, unsigned int qi, struct virtio_chain *c,
		     const struct virtq_desc *desc)
{
	bool write = desc->flags & VIRTQ_DESC_F_WRITE;
	uint8_t *p;

	if (!desc->len) {
		virtio_guest_error(d, qi, "descriptor of length 0");
		return -1;
	}
	p = gpa_range(d, desc->addr, desc->len);
	if (!p) {
		virtio_guest_error(d, qi, "buffer %#llx+%#x outside guest RAM",
				   (unsigned long long)desc->addr, desc->len);
		return -1;
	}
	if (!write && c->n > c->nread) {
		virtio_guest_error(d, qi, "readable buffer after a writable one");
		return -1;
	}
	/* The used element's length is 32 bits, and no request needs 2 GiB. */
	if (c->read_len + c->write_len + desc->len > INT32_MAX) {
		virtio_guest_error(d, qi, "request of more than 2 GiB");
		return -1;
	}
	if (c->n == VIRTIO_CHAIN_MAX) {
		virtio_guest_error(d, qi, "chain longer than %u buffers", VIRTIO_CHAIN_MAX);
		return -1;
	}
	c->b[c->n++] = (struct virtio_buf){ .p = p, .len = desc->len, .write = write };
	if (write)
		c->write_len += desc->len;
	else
		c->read_len += desc->len, c->nread++;
	return 0;
}

/*
 * An indirect table (2.7.5.3): inside RAM, a whole number of
 * descriptors, no nested table, and a chain that ends within it.
 */
static int chain_indirect(struct virtio_dev *d, unsigned int qi, struct virtio_chain *c,
			  const struct virtq_desc *desc)
{
	struct virtq_desc *table, e;
	unsigned int n, i, count;

	if (!virtio_has_feature(d, VIRTIO_RING_F_INDIRECT_DESC)) {
		virtio_guest_error(d, qi, "indirect descriptor, feature not negotiated");
		return -1;
	}
	if (desc->flags & VIRTQ_DESC_F_NEXT) {
		virtio_guest_error(d, qi, "indirect descriptor with NEXT");
		return -1;
	}
	if (!desc->len || desc->len % sizeof(e) || desc->len / sizeof(e) > VIRTIO_CHAIN_MAX) {
		virtio_guest_error(d, qi, "indirect table of %u bytes", desc->len);
		return -1;
	}
	n = desc->len / sizeof(e);
	table = gpa_range(d, desc->addr, desc->len);
	if (!table) {
		virtio_guest_error(d, qi, "indirect table %#llx+%#x outside guest RAM",
				   (unsigned long long)desc->addr, desc->len);
		return -1;
	}
	for (i = 0, count = 0;; count++) {
		if (count >= n) {
			virtio_guest_error(d, qi, "indirect chain loops");
			return -1;
		}
		memcpy(&e, &table[i], sizeof(e));	/* once: the guest may change it */
		if (e.flags & VIRTQ_DESC_F_INDIRECT) {
			virtio_guest_error(d, qi, "nested indirect table");
			return -1;
		}
		if (chain_add(d, qi, c, &e))
			return -1;
		if (!(e.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = e.next;
		if (i >= n) {
			virtio_guest_error(d, qi, "indirect next %u past a table of %u", i, n);
			return -1;
		}
	}
}

/* The chain from @head of queue @qi into d->chain: 0, or -1 on a guest error. */
static int chain_build(struct virtio_dev *d, unsigned int qi, uint16_t head)
{
	struct virtq *q = &d->s.q[qi];
	struct virtio_chain *c = &d->chain;
	struct virtq_desc *ring = (struct virtq_desc *)(d->ram + q->desc), desc;
	unsigned int count = 0, i = head;

	c->head = head;
	c->n = c->nread = 0;
	c->read_len = c->write_len = 0;
	for (;;) {
		/* More than num descriptors: the chain loops (2.7.5.2). */
		if (i >= q->num || ++count > q->num) {
			virtio_guest_error(d, qi, i >= q->num ? "descriptor %u past a ring of %u"
					   : "descriptor chain loops (at %u of %u)", i, q->num);
			return -1;
		}
		memcpy(&desc, &ring[i], sizeof(desc));
		if (desc.flags & VIRTQ_DESC_F_INDIRECT) {
			/* Only as the chain's only descriptor, no buffers before (2.7.5.3.1). */
			if (c->n) {
				virtio_guest_error(d, qi, "indirect descriptor inside a chain");
				return -1;
			}
			return chain_indirect(d, qi, c, &desc);
		}
		if (chain_add(d, qi, c, &desc))
			return -1;
		if (!(desc.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = desc.next;
	}
}

/* Puts the request back in the used ring, visible to the driver (2.7.8). */
static void used_push(struct virtio_dev *d, unsigned int qi, uint16_t head, uint32_t len)
{
	struct virtq *q = &d->s.q[qi];
	uint8_t *used = d->ram + q->device;
	uint32_t elem[2] = { head, len };

	memcpy(used + 4 + (q->used_idx % q->num) * 8, elem, sizeof(elem));
	q->used_idx++;
	/* The element before the index: a release store (2.7.13.3). */
	__atomic_store_n((uint16_t *)(used + 2), q->used_idx, __ATOMIC_RELEASE);
}

/* Serves every request the driver made available on queue @qi. */
static bool process_queue(struct virtio_dev *d, unsigned int qi)
{
	struct virtq *q = &d->s.q[qi];
	uint8_t *avail = d->ram + q->driver;
	uint16_t avail_idx, head, pending;
	bool done = false;
	int len;

	for (;;) {
		avail_idx = __atomic_load_n((uint16_t *)(avail + 2), __ATOMIC_ACQUIRE);
		pending = avail_idx - q->last_avail;
		if (!pending)
			break;
		if (pending > q->num) {
			virtio_guest_error(d, qi, "available index %u is %u past ours, ring of %u",
					   avail_idx, pending, q->num);
			break;
		}
		memcpy(&head, avail + 4 + (q->last_avail % q->num) * 2, sizeof(head));
		if (chain_build(d, qi, head))
			break;
		len = d->ops->request(d, qi, &d->chain);
		if (len == VIRTIO_REQ_ASYNC) {
			q->last_avail++;
			continue;
		}
		if (len < 0)	/* an error, or VIRTIO_REQ_LATER */
			break;
		q->last_avail++;
		used_push(d, qi, head, len);
		done = true;
	}
	return done;
}

void virtio_complete(struct virtio_dev *d, unsigned int queue, uint16_t head, uint32_t len)
{
	/* A queue the driver disabled may have a new size and rings by now. */
	if (queue >= d->s.nqueues || !d->s.q[queue].ready)
		return;
	used_push(d, queue, head, len);
	raise_irq(d, VIRTIO_INT_USED);
}

void virtio_drain(struct virtio_dev *d)
{
	if (d->ops->drain)
		d->ops->drain(d);
}

bool virtio_process(struct virtio_dev *d)
{
	bool done = false;
	unsigned int i;

	if (d->s.status & VIRTIO_STATUS_NEEDS_RESET)
		return false;
	for (i = 0; i < d->s.nqueues; i++)
		if (d->s.q[i].ready && !d->s.q[i].broken)
			done |= process_queue(d, i);
	if (done)
		raise_irq(d, VIRTIO_INT_USED);
	return done;
}

/*
 * The device's thread: sleeps until a notification (the eventfd) or, for
 * a device with a backend (virtio-net), until wait_fd is readable, which
 * poll() ignores while it is -1.
 */
static void *device_thread(void *arg)
{
	struct virtio_dev *d = arg;
	struct pollfd pfd[2];
	uint64_t count;
	bool stop;

	for (;;) {
		pthread_mutex_lock(&d->lock);
		pfd[0] = (struct pollfd){ .fd = d->notify_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = d->wait_fd, .events = POLLIN };
		pthread_mutex_unlock(&d->lock);
		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			fprintf(stderr, "minihv-run: %s: poll: %s\n", d->name, strerror(errno));
			break;
		}
		if ((pfd[0].revents & POLLIN) &&
		    read(d->notify_fd, &count, sizeof(count)) < 0 && errno != EINTR) {
			fprintf(stderr, "minihv-run: %s: eventfd: %s\n", d->name, strerror(errno));
			break;
		}
		pthread_mutex_lock(&d->lock);
		stop = d->stop;
		if (!stop && d->ops->wake)
			d->ops->wake(d);
		else if (!stop)
			virtio_process(d);
		pthread_mutex_unlock(&d->lock);
		if (stop)
			break;
	}
	return NULL;
}

/* ---- the transport ---- */

static void device_reset(struct virtio_dev *d)
{
	struct virtio_state *s = &d->s;

	/* First: requests in flight complete into the rings they came from. */
	virtio_drain(d);
	s->driver_features = 0;
	s->device_features_sel = s->driver_features_sel = s->queue_sel = 0;
	s->status = s->isr = 0;
	memset(s->q, 0, sizeof(s->q));
	if (d->ops->reset)
		d->ops->reset(d);
}

/*
 * QueueReady = 1 (4.2.3.2): a size the device allows and three areas
 * inside RAM with their alignment (2.7, Table 2.2).
 */
static void queue_enable(struct virtio_dev *d, unsigned int qi)
{
	struct virtq *q = &d->s.q[qi];

	if (!q->num || q->num > VIRTIO_QUEUE_MAX || (q->num & (q->num - 1))) {
		virtio_guest_error(d, qi, "queue size %u (a power of 2 up to %u)", q->num,
				   VIRTIO_QUEUE_MAX);
		return;
	}
	if (!gpa_range(d, q->desc, 16ULL * q->num) || q->desc % 16 ||
	    !gpa_range(d, q->driver, 6 + 2ULL * q->num) || q->driver % 2 ||
	    !gpa_range(d, q->device, 6 + 8ULL * q->num) || q->device % 4) {
		virtio_guest_error(d, qi, "rings at %#llx/%#llx/%#llx misaligned or outside RAM",
				   (unsigned long long)q->desc, (unsigned long long)q->driver,
				   (unsigned long long)q->device);
		return;
	}
	q->ready = 1;
	q->last_avail = q->used_idx = 0;
}

static void set_status(struct virtio_dev *d, uint32_t v)
{
	struct virtio_state *s = &d->s;
	uint64_t want = s->driver_features;

	if (!v) {
		device_reset(d);
		return;
	}
	/*
	 * FEATURES_OK stays clear, as the driver reads back (3.1.1), unless
	 * it asked for a subset of ours with VERSION_1 (no legacy here).
	 */
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(s->status & VIRTIO_STATUS_FEATURES_OK) &&
	    ((want & ~s->device_features) || !(want & (1ULL << VIRTIO_F_VERSION_1))))
		v &= ~VIRTIO_STATUS_FEATURES_OK;
	s->status = (v & ~VIRTIO_STATUS_NEEDS_RESET) | (s->status & VIRTIO_STATUS_NEEDS_RESET);
}

static void set_half(uint64_t *r, bool high, uint32_t v)
{
	*r = high ? (*r & 0xffffffffULL) | ((uint64_t)v << 32) : (*r & ~0xffffffffULL) | v;
}

static uint32_t reg_read(struct virtio_dev *d, uint32_t off)
{
	struct virtio_state *s = &d->s;
	struct virtq *q = s->queue_sel < s->nqueues ? &s->q[s->queue_sel] : NULL;

	switch (off) {
	case REG_MAGIC: return VIRTIO_MAGIC;
	case REG_VERSION: return 2;
	case REG_DEVICE_ID: return s->device_id;
	case REG_VENDOR_ID: return VIRTIO_VENDOR;
	case REG_DEVICE_FEATURES:
		return s->device_features_sel > 1 ? 0 :
		       s->device_features >> (32 * s->device_features_sel);
	case REG_QUEUE_NUM_MAX: return q ? VIRTIO_QUEUE_MAX : 0;
	case REG_QUEUE_READY: return q ? q->ready : 0;
	case REG_INTERRUPT_STATUS: return s->isr;
	case REG_STATUS: return s->status;
	case REG_CONFIG_GENERATION: return s->config_generation;
	default: return 0;	/* write-only or reserved */
	}
}

static void reg_write(struct virtio_dev *d, uint32_t off, uint32_t v)
{
	struct virtio_state *s = &d->s;
	struct virtq *q = s->queue_sel < s->nqueues ? &s->q[s->queue_sel] : NULL;
	uint64_t one = 1;

	/* A live queue's setup is not the driver's to change (4.2.3.2). */
	if (q && q->ready && off >= REG_QUEUE_NUM && off <= REG_QUEUE_DEVICE_HIGH &&
	    off != REG_QUEUE_READY && off != REG_QUEUE_NOTIFY &&
	    off != REG_INTERRUPT_ACK && off != REG_STATUS)
		return;
	switch (off) {
	case REG_DEVICE_FEATURES_SEL: s->device_features_sel = v; break;
	case REG_DRIVER_FEATURES:
		if (s->driver_features_sel <= 1 && !(s->status & VIRTIO_STATUS_FEATURES_OK))
			set_half(&s->driver_features, s->driver_features_sel, v);
		break;
	case REG_DRIVER_FEATURES_SEL: s->driver_features_sel = v; break;
	case REG_QUEUE_SEL: s->queue_sel = v; break;
	case REG_QUEUE_NUM: if (q) q->num = v; break;
	case REG_QUEUE_READY:
		if (!q)
			break;
		if (v && !q->ready)
			queue_enable(d, s->queue_sel);
		else if (!v)
			q->ready = 0;
		break;
	case REG_QUEUE_NOTIFY:
		/* Here only without an ioeventfd: the device's thread does the work. */
		if (write(d->notify_fd, &one, sizeof(one)) != sizeof(one))
			fprintf(stderr, "minihv-run: %s: eventfd: %s\n", d->name, strerror(errno));
		break;
	case REG_INTERRUPT_ACK: s->isr &= ~v; break;
	case REG_STATUS: set_status(d, v); break;
	case REG_QUEUE_DESC_LOW: case REG_QUEUE_DESC_HIGH:
		if (q)
			set_half(&q->desc, off == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW: case REG_QUEUE_DRIVER_HIGH:
		if (q)
			set_half(&q->driver, off == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW: case REG_QUEUE_DEVICE_HIGH:
		if (q)
			set_half(&q->device, off == REG_QUEUE_DEVICE_HIGH, v);
		break;
	}
}

bool virtio_mmio(struct virtio_dev *d, uint64_t addr, uint8_t *data, uint32_t len,
		 bool is_write)
{
	uint64_t off = addr - d->base;
	uint32_t v = 0;

	if (addr < d->base || off >= VIRTIO_MMIO_SIZE)
		return false;
	pthread_mutex_lock(&d->lock);
	if (off >= REG_CONFIG) {
		/* Device configuration: any width; read-only for our devices. */
		off -= REG_CONFIG;
		if (!is_write) {
			memset(data, 0, len);
			if (off < d->s.config_len)
				memcpy(data, d->s.config + off,
				       len < d->s.config_len - off ? len : d->s.config_len - off);
		}
	} else if (len == 4 && !(off % 4)) {
		/* The registers take 32-bit aligned accesses only (4.2.2.2). */
		if (is_write) {
			memcpy(&v, data, 4);
			reg_write(d, off, v);
		} else {
			v = reg_read(d, off);
			memcpy(data, &v, 4);
		}
	} else if (!is_write) {
		memset(data, 0, len);
	}
	pthread_mutex_unlock(&d->lock);
	return true;
}

uint64_t virtio_chain_copy(struct virtio_chain *c, bool write, uint64_t off, void *p,
			   uint64_t len)
{
	uint8_t *bytes = p;
	uint64_t done = 0, n;
	unsigned int i;

	for (i = write ? c->nread : 0; i < (write ? c->n : c->nread) && done < len; i++) {
		if (off >= c->b[i].len) {
			off -= c->b[i].len;
			continue;
		}
		n = c->b[i].len - off;
		if (n > len - done)
			n = len - done;
		if (write)
			memcpy(c->b[i].p + off, bytes + done, n);
		else
			memcpy(bytes + done, c->b[i].p + off, n);
		done += n;
		off = 0;
	}
	return done;
}

int virtio_dev_init(struct virtio_dev *d, const char *name, uint32_t device_id,
		    uint64_t features, unsigned int nqueues, const struct virtio_ops *ops,
		    void *priv, uint8_t *ram, uint64_t ram_size, uint64_t base, uint32_t pin)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->s.device_id = device_id;
	d->s.device_features = features | (1ULL << VIRTIO_F_VERSION_1);
	d->s.nqueues = nqueues < VIRTIO_MAX_QUEUES ? nqueues : VIRTIO_MAX_QUEUES;
	d->ops = ops;
	d->priv = priv;
	d->ram = ram;
	d->ram_size = ram_size;
	d->base = base;
	d->pin = pin;
	d->irq_fd = -1;
	d->wait_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	d->notify_fd = eventfd(0, EFD_CLOEXEC);
	return d->notify_fd < 0 ? -errno : 0;
}

int virtio_dev_start(struct virtio_dev *d)
{
	int r = pthread_create(&d->thread, NULL, device_thread, d);

	d->thread_started = !r;
	return -r;
}

void virtio_dev_stop(struct virtio_dev *d)
{
	uint64_t one = 1;

	if (d->thread_started) {
		pthread_mutex_lock(&d->lock);
		d->stop = true;
		pthread_mutex_unlock(&d->lock);
		if (write(d->notify_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(d->thread, NULL);
		d->thread_started = false;
	}
	if (d->ops->stop)
		d->ops->stop(d);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * virtio 1.x over MMIO (the version 2 register layout, virtio 1.2 spec
 * 4.2.2) and the split virtqueue (2.7), once, for every device
 * (virtio-rng.c, virtio-blk.c, virtio-net.c).  Documentation/design.rst, "virtio".
 *
 * Each device has a window of VIRTIO_MMIO_SIZE bytes from
 * VIRTIO_MMIO_BASE and its own I/O APIC pin; the DSDT announces them
 * (acpi.c) as LNRO0005 devices, which is how Debian's virtio_mmio, built
 * without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, finds them.
 *
 * Threads: vCPUs serve register reads and writes (virtio_mmio()) under
 * the device's lock; QueueNotify writes go to an eventfd, from the kernel
 * (an ioeventfd) or from virtio_mmio() where there is none, and the
 * device's own thread takes the requests off its queues and completes
 * them, then raises its pin through an irqfd (an edge; InterruptStatus
 * says why).  A guest that breaks the rules gets DEVICE_NEEDS_RESET and
 * a stopped queue, never a crash of the runner.
 */
#ifndef MINIHV_RUN_VIRTIO_H
#define MINIHV_RUN_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_MMIO_BASE	0xd0000000u	/* below the I/O APIC, above RAM */
#define VIRTIO_MMIO_SIZE	0x200u
#define VIRTIO_MAX_DEVS		8
#define VIRTIO_QUEUE_MAX	256	/* QueueNumMax */
#define VIRTIO_MAX_QUEUES	2
#define VIRTIO_CHAIN_MAX	512	/* buffers in one request, indirect ones included */
#define VIRTIO_CONFIG_MAX	64

/* Device IDs (5). */
#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_RNG		4

/* Feature bits common to every device (6). */
#define VIRTIO_RING_F_INDIRECT_DESC	28
#define VIRTIO_F_VERSION_1		32

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* InterruptStatus bits (4.2.2). */
#define VIRTIO_INT_USED		1
#define VIRTIO_INT_CONFIG	2

/* One split virtqueue, as the driver set it up: plain data. */
struct virtq {
	uint32_t num;		/* QueueNum: a power of 2, at most VIRTIO_QUEUE_MAX */
	uint32_t ready;		/* QueueReady */
	uint64_t desc, driver, device;	/* the three areas (2.7) */
	uint16_t last_avail;	/* the next available ring entry to take */
	uint16_t used_idx;	/* our copy of used->idx */
	bool broken;		/* stopped after a guest error until a reset */
};

/*
 * What the guest sees of a device: plain data, so that a snapshot could
 * save it.  Protected by virtio_dev.lock.
 */
struct virtio_state {
	uint32_t device_id;
	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel, queue_sel;
	uint32_t status, isr, config_generation;
	uint32_t nqueues;
	struct virtq q[VIRTIO_MAX_QUEUES];
	uint32_t config_len;
	uint8_t config[VIRTIO_CONFIG_MAX];	/* device-specific, at 100h */
};

/* One buffer of a request, in the runner's view of guest RAM. */
struct virtio_buf {
	uint8_t *p;
	uint32_t len;
	bool write;		/* device-writable */
};

/* A request: a descriptor chain, indirect tables followed. */
struct virtio_chain {
	uint16_t head;
	unsigned int n, nread;		/* buffers; the first nread are readable */
	uint64_t read_len, write_len;	/* bytes in each kind */
	struct virtio_buf b[VIRTIO_CHAIN_MAX];
};

struct virtio_dev;

/* request()'s answer for "not now": the chain stays available. */
#define VIRTIO_REQ_LATER	(-2)
/*
 * request()'s answer for "taken, it completes later": the device has
 * copied what it needs of the chain and calls virtio_complete() when the
 * work is done, from any thread, with the lock held.
 */
#define VIRTIO_REQ_ASYNC	(-3)

struct virtio_ops {
	/*
	 * Serves one request; returns the bytes written into its writable
	 * buffers (the used element's len), -1 after virtio_guest_error(),
	 * VIRTIO_REQ_LATER to leave it (and the queue's later ones)
	 * available until the next wake (a receive queue with no frame, a
	 * disk with every request slot busy), or VIRTIO_REQ_ASYNC.
	 * Called on the device's thread with the lock held.
	 */
	int (*request)(struct virtio_dev *d, unsigned int queue, struct virtio_chain *c);
	/* The driver wrote 0 to Status (under the lock); may be NULL. */
	void (*reset)(struct virtio_dev *d);
	/*
	 * Waits until no VIRTIO_REQ_ASYNC request is in flight (lock held,
	 * released while waiting); before a reset, so that none completes
	 * into rings the driver has since replaced.  NULL: none ever is.
	 */
	void (*drain)(struct virtio_dev *d);
	/* After the device's thread ended: end the device's own threads.  May be NULL. */
	void (*stop)(struct virtio_dev *d);
	/*
	 * The thread woke (a notification, or wait_fd readable): serve the
	 * queues and the backend (lock held).  NULL: virtio_process().
	 */
	void (*wake)(struct virtio_dev *d);
};

struct virtio_dev {
	struct virtio_state s;		/* [lock] */
	pthread_mutex_t lock;
	const struct virtio_ops *ops;
	void *priv;			/* the device's own data */
	char name[24];			/* for messages: "virtio-blk 0" */
	uint8_t *ram;			/* guest RAM, one slot from 0 */
	uint64_t ram_size;
	uint64_t base;			/* the MMIO window */
	uint32_t pin;			/* I/O APIC pin */
	int notify_fd;			/* eventfd: QueueNotify, stop */
	int wait_fd;			/* [lock] a backend's fd that also wakes the thread, or -1 */
	int irq_fd;			/* eventfd: an irqfd on pin, or -1 */
	/* Without an irqfd: raise the pin by hand (hv_irq_line); may be NULL. */
	void (*irq_line)(void *arg, uint32_t pin);
	void *irq_arg;
	bool stop;			/* [lock] the thread should end */
	bool thread_started;
	pthread_t thread;
	struct virtio_chain chain;	/* [lock] the request being served */
	uint64_t errors;		/* [lock] guest errors seen */
	uint64_t last_msg_ns;		/* [lock] rate limit of messages */
	unsigned int msg_burst;		/* [lock] */
};

/*
 * Sets up @d (not yet started): @ram/@ram_size is guest RAM, @base and
 * @pin its window and interrupt.  Returns 0 or -errno (the eventfd).
 */
int virtio_dev_init(struct virtio_dev *d, const char *name, uint32_t device_id,
		    uint64_t features, unsigned int nqueues, const struct virtio_ops *ops,
		    void *priv, uint8_t *ram, uint64_t ram_size, uint64_t base, uint32_t pin);
/* Starts the device's thread: 0 or -errno. */
int virtio_dev_start(struct virtio_dev *d);
/* Ends the thread after its current request, then the device's own (ops->stop). */
void virtio_dev_stop(struct virtio_dev *d);

/*
 * A vCPU's access of @len bytes at @addr inside @d's window.  Returns
 * false if @addr is not in the window.
 */
bool virtio_mmio(struct virtio_dev *d, uint64_t addr, uint8_t *data, uint32_t len,
		 bool is_write);

/*
 * Takes every available request off every ready queue (lock held);
 * true if it completed any (and raised the interrupt).
 */
bool virtio_process(struct virtio_dev *d);

/* Waits until every request taken has completed (lock held). */
void virtio_drain(struct virtio_dev *d);

/*
 * Completes a VIRTIO_REQ_ASYNC request: @head into queue @queue's used
 * ring with @len bytes written, and the interrupt.  Dropped if the driver
 * took the queue down meanwhile.  Lock held.
 */
void virtio_complete(struct virtio_dev *d, unsigned int queue, uint16_t head, uint32_t len);

/*
 * The guest broke a rule: DEVICE_NEEDS_RESET, a config-change interrupt,
 * @queue (or none, -1) stopped, a rate-limited message.  Lock held.
 */
void virtio_guest_error(struct virtio_dev *d, int queue, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

bool virtio_has_feature(const struct virtio_dev *d, unsigned int bit);

/*
 * Copies @len bytes at offset @off of the chain's readable (@write
 * false) or writable buffers from or to @p; returns the bytes copied.
 */
uint64_t virtio_chain_copy(struct virtio_chain *c, bool write, uint64_t off, void *p,
			   uint64_t len);

#endif

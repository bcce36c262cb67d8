// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio devices of a platform guest: windows, pins, the eventfds
 * the kernel (minihv or KVM, through hv.c) signals and reads.  See
 * virtio-dev.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "acpi.h"
#include "hv.h"
#include "net.h"
#include "virtio-dev.h"

_Static_assert(VIRTIO_FIRST_PIN + VIRTIO_MAX_DEVS <= MINIHV_IOAPIC_PINS, "pins");
_Static_assert(VIRTIO_MAX_DEVS <= ACPI_MAX_MMIO_DEVS, "the DSDT holds them all");

/* Without an irqfd: an edge by hand, from the device's thread. */
static void irq_edge(void *arg, uint32_t pin)
{
	struct hv *hv = arg;

	hv_irq_line(hv, pin, 1);
	hv_irq_line(hv, pin, 0);
}

/*
 * QueueNotify's writes wake the device's thread from the kernel, and its
 * completions raise the pin from the kernel: no vCPU exit either way.
 * Where the kernel cannot (an older module), virtio.c does both itself.
 */
static void wire(struct virtio_dev *d, struct hv *hv)
{
	static bool told;
	int fd, r;

	r = hv_ioeventfd(hv, d->base + 0x50, 4, d->notify_fd);
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd >= 0 && !hv_irqfd(hv, d->pin, fd)) {
		d->irq_fd = fd;
	} else {
		if (fd >= 0)
			close(fd);
		d->irq_line = irq_edge;
		d->irq_arg = hv;
		r = r ? r : -ENOTTY;
	}
	if (r && !told) {
		fprintf(stderr, "minihv-run: %s: no ioeventfd or irqfd (%s); the vCPUs notify and interrupt\n",
			hv_name(hv), strerror(-r));
		told = true;
	}
}

/* Network @index's backend and device. */
static int create_net(struct virtio_dev *d, unsigned int index, const char *spec, uint8_t *ram,
		      uint64_t ram_size, uint64_t base, uint32_t pin)
{
	uint8_t mac[6];
	int fd, r;

	if (net_open(spec, index, &fd, mac))
		return -EINVAL;
	r = virtio_net_init(d, index, fd, mac, ram, ram_size, base, pin);
	if (r) {
		fprintf(stderr, "minihv-run: --net %s: %s\n", spec, strerror(-r));
		close(fd);
	}
	return r;
}

int virtio_pc_create(struct virtio_pc *pc, struct hv *hv, uint8_t *ram, uint64_t ram_size,
		     bool rng, const struct virtio_disk_opt *disks, unsigned int ndisks,
		     const char *const *nets, unsigned int nnets)
{
	unsigned int i;
	int r;

	memset(pc, 0, sizeof(*pc));
	if (rng + ndisks + nnets > VIRTIO_MAX_DEVS)
		return -E2BIG;
	for (i = 0; i < rng + ndisks + nnets; i++) {
		struct virtio_dev *d = &pc->dev[i];
		uint64_t base = VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_SIZE;
		uint32_t pin = VIRTIO_FIRST_PIN + i;

		if (rng && !i) {
			r = virtio_rng_init(d, ram, ram_size, base, pin);
		} else if (i < rng + ndisks) {
			r = virtio_blk_init(d, i - rng, disks[i - rng].path, disks[i - rng].ro,
					    ram, ram_size, base, pin);
			if (r)
				fprintf(stderr, "minihv-run: --disk %s: %s\n", disks[i - rng].path,
					strerror(-r));
		} else {
			r = create_net(d, i - rng - ndisks, nets[i - rng - ndisks], ram, ram_size,
				       base, pin);
		}
		if (r)
			return r;
		pc->n++;
		wire(d, hv);
	}
	return 0;
}

unsigned int virtio_pc_acpi(const struct virtio_pc *pc, struct acpi_mmio_dev *acpi)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		acpi[i] = (struct acpi_mmio_dev){
			.base = pc->dev[i].base, .size = VIRTIO_MMIO_SIZE, .irq = pc->dev[i].pin,
		};
	return pc->n;
}

int virtio_pc_start(struct virtio_pc *pc)
{
	unsigned int i;
	int r;

	for (i = 0; i < pc->n; i++) {
		r = virtio_dev_start(&pc->dev[i]);
		if (r)
			return r;
	}
	return 0;
}

void virtio_pc_stop(struct virtio_pc *pc)
{
	unsigned int i;

	for (i = 0; i < pc->n; i++)
		virtio_dev_stop(&pc->dev[i]);
}

bool virtio_pc_mmio(struct virtio_pc *pc, uint64_t addr, uint8_t *data, uint32_t len,
		    bool is_write)
{
	uint64_t i;

	if (addr < VIRTIO_MMIO_BASE)
		return false;
	i = (addr - VIRTIO_MMIO_BASE) / VIRTIO_MMIO_SIZE;
	return i < pc->n && virtio_mmio(&pc->dev[i], addr, data, len, is_write);
}

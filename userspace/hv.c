// SPDX-License-Identifier: GPL-2.0
/*
 * minihv-run's two backends: minihv (/dev/minihv) and KVM (/dev/kvm).
 * See hv.h.  Documentation/virt/kvm/api.rst describes every KVM ioctl
 * used here; Documentation/api.rst minihv's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "hv.h"

/* The shapes minihv shares with KVM, checked rather than assumed. */
_Static_assert(sizeof(struct minihv_regs) == sizeof(struct kvm_regs), "regs");
_Static_assert(sizeof(struct minihv_segment) == sizeof(struct kvm_segment), "segment");
_Static_assert(offsetof(struct kvm_sregs, efer) == offsetof(struct minihv_sregs, efer),
	       "minihv_sregs is a prefix of kvm_sregs");
_Static_assert(sizeof(struct minihv_userspace_memory_region) ==
	       sizeof(struct kvm_userspace_memory_region), "memory region");
_Static_assert(offsetof(struct kvm_run, io) == 32, "kvm_run's exit union");
_Static_assert(sizeof(((struct kvm_run *)0)->io) == sizeof(((struct minihv_run *)0)->io), "io");
_Static_assert(offsetof(struct kvm_run, mmio.is_write) - offsetof(struct kvm_run, io) ==
	       offsetof(struct minihv_run, mmio.is_write) - offsetof(struct minihv_run, io), "mmio");
_Static_assert(offsetof(struct kvm_run, internal.data) - offsetof(struct kvm_run, io) ==
	       offsetof(struct minihv_run, internal.data) - offsetof(struct minihv_run, io),
	       "internal");
_Static_assert(offsetof(struct kvm_run, fail_entry.cpu) - offsetof(struct kvm_run, io) ==
	       offsetof(struct minihv_run, fail_entry.cpu) - offsetof(struct minihv_run, io),
	       "fail_entry");
_Static_assert(MINIHV_EXIT_IO == KVM_EXIT_IO && MINIHV_EXIT_HLT == KVM_EXIT_HLT &&
	       MINIHV_EXIT_MMIO == KVM_EXIT_MMIO && MINIHV_EXIT_SHUTDOWN == KVM_EXIT_SHUTDOWN &&
	       MINIHV_EXIT_FAIL_ENTRY == KVM_EXIT_FAIL_ENTRY && MINIHV_EXIT_INTR == KVM_EXIT_INTR &&
	       MINIHV_EXIT_INTERNAL_ERROR == KVM_EXIT_INTERNAL_ERROR &&
	       MINIHV_EXIT_IRQ_WINDOW_OPEN == KVM_EXIT_IRQ_WINDOW_OPEN, "exit reasons");

struct hv_backend {
	const char *name;
	unsigned long get_api_version;
	int api_version;
	unsigned long check_extension, create_vm, get_vcpu_mmap_size;
	/*
	 * The capability saying the in-kernel APIC has a TSC-deadline timer
	 * that the supported CPUID table does not show (KVM's
	 * KVM_CAP_TSC_DEADLINE_TIMER); 0: the table shows what there is.
	 */
	long cap_tsc_deadline;
	unsigned long set_user_memory_region, create_vcpu, run;
	unsigned long get_regs, set_regs, get_sregs, set_sregs;
	unsigned long create_irqchip, irq_line;
	unsigned long ioeventfd, irqfd;
	/* The PIT (and on minihv the PM timer); KVM serves port 61h with the speaker flag. */
	unsigned long create_pit2;
	uint32_t pit_flags;
	long cap_max_vcpus;
	size_t immediate_exit, exit_reason, exit_union;	/* run structure offsets */
	unsigned long get_supported_cpuid, set_cpuid;
	int (*vm_setup)(struct hv *hv);
	/* After CREATE_IRQCHIP: the routing the MADT describes, if not the kernel's own. */
	int (*irqchip_setup)(struct hv *hv);
	unsigned long get_stats_fd;	/* the binary stats, KVM's format on both */
	int (*tsc_khz)(struct hv *hv);
	/* SET_SREGS takes the backend's full structure: read, overlay, write. */
	size_t sregs_size;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r = ioctl(fd, req, arg);

	return r < 0 ? -errno : r;
}

/* ---- minihv ---- */

static int minihv_tsc_khz(struct hv *hv)
{
	return xioctl(hv->dev, MINIHV_CHECK_EXTENSION, (void *)MINIHV_CAP_TSC_KHZ);
}

_Static_assert(sizeof(struct minihv_irq_level) == sizeof(struct kvm_irq_level), "irq level");
_Static_assert(sizeof(struct minihv_stats_header) == sizeof(struct kvm_stats_header) &&
	       sizeof(struct minihv_stats_desc) == sizeof(struct kvm_stats_desc),
	       "the binary stats format is KVM's");

static const struct hv_backend minihv_backend = {
	.name = "minihv",
	.get_api_version = MINIHV_GET_API_VERSION,
	.api_version = MINIHV_API_VERSION,
	.check_extension = MINIHV_CHECK_EXTENSION,
	.create_vm = MINIHV_CREATE_VM,
	.get_vcpu_mmap_size = MINIHV_GET_VCPU_MMAP_SIZE,
	.set_user_memory_region = MINIHV_SET_USER_MEMORY_REGION,
	.create_vcpu = MINIHV_CREATE_VCPU,
	.run = MINIHV_RUN,
	.get_regs = MINIHV_GET_REGS,
	.set_regs = MINIHV_SET_REGS,
	.get_sregs = MINIHV_GET_SREGS,
	.set_sregs = MINIHV_SET_SREGS,
	.create_irqchip = MINIHV_CREATE_IRQCHIP,
	.create_pit2 = MINIHV_CREATE_PIT2,
	.get_supported_cpuid = MINIHV_GET_SUPPORTED_CPUID,
	.set_cpuid = MINIHV_SET_CPUID,
	.irq_line = MINIHV_IRQ_LINE,
	.ioeventfd = MINIHV_IOEVENTFD,
	.irqfd = MINIHV_IRQFD,
	.cap_max_vcpus = MINIHV_CAP_MAX_VCPUS,
	.immediate_exit = offsetof(struct minihv_run, immediate_exit),
	.exit_reason = offsetof(struct minihv_run, exit_reason),
	.exit_union = offsetof(struct minihv_run, io),
	.get_stats_fd = MINIHV_GET_STATS_FD,
	.tsc_khz = minihv_tsc_khz,
	.sregs_size = sizeof(struct minihv_sregs),
};

/* ---- KVM ---- */

/* Where QEMU puts it: three pages KVM needs on VT-x for real mode. */
#define KVM_TSS_ADDR	0xfffbd000

static int kvm_vm_setup(struct hv *hv)
{
	return xioctl(hv->vm, KVM_SET_TSS_ADDR, (void *)(uintptr_t)KVM_TSS_ADDR);
}

/*
 * KVM's default routing after KVM_CREATE_IRQCHIP sends each GSI to the
 * same-numbered I/O APIC pin (and, below 16, 8259 input): its PIT, which
 * raises GSI 0, reaches pin 0.  The MADT (acpi.c) says IRQ0 is on GSI 2,
 * where minihv wires it and where every PC has it: route GSI 0 to the
 * master 8259's IR0 and to pin 2, and no GSI to pin 0, as QEMU does for
 * KVM (the 8259s' IR2 is the cascade).  KVM_SET_GSI_ROUTING replaces the
 * whole table (api.rst 4.52).
 */
static int kvm_irqchip_setup(struct hv *hv)
{
	struct {
		struct kvm_irq_routing head;
		struct kvm_irq_routing_entry e[15 + 23];
	} r = { 0 };
	struct kvm_irq_routing_entry *e = r.e;
	unsigned int gsi;

	for (gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
		e->u.irqchip.pin = gsi % 8;
		e++;
	}
	for (gsi = 0; gsi < 24; gsi++) {
		if (gsi == 2)
			continue;
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi ? gsi : 2;
		e++;
	}
	r.head.nr = e - r.e;
	return xioctl(hv->vm, KVM_SET_GSI_ROUTING, &r);
}

/*
 * minihv-run's CPU model, the same on both backends: what the device
 * supports (MINIHV_GET_SUPPORTED_CPUID, KVM_GET_SUPPORTED_CPUID: one
 * layout), with the vCPU's number as its APIC id, and without what a
 * guest of this runner must not rely on: TSX, SGX, SEV, the PMU, 5-level
 * paging, nested virtualization, and, without the in-kernel irqchip, the
 * APIC and its timer.  With the irqchip, the TSC-deadline timer KVM has
 * but leaves out of its table (KVM_CAP_TSC_DEADLINE_TIMER says so):
 * without it Linux calibrates its APIC timer against a PIT, which this
 * platform does not have, and waits for ever.  KVM starts a vCPU with an empty CPUID (long mode
 * needs CPUID's LM bit before EFER.LME may be set), so it needs this;
 * minihv's default is close, and gets the same table for a like guest.
 */
_Static_assert(sizeof(struct minihv_cpuid_entry) == sizeof(struct kvm_cpuid_entry2),
	       "cpuid entry");
_Static_assert(sizeof(struct minihv_cpuid) == sizeof(struct kvm_cpuid2), "cpuid");

static void cpuid_policy(struct minihv_cpuid_entry *e, unsigned int id, bool irqchip,
			 bool tsc_deadline)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0xffffff) | (id << 24);
		e->ecx &= ~(1u << 5);				/* VMX */
		/*
		 * A guest should know it runs on a hypervisor; KVM leaves that
		 * to userspace too.  Without it, Linux on an Intel model with
		 * a TSC-deadline erratum reads the microcode revision (0 on
		 * KVM), finds it old and turns the timer off (see below).
		 */
		e->ecx |= 1u << 31;				/* hypervisor */
		if (tsc_deadline)
			e->ecx |= 1u << 24;
		if (!irqchip) {
			e->ecx &= ~((1u << 21) | (1u << 24));	/* x2APIC, TSC deadline */
			e->edx &= ~(1u << 9);			/* APIC */
		}
		break;
	case 6:
		if (!irqchip)
			e->eax &= ~(1u << 2);			/* ARAT */
		break;
	case 7:
		if (e->index == 0) {
			e->ebx &= ~((1u << 2) | (1u << 4) | (1u << 11)); /* SGX, HLE, RTM */
			e->ecx &= ~(1u << 16);			/* LA57 */
		}
		break;
	case 0xa:	/* architectural PMU */
	case 0x12:	/* SGX */
	case 0x8000001f: /* SEV */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0x80000001:
		e->ecx &= ~((1u << 2) | (1u << 23));		/* SVM, PerfCtrExtCore */
		break;
	}
}

static int vcpu_setup_cpuid(struct hv *hv, struct hv_vcpu *v, unsigned int id)
{
	struct minihv_cpuid *cpuid = NULL;
	int nent = 64, r;
	bool tsc_deadline = false;
	uint32_t i;

	if (hv->irqchip && hv->b->cap_tsc_deadline)
		tsc_deadline = xioctl(hv->dev, hv->b->check_extension,
				      (void *)hv->b->cap_tsc_deadline) > 0;
	do {
		free(cpuid);
		nent *= 2;
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		r = xioctl(hv->dev, hv->b->get_supported_cpuid, cpuid);
	} while (r == -E2BIG && nent < 4096);
	if (!r) {
		for (i = 0; i < cpuid->nent; i++)
			cpuid_policy(&cpuid->entries[i], id, hv->irqchip, tsc_deadline);
		r = xioctl(v->fd, hv->b->set_cpuid, cpuid);
	}
	free(cpuid);
	return r;
}

/* The binary statistics (KVM_GET_STATS_FD) that match minihv's kinds. */
static const struct {
	const char *name;
	int stat;	/* MINIHV_STAT_*, or -1 for the total */
} kvm_stat_names[] = {
	{ "exits", -1 },
	{ "io_exits", MINIHV_STAT_IO },
	{ "mmio_exits", MINIHV_STAT_MMIO },
	{ "halt_exits", MINIHV_STAT_HLT },
	{ "irq_exits", MINIHV_STAT_HOST_EVENT },
	{ "irq_window_exits", MINIHV_STAT_WINDOW },
	{ "nmi_window_exits", MINIHV_STAT_WINDOW },
};

static void kvm_add_stat(struct hv_stats *s, const char *name, uint64_t val)
{
	size_t i;

	for (i = 0; i < sizeof(kvm_stat_names) / sizeof(kvm_stat_names[0]); i++) {
		if (strcmp(name, kvm_stat_names[i].name))
			continue;
		if (kvm_stat_names[i].stat < 0)
			s->all = val;
		else
			s->count[kvm_stat_names[i].stat] += val;
	}
}

#define STATS_NAME_MAX	4096	/* bytes of a descriptor's name, at most */

static int stats_fd_get_stats(struct hv *hv, struct hv_vcpu *v, struct hv_stats *s)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsize;
	uint64_t val;
	uint32_t i;
	int fd, r = -EIO;

	fd = ioctl(v->fd, hv->b->get_stats_fd, NULL);
	if (fd < 0)
		return -errno;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h))
		goto out;
	/*
	 * The name ends in the NUL written below; both kernels use 48 bytes
	 * (KVM_STATS_NAME_SIZE), so a size of 0 or a huge one is a kernel
	 * bug to report, not a write before the buffer or a huge malloc.
	 */
	r = -EPROTO;
	if (h.name_size < 1 || h.name_size > STATS_NAME_MAX)
		goto out;
	r = -EIO;
	dsize = sizeof(*d) + h.name_size;
	d = malloc(dsize);
	if (!d)
		goto out;
	for (i = 0; i < h.num_desc; i++) {
		if (pread(fd, d, dsize, h.desc_offset + i * dsize) != (ssize_t)dsize ||
		    pread(fd, &val, sizeof(val), h.data_offset + d->offset) != sizeof(val))
			break;
		d->name[h.name_size - 1] = '\0';
		kvm_add_stat(s, d->name, val);
	}
	r = i == h.num_desc ? 0 : -EIO;
	free(d);
out:
	close(fd);
	return r;
}

/* A VM ioctl since Linux 6.0 (KVM_CAP_VM_TSC_CONTROL). */
static int kvm_tsc_khz(struct hv *hv)
{
	return xioctl(hv->vm, KVM_GET_TSC_KHZ, 0);
}

static const struct hv_backend kvm_backend = {
	.name = "KVM",
	.get_api_version = KVM_GET_API_VERSION,
	.api_version = KVM_API_VERSION,
	.check_extension = KVM_CHECK_EXTENSION,
	.create_vm = KVM_CREATE_VM,
	.get_vcpu_mmap_size = KVM_GET_VCPU_MMAP_SIZE,
	.set_user_memory_region = KVM_SET_USER_MEMORY_REGION,
	.create_vcpu = KVM_CREATE_VCPU,
	.run = KVM_RUN,
	.get_regs = KVM_GET_REGS,
	.set_regs = KVM_SET_REGS,
	.get_sregs = KVM_GET_SREGS,
	.set_sregs = KVM_SET_SREGS,
	.create_irqchip = KVM_CREATE_IRQCHIP,
	.create_pit2 = KVM_CREATE_PIT2,
	.pit_flags = KVM_PIT_SPEAKER_DUMMY,
	.get_supported_cpuid = KVM_GET_SUPPORTED_CPUID,
	.set_cpuid = KVM_SET_CPUID2,
	.irq_line = KVM_IRQ_LINE,
	.ioeventfd = KVM_IOEVENTFD,
	.irqfd = KVM_IRQFD,
	.cap_max_vcpus = KVM_CAP_MAX_VCPUS,
	.cap_tsc_deadline = KVM_CAP_TSC_DEADLINE_TIMER,
	.immediate_exit = offsetof(struct kvm_run, immediate_exit),
	.exit_reason = offsetof(struct kvm_run, exit_reason),
	.exit_union = offsetof(struct kvm_run, io),
	.vm_setup = kvm_vm_setup,
	.irqchip_setup = kvm_irqchip_setup,
	.get_stats_fd = KVM_GET_STATS_FD,
	.tsc_khz = kvm_tsc_khz,
	.sregs_size = sizeof(struct kvm_sregs),
};

int hv_create_irqchip(struct hv *hv)
{
	int r = xioctl(hv->vm, hv->b->create_irqchip, 0);

	if (!r && hv->b->irqchip_setup)
		r = hv->b->irqchip_setup(hv);
	hv->irqchip = !r;
	return r;
}

int hv_create_pit2(struct hv *hv)
{
	struct minihv_pit_config c = { .flags = hv->b->pit_flags };

	_Static_assert(sizeof(c) == sizeof(struct kvm_pit_config), "PIT config");
	return xioctl(hv->vm, hv->b->create_pit2, &c);
}

int hv_irq_line(struct hv *hv, uint32_t irq, uint32_t level)
{
	struct minihv_irq_level l = { .irq = irq, .level = level };

	return xioctl(hv->vm, hv->b->irq_line, &l);
}

_Static_assert(sizeof(struct minihv_ioeventfd) == sizeof(struct kvm_ioeventfd) &&
	       offsetof(struct minihv_ioeventfd, flags) == offsetof(struct kvm_ioeventfd, flags) &&
	       MINIHV_IOEVENTFD_FLAG_DATAMATCH == (1 << kvm_ioeventfd_flag_nr_datamatch) &&
	       MINIHV_IOEVENTFD_FLAG_PIO == (1 << kvm_ioeventfd_flag_nr_pio) &&
	       MINIHV_IOEVENTFD_FLAG_DEASSIGN == (1 << kvm_ioeventfd_flag_nr_deassign),
	       "ioeventfd: KVM's layout and flags");
_Static_assert(sizeof(struct minihv_irqfd) == sizeof(struct kvm_irqfd) &&
	       offsetof(struct minihv_irqfd, resamplefd) == offsetof(struct kvm_irqfd, resamplefd),
	       "irqfd: KVM's layout");

int hv_ioeventfd(struct hv *hv, uint64_t addr, uint32_t len, int fd)
{
	struct minihv_ioeventfd e = { .addr = addr, .len = len, .fd = fd };

	return xioctl(hv->vm, hv->b->ioeventfd, &e);
}

int hv_irqfd(struct hv *hv, uint32_t gsi, int fd)
{
	struct minihv_irqfd e = { .fd = fd, .gsi = gsi };

	return xioctl(hv->vm, hv->b->irqfd, &e);
}

int hv_get_features(struct hv *hv, struct minihv_features *f)
{
	if (hv->b != &minihv_backend)
		return -ENOTTY;
	return xioctl(hv->dev, MINIHV_GET_FEATURES, f);
}

int hv_get_exit_log(struct hv *hv, struct hv_vcpu *v, struct minihv_exit_log *log)
{
	if (hv->b != &minihv_backend)
		return -ENOTTY;
	return xioctl(v->fd, MINIHV_GET_EXIT_LOG, log);
}

int hv_tsc_khz(struct hv *hv)
{
	return hv->b->tsc_khz(hv);
}

/* ---- the calls minihv-run makes ---- */

int hv_open(struct hv *hv, const char *path)
{
	static const struct hv_backend *const backends[] = { &minihv_backend, &kvm_backend };
	size_t i;

	memset(hv, 0, sizeof(*hv));
	hv->vm = -1;
	hv->dev = open(path, O_RDWR | O_CLOEXEC);
	if (hv->dev < 0)
		return -errno;
	/* Each device answers its own API version ioctl, ENOTTY to the other. */
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (ioctl(hv->dev, backends[i]->get_api_version, 0) == backends[i]->api_version) {
			hv->b = backends[i];
			return 0;
		}
	}
	close(hv->dev);
	return -EPROTONOSUPPORT;
}

const char *hv_name(const struct hv *hv)
{
	return hv->b->name;
}

int hv_max_vcpus(struct hv *hv)
{
	return xioctl(hv->dev, hv->b->check_extension, (void *)hv->b->cap_max_vcpus);
}

int hv_create_vm(struct hv *hv)
{
	int r = xioctl(hv->dev, hv->b->create_vm, 0);

	if (r < 0)
		return r;
	hv->vm = r;
	r = xioctl(hv->dev, hv->b->get_vcpu_mmap_size, 0);
	if (r < (int)sizeof(struct minihv_run))
		return r < 0 ? r : -EINVAL;
	hv->run_size = r;
	return hv->b->vm_setup ? hv->b->vm_setup(hv) : 0;
}

int hv_set_memory(struct hv *hv, uint32_t slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct minihv_userspace_memory_region mr = {
		.slot = slot, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return xioctl(hv->vm, hv->b->set_user_memory_region, &mr);
}

int hv_create_vcpu(struct hv *hv, unsigned int id, struct hv_vcpu *v)
{
	uint8_t *run;
	int r;

	v->fd = xioctl(hv->vm, hv->b->create_vcpu, (void *)(uintptr_t)id);
	if (v->fd < 0)
		return v->fd;
	run = mmap(NULL, hv->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (run == MAP_FAILED)
		return -errno;
	v->run = run;
	v->immediate_exit = run + hv->b->immediate_exit;
	v->exit_reason = (uint32_t *)(run + hv->b->exit_reason);
	v->exit = (struct minihv_run *)(run + hv->b->exit_union -
					offsetof(struct minihv_run, io));
	r = vcpu_setup_cpuid(hv, v, id);
	return r;
}

/*
 * KVM's RUN of an AP still waiting for INIT/SIPI sleeps until an event
 * comes, then returns EAGAIN without entering the guest: run again, as
 * QEMU does.  minihv's wait-for-SIPI stays in the kernel.
 */
int hv_run(struct hv *hv, struct hv_vcpu *v)
{
	int r;

	do
		r = xioctl(v->fd, hv->b->run, 0);
	while (r == -EAGAIN);
	return r;
}

int hv_get_regs(struct hv *hv, struct hv_vcpu *v, struct minihv_regs *regs)
{
	return xioctl(v->fd, hv->b->get_regs, regs);
}

int hv_set_regs(struct hv *hv, struct hv_vcpu *v, const struct minihv_regs *regs)
{
	return xioctl(v->fd, hv->b->set_regs, (void *)regs);
}

int hv_get_sregs(struct hv *hv, struct hv_vcpu *v, struct minihv_sregs *sregs)
{
	struct kvm_sregs full;	/* the larger of the two */
	int r = xioctl(v->fd, hv->b->get_sregs, &full);

	if (!r)
		memcpy(sregs, &full, sizeof(*sregs));
	return r;
}

int hv_set_sregs(struct hv *hv, struct hv_vcpu *v, const struct minihv_sregs *sregs)
{
	struct kvm_sregs full;
	int r = 0;

	/* KVM's tail (APIC base, pending interrupt bitmap) stays as it was. */
	if (hv->b->sregs_size > sizeof(*sregs))
		r = xioctl(v->fd, hv->b->get_sregs, &full);
	if (r)
		return r;
	memcpy(&full, sregs, sizeof(*sregs));
	return xioctl(v->fd, hv->b->set_sregs, &full);
}

int hv_get_stats(struct hv *hv, struct hv_vcpu *v, struct hv_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	return stats_fd_get_stats(hv, v, stats);
}

void hv_vcpu_close(struct hv *hv, struct hv_vcpu *v)
{
	munmap(v->run, hv->run_size);
	close(v->fd);
}

void hv_close(struct hv *hv)
{
	if (hv->vm >= 0)
		close(hv->vm);
	close(hv->dev);
}

const char *hv_fail_entry_reason(const struct hv *hv, const struct hv_vcpu *v,
				 uint64_t *field, uint64_t *value)
{
	const struct minihv_run *run = v->run;

	if (hv->b != &minihv_backend)
		return NULL;
	*field = run->fail_entry.field;
	*value = run->fail_entry.value;
	return run->fail_entry.reason;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv-run's hypervisor layer: one small backend per device, minihv's
 * /dev/minihv or KVM's /dev/kvm, chosen by asking the device which API it
 * speaks.  minihv's ABI copies KVM's shapes, so the backends differ only
 * in ioctl numbers, where the run structure's fields sit, the setup KVM
 * wants (CPUID, a TSS address) and how exit statistics are read.
 */
#ifndef MINIHV_RUN_HV_H
#define MINIHV_RUN_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/minihv.h>

struct hv_backend;

struct hv {
	const struct hv_backend *b;
	int dev, vm;
	size_t run_size;
	bool irqchip;			/* hv_create_irqchip() succeeded */
};

/*
 * A vCPU's view of its mapped run structure.  The exit union's members
 * (io, mmio, internal, and fail_entry's first two fields) have the same
 * layout in both ABIs; only the union's offset differs, so exit points at
 * a struct minihv_run positioned to put its union over the real one:
 * use exit->io, exit->mmio, ... and never exit's header fields.
 */
struct hv_vcpu {
	int fd;
	void *run;			/* the mapping: io.data_offset counts from here */
	volatile uint8_t *immediate_exit;
	volatile uint32_t *exit_reason;
	struct minihv_run *exit;
};

/*
 * Exits by kind (MINIHV_STAT_*).  KVM counts fewer kinds (I/O, MMIO,
 * HLT, host interrupts, windows); the rest stay 0 there.
 */
struct hv_stats {
	uint64_t all;
	uint64_t count[MINIHV_STAT_NR];
};

/* Each returns 0 or -errno, after printing nothing. */
int hv_open(struct hv *hv, const char *path);
const char *hv_name(const struct hv *hv);
int hv_max_vcpus(struct hv *hv);
int hv_create_vm(struct hv *hv);
int hv_set_memory(struct hv *hv, uint32_t slot, uint64_t gpa, uint64_t size, void *hva);
int hv_create_vcpu(struct hv *hv, unsigned int id, struct hv_vcpu *v);
int hv_run(struct hv *hv, struct hv_vcpu *v);
int hv_get_regs(struct hv *hv, struct hv_vcpu *v, struct minihv_regs *regs);
int hv_set_regs(struct hv *hv, struct hv_vcpu *v, const struct minihv_regs *regs);
int hv_get_sregs(struct hv *hv, struct hv_vcpu *v, struct minihv_sregs *sregs);
int hv_set_sregs(struct hv *hv, struct hv_vcpu *v, const struct minihv_sregs *sregs);
/* -EPROTO: the binary stats' header is malformed (name_size). */
int hv_get_stats(struct hv *hv, struct hv_vcpu *v, struct hv_stats *stats);
/*
 * The in-kernel interrupt controller (local APICs, I/O APIC; KVM adds
 * its 8259 pair): before the vCPUs.  hv_irq_line drives an I/O APIC pin;
 * it may be called from any thread.
 */
int hv_create_irqchip(struct hv *hv);
/* The 8254 PIT, after the irqchip; on minihv the ACPI PM timer too. */
int hv_create_pit2(struct hv *hv);
int hv_irq_line(struct hv *hv, uint32_t irq, uint32_t level);
/*
 * A guest's write of @len bytes to guest-physical @addr signals the
 * eventfd @fd from the kernel (MINIHV_IOEVENTFD, KVM_IOEVENTFD), any value.
 */
int hv_ioeventfd(struct hv *hv, uint64_t addr, uint32_t len, int fd);
/* Each signal of the eventfd @fd raises I/O APIC pin @gsi as an edge (MINIHV_IRQFD, KVM_IRQFD). */
int hv_irqfd(struct hv *hv, uint32_t gsi, int fd);
/* The CPU's features and what minihv uses (MINIHV_GET_FEATURES); -ENOTTY on KVM. */
int hv_get_features(struct hv *hv, struct minihv_features *f);
/* The last exits (MINIHV_GET_EXIT_LOG); -ENOTTY on KVM, which has none. */
int hv_get_exit_log(struct hv *hv, struct hv_vcpu *v, struct minihv_exit_log *log);
/* The guest's TSC frequency in kHz (> 0), or -errno. */
int hv_tsc_khz(struct hv *hv);
/* Unmaps and closes a vCPU; then the VM and the device. */
void hv_vcpu_close(struct hv *hv, struct hv_vcpu *v);
void hv_close(struct hv *hv);
/* minihv's fail_entry.reason (the broken rule), or NULL. */
const char *hv_fail_entry_reason(const struct hv *hv, const struct hv_vcpu *v,
				 uint64_t *field, uint64_t *value);

#endif

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * minihv userspace ABI.
 *
 * The shape is KVM's (Documentation/virt/kvm/api.rst): system ioctls on
 * /dev/minihv, VM ioctls on a VM fd, vCPU ioctls on a vCPU fd, and a run
 * structure that userspace mmap()s from the vCPU fd.  Only what the module
 * implements is declared here; Documentation/api.rst describes each ioctl.
 *
 * Rules for this file: fixed-width types only, explicit padding, every
 * field marked in or out, and an ioctl number is never reused once it has
 * been published.
 */
#ifndef _UAPI_LINUX_MINIHV_H
#define _UAPI_LINUX_MINIHV_H

#include <linux/types.h>
#include <linux/ioctl.h>

/*
 * MINIHV_GET_API_VERSION returns this.  It changes only when an existing
 * ioctl changes incompatibly; new ioctls are discovered with
 * MINIHV_CHECK_EXTENSION instead.
 */
#define MINIHV_API_VERSION	1

/*
 * Ioctl type 0xAF, numbers from 0x20: 0xAF 0x00-0x1F belongs to
 * linux/fsl_hypervisor.h (Documentation/userspace-api/ioctl/ioctl-number.rst).
 */
#define MINIHVIO		0xAF

/* System ioctls, on the /dev/minihv fd. */

/* Takes 0, returns MINIHV_API_VERSION. */
#define MINIHV_GET_API_VERSION	_IO(MINIHVIO, 0x20)
/* Takes a MINIHV_CAP_* number, returns 0 if unsupported, > 0 if supported. */
#define MINIHV_CHECK_EXTENSION	_IO(MINIHVIO, 0x21)

/* Takes 0, returns a new VM fd. */
#define MINIHV_CREATE_VM	_IO(MINIHVIO, 0x22)
/* Takes 0, returns the size to mmap() from a vCPU fd (struct minihv_run). */
#define MINIHV_GET_VCPU_MMAP_SIZE _IO(MINIHVIO, 0x23)

/*
 * A CPUID table: KVM's struct kvm_cpuid2 and kvm_cpuid_entry2, field for
 * field.  An entry answers CPUID leaf @function (and, with
 * MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX, only subleaf @index).
 */
struct minihv_cpuid_entry {
	__u32 function;		/* in/out: EAX */
	__u32 index;		/* in/out: ECX */
	__u32 flags;		/* in/out: MINIHV_CPUID_FLAG_* */
	__u32 eax, ebx, ecx, edx; /* in/out: the answer */
	__u32 padding[3];	/* 0 */
};

#define MINIHV_CPUID_FLAG_SIGNIFICANT_INDEX	(1u << 0)
#define MINIHV_CPUID_MAX_ENTRIES		256

struct minihv_cpuid {
	__u32 nent;		/* in: entries room / given; out: entries filled */
	__u32 padding;		/* 0 */
	struct minihv_cpuid_entry entries[];
};

/*
 * Fills the table with what a vCPU sees by default (the host's CPUID,
 * filtered to what minihv virtualizes, with the in-kernel APIC): the
 * starting point of a userspace policy.  E2BIG, with nent set to the
 * number needed, when nent is smaller.
 */
#define MINIHV_GET_SUPPORTED_CPUID _IOWR(MINIHVIO, 0x24, struct minihv_cpuid)

/*
 * The host CPU's virtualization features, and which of them minihv uses:
 * bit MINIHV_FEATURE_x of @host and of @used.  What minihv-run --probe
 * prints.
 */
#define MINIHV_FEATURE_EPT		0	/* VT-x */
#define MINIHV_FEATURE_EPT_AD		1	/* EPT accessed/dirty flags */
#define MINIHV_FEATURE_VPID		2
#define MINIHV_FEATURE_UNRESTRICTED_GUEST 3
#define MINIHV_FEATURE_PREEMPTION_TIMER	4
#define MINIHV_FEATURE_VMCS_SHADOWING	5
#define MINIHV_FEATURE_APICV		6	/* APIC virtualization, virtual interrupts */
#define MINIHV_FEATURE_NPT		16	/* AMD-V */
#define MINIHV_FEATURE_NRIP_SAVE	17
#define MINIHV_FEATURE_VMCB_CLEAN	18
#define MINIHV_FEATURE_FLUSH_BY_ASID	19
#define MINIHV_FEATURE_DECODE_ASSISTS	20
#define MINIHV_FEATURE_VGIF		21
#define MINIHV_FEATURE_AVIC		22
/*
 * Speculation mitigations (Documentation/security.rst): @host when the host
 * kernel applies it on this CPU, @used when minihv applies it around the
 * world switch.
 */
#define MINIHV_FEATURE_MIT_IBPB_SWITCH	32	/* IBPB when a CPU changes VM */
#define MINIHV_FEATURE_MIT_RSB_FILL	33	/* RSB filled after every exit */
#define MINIHV_FEATURE_MIT_VERW		34	/* CPU buffers cleared before entry */
#define MINIHV_FEATURE_MIT_L1D_FLUSH	35	/* VT-x: L1D flushed before entry */
#define MINIHV_FEATURE_MIT_UNTRAIN_RET	36	/* AMD-V: retbleed/SRSO untraining */
#define MINIHV_FEATURE_MIT_BHB_CLEAR	37	/* VT-x: branch history cleared */
#define MINIHV_FEATURE_MIT_IBPB_EXIT_TO_USER 38	/* IBPB before the VMM runs again */

struct minihv_features {
	__u32 vendor;		/* out: MINIHV_VENDOR_* */
	__u32 nr_tags;		/* out: ASIDs (AMD-V) or VPIDs (VT-x), 0: none */
	__u64 host;		/* out: what the CPU has */
	__u64 used;		/* out: what minihv uses of it */
};

#define MINIHV_GET_FEATURES	_IOR(MINIHVIO, 0x25, struct minihv_features)

/*
 * Capabilities for MINIHV_CHECK_EXTENSION.  Every number not listed here
 * (and every number listed here that the running module does not know)
 * reports 0.
 */

/* Returns the hardware backend: MINIHV_VENDOR_VMX or MINIHV_VENDOR_SVM. */
#define MINIHV_CAP_VENDOR	1
/* Returns the number of memory slots per VM. */
#define MINIHV_CAP_NR_MEMSLOTS	2
/* Returns the number of vCPUs per VM (ids are 0 .. n-1). */
#define MINIHV_CAP_MAX_VCPUS	3
/* Returns 1: read-only memory slots (MINIHV_MEM_READONLY) exist. */
#define MINIHV_CAP_READONLY_MEM	4
/*
 * Returns 1: MINIHV_INTERRUPT, MINIHV_NMI, request_interrupt_window and
 * MINIHV_EXIT_IRQ_WINDOW_OPEN exist.
 */
#define MINIHV_CAP_INTERRUPTS	5
/*
 * Returns 1: MINIHV_CREATE_IRQCHIP and MINIHV_IRQ_LINE exist
 * (Documentation/platform.rst).
 */
#define MINIHV_CAP_IRQCHIP	6
/* Returns the guest's TSC frequency in kHz (the host's), 0 if unknown. */
#define MINIHV_CAP_TSC_KHZ	7
/* Returns 1: MINIHV_GET_SUPPORTED_CPUID and MINIHV_SET_CPUID exist. */
#define MINIHV_CAP_CPUID	8
/*
 * Returns 1: MINIHV_CREATE_PIT2 exists, and MINIHV_CREATE_IRQCHIP makes
 * the 8259 pair too (Documentation/platform.rst).
 */
#define MINIHV_CAP_PIT2		9
/* Returns the most MINIHV_IOEVENTFD registrations a VM may hold. */
#define MINIHV_CAP_IOEVENTFD	10
/* Returns the most MINIHV_IRQFD registrations a VM may hold. */
#define MINIHV_CAP_IRQFD	11

#define MINIHV_VENDOR_VMX	1	/* Intel VT-x */
#define MINIHV_VENDOR_SVM	2	/* AMD-V */

/* VM ioctls, on a VM fd. */

/*
 * A memory slot maps guest-physical [guest_phys_addr, + memory_size) onto
 * the caller's memory at userspace_addr.  All three must be page aligned;
 * memory_size 0 deletes the slot.  Slots may not overlap.
 */
struct minihv_userspace_memory_region {
	__u32 slot;		/* in: 0 .. MINIHV_CAP_NR_MEMSLOTS - 1 */
	__u32 flags;		/* in: MINIHV_MEM_* */
	__u64 guest_phys_addr;	/* in */
	__u64 memory_size;	/* in: bytes, 0 to delete */
	__u64 userspace_addr;	/* in */
};

/* Guest writes to the slot exit to userspace as MMIO writes. */
#define MINIHV_MEM_READONLY	(1u << 1)

#define MINIHV_SET_USER_MEMORY_REGION \
	_IOW(MINIHVIO, 0x40, struct minihv_userspace_memory_region)
/* Takes the vCPU id, returns a new vCPU fd. */
#define MINIHV_CREATE_VCPU	_IO(MINIHVIO, 0x41)

/*
 * Takes 0.  Creates the in-kernel interrupt controller: a local APIC for
 * each vCPU created afterwards (xAPIC page at 0xfee00000, x2APIC MSRs,
 * timer, IPIs), an I/O APIC with MINIHV_IOAPIC_PINS pins at 0xfec00000,
 * and the 8259 pair (ports 20h, A0h, 4D0h) on vCPU 0's LINT0.  From then
 * on HLT waits in the kernel, application processors (vCPU id > 0) wait
 * for INIT and SIPI, and interrupts come from the APICs.  Once per VM,
 * before the first vCPU: -EEXIST, -EBUSY.
 */
#define MINIHV_CREATE_IRQCHIP	_IO(MINIHVIO, 0x42)

/*
 * Drives one I/O APIC pin: level 1 asserts it, 0 de-asserts it.  Pins
 * 0-15 but 2 drive the 8259 input of the same number too.
 */
struct minihv_irq_level {
	__u32 irq;		/* in: pin, 0 .. MINIHV_IOAPIC_PINS - 1 */
	__u32 level;		/* in: 0 or 1 */
};

#define MINIHV_IOAPIC_PINS	24
#define MINIHV_IRQ_LINE		_IOW(MINIHVIO, 0x43, struct minihv_irq_level)

/*
 * The platform's timers, KVM_CREATE_PIT2's shape: the 8254 PIT at ports
 * 40h-43h with port 61h (channel 2's gate and output), channel 0 on IRQ0
 * of the 8259 and pin 2 of the I/O APIC, and the ACPI PM timer at
 * MINIHV_PM_TIMER_PORT.  Needs MINIHV_CREATE_IRQCHIP first (-ENOENT);
 * once per VM (-EEXIST); flags and pad must be 0 (-EINVAL).
 */
struct minihv_pit_config {
	__u32 flags;		/* in: 0 */
	__u32 pad[15];		/* in: 0 */
};

#define MINIHV_PM_TIMER_PORT	0x608	/* 4 bytes, the FADT's PM_TMR_BLK */
#define MINIHV_CREATE_PIT2	_IOW(MINIHVIO, 0x44, struct minihv_pit_config)

/*
 * KVM_IOEVENTFD's shape: a guest's write of @len bytes to the port (with
 * MINIHV_IOEVENTFD_FLAG_PIO) or guest-physical address @addr, and with
 * MINIHV_IOEVENTFD_FLAG_DATAMATCH only of the value @datamatch, signals
 * the eventfd @fd from the kernel; the vCPU goes on without an exit.  A
 * device's own ports and registers in the kernel win; reads, string I/O
 * and an arithmetic instruction's write-back still exit.  Errors: unknown
 * flags, pad not 0, @len not 1, 2, 4 or 8 (4 at most for a port), a range
 * that wraps or leaves the 64 KiB of ports: -EINVAL; @fd no eventfd:
 * -EBADF or -EINVAL; the same address, length and value (or either without
 * DATAMATCH) already there: -EEXIST; MINIHV_CAP_IOEVENTFD reached:
 * -ENOSPC.  With MINIHV_IOEVENTFD_FLAG_DEASSIGN the registration with
 * these fields is removed (-ENOENT if none).
 */
#define MINIHV_IOEVENTFD_FLAG_DATAMATCH	(1 << 0)
#define MINIHV_IOEVENTFD_FLAG_PIO	(1 << 1)
#define MINIHV_IOEVENTFD_FLAG_DEASSIGN	(1 << 2)

struct minihv_ioeventfd {
	__u64 datamatch;	/* in */
	__u64 addr;		/* in: port or guest-physical address */
	__u32 len;		/* in: 1, 2, 4 or 8 bytes */
	__s32 fd;		/* in: an eventfd */
	__u32 flags;		/* in: MINIHV_IOEVENTFD_FLAG_* */
	__u8 pad[36];		/* in: 0 */
};

#define MINIHV_IOEVENTFD	_IOW(MINIHVIO, 0x45, struct minihv_ioeventfd)

/*
 * KVM_IRQFD's shape: each signal of the eventfd @fd raises I/O APIC pin
 * @gsi (and the 8259 input of the same number below 16, as
 * MINIHV_IRQ_LINE) as an edge, from the kernel, without a vCPU exit.
 * With MINIHV_IRQFD_FLAG_RESAMPLE the signal asserts the line and leaves
 * it asserted; the guest's EOI of the interrupt de-asserts it and signals
 * the eventfd @resamplefd, so a level-triggered device can tell whether to
 * raise it again.  Needs MINIHV_CREATE_IRQCHIP (-ENXIO).  Errors: unknown
 * flags, pad not 0, @gsi not a pin: -EINVAL; @fd or @resamplefd not open:
 * -EBADF, open but no eventfd: -EINVAL; @fd already an irqfd of this VM:
 * -EBUSY; MINIHV_CAP_IRQFD reached: -ENOSPC.  With
 * MINIHV_IRQFD_FLAG_DEASSIGN the irqfd of @fd and @gsi is removed (-ENOENT
 * if none; KVM returns 0); once the ioctl returns it raises nothing more.
 * Closing @fd removes it too.
 */
#define MINIHV_IRQFD_FLAG_DEASSIGN	(1 << 0)
#define MINIHV_IRQFD_FLAG_RESAMPLE	(1 << 1)

struct minihv_irqfd {
	__u32 fd;		/* in: an eventfd */
	__u32 gsi;		/* in: 0 .. MINIHV_IOAPIC_PINS - 1 */
	__u32 flags;		/* in: MINIHV_IRQFD_FLAG_* */
	__u32 resamplefd;	/* in: an eventfd, with MINIHV_IRQFD_FLAG_RESAMPLE */
	__u8 pad[16];		/* in: 0 */
};

#define MINIHV_IRQFD		_IOW(MINIHVIO, 0x46, struct minihv_irqfd)

/* vCPU ioctls, on a vCPU fd. */

/* Same layout as KVM's struct kvm_regs. */
struct minihv_regs {
	__u64 rax, rbx, rcx, rdx;
	__u64 rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11;
	__u64 r12, r13, r14, r15;
	__u64 rip, rflags;
};

/* A segment register with its hidden part, as KVM's struct kvm_segment. */
struct minihv_segment {
	__u64 base;
	__u32 limit;		/* in bytes, already scaled by g */
	__u16 selector;
	__u8 type;		/* descriptor type field, 4 bits */
	__u8 present, dpl, db, s, l, g, avl;
	__u8 unusable;		/* a null selector loaded in protected mode */
	__u8 padding;
};

struct minihv_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

struct minihv_sregs {
	struct minihv_segment cs, ds, es, fs, gs, ss;
	struct minihv_segment tr, ldt;
	struct minihv_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
};

/*
 * Exits of one vCPU since it was created, counted by kind whether the
 * kernel handled them or userspace did (MINIHV_GET_EXIT_STATS).
 */
enum minihv_exit_stat {
	MINIHV_STAT_IO,			/* port I/O, to userspace */
	MINIHV_STAT_MMIO,		/* MMIO, to userspace */
	MINIHV_STAT_HLT,
	MINIHV_STAT_CPUID,		/* in the kernel */
	MINIHV_STAT_MSR,		/* in the kernel */
	MINIHV_STAT_PAGE_FAULT,		/* nested fault on RAM, mapped */
	MINIHV_STAT_HOST_EVENT,		/* interrupt, NMI, SMI for the host */
	MINIHV_STAT_CR_ACCESS,		/* CR0/CR4 write emulated (AMD-V: CR0 with EFER.LME) */
	MINIHV_STAT_REFUSED,		/* instruction answered with #UD */
	MINIHV_STAT_SHUTDOWN,
	MINIHV_STAT_FAIL_ENTRY,
	MINIHV_STAT_OTHER,		/* internal errors, everything else */
	MINIHV_STAT_WINDOW,		/* interrupt/NMI window, NMI's IRET */
	MINIHV_STAT_HYPERCALL,		/* VMCALL / VMMCALL */
	MINIHV_STAT_IRQCHIP,		/* APIC, I/O APIC, 8259, PIT access, in the kernel */
	MINIHV_STAT_EXCEPTION,		/* guest exception intercepted, reflected or the host's */
	MINIHV_STAT_IOEVENTFD,		/* a write that signalled an ioeventfd, in the kernel */
	MINIHV_STAT_NR,
};

struct minihv_exit_stats {
	__u64 count[32];		/* out: indexed by MINIHV_STAT_* */
};

#define MINIHV_RUN		_IO(MINIHVIO, 0x80)
#define MINIHV_GET_REGS		_IOR(MINIHVIO, 0x81, struct minihv_regs)
#define MINIHV_SET_REGS		_IOW(MINIHVIO, 0x82, struct minihv_regs)
#define MINIHV_GET_SREGS	_IOR(MINIHVIO, 0x83, struct minihv_sregs)
#define MINIHV_SET_SREGS	_IOW(MINIHVIO, 0x84, struct minihv_sregs)
#define MINIHV_GET_EXIT_STATS	_IOR(MINIHVIO, 0x85, struct minihv_exit_stats)

/*
 * An external interrupt for the guest, as from an interrupt controller
 * that userspace emulates.  One can be queued at a time: it is delivered
 * through the guest's IDT as soon as RFLAGS.IF is 1 and no interrupt
 * shadow (STI, MOV SS) blocks it.  run->ready_for_interrupt_injection says
 * when another may be queued.
 */
struct minihv_interrupt {
	__u32 irq;		/* in: vector, 0 .. 255 */
};

#define MINIHV_INTERRUPT	_IOW(MINIHVIO, 0x86, struct minihv_interrupt)
/* Queues an NMI (vector 2); a second one while one is queued is merged. */
#define MINIHV_NMI		_IO(MINIHVIO, 0x87)

/*
 * What a vCPU of a VM with MINIHV_CREATE_IRQCHIP is doing (KVM's
 * kvm_mp_state and numbers): running, halted in the kernel (HLT), or
 * waiting for a SIPI after INIT (application processors start so).
 * SET_MP_STATE lets userspace start a vCPU itself, as firmware would.
 * -ENXIO without an irqchip; -EINVAL for another state.
 */
#define MINIHV_MP_STATE_RUNNABLE	0
#define MINIHV_MP_STATE_INIT_RECEIVED	2
#define MINIHV_MP_STATE_HALTED		3

struct minihv_mp_state {
	__u32 mp_state;		/* in/out: MINIHV_MP_STATE_* */
};

#define MINIHV_GET_MP_STATE	_IOR(MINIHVIO, 0x88, struct minihv_mp_state)
#define MINIHV_SET_MP_STATE	_IOW(MINIHVIO, 0x89, struct minihv_mp_state)

/*
 * The vCPU's CPUID from now on (KVM_SET_CPUID2): this table alone; a leaf
 * it lacks reads 0.  nent 0 returns to the default.  E2BIG above
 * MINIHV_CPUID_MAX_ENTRIES; EINVAL for an unknown flag or non-zero
 * padding; the previous table stays after any error.
 */
#define MINIHV_SET_CPUID	_IOW(MINIHVIO, 0x8a, struct minihv_cpuid)

/*
 * The vCPU's last MINIHV_EXIT_LOG_LEN exits, in the kernel or not, oldest
 * first: what a crash report shows (minihv-run prints it when a guest
 * dies).  The instruction bytes are read when the log is: what memory
 * holds at RIP now, through the guest's current paging; insn_len 0 when
 * they cannot be read.
 */
#define MINIHV_EXIT_LOG_LEN	64

struct minihv_exit_log_entry {
	__u64 reason;		/* VT-x VM_EXIT_REASON, AMD-V EXITCODE */
	__u64 info1;		/* exit qualification / EXITINFO1 */
	__u64 info2;		/* exit interruption information / EXITINFO2 */
	__u64 rip;
	__u8 insn[15];
	__u8 insn_len;
};

struct minihv_exit_log {
	__u64 total;		/* out: exits so far; count = min(total, LEN) */
	__u32 count;		/* out: entries filled */
	__u32 padding;
	struct minihv_exit_log_entry entries[MINIHV_EXIT_LOG_LEN];
};

#define MINIHV_GET_EXIT_LOG	_IOR(MINIHVIO, 0x8b, struct minihv_exit_log)

/*
 * Takes 0, returns a read-only fd of the vCPU's statistics in KVM's
 * binary stats format (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst):
 * a header, the id string, descriptors, then the u64 values; every
 * statistic cumulative, unitless.  The structures are KVM's.
 */
struct minihv_stats_header {
	__u32 flags;		/* 0 */
	__u32 name_size;	/* bytes of each descriptor's name, NUL included */
	__u32 num_desc;
	__u32 id_offset;
	__u32 desc_offset;
	__u32 data_offset;
};

struct minihv_stats_desc {
	__u32 flags;		/* KVM_STATS_TYPE_CUMULATIVE | UNIT_NONE | BASE_POW10: 0 */
	__s16 exponent;
	__u16 size;		/* u64 values: 1 */
	__u32 offset;		/* of the value, from data_offset */
	__u32 bucket_size;
	char name[];		/* name_size bytes */
};

#define MINIHV_STATS_NAME_SIZE	48
#define MINIHV_GET_STATS_FD	_IO(MINIHVIO, 0x8c)

/* Exit reasons in struct minihv_run; the numbers are KVM's. */
#define MINIHV_EXIT_UNKNOWN		0
#define MINIHV_EXIT_IO			2
#define MINIHV_EXIT_HLT			5
#define MINIHV_EXIT_IRQ_WINDOW_OPEN	7
#define MINIHV_EXIT_MMIO		6
#define MINIHV_EXIT_SHUTDOWN		8
#define MINIHV_EXIT_FAIL_ENTRY		9
#define MINIHV_EXIT_INTR		10
#define MINIHV_EXIT_INTERNAL_ERROR	17

#define MINIHV_EXIT_IO_IN	0
#define MINIHV_EXIT_IO_OUT	1

/* internal.suberror */
#define MINIHV_INTERNAL_ERROR_UNEXPECTED_EXIT	1	/* data: raw exit */
#define MINIHV_INTERNAL_ERROR_EMULATION		2	/* data: insn bytes */
/* data: linear address, port, errno: an INS/OUTS operand not in guest RAM */
#define MINIHV_INTERNAL_ERROR_STRING_IO		3

/* fail_entry.hardware_entry_failure_reason on AMD-V */
#define MINIHV_SVM_EXIT_INVALID		(~0ULL)

/*
 * The run structure, at offset 0 of the vCPU fd's mapping.  Port I/O data
 * lives in the same mapping at io.data_offset.
 */
struct minihv_run {
	/* in */
	__u8 immediate_exit;	/* return MINIHV_EXIT_INTR before entering */
	/*
	 * Exit with MINIHV_EXIT_IRQ_WINDOW_OPEN as soon as the guest can take
	 * an interrupt (and none is queued): the moment to MINIHV_INTERRUPT.
	 */
	__u8 request_interrupt_window;
	__u8 padding1[6];

	/* out */
	__u32 exit_reason;	/* MINIHV_EXIT_* */
	/* 1: nothing queued and the guest would take an interrupt now */
	__u8 ready_for_interrupt_injection;
	__u8 if_flag;		/* the guest's RFLAGS.IF */
	__u16 padding2;
	__u64 exit_count;	/* guest exits since creation, all reasons */

	union {
		/* MINIHV_EXIT_UNKNOWN */
		struct {
			__u64 hardware_exit_reason;
		} hw;
		/* MINIHV_EXIT_FAIL_ENTRY: the hardware refused the state. */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
			__u32 padding;
			__u64 field;	/* register or VMCS field that is wrong */
			__u64 value;	/* its value */
			char reason[128]; /* the rule it breaks, NUL-terminated */
		} fail_entry;
		/*
		 * MINIHV_EXIT_IO: count items of size bytes at data_offset;
		 * for IN, userspace fills them before the next MINIHV_RUN.
		 */
		struct {
			__u8 direction;	/* MINIHV_EXIT_IO_IN or _OUT */
			__u8 size;	/* 1, 2 or 4 */
			__u16 port;
			__u32 count;
			__u64 data_offset;
		} io;
		/* MINIHV_EXIT_MMIO: for a read, userspace fills data. */
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
			__u8 padding[3];
		} mmio;
		/* MINIHV_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		char padding[256];
	};
};

#endif /* _UAPI_LINUX_MINIHV_H */

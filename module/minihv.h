/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv internal interfaces: the objects (VM, memory slot, vCPU), what the
 * generic core needs from a vendor backend (vmx/vmx.c for Intel VT-x,
 * svm/svm.c for AMD-V), and the helpers the core offers the backends.
 *
 * Locking (Documentation/locking.rst has the order): each field says what
 * protects it in [brackets].
 *   [vm->lock]       mutex: slot table, vCPU table
 *   [slots_rwsem]    read: a vCPU between entry and exit handling; write:
 *                    a slot change, which so waits for every vCPU to leave
 *                    the guest before its entries are cleared
 *   [mmu_lock]       mutex: the nested page tables
 *   [vcpu->mutex]    mutex: one vCPU ioctl at a time
 *   [const]          set at creation, never changed
 */
#ifndef MINIHV_H
#define MINIHV_H

#include <linux/hrtimer.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/types.h>
#include <linux/wait.h>

#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/special_insns.h>

#include <uapi/linux/minihv.h>

#include "platform.h"
#include "regs.h"

#define MINIHV_MAX_VCPUS	16
#define MINIHV_MAX_MEMSLOTS	32
/* MINIHV_CAP_IOEVENTFD: KVM's NR_IOBUS_DEVS is 1000 too. */
#define MINIHV_MAX_IOEVENTFDS	1000
/* MINIHV_CAP_IRQFD: KVM sets none; the same bound as ioeventfds. */
#define MINIHV_MAX_IRQFDS	1000
/*
 * Guest-physical addresses are 48 bits: 4-level NPT/EPT (APM 15.25, SDM
 * "The Extended Page Table Mechanism (EPT)").
 */
#define MINIHV_GPA_BITS		48
/*
 * Every allocation on behalf of an ioctl: charged to the caller's memory
 * cgroup (as KVM's), and failing with ENOMEM at the limit instead of
 * calling the OOM killer (__GFP_RETRY_MAYFAIL).
 */
#define MINIHV_GFP		(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL)
/* Nested-table pages a fault may need: one per level below a 5-level root. */
#define MINIHV_TDP_CACHE_PAGES	4

struct minihv_memslot {
	u64 base_gfn;			/* [vm->lock] */
	u64 npages;			/* [vm->lock], 0: slot unused */
	unsigned long hva;		/* [vm->lock] */
	u32 flags;			/* [vm->lock] MINIHV_MEM_* */
	struct minihv_vm *vm;		/* [vm->lock] for the notifier */
	/* Follows the mm over [hva, hva + npages pages) while npages (mmu.c). */
	struct mmu_interval_notifier notifier;
};

struct minihv_vm {
	struct kref kref;		/* the VM fd and each vCPU */
	u64 id;				/* [const] unique since load (spec.c) */
	struct mm_struct *mm;		/* [const] the creator's, referenced */
	struct mutex lock;		/* slots and vcpus tables */
	struct rw_semaphore slots_rwsem; /* see the top of this file */
	struct mutex mmu_lock;		/* nested tables */
	struct minihv_memslot slots[MINIHV_MAX_MEMSLOTS];
	struct minihv_vcpu *vcpus[MINIHV_MAX_VCPUS];	/* [vm->lock] */
	int tdp_levels;			/* [const] 4 or 5, set by vm_init */
	/* [const] largest leaf: 1 (4 KiB), 2 (2 MiB), 3 (1 GiB); vm_init */
	int tdp_max_leaf_level;
	/*
	 * [const] bits taken out of large leaves, vm_init: EPT's execute
	 * permission on CPUs with the iTLB multihit erratum (vmx.c).
	 */
	u64 tdp_large_noexec;
	u64 tdp_root;			/* [const] host-physical NPT/EPT root */
	struct page *tdp_root_page;	/* [const] */
	atomic64_t tlb_generation;	/* bumped when a mapping is removed */
	/*
	 * The in-kernel interrupt controller (MINIHV_CREATE_IRQCHIP): set
	 * before the first vCPU exists, never cleared.  irq_lock keeps a
	 * vCPU in vcpus[] alive while a message is delivered to it.
	 */
	struct minihv_ioapic *ioapic;	/* [vm->lock] */
	struct minihv_pic *pic;		/* [vm->lock] with ioapic (pic.c) */
	/* MINIHV_CREATE_PIT2: set once, any time; read with READ_ONCE(). */
	struct minihv_pit *pit;		/* [vm->lock] */
	spinlock_t irq_lock;
	/* MINIHV_IOEVENTFD registrations (eventfd.c): RCU readers. */
	struct list_head ioeventfds;	/* [vm->lock] for writers */
	unsigned int nr_ioeventfds;	/* [vm->lock] */
	/*
	 * MINIHV_IRQFD registrations (irqfd.c): added under vm->lock and
	 * irqfds_lock, taken off under irqfds_lock (an eventfd's EPOLLHUP
	 * has only that), read under RCU by the EOI path.
	 */
	spinlock_t irqfds_lock;
	struct list_head irqfds;	/* [irqfds_lock] for writers */
	unsigned int nr_irqfds;		/* [irqfds_lock] until shut down */
	unsigned int nr_irqfds_dying;	/* [irqfds_lock] off the list, not shut down */
	wait_queue_head_t irqfds_gone;	/* the VM's end waits for nr_irqfds 0 */
	u16 irqfd_resamplers[MINIHV_IOAPIC_PINS];	/* [irqfds_lock] per pin */
	/* Pins with a resampling irqfd: the irqchips' EOI looks here. */
	unsigned long irqfd_resample_pins;	/* [atomic] set iff resamplers[pin] */
	struct dentry *debugfs;		/* [const] its directory (vm.c) */
	atomic_t break_entry;		/* debugfs break_entry: rule + 1, or 0 */
	void *arch;			/* [const] vendor per-VM state */
};

/*
 * What the generic code needs of the guest's paging mode to walk its page
 * tables (SDM Vol 3 4.1, APM Vol 2 5.1).
 */
struct minihv_paging {
	u64 cr0, cr3, cr4, efer;
};

/*
 * Decoded state of an exit that userspace must complete (data for an IN,
 * an INS, an MMIO read) before the guest goes on.
 */
struct minihv_pending_io {
	u8 kind;			/* MINIHV_PENDING_* */
	u8 size;			/* bytes per item */
	u8 reg;				/* MMIO read: destination GPR */
	u8 high_byte;			/* MMIO read: AH/CH/DH/BH */
	u8 sign_extend;			/* MMIO read: MOVSX */
	u8 dest_size;			/* MMIO read: destination size */
	u8 addr_size;			/* INS: 2, 4 or 8 */
	u8 rep;				/* INS: REP prefix */
	u32 count;			/* INS: items */
	u64 seg_base;			/* INS: ES base */
	u64 next_rip;			/* INS: RIP after the instruction */
	u16 port;			/* INS: the port (the run page is userspace's) */
	struct minihv_paging paging;	/* INS: guest paging at the exit */
	u8 alu;				/* MMIO ALU: MINIHV_ALU_* */
	bool to_reg;			/* MMIO ALU: the register is the destination */
	u64 src;			/* MMIO ALU: the register or immediate operand */
	u64 gpa;			/* MMIO ALU: where the result is written back */
};

/* The arithmetic emulate.c does on MMIO; 0-7 in the opcode map's order. */
enum {
	MINIHV_ALU_ADD, MINIHV_ALU_OR, MINIHV_ALU_ADC, MINIHV_ALU_SBB,
	MINIHV_ALU_AND, MINIHV_ALU_SUB, MINIHV_ALU_XOR, MINIHV_ALU_CMP,
	MINIHV_ALU_TEST, MINIHV_ALU_XCHG,
};

enum {
	MINIHV_PENDING_NONE,
	MINIHV_PENDING_PIO_IN,		/* IN: data to RAX */
	MINIHV_PENDING_PIO_INS,		/* INS: data to ES:RDI */
	MINIHV_PENDING_MMIO_READ,	/* MOV from MMIO: data to a GPR */
	MINIHV_PENDING_MMIO_ALU,	/* arithmetic on MMIO: the operand read */
};

/*
 * Events userspace queued (MINIHV_INTERRUPT, MINIHV_NMI), each waiting
 * until the guest can take it.
 */
struct minihv_events {
	bool irq_queued;
	u8 irq_vector;
	bool nmi_queued;
};

/* The in-kernel platform's fixed addresses (Documentation/platform.rst). */
#define MINIHV_APIC_BASE	0xfee00000ULL
#define MINIHV_IOAPIC_BASE	0xfec00000ULL

/* What a vCPU with an in-kernel APIC is doing (uapi: MINIHV_MP_STATE_*). */
enum {
	MINIHV_MP_RUNNABLE = MINIHV_MP_STATE_RUNNABLE,
	/* after INIT (or at creation, an AP): waits for SIPI */
	MINIHV_MP_INIT_WAIT = MINIHV_MP_STATE_INIT_RECEIVED,
	/* HLT: waits in the kernel for an interrupt */
	MINIHV_MP_HALTED = MINIHV_MP_STATE_HALTED,
};

/* Events another context asks of a local APIC: bits of lapic->events. */
enum { MINIHV_LAPIC_NMI, MINIHV_LAPIC_INIT, MINIHV_LAPIC_SIPI };

/* A local APIC (lapic.c). */
struct minihv_lapic {
	struct minihv_vcpu *vcpu;	/* [const] */
	u32 regs[64];			/* [vcpu->mutex] by offset >> 4 */
	u64 apic_base;			/* [vcpu->mutex] IA32_APIC_BASE */
	u64 tsc_deadline;		/* [vcpu->mutex] IA32_TSC_DEADLINE */
	ktime_t timer_start;		/* [vcpu->mutex] count-down start */
	u64 timer_ns;			/* [vcpu->mutex] count-down length */
	u64 period_ns;			/* [vcpu->mutex] periodic: set before start */
	struct hrtimer timer;
	/* Requests from other contexts, folded in by minihv_lapic_sync(). */
	unsigned long pir[256 / BITS_PER_LONG];		/* [atomic] vectors */
	unsigned long pir_tmr[256 / BITS_PER_LONG];	/* [atomic] level ones */
	unsigned long events;		/* [atomic] MINIHV_LAPIC_* */
	u8 sipi_vector;			/* [atomic] written before the SIPI bit */
	atomic_t timer_fired;
};

/* A message on the APIC bus: from the I/O APIC or an IPI (ICR). */
struct minihv_apic_msg {
	struct minihv_vcpu *src;	/* the sender, for the shorthands */
	u32 dest;
	u8 vector;
	u8 mode;			/* delivery mode, ICR bits 10:8 */
	u8 shorthand;			/* ICR bits 19:18 */
	bool logical;
	bool level;			/* level-triggered: TMR, EOI to the I/O APIC */
	bool x2apic;			/* @dest is 32 bits */
};

/*
 * The run and port I/O pages, which any VMM thread may rewrite at any
 * moment: read only through vcpu.c's accessors, once, and never for a
 * value the kernel decided (Documentation/security.rst, "The run page").
 * For sparse (C=1, make lint) they are an address space of their own.
 */
#ifdef __CHECKER__
#define __vmm_mapped	__attribute__((noderef, address_space(__vmm_mapped)))
#else
#define __vmm_mapped
#endif

struct minihv_vcpu {
	struct minihv_vm *vm;		/* [const] */
	u32 id;				/* [const] */
	/* The exit being built; published to run_page (minihv_run_publish()). */
	struct minihv_run run;		/* [vcpu->mutex] */
	/* The VMM's mappings: the run page, then the port I/O data. */
	__vmm_mapped struct minihv_run *run_page;	/* [const] */
	__vmm_mapped u8 *pio_page;	/* [const] */
	struct page *run_pages[2];	/* [const] mmap offsets 0 and 4096 */
	struct mutex mutex;
	unsigned long regs[NR_VCPU_REGS]; /* [vcpu->mutex] guest GPRs */
	struct minihv_pending_io pending; /* [vcpu->mutex] */
	struct minihv_events events;	/* [vcpu->mutex] queued by userspace */
	/* The model MSRs a vCPU keeps a value of (msr.c). */
	struct minihv_msrs {
		u64 mtrr_def_type;	/* IA32_MTRR_DEF_TYPE */
		u64 misc_enable;	/* IA32_MISC_ENABLE */
		u64 tsc_adjust;		/* IA32_TSC_ADJUST */
		u64 mcg_status;		/* IA32_MCG_STATUS */
		u64 hwcr;		/* AMD's HWCR */
		u64 de_cfg;		/* AMD's DE_CFG */
	} msrs;				/* [vcpu->mutex] */
	u64 xcr0;			/* [vcpu->mutex] the guest's XCR0 */
	/* MINIHV_SET_CPUID's table, or NULL: the host's, filtered (cpuid.c). */
	struct minihv_cpuid_entry *cpuid; /* [vcpu->mutex] */
	u32 cpuid_nent;			/* [vcpu->mutex] */
	u64 cr8;			/* [vcpu->mutex] CR8 without a local APIC */
	/* The guest's debug registers; MOV DR always exits (debugreg.c). */
	struct minihv_debugregs {
		u64 db[4];		/* DR0-DR3 */
		u64 dr6;		/* VT-x: see vmx_vcpu_run(); AMD-V: save.dr6 */
		u64 dr7;
	} dbg;				/* [vcpu->mutex] */
	struct minihv_lapic *lapic;	/* [const] NULL without MINIHV_CREATE_IRQCHIP */
	u8 mp_state;			/* [vcpu->mutex] MINIHV_MP_* */
	/*
	 * A kick (minihv_vcpu_kick()) says "look at the local APIC before
	 * entering": it wakes the vCPU from HLT and, while it runs the guest
	 * on guest_cpu, makes it exit with an IPI.
	 */
	bool kicked;			/* [atomic] */
	int guest_cpu;			/* [atomic] -1 outside the guest */
	wait_queue_head_t wq;		/* a blocked vCPU sleeps here */
	/* The guest's x87/SSE state: in the CPU while MINIHV_RUN runs. */
	struct fpu_guest guest_fpu;	/* [vcpu->mutex] */
	u64 exits;			/* [vcpu->mutex] all exits, all reasons */
	/* The last exits, a ring indexed by exit_log_total (MINIHV_GET_EXIT_LOG). */
	struct minihv_exit_record {
		u64 reason, info1, info2, rip;
	} exit_log[MINIHV_EXIT_LOG_LEN];	/* [vcpu->mutex] */
	u64 exit_log_total;		/* [vcpu->mutex] */
	u64 exit_stats[MINIHV_STAT_NR];	/* [vcpu->mutex] by MINIHV_STAT_* */
	/* Filled before mmu_lock is taken for a nested fault (mmu.c). */
	struct page *tdp_cache[MINIHV_TDP_CACHE_PAGES];	/* [vcpu->mutex] */
	int tdp_cache_nr;		/* [vcpu->mutex] */
	void *arch;			/* [const] vendor per-vCPU state */
};

/*
 * What an exit handler returns: enter the guest again, or return from
 * MINIHV_RUN with vcpu->run filled; a negative value is an -errno the
 * ioctl fails with.  KVM's handlers return the same 1 and 0.
 */
enum minihv_exit_ret {
	MINIHV_EXIT_TO_USER = 0,
	MINIHV_RESUME_GUEST = 1,
};

/*
 * The facts of one exit, read by the vendor's read_exit for
 * minihv_handle_exit(): what the log, the tracepoint and an unknown
 * exit's internal error report, and where the table is indexed.
 */
struct minihv_exit {
	u64 reason;		/* VM_EXIT_REASON / EXITCODE, as the CPU gave it */
	u64 code;		/* the table's index: basic reason / EXITCODE */
	bool failed_entry;	/* VM-entry failure (reason bit 31) / VMEXIT_INVALID */
	u64 info1, info2;	/* qualification, interruption info / EXITINFO1, 2 */
	u64 rip;
	/* An event whose delivery the exit interrupted: MINIHV_EVENT_*. */
	u32 vectoring, vectoring_error;
};

/*
 * An event to deliver at the next entry, in the layout VT-x's
 * interruption-information fields and AMD-V's EVENTINJ/EXITINTINFO share
 * (SDM Vol 3 "VM-Entry Controls for Event Injection", "Information for VM
 * Exits That Occur During Event Delivery"; APM Vol 2 15.20): vector in bits
 * 7:0, type in 10:8, error code valid in 11, valid in 31.
 */
#define MINIHV_EVENT_EXCEPTION		(3 << 8)
#define MINIHV_EVENT_SOFT_INTR		(4 << 8)
#define MINIHV_EVENT_HAS_ERROR		BIT(11)
#define MINIHV_EVENT_VALID		BIT(31)

/*
 * One entry of a vendor's exit-handler table: the handler, and the
 * statistic (MINIHV_STAT_*) the exit counts as.
 */
struct minihv_exit_handler {
	int (*fn)(struct minihv_vcpu *vcpu);
	u8 stat;
};

/* A vendor's table, indexed by its architectural exit code. */
struct minihv_exit_table {
	const struct minihv_exit_handler *handlers;
	u32 nr;
};

struct minihv_cpu_mode;

/*
 * One table per vendor, chosen once at load (bhyve's vmm_ops, KVM's
 * kvm_x86_ops; Documentation/design.rst, "The vendor ops table").  Each
 * vendor file ends with its const instance.  Entries not marked optional
 * are required: minihv_check_ops() refuses a hole, so no call site tests.
 *
 *   probe            once, first: the extension exists and firmware left it
 *                    on; 0, -ENODEV (one line says why) or -EIO
 *   hardware_setup   once: per-CPU areas (VMXON region, host save area),
 *                    capabilities; hardware_unsetup, once, undoes it
 *   hardware_enable  on the CPU, preemption off: 0, -EBUSY (another
 *                    hypervisor owns the extension) or -EIO
 *   hardware_disable on the CPU, preemption off; harmless if not enabled
 *   print_features   once, after every CPU is enabled: one dmesg line
 *   vm_init/vm_destroy      vm->arch; vm_init sets vm->tdp_levels and
 *                    vm->tdp_max_leaf_level and runs before the nested
 *                    root exists
 *   vcpu_create/vcpu_free   vcpu->arch: the VMCB or VMCS
 *   vcpu_load/vcpu_put      optional (VT-x): around every vCPU ioctl, as
 *                    KVM's vcpu_load(); the current VMCS follows the thread,
 *                    so the ops below may sleep and be preempted
 *   vcpu_run         enter once and hand the exit to minihv_handle_exit(),
 *                    vcpu->mutex and slots_rwsem (read) held; returns as a
 *                    handler does, MINIHV_RESUME_GUEST without entering when
 *                    minihv_exit_request() is true; counts vcpu->exits
 *   read_exit        the facts of the exit just taken
 *   handle_failed_entry     fill vcpu->run (minihv_fail_entry()), return 0
 *   exit_table       the handlers, indexed by the vendor's exit code
 *   skip_instruction RIP past the instruction, STI/MOV SS shadow ended; 0
 *                    after an emulation error if the length is unknown
 *   queue_event      deliver @event (MINIHV_EVENT_*, 0: none) at next entry
 *   get_cpu_mode     the guest's mode at this exit
 *   cr4_bits         the CR4 bits the hardware runs a guest with
 *   get_regs/set_regs       RIP, RFLAGS and the GPRs the hardware keeps
 *   get_sregs/set_sregs     segments, CRs, EFER; set after minihv_sregs_valid()
 *   get_msr/set_msr  minihv_emulate_msr()'s MSRs, values checked; the TSC as
 *                    the guest's TSC, written as its offset
 *   event_allowed    could an NMI (@nmi) or an interrupt go in at next entry
 *   inject_event     deliver it at the next entry (after event_allowed)
 *   set_event_windows       exit once an interrupt (@irq) or NMI (@nmi)
 *                    could go in; that exit calls minihv_window_open()
 *   reset_events     INIT: forget an event being (re)injected, the shadow
 *                    and NMI blocking (SDM Vol 3 10.4.2); load vcpu->dbg's
 *                    DR7 (DR6 on AMD-V) where the CPU takes it
 *   tdp_*            nested entry bits: non-leaf, leaf read-only, writable;
 *                    bits 2:0 are non-zero exactly when present, both formats
 */
struct minihv_vendor_ops {
	const char *name;		/* "VT-x" or "AMD-V" */
	const char *owner;		/* likely other owner: "kvm_intel" */
	u32 vendor;			/* MINIHV_VENDOR_* */

	int (*probe)(void);
	int (*hardware_setup)(void);
	void (*hardware_unsetup)(void);
	int (*hardware_enable)(void);
	void (*hardware_disable)(void);
	void (*print_features)(void);
	void (*get_features)(struct minihv_features *f);

	int (*vm_init)(struct minihv_vm *vm);
	void (*vm_destroy)(struct minihv_vm *vm);
	int (*vcpu_create)(struct minihv_vcpu *vcpu);
	void (*vcpu_free)(struct minihv_vcpu *vcpu);
	void (*vcpu_load)(struct minihv_vcpu *vcpu);
	void (*vcpu_put)(struct minihv_vcpu *vcpu);
	int (*vcpu_run)(struct minihv_vcpu *vcpu);
	void (*read_exit)(struct minihv_vcpu *vcpu, struct minihv_exit *exit);
	int (*handle_failed_entry)(struct minihv_vcpu *vcpu);
	const struct minihv_exit_table *exit_table;
	int (*skip_instruction)(struct minihv_vcpu *vcpu);
	void (*queue_event)(struct minihv_vcpu *vcpu, u32 event, u32 error);
	void (*get_cpu_mode)(struct minihv_vcpu *vcpu, struct minihv_cpu_mode *m);
	u64 (*cr4_bits)(void);
	void (*get_regs)(struct minihv_vcpu *vcpu, struct minihv_regs *regs);
	void (*set_regs)(struct minihv_vcpu *vcpu, const struct minihv_regs *regs);
	void (*get_sregs)(struct minihv_vcpu *vcpu, struct minihv_sregs *sregs);
	int (*set_sregs)(struct minihv_vcpu *vcpu, const struct minihv_sregs *sregs);
	u64 (*get_msr)(struct minihv_vcpu *vcpu, u32 msr);
	void (*set_msr)(struct minihv_vcpu *vcpu, u32 msr, u64 val);
	bool (*event_allowed)(struct minihv_vcpu *vcpu, bool nmi);
	void (*inject_event)(struct minihv_vcpu *vcpu, bool nmi, u8 vector);
	void (*set_event_windows)(struct minihv_vcpu *vcpu, bool irq, bool nmi);
	void (*reset_events)(struct minihv_vcpu *vcpu);
	/*
	 * Optional, for tests (AMD-V; every VT-x rule is reachable through
	 * SET_SREGS): NULL-terminated names of the entry checks debugfs
	 * "break_entry" (vm.c) breaks, once, after the backend's own check,
	 * so that the CPU's refusal and its explanation are what is tested.
	 */
	const char *const *entry_rules;

	u64 tdp_nonleaf;
	u64 tdp_leaf_ro;
	u64 tdp_leaf_rw;
};

extern const struct minihv_vendor_ops vmx_vendor_ops;
extern const struct minihv_vendor_ops svm_vendor_ops;
extern const struct minihv_vendor_ops *minihv_ops;

bool vmx_cpu_has_vmx(void);
bool svm_cpu_has_svm(void);

/* ---- exit.c: the exit path, and the handlers both vendors' tables name ---- */
int minihv_handle_exit(struct minihv_vcpu *vcpu);
void minihv_fail_entry(struct minihv_vcpu *vcpu, u64 reason, int cpu, const char *what,
		       const char *why, u64 field, u64 value);
void minihv_queue_exception(struct minihv_vcpu *vcpu, u8 vector, bool has_error, u32 error);
int minihv_complete_insn(struct minihv_vcpu *vcpu, int vector);
int minihv_mmio_fault(struct minihv_vcpu *vcpu, const u64 why[3], bool walk, bool write,
		      bool *resume);
int minihv_handle_host_event(struct minihv_vcpu *vcpu);
int minihv_handle_shutdown(struct minihv_vcpu *vcpu);
int minihv_handle_cpuid(struct minihv_vcpu *vcpu);
int minihv_handle_hlt(struct minihv_vcpu *vcpu);
int minihv_handle_hypercall(struct minihv_vcpu *vcpu);
int minihv_handle_xsetbv(struct minihv_vcpu *vcpu);
int minihv_handle_rdmsr(struct minihv_vcpu *vcpu);
int minihv_handle_wrmsr(struct minihv_vcpu *vcpu);
int minihv_handle_skip(struct minihv_vcpu *vcpu);
int minihv_handle_rdpmc(struct minihv_vcpu *vcpu);
int minihv_handle_ud(struct minihv_vcpu *vcpu);

/* ---- main.c ---- */
extern u64 minihv_host_xcr0;	/* read at load, 0 without XSAVE */
extern bool minihv_rebooting;	/* VMX/SVM is going off everywhere */
extern struct dentry *minihv_debugfs;

/*
 * The debugfs files only tests use (reboot_disable in main.c, tdp and
 * break_entry in vm.c) exist in a module built with MINIHV_TEST_HOOKS=1
 * (Kbuild), as make check builds it; make, DKMS and the packages do not.
 */
static inline bool minihv_test_hooks(void)
{
#ifdef MINIHV_TEST_HOOKS
	return true;
#else
	return false;
#endif
}

/* MINIHV_GET_FEATURES: @bit into @f->host if the CPU has it, @f->used if minihv uses it. */
static inline void minihv_feature(struct minihv_features *f, int bit, bool have, bool used)
{
	if (have)
		f->host |= BIT_ULL(bit);
	if (have && used)
		f->used |= BIT_ULL(bit);
}

/* ---- vm.c ---- */
int minihv_dev_create_vm(void);
/* A VM's reference count: its fd holds one, and each vCPU another. */
void minihv_vm_get(struct minihv_vm *vm);
void minihv_vm_put(struct minihv_vm *vm);
extern atomic_t minihv_nr_vms;	/* debugfs "vms" (main.c) */

/* ---- eventfd.c ---- */
int minihv_ioeventfd(struct minihv_vm *vm, void __user *argp);
bool minihv_ioeventfd_write(struct minihv_vm *vm, bool pio, u64 addr, u32 len,
			    const void *data);
void minihv_ioeventfd_free(struct minihv_vm *vm);
struct eventfd_ctx;
void minihv_eventfd_signal(struct eventfd_ctx *ctx);

/* ---- irqfd.c ---- */
int minihv_irqfd_init(void);
void minihv_irqfd_exit(void);
int minihv_irqfd(struct minihv_vm *vm, void __user *argp);
/* The guest's EOI of resampled pins @pins (a bitmap); no irqchip lock held. */
void minihv_irqfd_ack(struct minihv_vm *vm, unsigned long pins);
void minihv_irqfd_free(struct minihv_vm *vm);

/* ---- vcpu.c ---- */
int minihv_vcpu_mmap_size(void);
int minihv_vcpu_fd_create(struct minihv_vm *vm, unsigned long id);
/* From any context: the vCPU looks at its APIC before it next enters. */
void minihv_vcpu_kick(struct minihv_vcpu *vcpu);
/* Right after an exit for a machine check, on its CPU: the host's #MC handler. */
void minihv_machine_check(void);
/* @val into the low @size bytes of *@reg, as x86 writes them (4 zero-extends). */
void minihv_set_reg_sized(unsigned long *reg, u64 val, int size);
bool minihv_string_io_advance(struct minihv_vcpu *vcpu, int idx, u64 off, s64 step,
			      u64 n, u8 addr_size, bool rep);
int minihv_string_io_error(struct minihv_vcpu *vcpu, u64 linear, u16 port, int r);
void minihv_internal_error(struct minihv_vcpu *vcpu, u32 suberror, int ndata,
			   const u64 *data);
/* The MMIO access in vcpu->run served by an in-kernel device? */
bool minihv_kernel_mmio(struct minihv_vcpu *vcpu);

struct minihv_io_exit {
	u16 port;
	u8 size;		/* 1, 2, 4 */
	bool in;
	bool string;
	bool rep;
	u8 addr_size;		/* 2, 4, 8: for string I/O */
	u8 seg;			/* SEG_*: OUTS source segment */
	u64 next_rip;		/* RIP after the instruction */
};

/*
 * Port I/O exit to userspace (string I/O decoded here).  Returns
 * MINIHV_EXIT_TO_USER or -errno; the caller moves RIP to io->next_rip
 * when *@done is set.
 */
int minihv_handle_io(struct minihv_vcpu *vcpu, struct minihv_io_exit *io, bool *done);

/*
 * Interrupts and NMIs userspace queued: minihv_inject_events() delivers
 * what the guest can take now and opens a window exit for the rest; the
 * run loop calls it before each entry.  minihv_window_open() is the
 * window exit's handler (returns 1 to enter again, 0 for userspace), and
 * minihv_halt() the HLT exit's, after RIP moved past the HLT.
 */
void minihv_inject_events(struct minihv_vcpu *vcpu);
int minihv_window_open(struct minihv_vcpu *vcpu);
int minihv_halt(struct minihv_vcpu *vcpu);

/* The VMM's two inputs on the run page, which it may change at any time. */
static inline bool minihv_immediate_exit(struct minihv_vcpu *vcpu)
{
	return READ_ONCE(((struct minihv_run __force *)vcpu->run_page)->immediate_exit);
}

static inline bool minihv_irq_window_requested(struct minihv_vcpu *vcpu)
{
	return READ_ONCE(((struct minihv_run __force *)vcpu->run_page)->request_interrupt_window);
}

/* ---- stats.c ---- */
int minihv_vcpu_stats_fd(struct file *vcpu_file);

/* ---- spec.c: speculation mitigations around the world switch ---- */
int minihv_spec_setup(struct dentry *debugfs);
void minihv_spec_unsetup(void);
void minihv_spec_features(struct minihv_features *f);
u64 minihv_spec_new_vm_id(void);
void minihv_spec_enter(struct minihv_vcpu *vcpu);
void minihv_spec_exit(void);

/* ---- lapic.c: the local APIC, for vCPUs of a VM with MINIHV_CREATE_IRQCHIP ---- */
int minihv_lapic_create(struct minihv_vcpu *vcpu);
void minihv_lapic_free(struct minihv_vcpu *vcpu);
/* Folds requests (IPIs, lines, the timer) into IRR; INIT and SIPI. */
void minihv_lapic_sync(struct minihv_vcpu *vcpu);
/*
 * The vector to deliver now (above PPR), MINIHV_EXTINT for the 8259's
 * through LINT0, or -1; accept: IRR to ISR (or the 8259's INTA), and
 * returns the vector to inject.
 */
int minihv_lapic_pending(struct minihv_vcpu *vcpu);
int minihv_lapic_accept(struct minihv_vcpu *vcpu, int vec);
bool minihv_lapic_mmio(struct minihv_vcpu *vcpu, u64 gpa, int len, bool write, void *data);
/* IA32_APIC_BASE, TSC_DEADLINE, x2APIC: 0, 1 (#GP) or -1 (not the APIC's) */
int minihv_lapic_msr(struct minihv_vcpu *vcpu, u32 msr, bool write, u64 *val);
void minihv_lapic_deliver(struct minihv_vm *vm, const struct minihv_apic_msg *msg);
u64 minihv_get_cr8(struct minihv_vcpu *vcpu);
void minihv_set_cr8(struct minihv_vcpu *vcpu, u64 cr8);

/* ---- ioapic.c ---- */
int minihv_ioapic_create(struct minihv_vm *vm);
void minihv_ioapic_free(struct minihv_vm *vm);
int minihv_ioapic_set_irq(struct minihv_vm *vm, u32 pin, u32 level);
void minihv_ioapic_eoi(struct minihv_vm *vm, int vector);
bool minihv_ioapic_mmio(struct minihv_vm *vm, u64 gpa, int len, bool write, void *data);

/* ---- mmu.c: nested page tables and guest memory ---- */
extern atomic_t minihv_nr_pinned;	/* debugfs "pinned_pages" (main.c) */
int minihv_mmu_init(struct minihv_vm *vm);
void minihv_mmu_destroy(struct minihv_vm *vm);
int minihv_mmu_add_slot(struct minihv_vm *vm, struct minihv_memslot *slot);
void minihv_mmu_unmap_slot(struct minihv_vm *vm, struct minihv_memslot *slot);
int minihv_mmu_topup_cache(struct minihv_vcpu *vcpu);
void minihv_mmu_free_cache(struct minihv_vcpu *vcpu);
struct seq_file;
void minihv_mmu_show(struct seq_file *m, struct minihv_vm *vm);
struct minihv_memslot *minihv_gpa_to_slot(struct minihv_vm *vm, u64 gpa);
/* 1: mapped, re-enter; 0: not guest RAM (MMIO); -errno */
int minihv_mmu_map_gpa(struct minihv_vcpu *vcpu, u64 gpa, bool write, bool fetch);
int minihv_read_guest_phys(struct minihv_vm *vm, u64 gpa, void *buf, size_t len);
int minihv_read_guest_virt(struct minihv_vm *vm, const struct minihv_paging *pg,
			   u64 gva, void *buf, size_t len);
int minihv_write_guest_virt(struct minihv_vm *vm, const struct minihv_paging *pg,
			    u64 gva, const void *buf, size_t len);

/* ---- emulate.c: instruction decoding for exits without decode assists ---- */

/* What a vendor's exit handler knows about the guest at an exit. */
struct minihv_cpu_mode {
	struct minihv_paging paging;
	u64 cs_base;
	u64 rip;
	u64 rflags;
	bool long_mode;		/* EFER.LMA && CS.L: 64-bit code */
	bool cs_db;		/* CS.D: 32-bit default operand size */
	int cpl;		/* SS.DPL (SDM Vol 3 5.5; APM Vol 2 15.5.1) */
	u64 seg_base[6];	/* ES CS SS DS FS GS, for string I/O */
};

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS };

int minihv_fetch_insn(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
		      u8 *insn, int max);
int minihv_insn_length(const u8 *insn, int len, bool long_mode);
/* MINIHV_ALU_* on @size-byte operands; replaces the arithmetic flags in *@rflags. */
u64 minihv_alu(int op, int size, u64 dst, u64 src, u64 *rflags);
/*
 * An access to MMIO at @gpa by the instruction at RIP: decodes it, fills
 * the run structure for userspace and returns the instruction length (> 0),
 * or 0 after filling an internal-error exit for what it cannot decode.
 * *@in_kernel says the access was to the in-kernel APIC or I/O APIC and is
 * done (a read's register written): the guest goes on without userspace.
 */
int minihv_emulate_mmio(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			u64 gpa, bool write, bool *in_kernel);
/*
 * A write to CR@cr (0 or 4) the CPU intercepted without decoding it: MOV
 * CRn, r; for CR0 also CLTS and LMSW with a register operand.  Puts the
 * value the register would take (from the current @cr0 for CLTS and
 * LMSW) in *@val and returns the instruction length, or 0 after filling
 * an emulation-error exit for anything else (LMSW from memory).
 */
int minihv_decode_cr_write(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			   int cr, u64 cr0, u64 *val);
/*
 * MOV DR intercepted without decode assists: the GPR operand and REX.R of
 * the instruction at RIP (the DR and the direction come from the exit).
 * Returns the instruction length, or 0 after filling an emulation-error
 * exit when it is no MOV DR.
 */
int minihv_decode_mov_dr(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			 int *gpr, bool *rex_r);
void minihv_decode_string_io(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			     struct minihv_io_exit *io);

/* ---- cpuid.c ---- */
/* CPUID with EAX/ECX from vcpu->regs, results back there (api.rst). */
void minihv_cpuid(struct minihv_vcpu *vcpu);
/* The guest's CPUID leaf @leaf.@subleaf, without CPUID's dynamic bits: EAX, EBX, ECX, EDX. */
void minihv_guest_cpuid(struct minihv_vcpu *vcpu, u32 leaf, u32 subleaf, u32 r[4]);
int minihv_dev_get_supported_cpuid(void __user *argp);
int minihv_vcpu_set_cpuid(struct minihv_vcpu *vcpu, void __user *argp);
u64 minihv_xcr0_supported(void);
bool minihv_xcr0_valid(u64 xcr0);
u32 minihv_xstate_size(u64 xcr0);
/* XSETBV's exit: 0 (done, skip it) or the exception vector to raise. */
int minihv_xsetbv(struct minihv_vcpu *vcpu, int cpl, bool osxsave);

/*
 * ---- cr.c: the rules of CR0, CR4 and EFER ----
 * minihv_set_*() check a write against the state @s it is made in and,
 * when the rules take it, update @s as the CPU would (EFER.LMA follows
 * CR0.PG); false is #GP(0).
 */
struct minihv_cr_state {
	u64 cr0, cr3, cr4, efer;
	bool cs_l;		/* CS.L: 64-bit code while EFER.LMA is set */
};

void minihv_get_cr_state(struct minihv_vcpu *vcpu, struct minihv_cr_state *s);
bool minihv_set_cr0(struct minihv_vcpu *vcpu, struct minihv_cr_state *s, u64 cr0);
bool minihv_set_cr4(struct minihv_vcpu *vcpu, struct minihv_cr_state *s, u64 cr4);
bool minihv_set_efer(struct minihv_vcpu *vcpu, struct minihv_cr_state *s, u64 efer);
bool minihv_sregs_valid(struct minihv_vcpu *vcpu, const struct minihv_sregs *sregs);

/* EFER bits a guest may have: SCE, LME, LMA, NXE (SDM Vol 3 2.2.1). */
#define MINIHV_GUEST_EFER_BITS	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/* ---- debugreg.c ---- */
void minihv_debugregs_reset(struct minihv_vcpu *vcpu);
/*
 * MOV to (@to_dr) or from DR@dr (0-15, the instruction's number) and the
 * GPR @gpr, with the guest's CPL, CR4 and mode (the operand is 32 bits
 * outside 64-bit mode).  0 when done (the caller loads minihv_hw_dr7()
 * where the CPU takes it and completes the instruction), or the vector of
 * the exception to raise instead (#GP with error code 0, or #DB for DR7.GD).
 */
int minihv_mov_dr(struct minihv_vcpu *vcpu, int dr, int gpr, bool to_dr);
void minihv_single_step_trap(struct minihv_vcpu *vcpu);
u64 minihv_hw_dr7(struct minihv_vcpu *vcpu);
/* Interrupts off, around the world switch. */
bool minihv_load_guest_debugregs(struct minihv_vcpu *vcpu);
void minihv_load_host_debugregs(bool loaded);

/* ---- msr.c ---- */
/*
 * RDMSR (write false) or WRMSR (true) with ECX, EDX:EAX from vcpu->regs,
 * for the MSRs minihv emulates (Documentation/platform.rst): checks the
 * value, then stores or loads it.  Returns 0 when done (the caller skips
 * the instruction) or 1 for #GP(0).
 */
int minihv_emulate_msr(struct minihv_vcpu *vcpu, bool write);
/* A new vCPU's model MSRs, as at RESET. */
void minihv_msrs_reset(struct minihv_vcpu *vcpu);

/* ---- the world switch: what each vendor's vcpu_run calls, interrupts off ---- */

/*
 * Just before VMRUN/VMLAUNCH.  For the whole of MINIHV_RUN the task's FPU
 * state is the guest's (fpu_swap_kvm_fpstate(), as KVM does): the
 * registers hold it unless a context switch or a kernel_fpu_begin() saved
 * it away since the last entry; then it is put back.  So an exit costs no
 * FPU save or restore, only the ioctl does.
 */
static inline void minihv_guest_fpu_load(void)
{
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
}

/*
 * The last thing before the entry, as KVM's vcpu_enter_guest() does: a
 * signal, a reschedule or an immediate_exit that came after the run loop's
 * own check would otherwise wait in the guest for its next exit (a signal
 * sent from this CPU's own interrupt sends no IPI to end the entry).  When
 * it is true the vendor does not enter and returns 1, and the loop sees
 * why.  From here on a new one is an interrupt pending at
 * VMRUN/VMLAUNCH, which exits at once.
 */
static inline bool minihv_exit_request(struct minihv_vcpu *vcpu)
{
	WRITE_ONCE(vcpu->guest_cpu, smp_processor_id());
	/* Pairs with the barrier in minihv_vcpu_kick(): either sees the other. */
	smp_mb();
	/*
	 * The reboot's disable IPI needs interrupts on: if it came before
	 * local_irq_disable() the flag is seen here, and if it comes later
	 * it finds this CPU in the guest or done with the world switch.
	 * So VMX/SVM is still on for the whole of this entry.
	 */
	return signal_pending(current) || need_resched() ||
	       minihv_immediate_exit(vcpu) || READ_ONCE(vcpu->kicked) ||
	       READ_ONCE(minihv_rebooting);
}

/*
 * Right before and after the world switch (KVM's
 * kvm_load_guest_xsave_state()): the guest's XCR0 while it runs with
 * CR4.OSXSAVE set, the host's otherwise; XCR0 is not in the VMCS or VMCB
 * state switch.  Returns the XCR0 the guest starts with: pass it to
 * minihv_load_host_xcr0().
 */
static inline u64 minihv_load_guest_xcr0(struct minihv_vcpu *vcpu, bool osxsave)
{
	if (!minihv_host_xcr0)
		return 0;
	if (osxsave && vcpu->xcr0 != minihv_host_xcr0) {
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
		return vcpu->xcr0;
	}
	return minihv_host_xcr0;
}

/*
 * The host's XCR0 back, whatever the guest did.  On hardware XSETBV always
 * exits (SDM "Instructions That Cause VM Exits Unconditionally"; APM 15.9
 * with the intercept); QEMU's TCG runs a guest's XSETBV without checking
 * the intercept, so XCR0 may hold a value the guest set itself: kept as the
 * guest's when minihv_xsetbv() would have taken it, and never left in the
 * host.
 */
static inline void minihv_load_host_xcr0(struct minihv_vcpu *vcpu, u64 start)
{
	u64 cur;

	if (!minihv_host_xcr0)
		return;
	cur = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	if (cur != start && minihv_xcr0_valid(cur))
		vcpu->xcr0 = cur;
	if (cur != minihv_host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, minihv_host_xcr0);
}

/*
 * PKRU: WRPKRU does not exit.  minihv offers no protection keys, and
 * cr.c refuses CR4.PKE unless a userspace CPUID table offers them; such
 * a guest's value is not kept.  Either way the host's PKRU, read before
 * the entry, is put back after it, as KVM does.
 */
static inline u32 minihv_host_pkru(void)
{
	return cpu_feature_enabled(X86_FEATURE_OSPKE) ? rdpkru() : 0;
}

static inline void minihv_restore_host_pkru(u32 pkru)
{
	if (cpu_feature_enabled(X86_FEATURE_OSPKE) && rdpkru() != pkru)
		wrpkru(pkru);
}

#endif /* MINIHV_H */

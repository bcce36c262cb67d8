// SPDX-License-Identifier: GPL-2.0
/*
 * minihv's speculative-execution mitigations around the world switch, so
 * that a guest cannot steer or read the host's (or another guest's)
 * speculation.  Each follows the host kernel's own choice, as KVM's do:
 * the X86_FEATURE_* flags it set at boot from the CPU's bugs and its
 * command line.  Documentation/security.rst, "Speculation", lists them
 * (IBPB on VM switch, RSB fill, VERW, L1D flush, return untraining, BHB
 * clear, IBPB before userspace) and where each is; Intel's "Speculative
 * Execution Side Channel Mitigations" and AMD's "Software Techniques for
 * Managing Speculation" are the vendors' guidance.  Those in vmenter.S are
 * the kernel's macros, patched by its alternatives; those here in C count
 * how often they ran (/sys/kernel/debug/minihv/mitigations).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>

#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <asm/sync_core.h>
#include <asm/vmx.h>

#include "minihv.h"

/*
 * The software L1D flush's buffer: 64 KiB, twice the L1D of every CPU
 * with L1TF (32 KiB), so that reading it evicts every line.
 */
#define L1D_FLUSH_ORDER		4
#define L1D_FLUSH_SIZE		(PAGE_SIZE << L1D_FLUSH_ORDER)

static struct {
	bool ibpb_switch, l1d_flush;
	u8 *l1d_buf;		/* NULL: IA32_FLUSH_CMD flushes */
	atomic64_t ibpb_count, l1d_count;
} spec;

/* The VM whose vCPU ran last on each CPU, by its number (vm->id). */
static DEFINE_PER_CPU(u64, spec_last_vm);

static atomic64_t spec_vm_ids = ATOMIC64_INIT(0);

u64 minihv_spec_new_vm_id(void)
{
	return atomic64_inc_return(&spec_vm_ids);
}

/*
 * Does this CPU need an L1D flush before VM entry (L1TF, SDM Vol 3 and
 * Intel's "Deep Dive: Intel Analysis of L1 Terminal Fault")?  Not when the
 * CPU lacks the bug, when a hypervisor below says it flushes already
 * (ARCH_CAPABILITIES.SKIP_VMENTRY_L1DFLUSH), or when the administrator
 * turned it off (mitigations=off, kvm-intel's vmentry_l1d_flush=never).
 */
static bool spec_l1tf_needs_flush(void)
{
	u64 caps = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF) || cpu_mitigations_off())
		return false;
	if (l1tf_vmx_mitigation == VMENTER_L1D_FLUSH_NEVER ||
	    l1tf_vmx_mitigation == VMENTER_L1D_FLUSH_NOT_REQUIRED)
		return false;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps);
	return !(caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH);
}

static int spec_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "ibpb_switch %d %lld\n", spec.ibpb_switch,
		   (long long)atomic64_read(&spec.ibpb_count));
	seq_printf(m, "l1d_flush %d %lld %s\n", spec.l1d_flush,
		   (long long)atomic64_read(&spec.l1d_count),
		   spec.l1d_buf ? "software" : "msr");
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(spec);

/* Once, at load, after the vendor is known: 0 or -ENOMEM. */
int minihv_spec_setup(struct dentry *debugfs)
{
	spec.ibpb_switch = boot_cpu_has(X86_FEATURE_USE_IBPB);
	if (minihv_ops->vendor == MINIHV_VENDOR_VMX && spec_l1tf_needs_flush()) {
		spec.l1d_flush = true;
		if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
			spec.l1d_buf = (u8 *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
							      L1D_FLUSH_ORDER);
			if (!spec.l1d_buf)
				return -ENOMEM;
		}
	}
	debugfs_create_file("mitigations", 0444, debugfs, NULL, &spec_fops);
	return 0;
}

void minihv_spec_unsetup(void)
{
	if (spec.l1d_buf)
		free_pages((unsigned long)spec.l1d_buf, L1D_FLUSH_ORDER);
	spec.l1d_buf = NULL;
}

/*
 * Without IA32_FLUSH_CMD: the buffer's pages into the TLB first, so that
 * no page walk brings other data in; CPUID to serialize; then one byte of
 * every line, which leaves the L1D holding the buffer only (Intel, "L1
 * Terminal Fault": software sequence; what KVM does on such CPUs).
 */
static void spec_l1d_flush_sw(void)
{
	unsigned int off;

	for (off = 0; off < L1D_FLUSH_SIZE; off += PAGE_SIZE)
		(void)READ_ONCE(spec.l1d_buf[off]);
	sync_core();
	for (off = 0; off < L1D_FLUSH_SIZE; off += L1_CACHE_BYTES)
		(void)READ_ONCE(spec.l1d_buf[off]);
}

/* MINIHV_GET_FEATURES' mitigation bits: the host's choice, and minihv's. */
void minihv_spec_features(struct minihv_features *f)
{
	bool vmx = minihv_ops->vendor == MINIHV_VENDOR_VMX;
	bool rsb = boot_cpu_has(X86_FEATURE_RSB_VMEXIT) ||
		   boot_cpu_has(X86_FEATURE_RSB_VMEXIT_LITE);
	bool untrain = boot_cpu_has(X86_FEATURE_UNRET) || boot_cpu_has(X86_FEATURE_SRSO) ||
		       boot_cpu_has(X86_FEATURE_SRSO_ALIAS) ||
		       boot_cpu_has(X86_FEATURE_IBPB_ON_VMEXIT) ||
		       boot_cpu_has(X86_FEATURE_ENTRY_IBPB);

	minihv_feature(f, MINIHV_FEATURE_MIT_IBPB_SWITCH, spec.ibpb_switch, true);
	minihv_feature(f, MINIHV_FEATURE_MIT_RSB_FILL, rsb, true);
	minihv_feature(f, MINIHV_FEATURE_MIT_VERW,
		       boot_cpu_has(X86_FEATURE_CLEAR_CPU_BUF_VM), true);
	if (vmx) {
		minihv_feature(f, MINIHV_FEATURE_MIT_L1D_FLUSH, spec.l1d_flush, true);
		minihv_feature(f, MINIHV_FEATURE_MIT_BHB_CLEAR,
			       boot_cpu_has(X86_FEATURE_CLEAR_BHB_LOOP_ON_VMEXIT), true);
	} else {
		minihv_feature(f, MINIHV_FEATURE_MIT_UNTRAIN_RET, untrain, true);
	}
	minihv_feature(f, MINIHV_FEATURE_MIT_IBPB_EXIT_TO_USER,
		       boot_cpu_has(X86_FEATURE_IBPB_EXIT_TO_USER), true);
}

/*
 * Just before VM entry, interrupts off: the barriers written in C.  The
 * L1D flush goes last: nothing after it may bring host data into L1D.
 */
void minihv_spec_enter(struct minihv_vcpu *vcpu)
{
	u64 id = vcpu->vm->id;

	if (spec.ibpb_switch && this_cpu_read(spec_last_vm) != id) {
		indirect_branch_prediction_barrier();
		this_cpu_write(spec_last_vm, id);
		atomic64_inc(&spec.ibpb_count);
	}
	if (spec.l1d_flush) {
		if (spec.l1d_buf)
			spec_l1d_flush_sw();
		else
			wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
		atomic64_inc(&spec.l1d_count);
	}
}

/* Just after the exit, interrupts still off. */
void minihv_spec_exit(void)
{
	/* The next return to user mode on this CPU issues an IBPB (VMSCAPE). */
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
}

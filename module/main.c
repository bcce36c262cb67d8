// SPDX-License-Identifier: GPL-2.0
/*
 * minihv: module load, CPU probe, per-CPU enable, and /dev/minihv.
 *
 * Load order (unload is the exact reverse, and so is every error path):
 *   1. pick the vendor backend from CPUID and check its ops table;
 *   2. probe: the extension exists and firmware left it enabled;
 *   3. hardware_setup: per-CPU pages and capabilities;
 *   4. a CPU hotplug state, whose "online" callback turns virtualization
 *      on for each CPU that is or comes online and whose "offline" callback
 *      turns it off;
 *   5. a reboot notifier and syscore (suspend/resume) hooks, so VMX/SVM is
 *      never left on across a reboot or a sleep state;
 *   6. /dev/minihv, last, so that nobody can open a half-loaded module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/syscore_ops.h>

#include <uapi/linux/minihv.h>

#include <asm/fpu/xcr.h>
#include <asm/tsc.h>

#include "minihv.h"

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The minihv authors");
MODULE_DESCRIPTION("minihv: a small, readable hypervisor (Intel VT-x, AMD-V)");

/* The backend chosen at load; never changes until unload. */
const struct minihv_vendor_ops *minihv_ops;

/* Dynamic CPU hotplug state returned by cpuhp_setup_state(). */
static int minihv_cpuhp_state;

/*
 * Whether this CPU has VMX/SVM turned on by us.  Written only on the CPU
 * itself (hotplug callback, IPI, syscore hook), so it needs no lock.
 */
static DEFINE_PER_CPU(bool, minihv_hw_enabled);

/* -EBUSY is reported on the first CPU that sees it, not on every one. */
static atomic_t minihv_busy_reported = ATOMIC_INIT(0);

static int minihv_hw_enable_this_cpu(void)
{
	int r;

	if (__this_cpu_read(minihv_hw_enabled))
		return 0;

	r = minihv_ops->hardware_enable();
	if (r == -EBUSY) {
		if (!atomic_xchg(&minihv_busy_reported, 1))
			pr_err("%s is already in use on CPU %u: another hypervisor (likely %s) owns it; unload it first\n",
			       minihv_ops->name, smp_processor_id(),
			       minihv_ops->owner);
		return r;
	}
	if (r) {
		pr_err("cannot enable %s on CPU %u: %d\n", minihv_ops->name,
		       smp_processor_id(), r);
		return r;
	}
	__this_cpu_write(minihv_hw_enabled, true);
	return 0;
}

static void minihv_hw_disable_this_cpu(void)
{
	if (!__this_cpu_read(minihv_hw_enabled))
		return;
	minihv_ops->hardware_disable();
	__this_cpu_write(minihv_hw_enabled, false);
}

/*
 * CPUHP_AP_ONLINE_DYN callbacks run on the CPU concerned, in its hotplug
 * thread.  Preemption is disabled around the work anyway so that the
 * per-CPU accesses above are plainly correct to a reader.
 */
static int minihv_cpu_online(unsigned int cpu)
{
	int r;

	preempt_disable();
	r = minihv_hw_enable_this_cpu();
	preempt_enable();
	return r;
}

static int minihv_cpu_offline(unsigned int cpu)
{
	preempt_disable();
	minihv_hw_disable_this_cpu();
	preempt_enable();
	return 0;
}

static void minihv_hw_disable_ipi(void *unused)
{
	minihv_hw_disable_this_cpu();
}

/*
 * Set once the host begins to reboot, before VMX/SVM is turned off on
 * every CPU; never cleared (a reload starts with it false again).
 */
bool minihv_rebooting;

/*
 * On Intel, INIT is blocked in VMX root operation (SDM Vol 3 "Restrictions
 * on VMX Operation"), so a CPU left in VMX operation may not come back from
 * a warm reset; turn it off everywhere before the machine restarts, as KVM
 * does.  The IPI may land between a vCPU's exit and its next entry, so the
 * flag goes up first: the vendors check it with interrupts off before
 * entering (minihv_exit_request()), and the run ends with -EIO
 * (Documentation/security.rst, "Host reboot").
 */
static void minihv_hw_disable_for_reboot(void)
{
	WRITE_ONCE(minihv_rebooting, true);
	/* The flag before the IPIs: a CPU that took its IPI reads it set. */
	smp_mb();
	on_each_cpu(minihv_hw_disable_ipi, NULL, 1);
}

static int minihv_reboot(struct notifier_block *nb, unsigned long code,
			 void *unused)
{
	minihv_hw_disable_for_reboot();
	return NOTIFY_OK;
}

static struct notifier_block minihv_reboot_notifier = {
	.notifier_call = minihv_reboot,
	.priority = 0,
};

/*
 * Syscore hooks run on the boot CPU with the others already offline (and
 * so already disabled by the hotplug callback) and interrupts off.
 */
static int minihv_suspend(void)
{
	minihv_hw_disable_this_cpu();
	return 0;
}

static void minihv_resume(void)
{
	WARN_ON_ONCE(minihv_hw_enable_this_cpu());
}

static struct syscore_ops minihv_syscore_ops = {
	.suspend = minihv_suspend,
	.resume = minihv_resume,
};

/* ---- /dev/minihv: system ioctls ---- */

static long minihv_dev_get_api_version(unsigned long arg)
{
	/* Like KVM_GET_API_VERSION: the argument is reserved and must be 0. */
	if (arg)
		return -EINVAL;
	return MINIHV_API_VERSION;
}

static long minihv_dev_check_extension(unsigned long cap)
{
	switch (cap) {
	case MINIHV_CAP_VENDOR:
		return minihv_ops->vendor;
	case MINIHV_CAP_NR_MEMSLOTS:
		return MINIHV_MAX_MEMSLOTS;
	case MINIHV_CAP_MAX_VCPUS:
		return MINIHV_MAX_VCPUS;
	case MINIHV_CAP_READONLY_MEM:
	case MINIHV_CAP_INTERRUPTS:
	case MINIHV_CAP_IRQCHIP:
	case MINIHV_CAP_CPUID:
	case MINIHV_CAP_PIT2:
		return 1;
	case MINIHV_CAP_IOEVENTFD:
		return MINIHV_MAX_IOEVENTFDS;
	case MINIHV_CAP_IRQFD:
		return MINIHV_MAX_IRQFDS;
	case MINIHV_CAP_TSC_KHZ:
		/* The guest's TSC runs at the host's rate (only an offset is added). */
		return tsc_khz;
	default:
		return 0;
	}
}

static long minihv_dev_ioctl(struct file *filp, unsigned int ioctl,
			     unsigned long arg)
{
	switch (ioctl) {
	case MINIHV_GET_API_VERSION:
		return minihv_dev_get_api_version(arg);
	case MINIHV_CHECK_EXTENSION:
		return minihv_dev_check_extension(arg);
	case MINIHV_CREATE_VM:
		return arg ? -EINVAL : minihv_dev_create_vm();
	case MINIHV_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : minihv_vcpu_mmap_size();
	case MINIHV_GET_SUPPORTED_CPUID:
		return minihv_dev_get_supported_cpuid((void __user *)arg);
	case MINIHV_GET_FEATURES: {
		struct minihv_features f = { .vendor = minihv_ops->vendor };

		minihv_ops->get_features(&f);
		minihv_spec_features(&f);
		return copy_to_user((void __user *)arg, &f, sizeof(f)) ? -EFAULT : 0;
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_operations minihv_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = minihv_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice minihv_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "minihv",
	.fops = &minihv_dev_fops,
	/* Root only, unless a udev rule grants a group (see README.md). */
	.mode = 0600,
};

/* ---- load and unload ---- */

static const struct minihv_vendor_ops *minihv_pick_vendor(void)
{
	if (vmx_cpu_has_vmx())
		return &vmx_vendor_ops;
	if (svm_cpu_has_svm())
		return &svm_vendor_ops;
	return NULL;
}

/* A hole is a bug in the backend, caught here; the optional ones go in pairs. */
static int minihv_check_ops(const struct minihv_vendor_ops *ops)
{
	if (!ops->name || !ops->owner || !ops->vendor || !ops->probe ||
	    !ops->hardware_setup || !ops->hardware_unsetup ||
	    !ops->hardware_enable || !ops->hardware_disable ||
	    !ops->print_features || !ops->vm_init || !ops->vm_destroy ||
	    !ops->vcpu_create || !ops->vcpu_free || !ops->vcpu_run ||
	    !ops->get_regs || !ops->set_regs || !ops->get_sregs ||
	    !ops->set_sregs || !ops->get_msr || !ops->set_msr ||
	    !ops->event_allowed || !ops->inject_event || !ops->set_event_windows ||
	    !ops->reset_events || !ops->read_exit || !ops->handle_failed_entry ||
	    !ops->exit_table || !ops->skip_instruction ||
	    !ops->queue_event || !ops->get_cpu_mode || !ops->cr4_bits ||
	    !ops->vcpu_load != !ops->vcpu_put ||
	    !ops->tdp_nonleaf || !ops->tdp_leaf_ro || !ops->tdp_leaf_rw) {
		pr_err("vendor ops table '%s' is incomplete\n",
		       ops->name ? ops->name : "?");
		return -EINVAL;
	}
	return 0;
}

u64 minihv_host_xcr0;

/*
 * /sys/kernel/debug/minihv/: VMs in existence and guest pages pinned, as
 * KVM keeps its own counters in /sys/kernel/debug/kvm/.  Both return to
 * 0 when every VM fd is closed: how a test sees a leaked VM or page.
 * Each VM adds a directory of its own (vm.c).
 */
struct dentry *minihv_debugfs;

/*
 * Test hook (MINIHV_TEST_HOOKS): writing 1 to minihv/reboot_disable runs
 * what the reboot notifier runs, without the reboot, so that a test can
 * turn VMX/SVM off under running vCPUs (load_unload_test).  No guest runs
 * after it until the module is reloaded.
 */
static int minihv_reboot_disable_set(void *unused, u64 val)
{
	if (val != 1)
		return -EINVAL;
	minihv_hw_disable_for_reboot();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(minihv_reboot_disable_fops, NULL,
			 minihv_reboot_disable_set, "%llu\n");

static void minihv_debugfs_init(void)
{
	minihv_debugfs = debugfs_create_dir("minihv", NULL);
	debugfs_create_atomic_t("vms", 0444, minihv_debugfs, &minihv_nr_vms);
	debugfs_create_atomic_t("pinned_pages", 0444, minihv_debugfs, &minihv_nr_pinned);
	if (minihv_test_hooks())
		debugfs_create_file_unsafe("reboot_disable", 0200, minihv_debugfs,
					   NULL, &minihv_reboot_disable_fops);
}

static int __init minihv_init(void)
{
	int r;

	minihv_ops = minihv_pick_vendor();
	if (!minihv_ops) {
		pr_err("no hardware virtualization: the CPU has neither VT-x (CPUID.1:ECX.VMX) nor AMD-V (CPUID.80000001h:ECX.SVM)\n");
		return -ENODEV;
	}
	r = minihv_check_ops(minihv_ops);
	if (r)
		return r;

	r = minihv_ops->probe();
	if (r)
		return r;
	/* XCR0 is the same on every CPU: Linux sets it once (fpu__init_cpu_xstate()). */
	if (boot_cpu_has(X86_FEATURE_OSXSAVE))
		minihv_host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);

	r = minihv_ops->hardware_setup();
	if (r)
		return r;

	atomic_set(&minihv_busy_reported, 0);
	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "minihv/cpu:online",
			      minihv_cpu_online, minihv_cpu_offline);
	if (r < 0)
		goto err_unsetup;
	minihv_cpuhp_state = r;

	r = register_reboot_notifier(&minihv_reboot_notifier);
	if (r)
		goto err_remove_cpuhp;
	register_syscore_ops(&minihv_syscore_ops);

	minihv_ops->print_features();

	minihv_debugfs_init();
	r = minihv_spec_setup(minihv_debugfs);
	if (r)
		goto err_remove_debugfs;
	r = minihv_irqfd_init();
	if (r)
		goto err_spec_unsetup;
	r = misc_register(&minihv_dev);
	if (r) {
		pr_err("cannot register /dev/minihv: %d\n", r);
		goto err_irqfd_exit;
	}
	return 0;

err_irqfd_exit:
	minihv_irqfd_exit();
err_spec_unsetup:
	minihv_spec_unsetup();
err_remove_debugfs:
	debugfs_remove_recursive(minihv_debugfs);
	unregister_syscore_ops(&minihv_syscore_ops);
	unregister_reboot_notifier(&minihv_reboot_notifier);
err_remove_cpuhp:
	cpuhp_remove_state(minihv_cpuhp_state);
err_unsetup:
	minihv_ops->hardware_unsetup();
	return r;
}

static void __exit minihv_exit(void)
{
	misc_deregister(&minihv_dev);
	minihv_irqfd_exit();
	minihv_spec_unsetup();
	debugfs_remove_recursive(minihv_debugfs);
	unregister_syscore_ops(&minihv_syscore_ops);
	unregister_reboot_notifier(&minihv_reboot_notifier);
	/* Runs the offline callback, so every CPU is disabled after this. */
	cpuhp_remove_state(minihv_cpuhp_state);
	minihv_ops->hardware_unsetup();
	pr_info("%s disabled on all CPUs, unloaded\n", minihv_ops->name);
}

module_init(minihv_init);
module_exit(minihv_exit);

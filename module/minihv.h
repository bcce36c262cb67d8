/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv internal interfaces: what the generic core (main.c) needs from a
 * vendor backend (vmx/vmx.c for Intel VT-x, svm/svm.c for AMD-V).
 */
#ifndef MINIHV_H
#define MINIHV_H

#include <linux/types.h>

/*
 * One table per vendor, chosen once at module load (bhyve's vmm_ops, KVM's
 * kvm_x86_ops).  Each vendor file ends with its const instance.  Every
 * entry is required: minihv_check_ops() refuses a table with a hole, so the
 * core never tests for NULL at a call site.
 *
 * Context of each call:
 *   probe            process context, once, before anything else.  Checks
 *                    that the CPU has the extension and that firmware did
 *                    not disable it; prints one line saying why not.
 *                    Returns 0, -ENODEV (absent or disabled) or -EIO.
 *   hardware_setup   process context, once.  Allocates the per-CPU areas
 *                    (VMXON region, host save area) and reads capabilities.
 *   hardware_unsetup process context, once, after every CPU is disabled.
 *   hardware_enable  on the CPU being enabled, preemption disabled (a CPU
 *                    hotplug callback or an IPI).  Returns 0, -EBUSY when
 *                    another hypervisor already owns the extension on this
 *                    CPU, or -EIO.
 *   hardware_disable on the CPU being disabled, preemption disabled.  Must
 *                    be harmless on a CPU that is not enabled.
 *   print_features   once, after every CPU was enabled: the one dmesg line
 *                    naming the backend and its key features.
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
};

extern const struct minihv_vendor_ops vmx_vendor_ops;
extern const struct minihv_vendor_ops svm_vendor_ops;

bool vmx_cpu_has_vmx(void);
bool svm_cpu_has_svm(void);

#endif /* MINIHV_H */

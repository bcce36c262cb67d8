// SPDX-License-Identifier: GPL-2.0
/*
 * minihv AMD-V (SVM) backend.
 *
 * This part turns SVM on and off on each CPU: EFER.SVME and the host save
 * area (APM Vol 2 15.4 "Enabling SVM", 15.30.4 "VM_HSAVE_PA MSR").
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/string_helpers.h>

#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include <uapi/linux/minihv.h>

#include "../minihv.h"

/* VM_CR (MSR C001_0114h), APM Vol 2 15.30.1. */
#define SVM_VM_CR_SVMDIS		BIT_ULL(4)

/* CPUID Fn8000_000A_EDX, APM Vol 3 appendix E.4.9 "SVM Features". */
#define SVM_FEATURE_NPT			BIT(0)
#define SVM_FEATURE_NRIPS		BIT(3)
#define SVM_FEATURE_VMCB_CLEAN		BIT(5)
#define SVM_FEATURE_FLUSH_BY_ASID	BIT(6)
#define SVM_FEATURE_DECODE_ASSISTS	BIT(7)
#define SVM_FEATURE_VGIF		BIT(16)

/* What this CPU offers, read once in svm_hardware_setup(). */
struct svm_capabilities {
	u32 nr_asids;		/* CPUID Fn8000_000A_EBX */
	bool npt;
	bool nrips;
	bool vmcb_clean;
	bool flush_by_asid;
	bool decode_assists;
	bool vgif;
};

static struct svm_capabilities svm_caps;

/* One host save area per CPU (APM Vol 2 15.30.4), for all possible CPUs. */
static DEFINE_PER_CPU(struct page *, svm_hsave_area);

bool svm_cpu_has_svm(void)
{
	/* CPUID Fn8000_0001_ECX.SVM[bit 2], APM Vol 2 15.4. */
	if (cpuid_eax(0x80000000) < 0x80000001)
		return false;
	return cpuid_ecx(0x80000001) & BIT(2);
}

static int svm_probe(void)
{
	u64 vm_cr;

	if (cpuid_eax(0x80000000) < 0x8000000a) {
		pr_err("AMD-V: CPUID leaf 8000000Ah (SVM features) is missing\n");
		return -ENODEV;
	}
	/*
	 * VM_CR.SVMDIS set means firmware disabled SVM; with VM_CR.LOCK it
	 * cannot be undone (APM Vol 2 15.30.1), without it a careful BIOS
	 * setup still expects it to stay off.  Either way, EFER.SVME would #GP.
	 */
	if (rdmsrl_safe(MSR_VM_CR, &vm_cr) || (vm_cr & SVM_VM_CR_SVMDIS)) {
		pr_err("AMD-V is disabled by firmware (VM_CR.SVMDIS); enable SVM in the firmware setup\n");
		return -ENODEV;
	}
	return 0;
}

static void svm_read_capabilities(struct svm_capabilities *caps)
{
	u32 edx = cpuid_edx(0x8000000a);

	caps->nr_asids = cpuid_ebx(0x8000000a);
	caps->npt = edx & SVM_FEATURE_NPT;
	caps->nrips = edx & SVM_FEATURE_NRIPS;
	caps->vmcb_clean = edx & SVM_FEATURE_VMCB_CLEAN;
	caps->flush_by_asid = edx & SVM_FEATURE_FLUSH_BY_ASID;
	caps->decode_assists = edx & SVM_FEATURE_DECODE_ASSISTS;
	caps->vgif = edx & SVM_FEATURE_VGIF;
}

static void svm_free_hsave_areas(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(svm_hsave_area, cpu))
			__free_page(per_cpu(svm_hsave_area, cpu));
		per_cpu(svm_hsave_area, cpu) = NULL;
	}
}

static int svm_hardware_setup(void)
{
	int cpu;

	svm_read_capabilities(&svm_caps);

	for_each_possible_cpu(cpu) {
		struct page *page;

		page = alloc_pages_node(cpu_to_node(cpu),
					GFP_KERNEL | __GFP_ZERO, 0);
		if (!page) {
			svm_free_hsave_areas();
			return -ENOMEM;
		}
		per_cpu(svm_hsave_area, cpu) = page;
	}
	return 0;
}

static void svm_hardware_unsetup(void)
{
	svm_free_hsave_areas();
}

static int svm_hardware_enable(void)
{
	u64 efer;

	/* EFER.SVME already set: another hypervisor (KVM) owns SVM here. */
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;

	wrmsrl(MSR_EFER, efer | EFER_SVME);
	/*
	 * VMRUN saves host state to the page named by VM_HSAVE_PA and #VMEXIT
	 * restores it from there (APM Vol 2 15.5.1); it must be page aligned
	 * and is never touched by software.
	 */
	wrmsrl(MSR_VM_HSAVE_PA,
	       page_to_phys(__this_cpu_read(svm_hsave_area)));
	return 0;
}

static void svm_hardware_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

static void svm_print_features(void)
{
	pr_info("AMD-V enabled on %u CPUs: NPT %s, NRIP save %s, VMCB clean bits %s, flush by ASID %s, decode assists %s, VGIF %s, %u ASIDs\n",
		num_online_cpus(), str_yes_no(svm_caps.npt),
		str_yes_no(svm_caps.nrips), str_yes_no(svm_caps.vmcb_clean),
		str_yes_no(svm_caps.flush_by_asid),
		str_yes_no(svm_caps.decode_assists), str_yes_no(svm_caps.vgif),
		svm_caps.nr_asids);
}

const struct minihv_vendor_ops svm_vendor_ops = {
	.name = "AMD-V",
	.owner = "kvm_amd",
	.vendor = MINIHV_VENDOR_SVM,
	.probe = svm_probe,
	.hardware_setup = svm_hardware_setup,
	.hardware_unsetup = svm_hardware_unsetup,
	.hardware_enable = svm_hardware_enable,
	.hardware_disable = svm_hardware_disable,
	.print_features = svm_print_features,
};

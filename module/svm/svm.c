// SPDX-License-Identifier: GPL-2.0
/*
 * minihv AMD-V (SVM) backend.
 *
 * Enabling: EFER.SVME and the host save area on each CPU (APM Vol 2 15.4
 * "Enabling SVM", 15.30.4 "VM_HSAVE_PA MSR").  Running: one VMCB per vCPU
 * (appendix B), nested paging (15.25), the world switch in vmenter.S, and
 * one exit handler per exit code in svm_exit_handlers[].
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/smp.h>
#include <linux/string_helpers.h>

#include <asm/debugreg.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>

#include <uapi/linux/minihv.h>

#include "../minihv.h"
#include "svm.h"

/* VM_CR (MSR C001_0114h), APM Vol 2 15.30.1. */
#define SVM_VM_CR_SVMDIS		BIT_ULL(4)

/* CPUID Fn8000_000A_EDX, APM Vol 3 appendix E.4.9 "SVM Features". */
#define SVM_FEATURE_NPT			BIT(0)
#define SVM_FEATURE_NRIPS		BIT(3)
#define SVM_FEATURE_VMCB_CLEAN		BIT(5)
#define SVM_FEATURE_FLUSH_BY_ASID	BIT(6)
#define SVM_FEATURE_DECODE_ASSISTS	BIT(7)
#define SVM_FEATURE_AVIC		BIT(13)
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
	bool avic;
};

static struct svm_capabilities svm_caps;

/*
 * Per CPU, for all possible CPUs: the host save area VMRUN uses (APM Vol 2
 * 15.30.4), and a page for VMSAVE/VMLOAD of the host's FS, GS, TR, LDTR and
 * syscall MSRs around each VMRUN (15.5.2).
 */
static DEFINE_PER_CPU(struct page *, svm_hsave_area);
static DEFINE_PER_CPU(struct page *, svm_host_vmsave);

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
	/* Guest memory is mapped only through nested paging (APM 15.25). */
	if (!(cpuid_edx(0x8000000a) & SVM_FEATURE_NPT)) {
		pr_err("AMD-V: this CPU has no nested paging (NPT), which minihv requires\n");
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
	caps->avic = edx & SVM_FEATURE_AVIC;
}

/*
 * The I/O and MSR permission maps (APM 15.10.1, 15.11): every bit set, so
 * every port and every MSR access exits.  Shared by all vCPUs, never
 * written after setup.
 */
#define SVM_IOPM_ORDER		2	/* 12 KiB used */
#define SVM_MSRPM_ORDER		1	/* 8 KiB */
static struct page *svm_iopm, *svm_msrpm;

/*
 * ASIDs tag guest TLB entries (15.16).  ASID 0 is the host's; each vCPU
 * gets its own from 1 .. nr_asids - 2 while they last, and after that all
 * share the last one and flush it at every VMRUN.
 */
static DEFINE_SPINLOCK(svm_asid_lock);
static unsigned long *svm_asid_bitmap;	/* [svm_asid_lock] */

static void svm_free_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		if (per_cpu(svm_hsave_area, cpu))
			__free_page(per_cpu(svm_hsave_area, cpu));
		if (per_cpu(svm_host_vmsave, cpu))
			__free_page(per_cpu(svm_host_vmsave, cpu));
		per_cpu(svm_hsave_area, cpu) = NULL;
		per_cpu(svm_host_vmsave, cpu) = NULL;
	}
	if (svm_iopm)
		__free_pages(svm_iopm, SVM_IOPM_ORDER);
	if (svm_msrpm)
		__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
	svm_iopm = NULL;
	svm_msrpm = NULL;
	bitmap_free(svm_asid_bitmap);
	svm_asid_bitmap = NULL;
}

static int svm_hardware_setup(void)
{
	int cpu;

	svm_read_capabilities(&svm_caps);

	for_each_possible_cpu(cpu) {
		per_cpu(svm_hsave_area, cpu) =
			alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		per_cpu(svm_host_vmsave, cpu) =
			alloc_pages_node(cpu_to_node(cpu), GFP_KERNEL | __GFP_ZERO, 0);
		if (!per_cpu(svm_hsave_area, cpu) || !per_cpu(svm_host_vmsave, cpu))
			goto err_free;
	}
	svm_iopm = alloc_pages(GFP_KERNEL, SVM_IOPM_ORDER);
	svm_msrpm = alloc_pages(GFP_KERNEL, SVM_MSRPM_ORDER);
	svm_asid_bitmap = bitmap_zalloc(max(svm_caps.nr_asids, 2U), GFP_KERNEL);
	if (!svm_iopm || !svm_msrpm || !svm_asid_bitmap)
		goto err_free;
	memset(page_address(svm_iopm), 0xff, PAGE_SIZE << SVM_IOPM_ORDER);
	memset(page_address(svm_msrpm), 0xff, PAGE_SIZE << SVM_MSRPM_ORDER);
	return 0;

err_free:
	svm_free_pages();
	return -ENOMEM;
}

static void svm_hardware_unsetup(void)
{
	svm_free_pages();
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

/*
 * What minihv uses: NPT (required), NRIP save for instruction lengths,
 * flush by ASID.  Not the clean bits (every VMRUN reloads the whole
 * VMCB), decode assists (minihv decodes from guest memory), VGIF or AVIC.
 */
static void svm_get_features(struct minihv_features *f)
{
	f->nr_tags = svm_caps.nr_asids;
	minihv_feature(f, MINIHV_FEATURE_NPT, svm_caps.npt, true);
	minihv_feature(f, MINIHV_FEATURE_NRIP_SAVE, svm_caps.nrips, true);
	minihv_feature(f, MINIHV_FEATURE_VMCB_CLEAN, svm_caps.vmcb_clean, false);
	minihv_feature(f, MINIHV_FEATURE_FLUSH_BY_ASID, svm_caps.flush_by_asid, true);
	minihv_feature(f, MINIHV_FEATURE_DECODE_ASSISTS, svm_caps.decode_assists, false);
	minihv_feature(f, MINIHV_FEATURE_VGIF, svm_caps.vgif, false);
	minihv_feature(f, MINIHV_FEATURE_AVIC, svm_caps.avic, false);
}

/* ---- vCPUs ---- */

struct svm_vcpu {
	struct vmcb *vmcb;
	struct page *vmcb_page;
	u64 vmcb_pa;
	u32 asid;
	bool asid_shared;	/* no ASID of its own: flush at every VMRUN */
	int last_cpu;		/* CPU of the last VMRUN, -1 before the first */
	u64 tlb_generation;	/* vm->tlb_generation at the last flush */
	bool state_checked;	/* save area passed svm_check_guest_state() */
	struct svm_entry_state entry;	/* what the last VMRUN was given */
	/*
	 * EFER as the guest sees it, and the truth: the guest changes EFER
	 * only through WRMSR and, while LME is set, LMA only through CR0
	 * writes, all intercepted.  The VMCB gets it at every VMRUN with LME
	 * only while LMA is set (svm_vmcb_efer()).
	 */
	u64 efer;
	/*
	 * NMI blocking, which AMD-V leaves to the hypervisor without vNMI:
	 * set when an NMI is injected, ended by the handler's IRET.  The IRET
	 * intercept fires before the IRET runs; NMIs are unblocked once RIP
	 * has moved off it (the IRET completed).
	 */
	bool nmi_masked;
	bool iret_seen;
	u64 iret_rip;
};

static inline struct svm_vcpu *to_svm(struct minihv_vcpu *vcpu)
{
	return vcpu->arch;
}

/*
 * What the CPU is given of the guest's EFER.  It never holds EFER.LME
 * while paging is off: it gets LME together with LMA, when a CR0 write
 * turns paging on (svm_handle_cr_write()), as KVM's svm_set_efer() does.
 * Architecturally LME with paging off is plain legacy mode either way,
 * but QEMU's #VMEXIT (its do_vmexit(), up to at least 7.2) restores the
 * host's CR0 through the same path as a MOV to CR0 while the guest's EFER
 * and CR4 are still loaded: with the guest's LME set and its CR4.PAE
 * clear it takes that for a #GP-worthy long-mode entry and returns early,
 * leaving the host running with the guest's CR0 (paging off) and GIF
 * clear, a CPU lost for good.  A guest gets there with one
 * WRMSR; minihv never hands the CPU that state.  It is written at every
 * VMRUN because Bochs 2.7 writes EFER back without LMA at a CR0-write
 * intercept in compatibility mode.
 */
static u64 svm_vmcb_efer(const struct svm_vcpu *svm)
{
	u64 efer = svm->efer;

	if (!(efer & EFER_LMA))
		efer &= ~EFER_LME;
	return efer | EFER_SVME;
}

/* The guest's new EFER: CR0 writes are intercepted while its LME is set. */
static void svm_write_efer(struct svm_vcpu *svm, u64 efer)
{
	struct vmcb_control_area *c = &svm->vmcb->control;

	svm->efer = efer;
	if (efer & EFER_LME)
		c->intercept_cr |= INTERCEPT_CR0_WRITE;
	else
		c->intercept_cr &= ~INTERCEPT_CR0_WRITE;
}

static int svm_vm_init(struct minihv_vm *vm)
{
	/*
	 * The nested page table has the shape of the host's own paging at
	 * VMRUN (APM Vol 2 15.25.3): five levels when the host kernel runs
	 * with CR4.LA57, as Debian's does on CPUs (and QEMU -cpu max) that
	 * have it.
	 */
	vm->tdp_levels = (cr4_read_shadow() & X86_CR4_LA57) ? 5 : 4;
	/*
	 * Nested leaves come in the host's page sizes (APM 15.25.5): 2 MiB
	 * always in long mode, 1 GiB where CPUID Fn8000_0001 EDX[26] says.
	 */
	vm->tdp_max_leaf_level = boot_cpu_has(X86_FEATURE_GBPAGES) ? 3 : 2;
	return 0;
}

static void svm_vm_destroy(struct minihv_vm *vm)
{
}

static void svm_asid_alloc(struct svm_vcpu *svm)
{
	u32 shared = max(svm_caps.nr_asids, 2U) - 1;
	unsigned long asid;

	spin_lock(&svm_asid_lock);
	asid = find_next_zero_bit(svm_asid_bitmap, shared, 1);
	if (asid < shared)
		__set_bit(asid, svm_asid_bitmap);
	spin_unlock(&svm_asid_lock);

	svm->asid_shared = asid >= shared;
	svm->asid = svm->asid_shared ? shared : asid;
}

static void svm_asid_free(struct svm_vcpu *svm)
{
	if (svm->asid_shared)
		return;
	spin_lock(&svm_asid_lock);
	__clear_bit(svm->asid, svm_asid_bitmap);
	spin_unlock(&svm_asid_lock);
}

static void svm_set_seg(struct vmcb_seg *seg, u16 selector, u64 base,
			u32 limit, u16 attrib)
{
	seg->selector = selector;
	seg->base = base;
	seg->limit = limit;
	seg->attrib = attrib;
}

/*
 * Exceptions that always exit (APM Vol 2 15.12 "Exception Intercepts").
 * #DB and #AC: a guest can make their delivery raise them again, #DB with
 * a data breakpoint on the stack its frame is pushed to (a TSS or IST
 * stack: the same address every time), #AC with a misaligned CPL3 stack
 * and a CPL3 handler.  The CPU then delivers the same exception forever
 * without reaching an instruction boundary, where an interrupt, an NMI or
 * the host's timer could end it: a host CPU lost to one guest
 * (CVE-2015-8104, CVE-2015-5307).  Intercepted, each delivery is a
 * #VMEXIT instead, the run loop sees signals and need_resched in between,
 * and svm_handle_reflect() gives the exception to the guest.
 *
 * #MC: a machine check during the guest's run is the host's (its
 * platform's error); without the intercept the CPU delivers it through
 * the guest's IDT and the host never hears of it.  svm_vcpu_run() hands
 * it to the host's handler.
 */
#define SVM_INTERCEPTED_EXCEPTIONS	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | \
					 BIT(X86_TRAP_MC))

/* Default PAT (SDM Vol 3 11.12.4): WB, WT, UC-, UC, twice. */
#define PAT_DEFAULT	0x0007040600070406ULL

/*
 * The state after RESET (APM Vol 2 14.1.3): real mode at F000:FFF0.
 * Userspace normally replaces it through SET_REGS and SET_SREGS.
 */
static void svm_init_vmcb(struct minihv_vcpu *vcpu, struct svm_vcpu *svm)
{
	struct vmcb_control_area *c = &svm->vmcb->control;
	struct vmcb_save_area *save = &svm->vmcb->save;

	c->intercept_exceptions = SVM_INTERCEPTED_EXCEPTIONS;
	/*
	 * Besides what minihv emulates: RDPMC would read the host's
	 * performance counters, WBINVD flush (and stall) the whole cache
	 * hierarchy the host shares, RDTSCP read the host's TSC_AUX (its CPU
	 * number): none of them runs natively.
	 */
	c->intercept_misc3 = INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI |
			     INTERCEPT_RDPMC | INTERCEPT_CPUID | INTERCEPT_INVD |
			     INTERCEPT_HLT | INTERCEPT_INVLPGA | INTERCEPT_IOIO_PROT |
			     INTERCEPT_MSR_PROT | INTERCEPT_SHUTDOWN;
	/* VMRUN must be intercepted (15.5.1); the rest are not for guests. */
	c->intercept_misc4 = INTERCEPT_VMRUN | INTERCEPT_VMMCALL |
			     INTERCEPT_VMLOAD | INTERCEPT_VMSAVE |
			     INTERCEPT_STGI | INTERCEPT_CLGI | INTERCEPT_SKINIT |
			     INTERCEPT_RDTSCP | INTERCEPT_ICEBP | INTERCEPT_WBINVD |
			     INTERCEPT_MONITOR | INTERCEPT_MWAIT |
			     INTERCEPT_XSETBV;
	/* Every MOV to CR4: its rules follow the guest's CPUID (cr.c). */
	c->intercept_cr = INTERCEPT_CR4_WRITE;
	/* Every MOV DR: the guest's debug registers are vcpu->dbg (debugreg.c). */
	c->intercept_dr = INTERCEPT_DR0_7;
	c->iopm_base_pa = page_to_phys(svm_iopm);
	c->msrpm_base_pa = page_to_phys(svm_msrpm);
	c->asid = svm->asid;
	/* Guest RFLAGS.IF masks only virtual interrupts (15.21.1). */
	c->int_ctl = V_INTR_MASKING;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = vcpu->vm->tdp_root;

	svm_set_seg(&save->cs, 0xf000, 0xffff0000, 0xffff, 0x9b);
	svm_set_seg(&save->ds, 0, 0, 0xffff, 0x93);
	save->es = save->ds;
	save->ss = save->ds;
	save->fs = save->ds;
	save->gs = save->ds;
	svm_set_seg(&save->gdtr, 0, 0, 0xffff, 0);
	svm_set_seg(&save->idtr, 0, 0, 0xffff, 0);
	svm_set_seg(&save->ldtr, 0, 0, 0xffff, 0x82);
	svm_set_seg(&save->tr, 0, 0, 0xffff, 0x8b);
	save->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
	/* EFER.SVME must be set in the guest's EFER too (15.5.1). */
	save->efer = EFER_SVME;
	save->rflags = X86_EFLAGS_FIXED;
	save->rip = 0xfff0;
	save->dr6 = 0xffff0ff0;
	save->dr7 = 0x400;
	save->g_pat = PAT_DEFAULT;
}

static int svm_vcpu_create(struct minihv_vcpu *vcpu)
{
	struct svm_vcpu *svm;

	svm = kzalloc(sizeof(*svm), MINIHV_GFP);
	if (!svm)
		return -ENOMEM;
	svm->vmcb_page = alloc_page(MINIHV_GFP | __GFP_ZERO);
	if (!svm->vmcb_page)
		goto err_free_svm;
	svm->vmcb = page_address(svm->vmcb_page);
	svm->vmcb_pa = page_to_phys(svm->vmcb_page);
	svm->last_cpu = -1;
	svm_asid_alloc(svm);
	vcpu->arch = svm;
	svm_init_vmcb(vcpu, svm);
	return 0;

err_free_svm:
	kfree(svm);
	return -ENOMEM;
}

static void svm_vcpu_free(struct minihv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm_asid_free(svm);
	__free_page(svm->vmcb_page);
	kfree(svm);
}

/* ---- registers ---- */

static void svm_get_regs(struct minihv_vcpu *vcpu, struct minihv_regs *regs)
{
	regs->rip = to_svm(vcpu)->vmcb->save.rip;
	regs->rflags = to_svm(vcpu)->vmcb->save.rflags;
}

static void svm_set_regs(struct minihv_vcpu *vcpu, const struct minihv_regs *regs)
{
	to_svm(vcpu)->vmcb->save.rip = regs->rip;
	to_svm(vcpu)->vmcb->save.rflags = regs->rflags;
	to_svm(vcpu)->state_checked = false;
}

static void svm_seg_to_user(const struct vmcb_seg *s, struct minihv_segment *u)
{
	u->base = s->base;
	u->limit = s->limit;
	u->selector = s->selector;
	u->type = s->attrib & SVM_SEG_ATTR_TYPE_MASK;
	u->s = !!(s->attrib & SVM_SEG_ATTR_S);
	u->dpl = (s->attrib >> SVM_SEG_ATTR_DPL_SHIFT) & 3;
	u->present = !!(s->attrib & SVM_SEG_ATTR_P);
	u->avl = !!(s->attrib & SVM_SEG_ATTR_AVL);
	u->l = !!(s->attrib & SVM_SEG_ATTR_L);
	u->db = !!(s->attrib & SVM_SEG_ATTR_DB);
	u->g = !!(s->attrib & SVM_SEG_ATTR_G);
	u->unusable = !u->present;
}

static void svm_seg_from_user(struct vmcb_seg *s, const struct minihv_segment *u)
{
	s->base = u->base;
	s->limit = u->limit;
	s->selector = u->selector;
	s->attrib = (u->type & SVM_SEG_ATTR_TYPE_MASK) |
		    (u->s ? SVM_SEG_ATTR_S : 0) |
		    ((u->dpl & 3) << SVM_SEG_ATTR_DPL_SHIFT) |
		    (u->present && !u->unusable ? SVM_SEG_ATTR_P : 0) |
		    (u->avl ? SVM_SEG_ATTR_AVL : 0) |
		    (u->l ? SVM_SEG_ATTR_L : 0) |
		    (u->db ? SVM_SEG_ATTR_DB : 0) |
		    (u->g ? SVM_SEG_ATTR_G : 0);
}

static void svm_get_sregs(struct minihv_vcpu *vcpu, struct minihv_sregs *sregs)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;

	svm_seg_to_user(&save->cs, &sregs->cs);
	svm_seg_to_user(&save->ds, &sregs->ds);
	svm_seg_to_user(&save->es, &sregs->es);
	svm_seg_to_user(&save->fs, &sregs->fs);
	svm_seg_to_user(&save->gs, &sregs->gs);
	svm_seg_to_user(&save->ss, &sregs->ss);
	svm_seg_to_user(&save->tr, &sregs->tr);
	svm_seg_to_user(&save->ldtr, &sregs->ldt);
	sregs->gdt.base = save->gdtr.base;
	sregs->gdt.limit = save->gdtr.limit;
	sregs->idt.base = save->idtr.base;
	sregs->idt.limit = save->idtr.limit;
	sregs->cr0 = save->cr0;
	sregs->cr2 = save->cr2;
	sregs->cr3 = save->cr3;
	sregs->cr4 = save->cr4;
	sregs->cr8 = vcpu->lapic ? minihv_get_cr8(vcpu) :
		     to_svm(vcpu)->vmcb->control.int_ctl & V_TPR_MASK;
	sregs->efer = to_svm(vcpu)->efer;
}

/*
 * After the rules (cr.c, minihv_sregs_valid()).  Segment consistency is
 * left to VMRUN, whose refusal becomes a failed-entry exit that names the
 * broken rule (svm_check_guest_state).
 */
static int svm_set_sregs(struct minihv_vcpu *vcpu, const struct minihv_sregs *sregs)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_save_area *save = &vmcb->save;

	svm_seg_from_user(&save->cs, &sregs->cs);
	svm_seg_from_user(&save->ds, &sregs->ds);
	svm_seg_from_user(&save->es, &sregs->es);
	svm_seg_from_user(&save->fs, &sregs->fs);
	svm_seg_from_user(&save->gs, &sregs->gs);
	svm_seg_from_user(&save->ss, &sregs->ss);
	svm_seg_from_user(&save->tr, &sregs->tr);
	svm_seg_from_user(&save->ldtr, &sregs->ldt);
	save->gdtr.base = sregs->gdt.base;
	save->gdtr.limit = sregs->gdt.limit;
	save->idtr.base = sregs->idt.base;
	save->idtr.limit = sregs->idt.limit;
	save->cr0 = sregs->cr0;
	save->cr2 = sregs->cr2;
	save->cr3 = sregs->cr3;
	save->cr4 = sregs->cr4;
	svm_write_efer(to_svm(vcpu), sregs->efer);
	/* CPL is the DPL of SS (APM 15.5.1); real mode runs at CPL 0. */
	save->cpl = (sregs->cr0 & X86_CR0_PE) ? sregs->ss.dpl : 0;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) | sregs->cr8;
	minihv_set_cr8(vcpu, sregs->cr8);
	to_svm(vcpu)->state_checked = false;
	return 0;
}

/* What svm_check_guest_state() lets VMRUN have; cr.c takes away what the CPUID hides. */
static u64 svm_cr4_bits(void)
{
	return SVM_GUEST_CR4_BITS | X86_CR4_OSXSAVE | X86_CR4_PKE;
}

/* ---- helpers for exit handlers ---- */

static void svm_cpu_mode(struct minihv_vcpu *vcpu, struct minihv_cpu_mode *m)
{
	struct vmcb_save_area *save = &to_svm(vcpu)->vmcb->save;

	m->paging.cr0 = save->cr0;
	m->paging.cr3 = save->cr3;
	m->paging.cr4 = save->cr4;
	m->paging.efer = to_svm(vcpu)->efer;
	m->cs_base = save->cs.base;
	m->rip = save->rip;
	m->rflags = save->rflags;
	m->long_mode = (to_svm(vcpu)->efer & EFER_LMA) && (save->cs.attrib & SVM_SEG_ATTR_L);
	m->cs_db = save->cs.attrib & SVM_SEG_ATTR_DB;
	m->cpl = save->cpl;
	m->seg_base[SEG_ES] = save->es.base;
	m->seg_base[SEG_CS] = save->cs.base;
	m->seg_base[SEG_SS] = save->ss.base;
	m->seg_base[SEG_DS] = save->ds.base;
	m->seg_base[SEG_FS] = save->fs.base;
	m->seg_base[SEG_GS] = save->gs.base;
}

/* EVENTINJ has the layout of MINIHV_EVENT_* (APM Vol 2 15.20). */
static void svm_queue_event(struct minihv_vcpu *vcpu, u32 event, u32 error)
{
	struct vmcb_control_area *c = &to_svm(vcpu)->vmcb->control;

	c->event_inj = event;
	c->event_inj_err = error;
}

/* ---- interrupts and NMIs from userspace (APM Vol 2 15.20, 15.21) ---- */

static bool svm_event_allowed(struct minihv_vcpu *vcpu, bool nmi)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	if ((vmcb->control.event_inj & SVM_EVTINJ_VALID) ||
	    (vmcb->control.int_state & SVM_INTERRUPT_SHADOW))
		return false;
	if (!nmi)
		return vmcb->save.rflags & X86_EFLAGS_IF;
	if (svm->nmi_masked && svm->iret_seen && vmcb->save.rip != svm->iret_rip)
		svm->nmi_masked = false;
	return !svm->nmi_masked;
}

static void svm_inject_event(struct minihv_vcpu *vcpu, bool nmi, u8 vector)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->vmcb->control.event_inj = vector | SVM_EVTINJ_VALID |
		(nmi ? SVM_EVTINJ_TYPE_NMI : SVM_EVTINJ_TYPE_INTR);
	if (nmi) {
		svm->nmi_masked = true;
		svm->iret_seen = false;
	}
}

/*
 * The interrupt window is a virtual interrupt (V_IRQ) that no TPR holds
 * back: the CPU takes it, and so exits on the VINTR intercept, exactly
 * when the guest could take a real one (15.21.4).  There is no NMI window
 * without vNMI: the IRET intercept stays on while an NMI handler runs,
 * whether or not another NMI waits (@nmi), since only it tells when the
 * handler ends.  A queued NMI then goes in at the first exit after that
 * IRET; the host's timer tick bounds the wait.
 */
static void svm_set_event_windows(struct minihv_vcpu *vcpu, bool irq, bool nmi)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb_control_area *c = &svm->vmcb->control;

	c->int_ctl &= ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO_MASK);
	c->intercept_misc3 &= ~(INTERCEPT_VINTR | INTERCEPT_IRET);
	if (irq) {
		c->int_ctl |= V_IRQ | V_IGN_TPR | (0xfULL << V_INTR_PRIO_SHIFT);
		c->intercept_misc3 |= INTERCEPT_VINTR;
	}
	if (svm->nmi_masked && !svm->iret_seen)
		c->intercept_misc3 |= INTERCEPT_IRET;
}

static void svm_reset_events(struct minihv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->vmcb->control.event_inj = 0;
	svm->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW;
	svm->nmi_masked = false;
	svm->iret_seen = false;
	/* The debug registers' copies the CPU loads (debugreg.c reset them). */
	svm->vmcb->save.dr6 = vcpu->dbg.dr6;
	svm->vmcb->save.dr7 = minihv_hw_dr7(vcpu);
}

/*
 * The end of an instruction minihv completed: RIP at @next_rip, an
 * STI/MOV SS interrupt shadow over, and with RFLAGS.TF the single-step
 * trap the CPU would have taken (debugreg.c).  DR6 lives in the save area.
 */
static void svm_complete_insn(struct minihv_vcpu *vcpu, u64 next_rip)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;

	vmcb->save.rip = next_rip;
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW;
	if (vmcb->save.rflags & X86_EFLAGS_TF) {
		vcpu->dbg.dr6 = vmcb->save.dr6;
		minihv_single_step_trap(vcpu);
		vmcb->save.dr6 = vcpu->dbg.dr6;
	}
}

/*
 * Moves RIP past the instruction that exited.  With NRIP save the CPU
 * gives the next RIP (APM 15.7.1); without it (QEMU's TCG) minihv reads
 * the instruction and measures it.
 */
static int svm_skip_instruction(struct minihv_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct minihv_cpu_mode m;
	u8 insn[15];
	int len;

	if (svm_caps.nrips && vmcb->control.next_rip) {
		svm_complete_insn(vcpu, vmcb->control.next_rip);
		return MINIHV_RESUME_GUEST;
	}
	svm_cpu_mode(vcpu, &m);
	len = minihv_fetch_insn(vcpu, &m, insn, sizeof(insn));
	if (len > 0)
		len = minihv_insn_length(insn, len, m.long_mode);
	if (len <= 0) {
		u64 data[2] = { vmcb->control.exit_code, vmcb->save.rip };

		minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_EMULATION, 2, data);
		return MINIHV_EXIT_TO_USER;
	}
	svm_complete_insn(vcpu, vmcb->save.rip + len);
	return MINIHV_RESUME_GUEST;
}

/*
 * Where the emulated MSRs live (the list and the checks are in msr.c): the
 * save area, loaded by VMRUN or VMLOAD.  EFER (svm->efer is the guest's
 * view, svm_write_efer()) and the TSC (an offset) are not plain fields.
 */
static const struct {
	u32 msr;
	u16 offset;		/* in struct vmcb_save_area */
} svm_msr_fields[] = {
	{ MSR_STAR,		offsetof(struct vmcb_save_area, star) },
	{ MSR_LSTAR,		offsetof(struct vmcb_save_area, lstar) },
	{ MSR_CSTAR,		offsetof(struct vmcb_save_area, cstar) },
	{ MSR_SYSCALL_MASK,	offsetof(struct vmcb_save_area, sfmask) },
	{ MSR_KERNEL_GS_BASE,	offsetof(struct vmcb_save_area, kernel_gs_base) },
	{ MSR_FS_BASE,		offsetof(struct vmcb_save_area, fs.base) },
	{ MSR_GS_BASE,		offsetof(struct vmcb_save_area, gs.base) },
	{ MSR_IA32_SYSENTER_CS,	offsetof(struct vmcb_save_area, sysenter_cs) },
	{ MSR_IA32_SYSENTER_ESP, offsetof(struct vmcb_save_area, sysenter_esp) },
	{ MSR_IA32_SYSENTER_EIP, offsetof(struct vmcb_save_area, sysenter_eip) },
	{ MSR_IA32_CR_PAT,	offsetof(struct vmcb_save_area, g_pat) },
};

static u64 *svm_msr_field(struct vmcb *vmcb, u32 msr)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(svm_msr_fields); i++)
		if (svm_msr_fields[i].msr == msr)
			return (u64 *)((u8 *)&vmcb->save + svm_msr_fields[i].offset);
	return NULL;
}

static u64 svm_get_msr(struct minihv_vcpu *vcpu, u32 msr)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 *field = svm_msr_field(vmcb, msr);

	if (msr == MSR_EFER)
		return to_svm(vcpu)->efer;
	if (msr == MSR_IA32_TSC)
		return rdtsc() + vmcb->control.tsc_offset;
	return field ? *field : 0;
}

static void svm_set_msr(struct minihv_vcpu *vcpu, u32 msr, u64 val)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 *field = svm_msr_field(vmcb, msr);

	if (msr == MSR_EFER)
		svm_write_efer(to_svm(vcpu), val);
	else if (msr == MSR_IA32_TSC)
		vmcb->control.tsc_offset = val - rdtsc();
	else if (field)
		*field = val;
}

/* ---- exit handlers ---- */

static int svm_handle_vintr(struct minihv_vcpu *vcpu)
{
	/* The virtual interrupt was only a probe: take it back (15.21.4). */
	to_svm(vcpu)->vmcb->control.int_ctl &= ~V_IRQ;
	return minihv_window_open(vcpu);
}

static int svm_handle_iret(struct minihv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm->iret_seen = true;
	svm->iret_rip = svm->vmcb->save.rip;
	svm->vmcb->control.intercept_misc3 &= ~INTERCEPT_IRET;
	return MINIHV_RESUME_GUEST;
}

/* One exit code for both: EXITINFO1 is 0 for RDMSR, 1 for WRMSR (APM 15.11). */
static int svm_handle_msr(struct minihv_vcpu *vcpu)
{
	if (to_svm(vcpu)->vmcb->control.exit_info_1)
		return minihv_handle_wrmsr(vcpu);
	return minihv_handle_rdmsr(vcpu);
}

/*
 * MOV to CR0, CLTS or LMSW while the guest's EFER.LME is set
 * (svm_write_efer()), and every MOV to CR4, with MOV's rules (cr.c):
 * CR4's follow the guest's CPUID, which the CPU would not ask.  Turning
 * paging on with LME starts long mode, turning it off ends it.
 */
static int svm_handle_cr_write(struct minihv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	struct vmcb_save_area *save = &vmcb->save;
	int cr = vmcb->control.exit_code - SVM_EXIT_WRITE_CR0;
	struct minihv_cr_state s = {
		.cr0 = save->cr0, .cr3 = save->cr3, .cr4 = save->cr4, .efer = svm->efer,
		.cs_l = save->cs.attrib & SVM_SEG_ATTR_L,
	};
	struct minihv_cpu_mode m;
	u64 val;
	int len;

	svm_cpu_mode(vcpu, &m);
	len = minihv_decode_cr_write(vcpu, &m, cr, save->cr0, &val);
	if (!len)
		return MINIHV_EXIT_TO_USER;
	if (!(cr == 0 ? minihv_set_cr0(vcpu, &s, val) : minihv_set_cr4(vcpu, &s, val)))
		return minihv_complete_insn(vcpu, X86_TRAP_GP);
	/*
	 * New paging controls: flush this vCPU's TLB tag at the next VMRUN,
	 * as the MOV would have flushed (SDM Vol 3 4.10.4.1).
	 */
	if (((s.cr0 ^ save->cr0) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP)) ||
	    ((s.cr4 ^ save->cr4) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE | X86_CR4_PCIDE |
				     X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_LA57 | X86_CR4_PKE)))
		svm->last_cpu = -1;
	save->cr0 = s.cr0;
	save->cr4 = s.cr4;
	svm_write_efer(svm, s.efer);
	svm_complete_insn(vcpu, save->rip + len);
	return MINIHV_RESUME_GUEST;
}

static int svm_handle_ioio(struct minihv_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 info = vmcb->control.exit_info_1;
	struct minihv_io_exit io = {
		.port = info >> SVM_IOIO_PORT_SHIFT,
		.size = (info >> SVM_IOIO_SZ_SHIFT) & 7,
		.in = info & SVM_IOIO_TYPE_IN,
		.string = info & SVM_IOIO_STR,
		.rep = info & SVM_IOIO_REP,
		/* One-hot A16/A32/A64 in bits 9:7: 1, 2, 4 -> 2, 4, 8 bytes. */
		.addr_size = ((info >> SVM_IOIO_ASZ_SHIFT) & 7) * 2,
		.seg = SEG_DS,
		/* IOIO always saves the next RIP in exit info 2 (15.10.2). */
		.next_rip = vmcb->control.exit_info_2,
	};
	bool done = false;
	int r = minihv_handle_io(vcpu, &io, &done);

	if (r >= 0 && done)
		svm_complete_insn(vcpu, io.next_rip);
	return r;
}

static int svm_handle_npf(struct minihv_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 error = vmcb->control.exit_info_1;
	u64 why[3] = { SVM_EXIT_NPF, error, vmcb->control.exit_info_2 };
	bool resume;
	int r, len;

	r = minihv_mmu_map_gpa(vcpu, why[2], error & SVM_NPF_WRITE, error & SVM_NPF_FETCH);
	if (r)
		return r;	/* mapped (1), or -errno */
	/* Bit 33: the fault hit the guest's page-table walk (APM 15.25.6). */
	len = minihv_mmio_fault(vcpu, why, error & BIT_ULL(33), error & SVM_NPF_WRITE,
				&resume);
	if (len)
		svm_complete_insn(vcpu, vmcb->save.rip + len);
	return resume;
}

/*
 * MOV from DR (exit codes 20h-27h) or to DR (30h-37h), APM Vol 2 15.9
 * "Instruction Intercepts".  The DR is the exit code's; the GPR is decoded
 * from the instruction (no decode assists, 15.8.1, on QEMU).  DR6 and DR7
 * live in the save area while the guest runs (VMRUN loads them, #VMEXIT
 * stores them): vcpu->dbg's copies are refreshed around the rules.
 */
static int svm_handle_dr_access(struct minihv_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 code = vmcb->control.exit_code;
	struct minihv_cpu_mode m;
	int len, gpr, vector;
	bool rex_r;

	svm_cpu_mode(vcpu, &m);
	len = minihv_decode_mov_dr(vcpu, &m, &gpr, &rex_r);
	if (!len)
		return MINIHV_EXIT_TO_USER;
	vcpu->dbg.dr6 = vmcb->save.dr6;
	vector = minihv_mov_dr(vcpu, (code & 7) | (rex_r ? 8 : 0), gpr,
			       code >= SVM_EXIT_WRITE_DR0);
	vmcb->save.dr6 = vcpu->dbg.dr6;
	vmcb->save.dr7 = minihv_hw_dr7(vcpu);
	if (vector)
		return minihv_complete_insn(vcpu, vector);
	svm_complete_insn(vcpu, vmcb->save.rip + len);
	return MINIHV_RESUME_GUEST;
}

/*
 * An intercepted #DB or #AC (SVM_INTERCEPTED_EXCEPTIONS), delivered to the
 * guest as the CPU would have: the intercept fires instead of the
 * delivery (APM 15.12), and EVENTINJ delivers it at the next VMRUN.
 *
 * An exception whose delivery this one interrupted (EXITINTINFO, put
 * back in EVENTINJ by minihv_handle_exit()) is replaced: #DB and #AC are
 * both benign, so the CPU handles the pair serially and the guest sees
 * the second (SDM Vol 3 "Interrupt 8—Double Fault Exception (#DF)",
 * table "Interrupt and Exception Classes").  That is how the recursive
 * case goes on: one exit per delivery, never a loop inside the CPU.
 *
 * #AC is a fault (error code 0, EXITINFO1): the frame's RFLAGS has RF
 * set as the CPU sets it for faults (SDM Vol 3 "Instruction-Breakpoint
 * Exception Condition"), which an injection does not do by itself.
 *
 * #DB: the CPU has written DR6 in the save area before the intercept (what
 * KVM's db_interception() relies on too), VMRUN loads it and the injection
 * leaves DR6 alone (APM 15.20), so the handler reads the same B0-B3/BS/BD
 * bits as on bare metal; trap-like #DBs have RIP past the instruction
 * already.  DR7.GD is cleared, as delivering #DB does, so the handler may
 * use the debug registers (SDM Vol 3 "Debug Control Register (DR7)").
 * ICEBP (INT1) does not hit this intercept (APM 15.12): svm_handle_icebp()
 * has it.
 */
static int svm_handle_reflect(struct minihv_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u8 vector = vmcb->control.exit_code - SVM_EXIT_EXCP_BASE;

	if (vector == X86_TRAP_DB) {
		/* GD lives in the guest's copy of DR7 (debugreg.c), not in the VMCB's. */
		vcpu->dbg.dr7 &= ~SVM_DR7_GD;
		vmcb->save.dr7 &= ~SVM_DR7_GD;
		minihv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	} else {
		vmcb->save.rflags |= X86_EFLAGS_RF;
		minihv_queue_exception(vcpu, vector, true, vmcb->control.exit_info_1);
	}
	return MINIHV_RESUME_GUEST;
}

/*
 * ICEBP (INT1) is intercepted, as Xen does, because the #DB it raises is
 * ambiguous once its delivery exits (a nested fault on the guest's stack):
 * EXITINTINFO says #DB, an exception, as for a single-step trap, but RIP is
 * on the ICEBP, not past it, so that the event can be neither injected
 * again (the handler would return to the ICEBP) nor left to run again (a
 * trap's instruction is done).  Taken here, RIP moves past it and the #DB
 * is injected; should that delivery exit, RIP is past the ICEBP already and
 * minihv_handle_exit() injects it again as it is.  INT1 leaves DR6 alone,
 * and delivering it clears TF, so no single-step trap follows (SDM Vol 3
 * "Single-Step Exception Condition").  (QEMU 7.2's TCG raises #UD for ICEBP
 * without checking this intercept: Documentation/testing.rst.)
 */
static int svm_handle_icebp(struct minihv_vcpu *vcpu)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	u64 tf = vmcb->save.rflags & X86_EFLAGS_TF;
	int r;

	vmcb->save.rflags &= ~tf;
	r = svm_skip_instruction(vcpu);
	vmcb->save.rflags |= tf;
	if (r == MINIHV_RESUME_GUEST)
		minihv_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	return r;
}

/*
 * Exit handlers, indexed by exit code (APM appendix C), for
 * minihv_handle_exit(): each returns enum minihv_exit_ret or -errno.
 */
static const struct minihv_exit_handler svm_exit_handlers[] = {
	[SVM_EXIT_WRITE_CR0]	= { svm_handle_cr_write, MINIHV_STAT_CR_ACCESS },
	[SVM_EXIT_WRITE_CR4]	= { svm_handle_cr_write, MINIHV_STAT_CR_ACCESS },
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7] = { svm_handle_dr_access, MINIHV_STAT_OTHER },
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7] = { svm_handle_dr_access, MINIHV_STAT_OTHER },
	[SVM_EXIT_EXCP_DB]	= { svm_handle_reflect, MINIHV_STAT_EXCEPTION },
	[SVM_EXIT_EXCP_AC]	= { svm_handle_reflect, MINIHV_STAT_EXCEPTION },
	[SVM_EXIT_EXCP_MC]	= { minihv_handle_host_event, MINIHV_STAT_EXCEPTION },
	[SVM_EXIT_INTR]		= { minihv_handle_host_event, MINIHV_STAT_HOST_EVENT },
	[SVM_EXIT_NMI]		= { minihv_handle_host_event, MINIHV_STAT_HOST_EVENT },
	[SVM_EXIT_SMI]		= { minihv_handle_host_event, MINIHV_STAT_HOST_EVENT },
	[SVM_EXIT_CPUID]	= { minihv_handle_cpuid, MINIHV_STAT_CPUID },
	[SVM_EXIT_INVD]		= { minihv_handle_skip, MINIHV_STAT_OTHER },
	[SVM_EXIT_VINTR]	= { svm_handle_vintr, MINIHV_STAT_WINDOW },
	[SVM_EXIT_IRET]		= { svm_handle_iret, MINIHV_STAT_WINDOW },
	[SVM_EXIT_RDPMC]	= { minihv_handle_rdpmc, MINIHV_STAT_OTHER },
	[SVM_EXIT_HLT]		= { minihv_handle_hlt, MINIHV_STAT_HLT },
	[SVM_EXIT_INVLPGA]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_IOIO]		= { svm_handle_ioio, MINIHV_STAT_IO },
	[SVM_EXIT_MSR]		= { svm_handle_msr, MINIHV_STAT_MSR },
	[SVM_EXIT_SHUTDOWN]	= { minihv_handle_shutdown, MINIHV_STAT_SHUTDOWN },
	[SVM_EXIT_VMRUN]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_VMMCALL]	= { minihv_handle_hypercall, MINIHV_STAT_HYPERCALL },
	[SVM_EXIT_VMLOAD]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_VMSAVE]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_STGI]		= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_CLGI]		= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_SKINIT]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_RDTSCP]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_ICEBP]	= { svm_handle_icebp, MINIHV_STAT_EXCEPTION },
	[SVM_EXIT_WBINVD]	= { minihv_handle_skip, MINIHV_STAT_OTHER },
	[SVM_EXIT_MONITOR]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_MWAIT]	= { minihv_handle_ud, MINIHV_STAT_REFUSED },
	[SVM_EXIT_XSETBV]	= { minihv_handle_xsetbv, MINIHV_STAT_OTHER },
	[SVM_EXIT_NPF]		= { svm_handle_npf, MINIHV_STAT_PAGE_FAULT },
};

static const struct minihv_exit_table svm_exit_table = {
	svm_exit_handlers, ARRAY_SIZE(svm_exit_handlers)
};

/* QEMU stores VMEXIT_INVALID as a 32-bit -1. */
static bool svm_exit_invalid(u64 code)
{
	return code == SVM_EXIT_INVALID || code == (u32)SVM_EXIT_INVALID;
}

static void svm_fail_entry(struct minihv_vcpu *vcpu, const char *why, u64 field,
			   u64 value)
{
	minihv_fail_entry(vcpu, MINIHV_SVM_EXIT_INVALID, to_svm(vcpu)->last_cpu,
			  "VMEXIT_INVALID (APM Vol 2 15.5.1)", why, field, value);
}

/*
 * An INT n, INT3 or INTO whose delivery an exit interrupted is not
 * delivered again but executed again.  The exit left RIP on the
 * instruction (the state is the one from before the delivery, APM Vol 2
 * 15.7.2), and an injection would push that RIP as the return address:
 * EVENTINJ pushes the RIP after the instruction only for TYPE 4 with
 * NRIP save and the right NEXT_RIP (APM 15.20), which a nested fault in
 * the middle of delivery does not give.  Executing the instruction again
 * raises the same event with the right frame, once.
 */
static bool svm_event_is_soft(u32 event)
{
	u32 type = event & SVM_EVTINJ_TYPE_MASK;
	u8 vector = event & SVM_EVTINJ_VEC_MASK;

	if (!(event & SVM_EVTINJ_VALID))
		return false;
	return type == SVM_EVTINJ_TYPE_SOFT ||
	       (type == SVM_EVTINJ_TYPE_EXEPT && (vector == X86_TRAP_BP || vector == X86_TRAP_OF));
}

static void svm_read_exit(struct minihv_vcpu *vcpu, struct minihv_exit *e)
{
	struct vmcb *vmcb = to_svm(vcpu)->vmcb;
	struct vmcb_control_area *c = &vmcb->control;

	e->reason = c->exit_code;
	e->code = c->exit_code;
	e->failed_entry = svm_exit_invalid(c->exit_code);
	e->info1 = c->exit_info_1;
	e->info2 = c->exit_info_2;
	e->rip = vmcb->save.rip;
	/* EXITINTINFO has EVENTINJ's layout (APM Vol 2 15.7.2). */
	e->vectoring = c->exit_int_info;
	e->vectoring_error = c->exit_int_info >> 32;
	if (svm_event_is_soft(e->vectoring))
		e->vectoring = 0;
}

static int svm_handle_failed_entry(struct minihv_vcpu *vcpu)
{
	u64 field = 0, value = 0;
	const char *why = svm_check_guest_state(to_svm(vcpu)->vmcb, &field, &value);

	svm_fail_entry(vcpu, why, field, value);
	/* Refused as it stands: checked again before the next VMRUN. */
	to_svm(vcpu)->state_checked = false;
	return MINIHV_EXIT_TO_USER;
}

/*
 * TSC_AUX while the guest runs.  RDTSCP exits, but RDPID has no intercept
 * (the VMCB has none; APM Vol 3 "RDPID") and reads TSC_AUX natively,
 * where Linux keeps the CPU's number and node (its vDSO's getcpu): the
 * guest would learn where it runs, and it must not.  So the guest runs
 * with 0, what its TSC_AUX (never written: RDTSCP and RDPID are hidden by
 * cpuid.c, the MSR is not emulated) holds after RESET, and the host's
 * value comes back before GIF is set again, so that no host code, NMI
 * and #MC handlers included, ever runs with the guest's: the vDSO's
 * getcpu() and any RDPID in the kernel read it (the paranoid entry uses
 * LSL instead since 5.13, so the order is stricter than it must be).
 * With RDTSCP too, not only RDPID: QEMU 7.2's TCG takes no #VMEXIT on
 * the RDTSCP intercept, and a CPU that ignores it must not leak either.
 * Without either feature the guest has no way to read it.
 */
static u64 svm_load_guest_tsc_aux(void)
{
	u64 host = 0;

	if (boot_cpu_has(X86_FEATURE_RDPID) || boot_cpu_has(X86_FEATURE_RDTSCP)) {
		rdmsrl(MSR_TSC_AUX, host);
		if (host)
			wrmsrl(MSR_TSC_AUX, 0);
	}
	return host;
}

static void svm_load_host_tsc_aux(u64 host)
{
	if (host)
		wrmsrl(MSR_TSC_AUX, host);
}

static int svm_vcpu_run(struct minihv_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;
	int cpu, fault;
	bool guest_drs;
	u64 gen;
	u64 xcr0, tsc_aux;
	u32 pkru;

	vmcb->save.efer = svm_vmcb_efer(svm);
	if (!svm->state_checked) {
		u64 field, value;
		const char *why = svm_check_guest_state(vmcb, &field, &value);

		if (why) {
			svm_fail_entry(vcpu, why, field, value);
			return 0;
		}
		svm->state_checked = true;
	}
	vmcb->save.rax = vcpu->regs[VCPU_REGS_RAX];
	vmcb->save.rsp = vcpu->regs[VCPU_REGS_RSP];
	/* With V_INTR_MASKING the guest's CR8 is V_TPR; the APIC's TPR is its source. */
	if (vcpu->lapic)
		vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
					minihv_get_cr8(vcpu);

	preempt_disable();
	local_irq_disable();
	if (minihv_exit_request(vcpu)) {
		local_irq_enable();
		preempt_enable();
		return 1;
	}
	/*
	 * Test-only: a rule broken through debugfs (vm.c), for VMRUN to
	 * refuse.  Here, past the last abort: an entry abandoned above is
	 * redone with the VMCB's EFER rebuilt, and a break consumed before
	 * it was lost (the guest ran; entry_checks_test saw it once).
	 */
	if (unlikely(atomic_read(&vcpu->vm->break_entry))) {
		int rule = atomic_xchg(&vcpu->vm->break_entry, 0);

		if (rule)
			svm_break_entry(vmcb, rule - 1);
	}
	cpu = smp_processor_id();
	/* After minihv_exit_request() published the CPU (minihv_flush_remote_tlbs()). */
	gen = atomic64_read(&vcpu->vm->tlb_generation);

	/*
	 * Flush this vCPU's TLB tag when it arrives on a CPU (the tag may hold
	 * stale entries of a vCPU that had the ASID before, or of its own
	 * last stay there) and after a nested mapping was removed.
	 */
	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	if (cpu != svm->last_cpu || gen != svm->tlb_generation || svm->asid_shared) {
		vmcb->control.tlb_ctl = svm_caps.flush_by_asid ?
			TLB_CONTROL_FLUSH_ASID : TLB_CONTROL_FLUSH_ALL_ASID;
		svm->last_cpu = cpu;
		svm->tlb_generation = gen;
	}
	/* No VMCB field may be taken from the CPU's cache (15.15). */
	vmcb->control.clean = 0;
	svm_entry_state_save(&svm->entry, &vmcb->save);

	minihv_guest_fpu_load();
	/*
	 * No exception-table entries on CLGI, VMSAVE, VMLOAD, STGI: each
	 * #UDs once EFER.SVME is off (APM Vol 3, each instruction's
	 * exceptions), which the reboot does by IPI (main.c), but all run
	 * between the check of minihv_rebooting above and
	 * local_irq_enable() below, where no IPI is taken.  This CPU
	 * already took the reboot's and the check saw the flag, or it will
	 * take it after STGI.  VMRUN keeps its entry (vmenter.S) for
	 * another reason.
	 */
	asm volatile("clgi" ::: "memory");
	/* With GIF clear: not even an NMI runs with the guest's XCR0. */
	xcr0 = minihv_load_guest_xcr0(vcpu, vmcb->save.cr4 & X86_CR4_OSXSAVE);
	pkru = minihv_host_pkru();
	tsc_aux = svm_load_guest_tsc_aux();
	guest_drs = minihv_load_guest_debugregs(vcpu);
	minihv_spec_enter(vcpu);
	fault = __svm_vcpu_run(svm->vmcb_pa, vcpu->regs,
			       page_to_phys(per_cpu(svm_host_vmsave, cpu)));
	minihv_spec_exit();
	/*
	 * VMRUN loaded the guest's DR6, whose B0-B3/BS the guest sets at
	 * will; #VMEXIT leaves it.  Linux's next #DB would read those bits as
	 * its own (hw_breakpoint_restore() resets DR6 only with breakpoints).
	 */
	if (vmcb->save.dr6 != DR6_RESERVED)
		set_debugreg(DR6_RESERVED, 6);
	minihv_load_host_debugregs(guest_drs);
	svm_load_host_tsc_aux(tsc_aux);
	minihv_restore_host_pkru(pkru);
	minihv_load_host_xcr0(vcpu, xcr0);
	asm volatile("stgi" ::: "memory");
	/*
	 * An intercepted #MC is not delivered to the host by #VMEXIT: call
	 * its handler now, still on this CPU with interrupts off, as KVM's
	 * svm_handle_mce() does (APM Vol 2 15.12; minihv_machine_check()).
	 */
	if (unlikely(vmcb->control.exit_code == SVM_EXIT_EXCP_MC))
		minihv_machine_check();
	local_irq_enable();
	preempt_enable();
	vcpu->exits++;

	if (fault) {
		pr_err_ratelimited("VMRUN faulted on CPU %d\n", cpu);
		return -EIO;
	}
	/* Refused: the save area holds what the CPU wrote, not the guest (svm.h). */
	if (svm_exit_invalid(vmcb->control.exit_code))
		svm_entry_state_restore(&vmcb->save, &svm->entry);
	vcpu->regs[VCPU_REGS_RAX] = vmcb->save.rax;
	vcpu->regs[VCPU_REGS_RSP] = vmcb->save.rsp;
	if (vcpu->lapic && (vmcb->control.int_ctl & V_TPR_MASK) != minihv_get_cr8(vcpu))
		minihv_set_cr8(vcpu, vmcb->control.int_ctl & V_TPR_MASK);
	return minihv_handle_exit(vcpu);
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
	.get_features = svm_get_features,
	.vm_init = svm_vm_init,
	.vm_destroy = svm_vm_destroy,
	.vcpu_create = svm_vcpu_create,
	.vcpu_free = svm_vcpu_free,
	.vcpu_run = svm_vcpu_run,
	.read_exit = svm_read_exit,
	.handle_failed_entry = svm_handle_failed_entry,
	.exit_table = &svm_exit_table,
	.skip_instruction = svm_skip_instruction,
	.queue_event = svm_queue_event,
	.get_cpu_mode = svm_cpu_mode,
	.cr4_bits = svm_cr4_bits,
	.get_regs = svm_get_regs,
	.set_regs = svm_set_regs,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.event_allowed = svm_event_allowed,
	.inject_event = svm_inject_event,
	.set_event_windows = svm_set_event_windows,
	.reset_events = svm_reset_events,
	.entry_rules = svm_entry_rules,
	/* NPT entries are ordinary page-table entries, user bit set (15.25.5). */
	.tdp_nonleaf = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED,
	.tdp_leaf_ro = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED,
	.tdp_leaf_rw = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
		       _PAGE_DIRTY,
};

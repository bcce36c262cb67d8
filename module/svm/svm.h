/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the AMD-V backend's files share: svm.c runs guests, svm_check.c
 * explains why VMRUN refused one.
 */
#ifndef MINIHV_SVM_H
#define MINIHV_SVM_H

#include <linux/types.h>
#include <asm/processor-flags.h>

#include "vmcb.h"

/* CR4 bits minihv lets a guest start with (APM Vol 2 3.1.3). */
#define SVM_GUEST_CR4_BITS	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | \
				 X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | \
				 X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | \
				 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
				 X86_CR4_UMIP | X86_CR4_FSGSBASE | \
				 X86_CR4_PCIDE | X86_CR4_SMEP | X86_CR4_SMAP)

/*
 * The guest state a #VMEXIT writes to the save area (APM Vol 2 15.6), as
 * minihv handed it to VMRUN.  After a VMEXIT_INVALID those fields hold
 * whatever the CPU wrote, and it is not what was refused: Bochs 2.7
 * writes the host's own state there (its RIP, RSP, CR3, GDT and IDT
 * bases: kernel addresses that GET_REGS and GET_SREGS would hand to
 * userspace).  So they are kept at each VMRUN and put back before the
 * refusal is explained: a refused entry loses nothing and shows nothing
 * of the host.
 */
struct svm_entry_state {
	struct vmcb_seg es, cs, ss, ds, gdtr, idtr;
	u8 cpl;
	u64 efer, cr4, cr3, cr0, dr7, dr6, rflags, rip, rsp, rax, cr2;
};

static inline void svm_entry_state_save(struct svm_entry_state *e,
					const struct vmcb_save_area *s)
{
	e->es = s->es;
	e->cs = s->cs;
	e->ss = s->ss;
	e->ds = s->ds;
	e->gdtr = s->gdtr;
	e->idtr = s->idtr;
	e->cpl = s->cpl;
	e->efer = s->efer;
	e->cr4 = s->cr4;
	e->cr3 = s->cr3;
	e->cr0 = s->cr0;
	e->dr7 = s->dr7;
	e->dr6 = s->dr6;
	e->rflags = s->rflags;
	e->rip = s->rip;
	e->rsp = s->rsp;
	e->rax = s->rax;
	e->cr2 = s->cr2;
}

static inline void svm_entry_state_restore(struct vmcb_save_area *s,
					   const struct svm_entry_state *e)
{
	s->es = e->es;
	s->cs = e->cs;
	s->ss = e->ss;
	s->ds = e->ds;
	s->gdtr = e->gdtr;
	s->idtr = e->idtr;
	s->cpl = e->cpl;
	s->efer = e->efer;
	s->cr4 = e->cr4;
	s->cr3 = e->cr3;
	s->cr0 = e->cr0;
	s->dr7 = e->dr7;
	s->dr6 = e->dr6;
	s->rflags = e->rflags;
	s->rip = e->rip;
	s->rsp = e->rsp;
	s->rax = e->rax;
	s->cr2 = e->cr2;
}

const char *svm_check_guest_state(const struct vmcb *vmcb, u64 *field, u64 *value);
extern const char *const svm_entry_rules[];
void svm_break_entry(struct vmcb *vmcb, unsigned int rule);

#endif /* MINIHV_SVM_H */

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

#define SVM_ENTRY_STATE(x) \
	x(es) x(cs) x(ss) x(ds) x(gdtr) x(idtr) x(cpl) x(efer) x(cr4) \
	x(cr3) x(cr0) x(dr7) x(dr6) x(rflags) x(rip) x(rsp) x(rax) x(cr2)

static inline void svm_entry_state_save(struct svm_entry_state *e,
					const struct vmcb_save_area *s)
{
#define SVM_SAVE_FIELD(f) e->f = s->f;
	SVM_ENTRY_STATE(SVM_SAVE_FIELD)
#undef SVM_SAVE_FIELD
}

static inline void svm_entry_state_restore(struct vmcb_save_area *s,
					   const struct svm_entry_state *e)
{
#define SVM_RESTORE_FIELD(f) s->f = e->f;
	SVM_ENTRY_STATE(SVM_RESTORE_FIELD)
#undef SVM_RESTORE_FIELD
}

const char *svm_check_guest_state(const struct vmcb *vmcb, u64 *field, u64 *value);
extern const char *const svm_entry_rules[];
void svm_break_entry(struct vmcb *vmcb, unsigned int rule);

#endif /* MINIHV_SVM_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AMD-V world switch.
 *
 * int __svm_vcpu_run(u64 vmcb_pa, unsigned long *regs, u64 host_save_pa)
 *   %rdi  physical address of the guest's VMCB
 *   %rsi  the guest GPRs, indexed by VCPU_REGS_* (../regs.h)
 *   %rdx  physical address of this CPU's host VMSAVE page
 *
 * Called with GIF clear (CLGI) and interrupts off; returns 0 after a
 * #VMEXIT, whatever its exit code (an invalid guest state is a #VMEXIT
 * with code VMEXIT_INVALID), and 1 if VMRUN itself faulted.
 *
 * VMRUN executes with RFLAGS.IF set: with V_INTR_MASKING the host's IF as
 * VMRUN saw it decides whether a physical interrupt may interrupt the
 * guest (APM Vol 2 15.21.1), and it must, or a spinning guest would never
 * give the CPU back.  GIF is still clear, so nothing is delivered to the
 * host between STI and VMRUN, nor between #VMEXIT and CLI.
 *
 * VMRUN switches RAX, RSP, RIP, RFLAGS, the control registers, EFER and
 * the segment registers' visible parts (APM Vol 2 15.5); VMLOAD/VMSAVE
 * switch what VMRUN leaves alone: FS, GS, TR and LDTR with their hidden
 * parts, KernelGSbase, STAR, LSTAR, CSTAR, SFMASK and the SYSENTER MSRs
 * (15.5.2).  The other GPRs are switched here.  The host's callee-saved
 * registers are pushed; its caller-saved ones are the compiler's business.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#include "../gprs.S"

#define SAVED_VMCB_PA	0
#define SAVED_REGS	8
#define SAVED_HOST_PA	16

.section .text, "ax"

SYM_FUNC_START(__svm_vcpu_run)
	PUSH_CALLEE_SAVED

	/* The arguments, for after VMRUN, when every GPR holds guest data. */
	push	%rdx
	push	%rsi
	push	%rdi

	/* Host FS/GS/TR/LDTR and syscall MSRs out, the guest's in. */
	mov	%rdx, %rax
	vmsave	%rax
	mov	%rdi, %rax
	vmload	%rax

	/* Guest GPRs; RAX and RSP come from the VMCB, RSI last. */
	LOAD_GUEST_GPRS %rsi
	mov	REG_OFF(VCPU_REGS_RDI)(%rsi), %rdi
	mov	REG_OFF(VCPU_REGS_RSI)(%rsi), %rsi

	/*
	 * VERW, where the host clears CPU buffers for guests (AMD's TSA:
	 * spec.c), the last memory access before VMRUN.
	 */
	VM_CLEAR_CPU_BUFFERS

	/* RAX: the VMCB.  RSP is switched by hardware. */
	sti
1:	vmrun	%rax
2:	cli
	/* #VMEXIT: the host's RSP is back; RAX is the only free register. */
	mov	SAVED_REGS(%rsp), %rax
	SAVE_GUEST_GPRS %rax

	xor	%ebx, %ebx		/* returns 0: a #VMEXIT */

3:	/* Guest FS/GS/TR/LDTR and syscall MSRs out, the host's back in. */
	mov	SAVED_VMCB_PA(%rsp), %rax
	vmsave	%rax
	mov	SAVED_HOST_PA(%rsp), %rax
	vmload	%rax

	/*
	 * Before the first RET not matched by a CALL since #VMEXIT, and
	 * before interrupts are back: the return stack buffer filled with
	 * host entries (RSB_VMEXIT), then the retbleed/SRSO untraining or
	 * IBPB the host chose (spec.c).  They take RAX, RCX, RDX; the
	 * return value is in EBX.
	 */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT
#ifdef UNTRAIN_RET_VM
	UNTRAIN_RET_VM
#else
	UNTRAIN_RET
#endif

	CLEAR_GUEST_SCRATCH_GPRS

	mov	%ebx, %eax
	add	$24, %rsp
	POP_CALLEE_SAVED
	RET

4:	/* VMRUN faulted (#GP: an unusable VMCB address); nothing switched. */
	cli
	mov	$1, %ebx
	jmp	3b

	_ASM_EXTABLE(1b, 4b)
SYM_FUNC_END(__svm_vcpu_run)

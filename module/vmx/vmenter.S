/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Intel VT-x world switch.
 *
 * int __vmx_vcpu_run(unsigned long *regs, bool launched)
 *   %rdi  the guest GPRs, indexed by VCPU_REGS_* (../regs.h)
 *   %esi  0 for the first entry on this VMCS (VMLAUNCH), 1 after (VMRESUME)
 *
 * Called with the vCPU's VMCS current and interrupts off.  Returns 0 after
 * a VM exit (including a VM-entry failure, which is a VM exit with bit 31
 * of the exit reason set, SDM Vol 3 "VM-Entry Failures During or After
 * Loading Guest State") and 1 on VM-fail, when the instruction itself
 * failed and VM_INSTRUCTION_ERROR says why ("VM-Instruction Error
 * Numbers").
 * Returns 2 if the VMWRITE of HOST_RSP, VMLAUNCH or VMRESUME faulted
 * (#UD: VMX was turned off, see vmx_insn_fault()); nothing was entered.
 *
 * A VM exit loads the host's RSP and RIP from the VMCS ("Loading Host
 * State"): HOST_RSP is written here, just before entry, pointing at the
 * saved regs pointer; HOST_RIP is set once, to __vmx_vmexit.  RSP and RIP
 * of the guest live in the VMCS; the other GPRs are switched here.  The
 * host's callee-saved registers are pushed; its caller-saved ones are the
 * compiler's business.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "../gprs.S"

#define VMCS_HOST_RSP	0x6c14

.section .text, "ax"

SYM_FUNC_START(__vmx_vcpu_run)
	PUSH_CALLEE_SAVED

	/* The regs pointer, found at (%rsp) again after the VM exit. */
	push	%rdi

	mov	$VMCS_HOST_RSP, %eax
1:	vmwrite	%rsp, %rax
	jna	.Lvmfail_early

	/*
	 * CF for the launch/resume choice, set before the GPRs change; CF,
	 * because the VERW below writes ZF.
	 */
	bt	$0, %esi

	LOAD_GUEST_GPRS %rdi
	mov	REG_OFF(VCPU_REGS_RAX)(%rdi), %rax
	mov	REG_OFF(VCPU_REGS_RSI)(%rdi), %rsi
	mov	REG_OFF(VCPU_REGS_RDI)(%rdi), %rdi	/* last: it was the pointer */

	/*
	 * VERW, where the host clears CPU buffers for guests (MDS, TAA, MMIO
	 * stale data: spec.c): the last memory access before entry.
	 */
	VM_CLEAR_CPU_BUFFERS

	/*
	 * A VM exit continues at __vmx_vmexit (HOST_RIP), not after these
	 * instructions: objtool is told to carry the stack state over.
	 */
	UNWIND_HINT_SAVE
	jc	.Lresume
2:	vmlaunch
	jmp	.Lvmfail
.Lresume:
3:	vmresume
.Lvmfail:
	/* VM-fail: still in the host, RSP unchanged, GPRs hold guest values. */
	mov	$1, %eax
	jmp	.Lout

SYM_INNER_LABEL_ALIGN(__vmx_vmexit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	ENDBR
	/* VM exit: RSP = HOST_RSP, so (%rsp) is the regs pointer. */
	push	%rax
	mov	8(%rsp), %rax
	SAVE_GUEST_GPRS %rax
	pop	REG_OFF(VCPU_REGS_RAX)(%rax)
	xor	%eax, %eax		/* returns 0: a VM exit */

.Lout:
	/*
	 * Before the first RET not matched by a CALL since the exit: the
	 * return stack buffer filled with host entries (RSB_VMEXIT, _LITE on
	 * eIBRS parts), and the branch history cleared (BHI), each as the
	 * host kernel chose (spec.c).  RCX is free; clear_bhb_loop also
	 * takes RAX, so the return value waits in EBX.
	 */
	mov	%eax, %ebx
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RSB_VMEXIT, \
			   X86_FEATURE_RSB_VMEXIT_LITE
	CLEAR_BRANCH_HISTORY_VMEXIT
	mov	%ebx, %eax

	CLEAR_GUEST_SCRATCH_GPRS

	add	$8, %rsp		/* the regs pointer */
	POP_CALLEE_SAVED
	RET

.Lvmfail_early:
	mov	$1, %eax
	jmp	.Lout

	/* A fault: RSP as at the instruction, GPRs the guest's or the host's. */
.Lfault:
	mov	$2, %eax
	jmp	.Lout

	_ASM_EXTABLE(1b, .Lfault)
	_ASM_EXTABLE(2b, .Lfault)
	_ASM_EXTABLE(3b, .Lfault)
SYM_FUNC_END(__vmx_vcpu_run)

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's general-purpose registers in and out of vcpu->regs[], for
 * both vendors' vmenter.S, which include this file; it assembles to
 * nothing by itself and is not in Kbuild.
 */
#include "regs.h"

/*
 * The host's callee-saved registers, which the guest's values overwrite,
 * around the world switch, with a frame pointer for the unwinder.
 */
.macro PUSH_CALLEE_SAVED
	push	%rbp
	mov	%rsp, %rbp
	push	%r15
	push	%r14
	push	%r13
	push	%r12
	push	%rbx
.endm

.macro POP_CALLEE_SAVED
	pop	%rbx
	pop	%r12
	pop	%r13
	pop	%r14
	pop	%r15
	pop	%rbp
.endm

/*
 * Before the entry: the guest's RCX, RDX, RBX, RBP and R8-R15 from the
 * array at \regs; RAX, RSI and RDI are the caller's to load, since one
 * of them is \regs, and RSP is switched by hardware.
 */
.macro LOAD_GUEST_GPRS regs:req
	mov	REG_OFF(VCPU_REGS_RCX)(\regs), %rcx
	mov	REG_OFF(VCPU_REGS_RDX)(\regs), %rdx
	mov	REG_OFF(VCPU_REGS_RBX)(\regs), %rbx
	mov	REG_OFF(VCPU_REGS_RBP)(\regs), %rbp
	mov	REG_OFF(VCPU_REGS_R8)(\regs), %r8
	mov	REG_OFF(VCPU_REGS_R9)(\regs), %r9
	mov	REG_OFF(VCPU_REGS_R10)(\regs), %r10
	mov	REG_OFF(VCPU_REGS_R11)(\regs), %r11
	mov	REG_OFF(VCPU_REGS_R12)(\regs), %r12
	mov	REG_OFF(VCPU_REGS_R13)(\regs), %r13
	mov	REG_OFF(VCPU_REGS_R14)(\regs), %r14
	mov	REG_OFF(VCPU_REGS_R15)(\regs), %r15
.endm

/* After the exit: every guest GPR but RAX (\regs) and RSP into the array. */
.macro SAVE_GUEST_GPRS regs:req
	mov	%rcx, REG_OFF(VCPU_REGS_RCX)(\regs)
	mov	%rdx, REG_OFF(VCPU_REGS_RDX)(\regs)
	mov	%rbx, REG_OFF(VCPU_REGS_RBX)(\regs)
	mov	%rbp, REG_OFF(VCPU_REGS_RBP)(\regs)
	mov	%rsi, REG_OFF(VCPU_REGS_RSI)(\regs)
	mov	%rdi, REG_OFF(VCPU_REGS_RDI)(\regs)
	mov	%r8, REG_OFF(VCPU_REGS_R8)(\regs)
	mov	%r9, REG_OFF(VCPU_REGS_R9)(\regs)
	mov	%r10, REG_OFF(VCPU_REGS_R10)(\regs)
	mov	%r11, REG_OFF(VCPU_REGS_R11)(\regs)
	mov	%r12, REG_OFF(VCPU_REGS_R12)(\regs)
	mov	%r13, REG_OFF(VCPU_REGS_R13)(\regs)
	mov	%r14, REG_OFF(VCPU_REGS_R14)(\regs)
	mov	%r15, REG_OFF(VCPU_REGS_R15)(\regs)
.endm

/* Leave no guest value in a register the C caller does not restore. */
.macro CLEAR_GUEST_SCRATCH_GPRS
	xor	%ecx, %ecx
	xor	%edx, %edx
	xor	%esi, %esi
	xor	%edi, %edi
	xor	%r8d, %r8d
	xor	%r9d, %r9d
	xor	%r10d, %r10d
	xor	%r11d, %r11d
.endm

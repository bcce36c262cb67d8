/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest exception entry points for vectors 0-31: each pushes a zero error
 * code where the CPU pushes none (SDM Vol 3 table 6-1), then its vector,
 * and calls guest_exception_handler(vector, error, rip, rflags) with the
 * frame's RIP and RFLAGS, which reports the exception to the host as
 * UCALL_EXCEPTION.
 */
	.text
	.code64

.macro STUB vector, has_error
	.align 16
stub_\vector:
	.if !\has_error
	push	$0
	.endif
	push	$\vector
	jmp	common
.endm

common:
	mov	(%rsp), %rdi
	mov	8(%rsp), %rsi
	mov	16(%rsp), %rdx		/* the frame's RIP */
	mov	32(%rsp), %rcx		/* the frame's RFLAGS */
	and	$-16, %rsp
	call	guest_exception_handler
1:	hlt
	jmp	1b

	STUB 0, 0
	STUB 1, 0
	STUB 2, 0
	STUB 3, 0
	STUB 4, 0
	STUB 5, 0
	STUB 6, 0
	STUB 7, 0
	STUB 8, 1
	STUB 9, 0
	STUB 10, 1
	STUB 11, 1
	STUB 12, 1
	STUB 13, 1
	STUB 14, 1
	STUB 15, 0
	STUB 16, 0
	STUB 17, 1
	STUB 18, 0
	STUB 19, 0
	STUB 20, 0
	STUB 21, 1
	STUB 22, 0
	STUB 23, 0
	STUB 24, 0
	STUB 25, 0
	STUB 26, 0
	STUB 27, 0
	STUB 28, 0
	STUB 29, 1
	STUB 30, 1
	STUB 31, 0

	.section .rodata
	.globl	guest_exception_stubs
	.align	8
guest_exception_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad	stub_\v
	.endr

	.section .note.GNU-stack, "", @progbits

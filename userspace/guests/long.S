/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 64-bit long-mode guest (minihv-run -m long: identity-mapped RAM),
 * loaded at 1 MiB: prints a line on COM1, reads a value back from its own
 * stack to check memory, then reports 21 through the exit port 0xF4, so
 * minihv-run exits with status (21 << 1) | 1 = 43.
 */
	.code64
	.globl	_start
_start:
	lea	msg(%rip), %rsi
	mov	$0x3f8, %dx
1:	lodsb
	test	%al, %al
	jz	2f
	out	%al, %dx
	jmp	1b
2:	movabs	$0x1122334455667788, %rax
	push	%rax
	pop	%rbx
	cmp	%rax, %rbx
	jne	3f
	mov	$21, %al
	out	%al, $0xf4
3:	ud2

msg:	.asciz	"Hello from 64-bit long mode!\n"

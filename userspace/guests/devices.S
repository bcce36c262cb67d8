/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 32-bit protected mode: checks what minihv-run emulates for a PC with no
 * devices.  COM1's line status reads "transmitter empty" (60h), an unknown
 * port reads all ones, MMIO outside RAM reads all ones and ignores writes.
 * Reports through port F4h: 0 if all held (status 1), else the number of
 * the first check that failed (status 2n + 1).
 */
	.code32
	.globl	_start
_start:
	mov	$1, %bl
	mov	$0x3fd, %dx
	in	%dx, %al
	cmp	$0x60, %al
	jne	fail

	inc	%bl
	mov	$0x1234, %dx
	in	%dx, %al
	cmp	$0xff, %al
	jne	fail

	inc	%bl
	movl	$0x12345678, 0xfec00000		/* ignored */
	mov	0xfec00000, %eax
	cmp	$0xffffffff, %eax
	jne	fail

	inc	%bl
	movzwl	0xfec00010, %ecx		/* MOVZX from MMIO */
	cmp	$0xffff, %ecx
	jne	fail

	xor	%bl, %bl
fail:
	mov	%bl, %al
	out	%al, $0xf4
	hlt

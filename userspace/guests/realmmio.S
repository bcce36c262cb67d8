/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real mode with 1 MiB of RAM (minihv-run -M 1M): FFFF:0010 is physical
 * 100000h, the first byte above RAM, so these accesses are MMIO decoded
 * with 16-bit addressing and a segment override.  Reports like devices.S.
 */
	.code16
	.globl	_start
_start:
	cli
	mov	$1, %bl
	mov	$0xffff, %ax
	mov	%ax, %es
	movw	$0x1234, %es:0x20		/* C7 /0 iw: ignored */
	mov	%es:0x10, %al			/* 8A: reads all ones */
	cmp	$0xff, %al
	jne	fail
	inc	%bl
	mov	%es:0x20, %cx			/* 8B, 16-bit */
	cmp	$0xffff, %cx
	jne	fail
	xor	%bl, %bl
fail:
	mov	%bl, %al
	out	%al, $0xf4
	hlt

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * 16-bit protected mode.  Started by minihv-run -m protected (flat 32-bit,
 * loaded at 1 MiB), it loads its own GDT, far-jumps into a 16-bit code
 * segment based at 1 MiB, prints its line with a 16-bit REP OUTSB, reads
 * MMIO through a segment based at FEC00000h with 16-bit addressing, and
 * reports through port F4h: 0 if the read gave all ones (status 1).
 */
	.code32
	.globl	_start
_start:
	cli
	lgdt	gdt_desc
	ljmp	$0x08, $(code16 - _start)

	.code16
code16:
	mov	$0x10, %ax		/* 16-bit data, base 1 MiB */
	mov	%ax, %ds
	mov	%ax, %ss
	mov	$0xfff0, %sp
	mov	$0x18, %ax		/* 16-bit data, base FEC00000h */
	mov	%ax, %es
	mov	$(msg - _start), %si
	mov	$msg_len, %cx
	mov	$0xe9, %dx
	cld
	rep outsb
	mov	$1, %bl
	mov	%es:0x10, %ax		/* MMIO, 16-bit operand and address */
	cmp	$0xffff, %ax
	jne	1f
	xor	%bl, %bl
1:	mov	%bl, %al
	out	%al, $0xf4
	hlt

	.align	8
gdt:
	.quad	0
	.quad	0x00009a100000ffff	/* 08h: 16-bit code, base 100000h */
	.quad	0x000092100000ffff	/* 10h: 16-bit data, base 100000h */
	.quad	0xfe0092c00000ffff	/* 18h: 16-bit data, base FEC00000h */
gdt_desc:
	.word	4 * 8 - 1
	.long	gdt

msg:	.ascii	"Hello from 16-bit protected mode!\n"
	msg_len = . - msg

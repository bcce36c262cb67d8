/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest-side virtio fuzzer's entry (virtio-fuzz.c has the fuzzer):
 * a Multiboot kernel, so minihv-run gives it the PC platform, its devices
 * and a command line.  Multiboot Specification 0.6.96, section 3.2:
 * protected mode, paging off, CS and DS flat, IF clear.  The fuzzer keeps
 * those segments and takes no interrupts, so it needs no GDT or IDT of
 * its own.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	3		/* page-aligned modules, memory info */

	.globl	_start
	.text
	.code32
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

_start:
	mov	$stack_top, %esp
	push	%ebx				/* the Multiboot information */
	push	%eax				/* the loader's magic */
	call	vf_start
1:	cli
	hlt
	jmp	1b

	.bss
	.balign	16
	.skip	65536
stack_top:

	.section .note.GNU-stack, "", @progbits

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real mode: an empty interrupt table, then INT3.  The breakpoint cannot
 * be delivered (#GP), nor can the #GP, nor the double fault: a triple
 * fault, which minihv-run reports as a crash (status 4).
 */
	.code16
	.globl	_start
_start:
	cli
	lidt	empty_idt
	int3
	hlt
empty_idt:
	.word	0
	.long	0

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Real mode, spins forever: only --timeout stops it.  Interrupts are on
 * (no device will ever raise one for it): Bochs 2.7 lets a physical
 * interrupt stop an SVM guest only while the guest's own IF is set.
 */
	.code16
	.globl	_start
_start:
	sti
1:	jmp	1b

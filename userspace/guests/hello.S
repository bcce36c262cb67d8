/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The greeting: a real-mode guest (minihv-run's default mode, loaded at
 * 0000:7C00 like a boot sector) that prints one line on COM1, polling the
 * line status register as a driver for a real 16550 UART would, and halts
 * with interrupts off, so minihv-run exits with status 0.
 */
	.code16
	.globl	_start
_start:
	cli
	mov	$msg, %si
next:
	movb	(%si), %bl
	test	%bl, %bl
	jz	done
	mov	$0x3fd, %dx		/* COM1 line status */
wait:
	in	%dx, %al
	test	$0x20, %al		/* transmitter holding register empty */
	jz	wait
	mov	$0x3f8, %dx		/* COM1 data */
	mov	%bl, %al
	out	%al, %dx
	inc	%si
	jmp	next
done:
	hlt

msg:	.asciz	"Hello from a minihv guest!\n"

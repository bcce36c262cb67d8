/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A 32-bit protected-mode guest (flat segments, paging off), loaded at
 * 1 MiB: prints its line to the 0xE9 debug port with one REP OUTSB, then
 * halts.  Built twice: as a flat binary (minihv-run -m protected) and as
 * an ELF32 executable (protected.elf, mode taken from the ELF class).
 */
	.code32
	.globl	_start
_start:
	cli
	mov	$msg, %esi
	mov	$msg_len, %ecx
	mov	$0xe9, %dx
	cld
	rep outsb
	hlt

msg:	.ascii	"Hello from 32-bit protected mode!\n"
	msg_len = . - msg

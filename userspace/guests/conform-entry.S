/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The conformance kernel's assembly (conform.c has the checks): the
 * Multiboot header and entry, the GDT, the interrupt stubs, and the two
 * pieces of 16-bit code that run below 1 MiB: the real-mode part of the
 * PIT and 8259 check (copied to RM_BASE), and the application
 * processors' startup code (copied to AP_BASE, SIPI vector AP_BASE >> 12).
 * Multiboot Specification 0.6.96, section 3.2: protected mode, paging
 * off, CS and DS flat, GDTR and IDTR the kernel's to set, IF clear.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	3		/* page-aligned modules, memory info */

#define RM_BASE		0x8000
#define AP_BASE		0x9000
#define RM(x)		((x) - rm_tramp + RM_BASE)
#define AP(x)		((x) - ap_tramp + AP_BASE)

#define SEL_CODE32	0x08
#define SEL_DATA32	0x10
#define SEL_CODE16	0x18
#define SEL_DATA16	0x20

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIT_CH0		0x40
#define PIT_MODE	0x43
#define PM_TMR		0x608
#define PM_TMR_HZ	3579545

	.globl	_start, rm_run, rm_base, ap_base, ap_tramp, ap_tramp_end
	.globl	rm_result, idt_load, trap_stubs
	.set	rm_base, RM_BASE
	.set	ap_base, AP_BASE
	.set	rm_result, RM(rm_res)		/* the copy below 1 MiB */

	.text
	.code32
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

_start:
	mov	$stack_top, %esp
	lgdt	gdt_desc
	ljmp	$SEL_CODE32, $1f
1:	mov	$SEL_DATA32, %cx
	mov	%cx, %ds
	mov	%cx, %es
	mov	%cx, %ss
	mov	%cx, %fs
	mov	%cx, %gs
	push	%ebx				/* the Multiboot information */
	push	%eax				/* the loader's magic */
	call	conform_main
2:	cli
	hlt
	jmp	2b

idt_load:
	lidt	idt_desc
	ret

/*
 * Interrupt stubs: the frame conform.c's trap() sees is the PUSHA block,
 * the vector, the error code (0 where the CPU pushes none: SDM Vol 3
 * 6.13), then EIP, CS and EFLAGS.
 */
.macro	STUB vec, err
stub_\vec:
	.if	\err == 0
	push	$0
	.endif
	push	$\vec
	jmp	trap_common
.endm

/* Vectors 8, 10-14 and 17 push an error code (SDM Vol 3 Table 6-1). */
.irp	v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,0x40,0x41,0x42,0x43,0xff
	STUB	\v, 0
.endr
.irp	v, 8,10,11,12,13,14,17
	STUB	\v, 1
.endr

trap_common:
	pushal
	push	%esp
	call	trap
	add	$4, %esp
	popal
	add	$8, %esp			/* vector, error code */
	iret

	.section .rodata
/* (vector, stub) pairs, ended by vector -1. */
trap_stubs:
.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,0x40,0x41,0x42,0x43,0xff
	.long	\v, stub_\v
.endr
	.long	-1, 0

	.text
/*
 * void rm_run(void): the real-mode part (SDM Vol 3 9.9.2, "Switching Back
 * to Real-Address Mode"): through a 16-bit protected-mode segment with
 * 64 KiB limits, clear CR0.PE, far jump to real mode; back with LGDT, PE
 * and a far jump (9.9.1).  Results land in rm_result (below).
 */
rm_run:
	pushal
	mov	%esp, saved_esp
	cld
	mov	$rm_tramp, %esi
	mov	$RM_BASE, %edi
	mov	$(rm_tramp_end - rm_tramp), %ecx
	rep movsb
	ljmp	$SEL_CODE16, $RM(rm_16)

rm_tramp:
	.code16
rm_16:
	mov	$SEL_DATA16, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%cr0, %eax
	and	$~1, %eax
	mov	%eax, %cr0
	ljmp	$0, $RM(rm_real)
rm_real:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	lidt	RM(rm_ivt_desc)
	mov	%cr0, %eax
	mov	%eax, RM(rm_cr0)

	/* IVT entry 08h (IRQ0 at the BIOS's base): 0000:rm_irq0. */
	movw	$RM(rm_irq0), 0x20
	movw	$0, 0x22

	/*
	 * The master 8259 as a PC BIOS sets it up (8259A datasheet,
	 * "Initialization Command Words"): ICW1 edge, cascade, ICW4 needed;
	 * ICW2 base 08h; ICW3 a slave on IR2; ICW4 8086 mode, normal EOI.
	 * ICW1 clears the mask; OCW1 then unmasks IRQ0 alone.
	 */
	mov	$0x11, %al
	out	%al, $PIC1_CMD
	mov	$0x08, %al
	out	%al, $PIC1_DATA
	mov	$0x04, %al
	out	%al, $PIC1_DATA
	mov	$0x01, %al
	out	%al, $PIC1_DATA
	mov	$0xfe, %al
	out	%al, $PIC1_DATA

	/* PIT channel 0, LSB then MSB, mode 2 (rate generator), binary. */
	mov	$0x34, %al
	out	%al, $PIT_MODE
	mov	RM(rm_count), %ax
	out	%al, $PIT_CH0
	mov	%ah, %al
	out	%al, $PIT_CH0

	/*
	 * The first tick: STI and poll the count, bounded by the PM timer, so
	 * an IRQ0 that never comes is a failure, not a hang.
	 */
	call	pm_now
	mov	%eax, %esi
	sti
1:	cmpl	$0, RM(rm_ticks)
	jne	2f
	call	pm_since_esi
	cmp	$PM_TMR_HZ, %eax
	jb	1b
2:	cli
	cmpl	$0, RM(rm_ticks)
	je	7f				/* no IRQ0: on to the latch */
	call	pm_now
	mov	%eax, RM(rm_pm_first)

	/*
	 * Four more, each with STI; HLT: a request pending in the 8259 (IRR)
	 * and none in service (ISR: the handler's EOI) must wake the HLT.
	 * Waiting for that first keeps a broken EOI from hanging here.
	 */
	mov	$4, %cx
3:	call	pm_now
	mov	%eax, %esi
4:	mov	$0x0b, %al			/* OCW3: read ISR */
	out	%al, $PIC1_CMD
	in	$PIC1_CMD, %al
	test	$1, %al
	jnz	5f
	mov	$0x0a, %al			/* OCW3: read IRR */
	out	%al, $PIC1_CMD
	in	$PIC1_CMD, %al
	test	$1, %al
	jnz	6f
5:	call	pm_since_esi
	cmp	$PM_TMR_HZ, %eax
	jb	4b
	incl	RM(rm_stuck)
	jmp	7f
6:	sti
	hlt
	cli
	loop	3b
7:	call	pm_now
	mov	%eax, RM(rm_pm_last)
	mov	$0x0b, %al
	out	%al, $PIC1_CMD
	in	$PIC1_CMD, %al
	mov	%al, RM(rm_isr)

	/* Counter latch (control word 00h), twice, about 1 ms apart. */
	xor	%al, %al
	out	%al, $PIT_MODE
	in	$PIT_CH0, %al
	mov	%al, RM(rm_latch1)
	in	$PIT_CH0, %al
	mov	%al, RM(rm_latch1) + 1
	call	pm_now
	mov	%eax, %esi
8:	call	pm_since_esi
	cmp	$(PM_TMR_HZ / 1000), %eax
	jb	8b
	xor	%al, %al
	out	%al, $PIT_MODE
	in	$PIT_CH0, %al
	mov	%al, RM(rm_latch2)
	in	$PIT_CH0, %al
	mov	%al, RM(rm_latch2) + 1

	/*
	 * Read-back (8254 datasheet): D7:6 = 11b, D5 = 1 (no count latch),
	 * D4 = 0 (latch the status), D1 = counter 0: E2h.
	 */
	mov	$0xe2, %al
	out	%al, $PIT_MODE
	in	$PIT_CH0, %al
	mov	%al, RM(rm_status)

rm_done:
	mov	$0xff, %al			/* mask every line again */
	out	%al, $PIC1_DATA
	mov	$0x30, %al			/* channel 0 mode 0, no count: stopped */
	out	%al, $PIT_MODE
	lgdtl	RM(rm_gdt_desc)
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $rm_back

/* IRQ0: count, non-specific EOI to the master (OCW2 20h). */
rm_irq0:
	incl	%cs:RM(rm_ticks)
	push	%ax
	mov	$0x20, %al
	out	%al, $PIC1_CMD
	pop	%ax
	iret

/* The PM timer (24 bits) in EAX. */
pm_now:
	push	%dx
	mov	$PM_TMR, %dx
	in	%dx, %eax
	and	$0xffffff, %eax
	pop	%dx
	ret

/* PM timer ticks since ESI, modulo 2^24, in EAX. */
pm_since_esi:
	call	pm_now
	sub	%esi, %eax
	and	$0xffffff, %eax
	ret

	.balign	4
rm_ivt_desc:	.word	0x3ff
		.long	0
rm_gdt_desc:	.word	gdt_end - gdt - 1
		.long	gdt
	.balign	4
rm_res:			/* struct rm_result in conform.c: keep the order */
rm_count:	.long	11932		/* 10 ms at 1.193182 MHz */
rm_cr0:		.long	0
rm_ticks:	.long	0
rm_stuck:	.long	0
rm_pm_first:	.long	0
rm_pm_last:	.long	0
rm_latch1:	.long	0
rm_latch2:	.long	0
rm_status:	.long	0
rm_isr:		.long	0
rm_tramp_end:
	.code32

rm_back:
	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	saved_esp, %esp
	lidt	idt_desc
	popal
	ret

/*
 * An application processor starts here in real mode at AP_BASE (CS =
 * AP_BASE >> 4, IP = 0: SDM Vol 3 10.4.4.1), after INIT and a SIPI with
 * vector AP_BASE >> 12; it goes to protected mode and into ap_main() on
 * a stack of its own, chosen by its local APIC ID (below 16).
 */
ap_tramp:
	.code16
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	lgdtl	AP(ap_gdt_desc)
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$SEL_CODE32, $ap_pm
	.balign	4
ap_gdt_desc:	.word	gdt_end - gdt - 1
		.long	gdt
ap_tramp_end:
	.code32

ap_pm:
	mov	$SEL_DATA32, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	0xfee00020, %eax		/* local APIC ID register */
	shr	$24, %eax
	cmp	$15, %eax
	ja	2f
	lea	1(%eax), %ecx
	shl	$10, %ecx
	lea	ap_stacks(%ecx), %esp
	push	%eax
	call	ap_main
2:	cli
	hlt
	jmp	2b

	.data
	.balign	8
/* Flat 32-bit code and data, and 16-bit ones with 64 KiB limits at 0. */
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 08h: code, 32-bit, 4 GiB */
	.quad	0x00cf92000000ffff		/* 10h: data, 4 GiB */
	.quad	0x00009a000000ffff		/* 18h: code, 16-bit, 64 KiB */
	.quad	0x000092000000ffff		/* 20h: data, 64 KiB */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
idt_desc:
	.word	256 * 8 - 1
	.long	idt
saved_esp:
	.long	0

	.bss
	.balign	4096
	.globl	idt
idt:	.space	256 * 8
	.space	16384
stack_top:
ap_stacks:
	.space	16 * 1024
	.section .note.GNU-stack, "", @progbits

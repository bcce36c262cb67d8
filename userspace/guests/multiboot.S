/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A Multiboot (v1) kernel: checks what the loader handed over and prints
 * its command line and the first line of module 0.  Built twice: as an
 * ELF32 executable (multiboot.elf, loaded by its program headers) and as
 * a flat binary whose header carries the load addresses (multiboot.bin,
 * header flag 16, the "a.out kludge").
 *
 * Checks, in order (a failure reports its number n through port F4h, exit
 * status 2n + 1): EAX holds the loader magic 2BADB002h; the info
 * structure at EBX has mem_lower/mem_upper, a command line and a memory
 * map (flags bits 0, 2, 6); mem_lower is 639 KiB (a PC's, below its
 * extended BIOS data area); mem_upper is not 0; the first memory-map entry
 * is RAM at 0; there is exactly one module (flag 3), and it is not empty.
 * Then it prints
 *   multiboot: cmdline 'CMDLINE'
 *   multiboot: module 'FIRST LINE'
 * and, where QEMU's fw_cfg answers (the PC platform, minihv-run's
 * default for a Multiboot kernel), the CPU count and RAM size it gives:
 *   multiboot: fw_cfg N CPUs, M MiB
 * Then it powers the PC off through ACPI (PM1a control, SLP_TYP 5 and
 * SLP_EN) and halts: a halt with interrupts off would wait forever on
 * the platform, and ends the run on the bare machine, where the ACPI
 * port is no device's (status 0 either way).  Multiboot Specification
 * 0.6.96, section 3; QEMU's docs/specs/fw_cfg.rst.
 */
#define MB_MAGIC	0x1badb002
#define MB_LOADER_MAGIC	0x2badb002
#define MB_FLAGS_ALIGN	(1 << 0)
#define MB_FLAGS_MEM	(1 << 1)
#define MB_FLAGS_ADDR	(1 << 16)
#ifdef MB_AOUT_KLUDGE
#define MB_FLAGS	(MB_FLAGS_ALIGN | MB_FLAGS_MEM | MB_FLAGS_ADDR)
#else
#define MB_FLAGS	(MB_FLAGS_ALIGN | MB_FLAGS_MEM)
#endif

	.code32
	.globl	_start
	.text
header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
#ifdef MB_AOUT_KLUDGE
	.long	header		/* header_addr */
	.long	header		/* load_addr: the file starts with the header */
	.long	0		/* load_end_addr: the whole file */
	.long	bss_end		/* bss_end_addr */
	.long	_start		/* entry_addr */
#endif

_start:
	mov	$1, %cl
	cmp	$MB_LOADER_MAGIC, %eax
	jne	fail
	mov	%ebx, %ebp			/* the info structure */

	inc	%cl
	mov	0(%ebp), %eax			/* flags */
	and	$0x45, %eax
	cmp	$0x45, %eax
	jne	fail

	inc	%cl
	cmpl	$639, 4(%ebp)			/* mem_lower */
	jne	fail

	inc	%cl
	cmpl	$0, 8(%ebp)			/* mem_upper */
	je	fail

	inc	%cl
	mov	48(%ebp), %esi			/* mmap_addr: size, base, length, type */
	cmpl	$0, 4(%esi)
	jne	fail
	cmpl	$0, 8(%esi)
	jne	fail
	cmpl	$1, 20(%esi)
	jne	fail

	inc	%cl
	testl	$8, 0(%ebp)			/* flags: modules */
	jz	fail
	cmpl	$1, 20(%ebp)			/* mods_count */
	jne	fail
	mov	24(%ebp), %edi			/* mods_addr: start, end, string */
	mov	0(%edi), %esi
	cmp	4(%edi), %esi
	jae	fail

	mov	$msg_cmdline, %esi
	call	puts
	mov	16(%ebp), %esi			/* cmdline */
	call	puts
	mov	$msg_module, %esi
	call	puts
	mov	0(%edi), %esi			/* up to a newline or the end */
	mov	4(%edi), %ebx
1:	cmp	%ebx, %esi
	jae	2f
	movb	(%esi), %al
	cmp	$'\n', %al
	je	2f
	out	%al, $0xe9
	inc	%esi
	jmp	1b
2:	mov	$msg_end, %esi
	call	puts

	mov	$0x00, %ax			/* FW_CFG_SIGNATURE */
	call	fw_cfg_select
	call	fw_cfg_read32
	cmp	$0x554d4551, %eax		/* "QEMU" */
	jne	3f
	mov	$msg_fw_cfg, %esi
	call	puts
	mov	$0x05, %ax			/* FW_CFG_NB_CPUS, 16 bits */
	call	fw_cfg_select
	call	fw_cfg_read32
	movzwl	%ax, %eax
	call	putdec
	mov	$msg_cpus, %esi
	call	puts
	mov	$0x03, %ax			/* FW_CFG_RAM_SIZE, 64 bits */
	call	fw_cfg_select
	call	fw_cfg_read32
	shr	$20, %eax
	call	putdec
	mov	$msg_mib, %esi
	call	puts

3:	mov	$0x604, %dx			/* ACPI PM1a control */
	mov	$((5 << 10) | (1 << 13)), %ax	/* SLP_TYP S5, SLP_EN */
	out	%ax, %dx
	hlt

fail:
	mov	%cl, %al
	out	%al, $0xf4
	hlt

/* Selects fw_cfg item AX (16-bit write to the selector port 510h). */
fw_cfg_select:
	mov	$0x510, %dx
	out	%ax, %dx
	ret

/* The next four bytes of the selected item, little-endian, in EAX. */
fw_cfg_read32:
	mov	$0x511, %dx
	mov	$4, %ecx
1:	inb	%dx, %al
	ror	$8, %eax
	loop	1b
	ret

/* Prints EAX in decimal to port E9h. */
putdec:
	mov	$10, %ecx
	xor	%ebx, %ebx			/* digits pushed */
1:	xor	%edx, %edx
	div	%ecx
	push	%edx
	inc	%ebx
	test	%eax, %eax
	jnz	1b
2:	pop	%eax
	add	$'0', %al
	out	%al, $0xe9
	dec	%ebx
	jnz	2b
	ret

/* Prints the NUL-terminated string at ESI to port E9h. */
puts:
	lodsb
	test	%al, %al
	jz	1f
	out	%al, $0xe9
	jmp	puts
1:	ret

msg_cmdline:	.asciz	"multiboot: cmdline '"
msg_module:	.asciz	"'\nmultiboot: module '"
msg_end:	.asciz	"'\n"
msg_fw_cfg:	.asciz	"multiboot: fw_cfg "
msg_cpus:	.asciz	" CPUs, "
msg_mib:	.asciz	" MiB\n"

	.bss
	.space	4096
bss_end:

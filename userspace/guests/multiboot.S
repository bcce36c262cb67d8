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
 * and halts (status 0).  Multiboot Specification 0.6.96, section 3.
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
	hlt

fail:
	mov	%cl, %al
	out	%al, $0xf4
	hlt

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

	.bss
	.space	4096
bss_end:

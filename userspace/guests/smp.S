/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest that runs on every vCPU minihv-run gives it (--cpus N, 32-bit
 * protected mode, loaded at 1 MiB).  vCPU 0 asks the runner how many
 * vCPUs there are (IN F1h), points the start address at ap_entry (OUT
 * F0h) and starts vCPUs 1 .. N-1 (OUT F1h).  Every vCPU then prints its
 * line, adds 1000 to a shared counter one LOCK INC at a time and reports
 * itself done; the others halt.  vCPU 0 waits for all N, checks the
 * counter and leaves through port F4h with N (exit status 2N + 1), or
 * with 0 if the count is wrong.
 */
	.code32
	.globl	_start
_start:
	cli
	xor	%eax, %eax
	inb	$0xf1, %al		/* N */
	mov	%eax, ncpus
	mov	$ap_entry, %eax
	outl	%eax, $0xf0
	mov	$1, %ecx
1:	cmp	ncpus, %ecx
	jae	2f
	mov	%cl, %al
	outb	%al, $0xf1		/* start vCPU ECX */
	inc	%ecx
	jmp	1b
2:	xor	%eax, %eax		/* vCPU 0 */

ap_entry:				/* EAX = this vCPU's number */
	cli
	mov	%eax, %ebx
	mov	$hello, %esi
	call	puts
	mov	%ebx, %eax
	add	$'0', %al
	cmp	$'9', %al
	jbe	3f
	add	$('a' - '9' - 1), %al
3:	outb	%al, $0xe9
	mov	$'\n', %al
	outb	%al, $0xe9

	mov	$1000, %ecx
4:	lock incl counter
	loop	4b
	lock incl done

	test	%ebx, %ebx
	jz	5f
	hlt				/* vCPUs 1 .. N-1 are finished */

	/*
	 * vCPU 0 waits for the others.  Its CPUID exits give the host CPU
	 * back now and then, so that with more vCPUs than host CPUs the
	 * others get to run even where a guest spinning with IF = 0 masks
	 * the host's interrupts (Bochs 2.7; real CPUs exit on them anyway).
	 */
5:	mov	done, %eax
	cmp	ncpus, %eax
	je	6f
	pause
	xor	%eax, %eax
	cpuid
	jmp	5b
6:	imul	$1000, %eax
	cmp	counter, %eax
	jne	7f
	mov	$all, %esi
	call	puts
	mov	ncpus, %eax
	outb	%al, $0xf4
7:	xor	%eax, %eax
	outb	%al, $0xf4

/* Prints the NUL-terminated string at ESI to port E9h. */
puts:
	lodsb
	test	%al, %al
	jz	8f
	outb	%al, $0xe9
	jmp	puts
8:	ret

hello:	.asciz	"Hello from vCPU "
all:	.asciz	"All vCPUs counted.\n"

	.balign	4
ncpus:	.long	0
counter: .long	0
done:	.long	0

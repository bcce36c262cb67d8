/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minihv-bench's guest, 64-bit code that minihv-bench copies to guest
 * address BENCH_LOAD and starts in long mode (boot.c's layout).  It is
 * position independent, and bench_compute is also called natively.
 *
 * bench_entry: RDI = what to measure (BENCH_* in minihv-bench.c), RDX = 1
 * on VT-x (VMCALL) or 2 on AMD-V (VMMCALL).  The exit loops run N exits,
 * N = 1, 2, 4, ... until the loop lasts at least 2^26 TSC ticks, then
 * store ticks and N at RESULT and halt.  BENCH_COMPUTE runs
 * bench_compute(RSI) between two RDTSCs and stores the ticks.
 *
 * bench_first: the first instruction is an OUT, for "create to first
 * exit"; then HLT.
 */
#define RESULT		0x1000
#define BENCH_PORT	0x4321
#define BENCH_MMIO	0x10000000	/* 256 MiB: outside RAM, mapped by boot.c */
#define MIN_TICKS	(1 << 26)
#define MEMREAD_BASE	0x200000	/* minihv-bench.c: 2 MiB, a 2 MiB boundary */
#define MEMREAD_MASK	0x0ffffff8	/* 256 MiB, 8-byte words */

	.text
	.code64
	.globl	bench_guest_start, bench_guest_end, bench_entry, bench_first
	.globl	bench_compute, bench_memread

bench_guest_start:
bench_first:
	mov	$BENCH_PORT, %dx
	out	%al, %dx
	hlt

/* One timed loop of N = R12 exits with \op; R14 = ticks. */
.macro	TIMED op
	mov	$1, %r12
1:	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r13
	mov	%r12, %r8
2:	\op
	dec	%r8
	jnz	2b
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	sub	%r13, %rdx
	mov	%rdx, %r14
	cmp	$MIN_TICKS, %r14
	jae	done
	shl	$1, %r12
	jmp	1b
.endm

.macro	OP_CPUID
	xor	%eax, %eax
	cpuid
.endm
.macro	OP_VMCALL
	xor	%eax, %eax
	vmcall
.endm
.macro	OP_VMMCALL
	xor	%eax, %eax
	vmmcall
.endm
.macro	OP_PIO
	mov	$BENCH_PORT, %dx
	out	%al, %dx
.endm
.macro	OP_MMIO
	movl	%eax, (%r9)
.endm

bench_entry:
	mov	$BENCH_MMIO, %r9
	cmp	$1, %rdi
	je	cpuid_loop
	cmp	$2, %rdi
	je	hypercall
	cmp	$3, %rdi
	je	pio_loop
	cmp	$4, %rdi
	je	mmio_loop
	cmp	$8, %rdi
	je	compute
	cmp	$9, %rdi
	je	memread
	ud2

cpuid_loop:
	TIMED	OP_CPUID
hypercall:
	cmp	$1, %rdx
	jne	vmmcall_loop
vmcall_loop:
	TIMED	OP_VMCALL
vmmcall_loop:
	TIMED	OP_VMMCALL
pio_loop:
	TIMED	OP_PIO
mmio_loop:
	TIMED	OP_MMIO

compute:
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r13
	mov	%rsi, %rdi
	call	bench_compute
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	sub	%r13, %rdx
	mov	%rdx, %r14
	mov	$1, %r12
	jmp	done

memread:
	mov	%rsi, %r15
	mov	$MEMREAD_BASE, %rdi
	mov	$MEMREAD_MASK, %rsi
	mov	%r15, %rdx
	call	bench_memread		/* every page faulted in and mapped */
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	mov	%rdx, %r13
	mov	$MEMREAD_BASE, %rdi
	mov	$MEMREAD_MASK, %rsi
	mov	%r15, %rdx
	call	bench_memread
	rdtsc
	shl	$32, %rdx
	or	%rax, %rdx
	sub	%r13, %rdx
	mov	%rdx, %r14
	mov	$1, %r12
done:
	mov	%r14, RESULT
	mov	%r12, RESULT + 8
	hlt
	jmp	done

/*
 * uint64_t bench_compute(uint64_t n): n rounds of xorshift64, registers
 * only, so that it runs the same natively and in the guest.
 */
bench_compute:
	mov	$88172645463325252, %rax
1:	mov	%rax, %rdx
	shl	$13, %rdx
	xor	%rdx, %rax
	mov	%rax, %rdx
	shr	$7, %rdx
	xor	%rdx, %rax
	mov	%rax, %rdx
	shl	$17, %rdx
	xor	%rdx, %rax
	dec	%rdi
	jnz	1b
	ret
/*
 * uint64_t bench_memread(base, mask, n): n loads of 8 bytes at base + (x &
 * mask), x a xorshift64 sequence: random reads over mask + 8 bytes, each
 * likely a TLB miss, so what is measured is the page walk, nested or not.
 * Returns the sum of what it read (so that no load can be left out).
 */
bench_memread:
	mov	$88172645463325252, %rax
	xor	%r8, %r8
1:	mov	%rax, %rcx
	shl	$13, %rcx
	xor	%rcx, %rax
	mov	%rax, %rcx
	shr	$7, %rcx
	xor	%rcx, %rax
	mov	%rax, %rcx
	shl	$17, %rcx
	xor	%rcx, %rax
	mov	%rax, %rcx
	and	%rsi, %rcx
	add	(%rdi,%rcx), %r8
	dec	%rdx
	jnz	1b
	mov	%r8, %rax
	ret
bench_guest_end:

	.section .note.GNU-stack, "", @progbits

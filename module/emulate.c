// SPDX-License-Identifier: GPL-2.0
/*
 * minihv instruction decoding, for exits the hardware does not decode:
 * an MMIO access faults as a nested page fault that says only which
 * guest-physical address was touched, and CPUs without decode assists
 * (APM Vol 2 15.8) or NRIP save (15.7.1) do not give the instruction's
 * operands or length.  So minihv reads the instruction bytes at CS:RIP
 * through the guest's page tables and decodes the forms compilers use for
 * device registers: MOV to and from memory (88, 89, 8A, 8B, C6, C7, A0-A3),
 * MOVZX/MOVSX loads (0F B6, B7, BE, BF), and the arithmetic and logic
 * group with a memory operand (00-3B, 80-83; TEST: 84, 85, F6 /0, F7 /0;
 * XCHG: 86, 87), which is a read exit, then the write of the result
 * (minihv_complete_alu(); why these: Documentation/design.rst, "AMD-V").
 * Anything else becomes an internal-error exit carrying the bytes.
 *
 * Encodings: SDM Vol 2 chapter 2 (prefixes, ModRM, SIB) and the opcode map
 * in appendix A.
 */
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "minihv.h"

#define X86_MAX_INSN_LEN	15

struct insn_prefixes {
	int len;		/* bytes of prefixes, REX included */
	bool opsize;		/* 66 */
	bool addrsize;		/* 67 */
	bool rex;		/* any REX (40-4F), long mode only */
	bool rex_w, rex_r, rex_b;
};

static void decode_prefixes(const u8 *insn, int len, bool long_mode,
			    struct insn_prefixes *p)
{
	memset(p, 0, sizeof(*p));
	for (; p->len < len; p->len++) {
		u8 b = insn[p->len];

		/* REX (64-bit mode only); the last one before the opcode counts. */
		if (long_mode && (b & 0xf0) == 0x40) {
			p->rex = true;
			p->rex_w = b & 8;
			p->rex_r = b & 4;
			p->rex_b = b & 1;
			continue;
		}
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0x26: case 0x2e: case 0x36: case 0x3e:	/* ES CS SS DS */
		case 0x64: case 0x65:				/* FS GS */
		case 0xf0: case 0xf2: case 0xf3:		/* LOCK REP */
			break;
		default:
			return;		/* the opcode */
		}
		/* A legacy prefix after a REX cancels the REX (SDM 2.2.1). */
		p->rex = false;
		p->rex_w = false;
		p->rex_r = false;
		p->rex_b = false;
	}
}

int minihv_insn_length(const u8 *insn, int len, bool long_mode)
{
	struct insn_prefixes p;

	decode_prefixes(insn, len, long_mode, &p);
	if (p.len >= len)
		return -EINVAL;
	if (insn[p.len] != 0x0f)
		return p.len + 1;
	if (p.len + 1 < len && insn[p.len + 1] == 0x01)
		return p.len + 3;	/* 0F 01 xx: VMMCALL, XSETBV, MONITOR... */
	return p.len + 2;
}

int minihv_fetch_insn(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
		      u8 *insn, int max)
{
	u64 linear = m->cs_base + m->rip;
	int first;

	if (!m->long_mode)
		linear = (u32)linear;
	/* The instruction may end on the next page, which may not exist. */
	first = min_t(int, max, PAGE_SIZE - offset_in_page(linear));
	if (minihv_read_guest_virt(vcpu->vm, &m->paging, linear, insn, first))
		return -EFAULT;
	if (first < max &&
	    !minihv_read_guest_virt(vcpu->vm, &m->paging, linear + first,
				    insn + first, max - first))
		first = max;
	return first;
}

/* Bytes taken by ModRM and what follows it (SIB, displacement). */
static int modrm_length(const u8 *p, int left, int addr_size)
{
	u8 modrm, mod, rm;
	int n = 1;

	if (left < 1)
		return -EINVAL;
	modrm = p[0];
	mod = modrm >> 6;
	rm = modrm & 7;
	if (mod == 3)
		return 1;
	if (addr_size == 2) {
		if (mod == 1)
			return 2;
		if (mod == 2 || rm == 6)
			return 3;
		return 1;
	}
	if (rm == 4) {
		if (left < 2)
			return -EINVAL;
		n++;			/* SIB */
		if (mod == 0 && (p[1] & 7) == 5)
			return n + 4;	/* no base: disp32 */
	}
	if (mod == 1)
		return n + 1;
	if (mod == 2 || (mod == 0 && rm == 5))
		return n + 4;		/* disp32 (RIP-relative in 64-bit) */
	return n;
}

/*
 * The instruction's bytes to userspace: the @fetched bytes of the
 * X86_MAX_INSN_LEN buffer, never more (data[] has room for 16, and a
 * decoded length may pass 15 when the bytes changed after the CPU ran
 * them: a stack byte would go to the VMM).
 */
static void emulation_failure(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			      u64 gpa, const u8 *insn, int fetched)
{
	u64 data[4] = { gpa, m->rip, 0, 0 };

	memcpy(&data[2], insn, clamp(fetched, 0, X86_MAX_INSN_LEN));
	minihv_internal_error(vcpu, MINIHV_INTERNAL_ERROR_EMULATION, 4, data);
}

/* ---- arithmetic on a device register ---- */

#define RFLAGS_ARITH	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

/*
 * @op (MINIHV_ALU_*) on @size-byte @dst and @src, as the CPU computes it:
 * returns the result and replaces the arithmetic flags in *@rflags (SDM
 * Vol 1 3.4.3.1 and each instruction's "Flags Affected"; AF is left 0
 * where the SDM calls it undefined, as CPUs do for the logic ones).
 */
u64 minihv_alu(int op, int size, u64 dst, u64 src, u64 *rflags)
{
	u64 mask = size == 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
	u64 sign = 1ULL << (size * 8 - 1);
	u64 cin = *rflags & X86_EFLAGS_CF ? 1 : 0, res, f = 0;

	dst &= mask;
	src &= mask;
	switch (op) {
	case MINIHV_ALU_ADD:
		cin = 0;
		fallthrough;
	case MINIHV_ALU_ADC:
		res = (dst + src + cin) & mask;
		if (res < dst || (cin && res == dst))
			f |= X86_EFLAGS_CF;
		if ((dst ^ res) & (src ^ res) & sign)
			f |= X86_EFLAGS_OF;
		break;
	case MINIHV_ALU_SUB:
	case MINIHV_ALU_CMP:
		cin = 0;
		fallthrough;
	case MINIHV_ALU_SBB:
		res = (dst - src - cin) & mask;
		if (dst < src || (cin && dst == src))
			f |= X86_EFLAGS_CF;
		if ((dst ^ src) & (dst ^ res) & sign)
			f |= X86_EFLAGS_OF;
		break;
	case MINIHV_ALU_OR:
		res = dst | src;
		break;
	case MINIHV_ALU_AND:
	case MINIHV_ALU_TEST:
		res = dst & src;
		break;
	default:	/* MINIHV_ALU_XOR */
		res = dst ^ src;
		break;
	}
	/* AF: the carry out of (or borrow into) bit 3, additions and subtractions. */
	if (op != MINIHV_ALU_OR && op != MINIHV_ALU_AND && op != MINIHV_ALU_XOR &&
	    op != MINIHV_ALU_TEST && ((dst ^ src ^ res) & 0x10))
		f |= X86_EFLAGS_AF;
	if (!res)
		f |= X86_EFLAGS_ZF;
	if (res & sign)
		f |= X86_EFLAGS_SF;
	if (!(hweight8(res & 0xff) & 1))
		f |= X86_EFLAGS_PF;
	*rflags = (*rflags & ~RFLAGS_ARITH) | f;
	return res;
}

/*
 * The arithmetic forms with a memory operand: sets *@op (MINIHV_ALU_*),
 * *@size, whether the register operand is the destination (*@to_reg),
 * and *@imm, the bytes of an immediate source after ModRM (0: the source
 * is the register in ModRM.reg).  False for any other opcode.
 */
static bool decode_alu(const u8 *insn, int op, int len, int opsize, bool long_mode,
		       int *alu, int *size, bool *to_reg, int *imm)
{
	u8 opcode = insn[op], reg = op + 1 < len ? (insn[op + 1] >> 3) & 7 : 0;

	*to_reg = false;
	*imm = 0;
	*size = (opcode & 1) ? opsize : 1;
	if (opcode < 0x40 && (opcode & 7) < 4) {	/* 00-03, 08-0B ... 38-3B */
		*alu = opcode >> 3;
		*to_reg = opcode & 2;
		return true;
	}
	switch (opcode) {
	case 0x82:	/* 80's alias outside 64-bit mode, #UD in it */
		if (long_mode)
			return false;
		fallthrough;
	case 0x80:
	case 0x81:
	case 0x83:
		*alu = reg;
		*imm = opcode == 0x81 ? min(opsize, 4) : 1;
		return true;
	case 0x84:
	case 0x85:
		*alu = MINIHV_ALU_TEST;
		return true;
	case 0x86:
	case 0x87:
		*alu = MINIHV_ALU_XCHG;
		return true;
	case 0xf6:
	case 0xf7:
		*alu = MINIHV_ALU_TEST;
		*imm = opcode == 0xf7 ? min(opsize, 4) : 1;
		return reg <= 1;	/* /1 is an alias of /0; the rest NOT, NEG, MUL... */
	}
	return false;
}

/*
 * The first half of an arithmetic instruction on MMIO: an exit reading
 * the memory operand.  The pending state says how to finish it.
 */
static int emulate_alu(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
		       u64 gpa, const u8 *insn, int len, const struct insn_prefixes *p,
		       int op, int addr_size, int alu, int size, bool to_reg, int imm,
		       bool *in_kernel)
{
	struct minihv_pending_io *pend = &vcpu->pending;
	struct minihv_run *run = &vcpu->run;
	int modrm_len, end;
	u8 modrm, reg;
	u64 src = 0;

	modrm_len = modrm_length(&insn[op + 1], len - op - 1, addr_size);
	if (modrm_len < 0)
		goto fail;
	modrm = insn[op + 1];
	if ((modrm >> 6) == 3)
		goto fail;	/* a register operand cannot fault */
	end = op + 1 + modrm_len + imm;
	if (end > len)
		goto fail;
	reg = ((modrm >> 3) & 7) | (p->rex_r ? 8 : 0);
	pend->high_byte = false;
	if (imm) {
		memcpy(&src, &insn[end - imm], imm);
		/* imm8 and imm32 sign-extend to the operand size. */
		if (imm == 1)
			src = (u64)(s64)(s8)src;
		else if (imm == 4)
			src = (u64)(s64)(s32)src;
	} else {
		/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
		pend->high_byte = size == 1 && !p->rex && reg >= 4 && reg < 8;
		if (pend->high_byte)
			reg -= 4;
		src = vcpu->regs[reg] >> (pend->high_byte ? 8 : 0);
	}

	pend->kind = MINIHV_PENDING_MMIO_ALU;
	pend->alu = alu;
	pend->size = size;
	pend->dest_size = size;
	pend->reg = reg;
	pend->to_reg = to_reg;
	pend->src = src;
	pend->gpa = gpa;

	run->exit_reason = MINIHV_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = false;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	*in_kernel = minihv_kernel_mmio(vcpu);
	return end;

fail:
	emulation_failure(vcpu, m, gpa, insn, len);
	return 0;
}

int minihv_emulate_mmio(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			u64 gpa, bool write, bool *in_kernel)
{
	struct minihv_run *run = &vcpu->run;
	struct minihv_pending_io *pend = &vcpu->pending;
	u8 insn[X86_MAX_INSN_LEN] = {};
	struct insn_prefixes p;
	int fetched, len, op, opsize, addr_size, size, dest_size, modrm_len, imm = 0, alu;
	bool is_write, sign_extend = false, moffs = false, has_imm = false, to_reg;
	u8 reg = VCPU_REGS_RAX, opcode;
	u64 val;

	*in_kernel = false;
	len = minihv_fetch_insn(vcpu, m, insn, X86_MAX_INSN_LEN);
	if (len <= 0) {
		emulation_failure(vcpu, m, gpa, insn, 0);
		return 0;
	}
	fetched = len;	/* len becomes the decoded length */
	decode_prefixes(insn, len, m->long_mode, &p);
	if (m->long_mode)
		opsize = p.rex_w ? 8 : (p.opsize ? 2 : 4);
	else
		opsize = (m->cs_db ^ p.opsize) ? 4 : 2;
	if (m->long_mode)
		addr_size = p.addrsize ? 4 : 8;
	else
		addr_size = (m->cs_db ^ p.addrsize) ? 4 : 2;

	op = p.len;
	if (op >= len)
		goto fail;
	opcode = insn[op];
	if (decode_alu(insn, op, len, opsize, m->long_mode, &alu, &size, &to_reg, &imm))
		return emulate_alu(vcpu, m, gpa, insn, len, &p, op, addr_size,
				   alu, size, to_reg, imm, in_kernel);
	switch (opcode) {
	case 0x88: /* MOV r/m8, r8 */
		size = 1;
		is_write = true;
		break;
	case 0x89: /* MOV r/m, r */
		size = opsize;
		is_write = true;
		break;
	case 0x8a: /* MOV r8, r/m8 */
		size = 1;
		is_write = false;
		break;
	case 0x8b: /* MOV r, r/m */
		size = opsize;
		is_write = false;
		break;
	case 0xc6:
		size = 1;
		is_write = true;
		has_imm = true;
		imm = 1;
		break;
	case 0xc7:
		size = opsize;
		is_write = true;
		has_imm = true;
		imm = opsize == 2 ? 2 : 4;	/* imm32 sign-extends to 64 */
		break;
	case 0xa0 ... 0xa3:	/* MOV AL/eAX <-> moffs */
		size = (opcode & 1) ? opsize : 1;
		is_write = opcode >= 0xa2;
		moffs = true;
		break;
	case 0x0f:
		if (op + 1 >= len)
			goto fail;
		switch (insn[op + 1]) {
		case 0xb6: /* MOVZX r, r/m8 */
			size = 1;
			break;
		case 0xb7: /* MOVZX r, r/m16 */
			size = 2;
			break;
		case 0xbe: /* MOVSX */
			size = 1;
			sign_extend = true;
			break;
		case 0xbf:
			size = 2;
			sign_extend = true;
			break;
		default:
			goto fail;
		}
		is_write = false;
		op++;
		break;
	default:
		goto fail;
	}
	if (is_write != write)
		goto fail;	/* e.g. a read-modify-write we do not emulate */

	dest_size = (opcode == 0x0f) ? opsize : size;
	if (moffs) {
		len = op + 1 + addr_size;
		pend->high_byte = false;
	} else {
		u8 modrm;

		modrm_len = modrm_length(&insn[op + 1], len - op - 1, addr_size);
		if (modrm_len < 0)
			goto fail;
		modrm = insn[op + 1];
		if ((modrm >> 6) == 3)
			goto fail;	/* a register operand cannot fault */
		if (has_imm && ((modrm >> 3) & 7))
			goto fail;	/* C6/C7 with reg != 0 is not MOV */
		reg = ((modrm >> 3) & 7) | (p.rex_r ? 8 : 0);
		len = op + 1 + modrm_len + imm;
		/* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
		pend->high_byte = size == 1 && dest_size == 1 && !p.rex &&
				  reg >= 4 && reg < 8 && !has_imm;
		if (pend->high_byte)
			reg -= 4;
	}
	/* Past what could be read (a page end), or past 15 bytes. */
	if (len > fetched)
		goto fail;

	run->exit_reason = MINIHV_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = size;
	run->mmio.is_write = is_write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (is_write) {
		if (has_imm) {
			val = 0;
			memcpy(&val, &insn[len - imm], imm);
			if (imm == 4)
				val = (u64)(s64)(s32)val;
		} else {
			val = vcpu->regs[reg];
			if (pend->high_byte)
				val >>= 8;
		}
		memcpy(run->mmio.data, &val, size);
		pend->kind = MINIHV_PENDING_NONE;
	} else {
		pend->kind = MINIHV_PENDING_MMIO_READ;
		pend->size = size;
		pend->reg = reg;
		pend->dest_size = dest_size;
		pend->sign_extend = sign_extend;
	}
	/* The in-kernel APIC and I/O APIC are served here, not by userspace. */
	*in_kernel = minihv_kernel_mmio(vcpu);
	return len;

fail:
	emulation_failure(vcpu, m, gpa, insn, fetched);
	return 0;
}

int minihv_decode_cr_write(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			   int cr, u64 cr0, u64 *val)
{
	u8 insn[X86_MAX_INSN_LEN] = {};
	struct insn_prefixes p;
	int len, op;
	u8 modrm, rm;
	u64 src;

	len = minihv_fetch_insn(vcpu, m, insn, X86_MAX_INSN_LEN);
	if (len <= 0) {
		emulation_failure(vcpu, m, 0, insn, 0);
		return 0;
	}
	decode_prefixes(insn, len, m->long_mode, &p);
	op = p.len;
	if (op + 1 >= len || insn[op] != 0x0f)
		goto fail;
	if (insn[op + 1] == 0x06 && cr == 0) {	/* CLTS */
		*val = cr0 & ~X86_CR0_TS;
		return op + 2;
	}
	if (op + 2 >= len)
		goto fail;
	modrm = insn[op + 2];
	rm = (modrm & 7) | (p.rex_b ? 8 : 0);
	switch (insn[op + 1]) {
	case 0x22:
		/*
		 * MOV CRn, r: ModRM.reg is n, ModRM.mod is ignored, and the
		 * operand is 64 bits in 64-bit mode, else 32 (SDM Vol 2B
		 * "MOV—Move to/from Control Registers").
		 */
		if ((((modrm >> 3) & 7) | (p.rex_r ? 8 : 0)) != cr)
			goto fail;
		src = vcpu->regs[rm];
		*val = m->long_mode ? src : (u32)src;
		return op + 3;
	case 0x01:
		/* LMSW r16 loads MP, EM, TS and can set PE, never clear it. */
		if (cr || ((modrm >> 3) & 7) != 6 || (modrm >> 6) != 3)
			goto fail;
		src = vcpu->regs[rm] & 0xf;
		*val = (cr0 & ~0xfULL) | src | (cr0 & X86_CR0_PE);
		return op + 3;
	}
fail:
	emulation_failure(vcpu, m, 0, insn, len);
	return 0;
}

int minihv_decode_mov_dr(struct minihv_vcpu *vcpu, const struct minihv_cpu_mode *m,
			 int *gpr, bool *rex_r)
{
	u8 insn[X86_MAX_INSN_LEN] = {};
	struct insn_prefixes p;
	int len, op;

	len = minihv_fetch_insn(vcpu, m, insn, X86_MAX_INSN_LEN);
	if (len <= 0) {
		emulation_failure(vcpu, m, 0, insn, 0);
		return 0;
	}
	decode_prefixes(insn, len, m->long_mode, &p);
	op = p.len;
	/*
	 * 0F 21 /r (from DR) or 0F 23 /r (to DR): ModRM.reg is the DR,
	 * ModRM.mod is ignored, ModRM.rm with REX.B the GPR; REX.R names
	 * DR8-DR15, which are #UD (SDM Vol 2B "MOV—Move to/from Debug
	 * Registers").
	 */
	if (op + 2 >= len || insn[op] != 0x0f || (insn[op + 1] != 0x21 && insn[op + 1] != 0x23)) {
		emulation_failure(vcpu, m, 0, insn, len);
		return 0;
	}
	*gpr = (insn[op + 2] & 7) | (p.rex_b ? 8 : 0);
	*rex_r = p.rex_r;
	return op + 3;
}

/*
 * What an I/O exit may leave to the instruction for INS/OUTS: the segment
 * OUTS reads from (DS unless a prefix overrides it) and, where the CPU
 * does not say (@io->addr_size 0; QEMU leaves SVM's bits 9:7 clear), the
 * address size: the mode's, flipped by a 67h prefix.
 */
void minihv_decode_string_io(struct minihv_vcpu *vcpu,
			     const struct minihv_cpu_mode *m,
			     struct minihv_io_exit *io)
{
	static const u8 seg_prefix[6] = {
		[SEG_ES] = 0x26, [SEG_CS] = 0x2e, [SEG_SS] = 0x36,
		[SEG_DS] = 0x3e, [SEG_FS] = 0x64, [SEG_GS] = 0x65,
	};
	bool addr_prefix = false;
	u8 insn[15];
	int i, s, len = minihv_fetch_insn(vcpu, m, insn, sizeof(insn));

	for (i = 0; i < len; i++) {
		if (insn[i] == 0x67) {
			addr_prefix = true;
			continue;
		}
		for (s = 0; s < 6; s++)
			if (insn[i] == seg_prefix[s])
				break;
		if (s < 6) {
			io->seg = s;
			continue;
		}
		if (insn[i] == 0x66 || insn[i] == 0xf2 || insn[i] == 0xf3 ||
		    (m->long_mode && (insn[i] & 0xf0) == 0x40))
			continue;
		break;
	}
	if (!io->addr_size) {
		if (m->long_mode)
			io->addr_size = addr_prefix ? 4 : 8;
		else
			io->addr_size = (m->cs_db ^ addr_prefix) ? 4 : 2;
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Why VT-x refused to enter a guest.
 *
 * A VM-entry failure says only "invalid guest state" (exit reason 33); a
 * VM-fail gives an error number.  minihv redoes, in software, the checks of
 * SDM Vol 3 "Checks on the Guest State Area" (in chapter 28, "VM Entries",
 * in the June 2025 edition) in the order the SDM lists them, and names the
 * first that fails, with the field and its value: before the first entry
 * after userspace changed the state, and after a failure it did not
 * foresee.  The checks that minihv's own setup always satisfies (VMCS link
 * pointer, activity state, pending debug exceptions) are left out.
 */
#include <linux/kernel.h>

#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "vmcs.h"
#include "vmx.h"

/* VM-instruction error numbers, SDM Vol 3 "VM-Instruction Error Numbers". */
const char *vmx_instruction_error_name(u32 error)
{
	static const char *const names[] = {
		[1] = "VMCALL executed in VMX root operation",
		[2] = "VMCLEAR with invalid physical address",
		[3] = "VMCLEAR with VMXON pointer",
		[4] = "VMLAUNCH with non-clear VMCS",
		[5] = "VMRESUME with non-launched VMCS",
		[6] = "VMRESUME after VMXOFF",
		[7] = "VM entry with invalid control field(s)",
		[8] = "VM entry with invalid host-state field(s)",
		[9] = "VMPTRLD with invalid physical address",
		[10] = "VMPTRLD with VMXON pointer",
		[11] = "VMPTRLD with incorrect VMCS revision identifier",
		[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
		[13] = "VMWRITE to read-only VMCS component",
		[15] = "VMXON executed in VMX root operation",
		[26] = "VM entry with events blocked by MOV SS",
		[28] = "Invalid operand to INVEPT/INVVPID",
	};

	if (error < ARRAY_SIZE(names) && names[error])
		return names[error];
	return "VM-instruction error (see SDM Vol 3 31.4)";
}

struct seg_state {
	u16 sel;
	u32 limit, ar;
	u64 base;
};

static void read_seg(u32 sel_field, struct seg_state *s)
{
	u32 i = (sel_field - GUEST_ES_SELECTOR) / 2;

	s->sel = __vmcs_readl(GUEST_ES_SELECTOR + 2 * i);
	s->limit = __vmcs_readl(GUEST_ES_LIMIT + 2 * i);
	s->ar = __vmcs_readl(GUEST_ES_AR_BYTES + 2 * i);
	s->base = __vmcs_readl(GUEST_ES_BASE + 2 * i);
}

#define AR_TYPE(ar)	((ar) & VMX_AR_TYPE_MASK)
#define AR_DPL(ar)	(((ar) >> VMX_AR_DPL_SHIFT) & 3)

/* Limit and G must agree (27.3.1.2): 4K granularity fills bits 11:0. */
static bool limit_g_ok(u32 limit, u32 ar)
{
	if ((limit & 0xfff) != 0xfff && (ar & VMX_AR_G))
		return false;
	if ((limit & 0xfff00000) && !(ar & VMX_AR_G))
		return false;
	return true;
}

#define CHECK(cond, f, v, msg) \
	do { if (cond) { *field = (f); *value = (v); return msg; } } while (0)

const char *vmx_check_guest_state(u64 *field, u64 *value)
{
	u64 cr0 = vmcs_readl(GUEST_CR0), cr4 = vmcs_readl(GUEST_CR4);
	u64 efer = vmcs_read64(GUEST_IA32_EFER), rflags = vmcs_readl(GUEST_RFLAGS);
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS);
	bool ia32e = entry & VM_ENTRY_IA32E_MODE;
	bool unrestricted = vmcs_read32(SECONDARY_VM_EXEC_CONTROL) &
			    SECONDARY_EXEC_UNRESTRICTED_GUEST;
	u64 cr0_must1 = vmx_caps.cr0_fixed0 &
			~(unrestricted ? (X86_CR0_PE | X86_CR0_PG) : 0);
	bool v86 = rflags & X86_EFLAGS_VM;
	struct seg_state cs, ss, tr, ldtr, ds;
	u32 seg;

	/* 27.3.1.1 Checks on guest control registers and MSRs */
	CHECK((cr0 & cr0_must1) != cr0_must1, GUEST_CR0, cr0,
	      "27.3.1.1: CR0 lacks a bit IA32_VMX_CR0_FIXED0 requires");
	CHECK(cr0 & ~vmx_caps.cr0_fixed1, GUEST_CR0, cr0,
	      "27.3.1.1: CR0 has a bit IA32_VMX_CR0_FIXED1 forbids");
	CHECK((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE), GUEST_CR0, cr0,
	      "27.3.1.1: CR0.PG is 1 but CR0.PE is 0");
	CHECK((cr4 & vmx_caps.cr4_fixed0) != vmx_caps.cr4_fixed0, GUEST_CR4, cr4,
	      "27.3.1.1: CR4 lacks a bit IA32_VMX_CR4_FIXED0 requires");
	CHECK(cr4 & ~vmx_caps.cr4_fixed1, GUEST_CR4, cr4,
	      "27.3.1.1: CR4 has a bit IA32_VMX_CR4_FIXED1 forbids");
	CHECK(ia32e && !(cr0 & X86_CR0_PG), GUEST_CR0, cr0,
	      "27.3.1.1: IA-32e mode guest but CR0.PG is 0");
	CHECK(ia32e && !(cr4 & X86_CR4_PAE), GUEST_CR4, cr4,
	      "27.3.1.1: IA-32e mode guest but CR4.PAE is 0");
	CHECK(!ia32e && (cr4 & X86_CR4_PCIDE), GUEST_CR4, cr4,
	      "27.3.1.1: CR4.PCIDE is 1 outside IA-32e mode");
	if (entry & VM_ENTRY_LOAD_IA32_EFER) {
		CHECK(efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX),
		      GUEST_IA32_EFER, efer, "27.3.1.1: IA32_EFER has a reserved bit set");
		CHECK(!!(efer & EFER_LMA) != ia32e, GUEST_IA32_EFER, efer,
		      "27.3.1.1: IA32_EFER.LMA differs from the IA-32e mode guest control");
		CHECK((cr0 & X86_CR0_PG) && !!(efer & EFER_LMA) != !!(efer & EFER_LME),
		      GUEST_IA32_EFER, efer,
		      "27.3.1.1: CR0.PG is 1 and IA32_EFER.LMA differs from IA32_EFER.LME");
	}

	/* 27.3.1.2 Checks on guest segment registers */
	read_seg(GUEST_CS_SELECTOR, &cs);
	read_seg(GUEST_SS_SELECTOR, &ss);
	read_seg(GUEST_TR_SELECTOR, &tr);
	read_seg(GUEST_LDTR_SELECTOR, &ldtr);

	CHECK(tr.sel & 4, GUEST_TR_SELECTOR, tr.sel, "27.3.1.2: TR selector TI flag is 1");
	CHECK(!(ldtr.ar & VMX_AR_UNUSABLE) && (ldtr.sel & 4), GUEST_LDTR_SELECTOR, ldtr.sel,
	      "27.3.1.2: LDTR is usable and its selector TI flag is 1");
	CHECK(!v86 && !unrestricted && (ss.sel & 3) != (cs.sel & 3), GUEST_SS_SELECTOR, ss.sel,
	      "27.3.1.2: SS.RPL differs from CS.RPL");
	CHECK(cs.ar & VMX_AR_UNUSABLE, GUEST_CS_AR_BYTES, cs.ar,
	      "27.3.1.2: CS is unusable");
	if (!v86) {
		u32 t = AR_TYPE(cs.ar);

		CHECK(!(t == 9 || t == 11 || t == 13 || t == 15 || (unrestricted && t == 3)),
		      GUEST_CS_AR_BYTES, cs.ar,
		      "27.3.1.2: CS type must be 9, 11, 13 or 15 (or 3 with unrestricted guest)");
		CHECK(!(cs.ar & VMX_AR_S), GUEST_CS_AR_BYTES, cs.ar,
		      "27.3.1.2: CS.S is 0 (a system descriptor)");
		CHECK(!(cs.ar & VMX_AR_P), GUEST_CS_AR_BYTES, cs.ar, "27.3.1.2: CS.P is 0");
		CHECK(cs.ar & 0xfffe0f00, GUEST_CS_AR_BYTES, cs.ar,
		      "27.3.1.2: CS access rights have reserved bits set");
		CHECK(ia32e && (cs.ar & VMX_AR_L) && (cs.ar & VMX_AR_DB), GUEST_CS_AR_BYTES, cs.ar,
		      "27.3.1.2: CS.L and CS.D are both 1 in IA-32e mode");
		CHECK(!limit_g_ok(cs.limit, cs.ar), GUEST_CS_LIMIT, cs.limit,
		      "27.3.1.2: CS limit and CS.G disagree");
		if (!(ss.ar & VMX_AR_UNUSABLE)) {
			CHECK(AR_TYPE(ss.ar) != 3 && AR_TYPE(ss.ar) != 7, GUEST_SS_AR_BYTES, ss.ar,
			      "27.3.1.2: SS type must be 3 or 7");
			CHECK(!(ss.ar & VMX_AR_S) || !(ss.ar & VMX_AR_P), GUEST_SS_AR_BYTES, ss.ar,
			      "27.3.1.2: SS is usable but not a present code/data segment");
			CHECK(!limit_g_ok(ss.limit, ss.ar), GUEST_SS_LIMIT, ss.limit,
			      "27.3.1.2: SS limit and SS.G disagree");
		}
		CHECK(!unrestricted && AR_DPL(ss.ar) != (ss.sel & 3), GUEST_SS_AR_BYTES, ss.ar,
		      "27.3.1.2: SS.DPL differs from its RPL");
		CHECK(!(vmcs_readl(GUEST_CR0) & X86_CR0_PE) && AR_DPL(ss.ar),
		      GUEST_SS_AR_BYTES, ss.ar, "27.3.1.2: SS.DPL is not 0 in real mode");
		for (seg = GUEST_ES_SELECTOR; seg <= GUEST_GS_SELECTOR; seg += 2) {
			if (seg == GUEST_CS_SELECTOR || seg == GUEST_SS_SELECTOR)
				continue;
			read_seg(seg, &ds);
			if (ds.ar & VMX_AR_UNUSABLE)
				continue;
			CHECK(!(ds.ar & 1), GUEST_ES_AR_BYTES + (seg - GUEST_ES_SELECTOR), ds.ar,
			      "27.3.1.2: a usable DS/ES/FS/GS type lacks the accessed bit");
			CHECK((ds.ar & 8) && !(ds.ar & 2),
			      GUEST_ES_AR_BYTES + (seg - GUEST_ES_SELECTOR), ds.ar,
			      "27.3.1.2: a usable DS/ES/FS/GS is an execute-only code segment");
			CHECK(!(ds.ar & VMX_AR_S) || !(ds.ar & VMX_AR_P),
			      GUEST_ES_AR_BYTES + (seg - GUEST_ES_SELECTOR), ds.ar,
			      "27.3.1.2: a usable DS/ES/FS/GS is not a present code/data segment");
			CHECK(!limit_g_ok(ds.limit, ds.ar),
			      GUEST_ES_LIMIT + (seg - GUEST_ES_SELECTOR), ds.limit,
			      "27.3.1.2: a DS/ES/FS/GS limit and its G flag disagree");
		}
	}
	CHECK(tr.ar & VMX_AR_UNUSABLE, GUEST_TR_AR_BYTES, tr.ar, "27.3.1.2: TR is unusable");
	CHECK(ia32e ? AR_TYPE(tr.ar) != 11 : (AR_TYPE(tr.ar) != 3 && AR_TYPE(tr.ar) != 11),
	      GUEST_TR_AR_BYTES, tr.ar,
	      "27.3.1.2: TR type must be 11 (busy TSS), or 3 outside IA-32e mode");
	CHECK(tr.ar & VMX_AR_S, GUEST_TR_AR_BYTES, tr.ar, "27.3.1.2: TR.S is 1");
	CHECK(!(tr.ar & VMX_AR_P), GUEST_TR_AR_BYTES, tr.ar, "27.3.1.2: TR.P is 0");
	CHECK(!limit_g_ok(tr.limit, tr.ar), GUEST_TR_LIMIT, tr.limit,
	      "27.3.1.2: TR limit and TR.G disagree");
	if (!(ldtr.ar & VMX_AR_UNUSABLE)) {
		CHECK(AR_TYPE(ldtr.ar) != 2, GUEST_LDTR_AR_BYTES, ldtr.ar,
		      "27.3.1.2: a usable LDTR type must be 2");
		CHECK((ldtr.ar & VMX_AR_S) || !(ldtr.ar & VMX_AR_P), GUEST_LDTR_AR_BYTES, ldtr.ar,
		      "27.3.1.2: a usable LDTR must be a present system descriptor");
	}

	/* 27.3.1.4 Checks on guest RIP and RFLAGS */
	CHECK((rflags & 0xffffffffffc08028ULL) || !(rflags & X86_EFLAGS_FIXED),
	      GUEST_RFLAGS, rflags, "27.3.1.4: RFLAGS has a reserved bit set, or bit 1 clear");
	CHECK(v86 && (ia32e || !(cr0 & X86_CR0_PE)), GUEST_RFLAGS, rflags,
	      "27.3.1.4: RFLAGS.VM is 1 in IA-32e mode or with CR0.PE 0");
	CHECK(!ia32e || !(cs.ar & VMX_AR_L) ? vmcs_readl(GUEST_RIP) >> 32 : 0,
	      GUEST_RIP, vmcs_readl(GUEST_RIP),
	      "27.3.1.4: RIP[63:32] are not 0 outside 64-bit mode");
	return NULL;
}

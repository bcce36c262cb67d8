/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCS field encodings (Intel SDM Vol 3 appendix B), control bits
 * ("VM-Execution Control Fields", "VM-Exit Control Fields", "VM-Entry
 * Control Fields"), exit reasons (appendix C), and typed accessors.
 *
 * Bits 14:13 of an encoding give the field's width (B.1-B.4): 0 16-bit,
 * 1 64-bit, 2 32-bit, 3 natural width.  vmcs_read16() and friends check the
 * width at compile time (as KVM's vmcs_check16() does), so a 32-bit field
 * cannot be read as a 16-bit one by mistake; a failed VMWRITE is reported
 * with the field and the caller (as Jailhouse does).
 */
#ifndef MINIHV_VMX_VMCS_H
#define MINIHV_VMX_VMCS_H

#include <linux/build_bug.h>
#include <linux/printk.h>
#include <linux/types.h>

#include <asm/asm.h>

enum vmcs_field {
	/* 16-bit */
	VIRTUAL_PROCESSOR_ID		= 0x0000,
	GUEST_ES_SELECTOR		= 0x0800,
	GUEST_CS_SELECTOR		= 0x0802,
	GUEST_SS_SELECTOR		= 0x0804,
	GUEST_DS_SELECTOR		= 0x0806,
	GUEST_FS_SELECTOR		= 0x0808,
	GUEST_GS_SELECTOR		= 0x080a,
	GUEST_LDTR_SELECTOR		= 0x080c,
	GUEST_TR_SELECTOR		= 0x080e,
	HOST_ES_SELECTOR		= 0x0c00,
	HOST_CS_SELECTOR		= 0x0c02,
	HOST_SS_SELECTOR		= 0x0c04,
	HOST_DS_SELECTOR		= 0x0c06,
	HOST_FS_SELECTOR		= 0x0c08,
	HOST_GS_SELECTOR		= 0x0c0a,
	HOST_TR_SELECTOR		= 0x0c0c,
	/* 64-bit */
	TSC_OFFSET			= 0x2010,
	EPT_POINTER			= 0x201a,
	GUEST_PHYSICAL_ADDRESS		= 0x2400,
	VMCS_LINK_POINTER		= 0x2800,
	GUEST_IA32_DEBUGCTL		= 0x2802,
	GUEST_IA32_PAT			= 0x2804,
	GUEST_IA32_EFER			= 0x2806,
	GUEST_PDPTR0			= 0x280a,	/* ... PDPTR3 at 0x2810 */
	HOST_IA32_PAT			= 0x2c00,
	HOST_IA32_EFER			= 0x2c02,
	/* 32-bit */
	PIN_BASED_VM_EXEC_CONTROL	= 0x4000,
	CPU_BASED_VM_EXEC_CONTROL	= 0x4002,
	EXCEPTION_BITMAP		= 0x4004,
	CR3_TARGET_COUNT		= 0x400a,
	VM_EXIT_CONTROLS		= 0x400c,
	VM_EXIT_MSR_STORE_COUNT		= 0x400e,
	VM_EXIT_MSR_LOAD_COUNT		= 0x4010,
	VM_ENTRY_CONTROLS		= 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT		= 0x4014,
	VM_ENTRY_INTR_INFO_FIELD	= 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE	= 0x4018,
	VM_ENTRY_INSTRUCTION_LEN	= 0x401a,
	SECONDARY_VM_EXEC_CONTROL	= 0x401e,
	VM_INSTRUCTION_ERROR		= 0x4400,
	VM_EXIT_REASON			= 0x4402,
	VM_EXIT_INTR_INFO		= 0x4404,
	VM_EXIT_INTR_ERROR_CODE		= 0x4406,
	IDT_VECTORING_INFO_FIELD	= 0x4408,
	IDT_VECTORING_ERROR_CODE	= 0x440a,
	VM_EXIT_INSTRUCTION_LEN		= 0x440c,
	GUEST_ES_LIMIT			= 0x4800,
	GUEST_CS_LIMIT			= 0x4802,
	GUEST_SS_LIMIT			= 0x4804,
	GUEST_DS_LIMIT			= 0x4806,
	GUEST_FS_LIMIT			= 0x4808,
	GUEST_GS_LIMIT			= 0x480a,
	GUEST_LDTR_LIMIT		= 0x480c,
	GUEST_TR_LIMIT			= 0x480e,
	GUEST_GDTR_LIMIT		= 0x4810,
	GUEST_IDTR_LIMIT		= 0x4812,
	GUEST_ES_AR_BYTES		= 0x4814,
	GUEST_CS_AR_BYTES		= 0x4816,
	GUEST_SS_AR_BYTES		= 0x4818,
	GUEST_DS_AR_BYTES		= 0x481a,
	GUEST_FS_AR_BYTES		= 0x481c,
	GUEST_GS_AR_BYTES		= 0x481e,
	GUEST_LDTR_AR_BYTES		= 0x4820,
	GUEST_TR_AR_BYTES		= 0x4822,
	GUEST_INTERRUPTIBILITY_INFO	= 0x4824,
	GUEST_ACTIVITY_STATE		= 0x4826,
	GUEST_SYSENTER_CS		= 0x482a,
	VMX_PREEMPTION_TIMER_VALUE	= 0x482e,
	HOST_IA32_SYSENTER_CS		= 0x4c00,
	/* natural width */
	CR0_GUEST_HOST_MASK		= 0x6000,
	CR4_GUEST_HOST_MASK		= 0x6002,
	CR0_READ_SHADOW			= 0x6004,
	CR4_READ_SHADOW			= 0x6006,
	EXIT_QUALIFICATION		= 0x6400,
	GUEST_LINEAR_ADDRESS		= 0x640a,
	GUEST_CR0			= 0x6800,
	GUEST_CR3			= 0x6802,
	GUEST_CR4			= 0x6804,
	GUEST_ES_BASE			= 0x6806,
	GUEST_CS_BASE			= 0x6808,
	GUEST_SS_BASE			= 0x680a,
	GUEST_DS_BASE			= 0x680c,
	GUEST_FS_BASE			= 0x680e,
	GUEST_GS_BASE			= 0x6810,
	GUEST_LDTR_BASE			= 0x6812,
	GUEST_TR_BASE			= 0x6814,
	GUEST_GDTR_BASE			= 0x6816,
	GUEST_IDTR_BASE			= 0x6818,
	GUEST_DR7			= 0x681a,
	GUEST_RSP			= 0x681c,
	GUEST_RIP			= 0x681e,
	GUEST_RFLAGS			= 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS	= 0x6822,
	GUEST_SYSENTER_ESP		= 0x6824,
	GUEST_SYSENTER_EIP		= 0x6826,
	HOST_CR0			= 0x6c00,
	HOST_CR3			= 0x6c02,
	HOST_CR4			= 0x6c04,
	HOST_FS_BASE			= 0x6c06,
	HOST_GS_BASE			= 0x6c08,
	HOST_TR_BASE			= 0x6c0a,
	HOST_GDTR_BASE			= 0x6c0c,
	HOST_IDTR_BASE			= 0x6c0e,
	HOST_IA32_SYSENTER_ESP		= 0x6c10,
	HOST_IA32_SYSENTER_EIP		= 0x6c12,
	HOST_RSP			= 0x6c14,
	HOST_RIP			= 0x6c16,
};

/* Pin-based controls (SDM "Pin-Based VM-Execution Controls") */
#define PIN_BASED_EXT_INTR_MASK			BIT(0)
#define PIN_BASED_NMI_EXITING			BIT(3)
#define PIN_BASED_VIRTUAL_NMIS			BIT(5)
#define PIN_BASED_VMX_PREEMPTION_TIMER		BIT(6)
/* Primary processor-based controls ("Processor-Based VM-Execution Controls") */
#define CPU_BASED_INTR_WINDOW_EXITING		BIT(2)
#define CPU_BASED_USE_TSC_OFFSETTING		BIT(3)
#define CPU_BASED_HLT_EXITING			BIT(7)
#define CPU_BASED_MWAIT_EXITING			BIT(10)
#define CPU_BASED_RDPMC_EXITING			BIT(11)
#define CPU_BASED_CR3_LOAD_EXITING		BIT(15)
#define CPU_BASED_CR3_STORE_EXITING		BIT(16)
#define CPU_BASED_CR8_LOAD_EXITING		BIT(19)
#define CPU_BASED_CR8_STORE_EXITING		BIT(20)
#define CPU_BASED_MOV_DR_EXITING		BIT(23)
#define CPU_BASED_UNCOND_IO_EXITING		BIT(24)
#define CPU_BASED_NMI_WINDOW_EXITING		BIT(22)
#define CPU_BASED_MONITOR_EXITING		BIT(29)
#define VMX_WINDOW_EXITING	(CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS	BIT(31)
/* Secondary processor-based controls */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES	BIT(0)
#define SECONDARY_EXEC_ENABLE_EPT		BIT(1)
#define SECONDARY_EXEC_ENABLE_VPID		BIT(5)
#define SECONDARY_EXEC_WBINVD_EXITING		BIT(6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST	BIT(7)
#define SECONDARY_EXEC_APIC_REGISTER_VIRT	BIT(8)
#define SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY	BIT(9)
#define SECONDARY_EXEC_SHADOW_VMCS		BIT(14)
/* VM-exit controls ("VM-Exit Controls") */
#define VM_EXIT_SAVE_DEBUG_CONTROLS		BIT(2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE		BIT(9)
#define VM_EXIT_SAVE_IA32_PAT			BIT(18)
#define VM_EXIT_LOAD_IA32_PAT			BIT(19)
#define VM_EXIT_SAVE_IA32_EFER			BIT(20)
#define VM_EXIT_LOAD_IA32_EFER			BIT(21)
/* VM-entry controls ("VM-Entry Controls"): DR7, IA32_DEBUGCTL from the guest state */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS		BIT(2)
#define VM_ENTRY_IA32E_MODE			BIT(9)
#define VM_ENTRY_LOAD_IA32_PAT			BIT(14)
#define VM_ENTRY_LOAD_IA32_EFER			BIT(15)

/* Exit reasons (appendix C); bit 31 of VM_EXIT_REASON: entry failure. */
#define EXIT_REASON_EXCEPTION_NMI	0
#define EXIT_REASON_EXTERNAL_INTERRUPT	1
#define EXIT_REASON_TRIPLE_FAULT	2
#define EXIT_REASON_INIT_SIGNAL		3
#define EXIT_REASON_INTERRUPT_WINDOW	7
#define EXIT_REASON_NMI_WINDOW		8
#define EXIT_REASON_CPUID		10
#define EXIT_REASON_HLT			12
#define EXIT_REASON_INVD		13
#define EXIT_REASON_RDPMC		15
#define EXIT_REASON_VMCALL		18
#define EXIT_REASON_VMCLEAR		19
#define EXIT_REASON_VMLAUNCH		20
#define EXIT_REASON_VMPTRLD		21
#define EXIT_REASON_VMPTRST		22
#define EXIT_REASON_VMREAD		23
#define EXIT_REASON_VMRESUME		24
#define EXIT_REASON_VMWRITE		25
#define EXIT_REASON_VMOFF		26
#define EXIT_REASON_VMON		27
#define EXIT_REASON_CR_ACCESS		28
#define EXIT_REASON_DR_ACCESS		29
#define EXIT_REASON_IO_INSTRUCTION	30
#define EXIT_REASON_MSR_READ		31
#define EXIT_REASON_MSR_WRITE		32
#define EXIT_REASON_INVALID_STATE	33
#define EXIT_REASON_MSR_LOAD_FAIL	34
#define EXIT_REASON_MWAIT_INSTRUCTION	36
#define EXIT_REASON_MONITOR_INSTRUCTION	39
#define EXIT_REASON_MCE_DURING_VMENTRY	41
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_EPT_MISCONFIG	49
#define EXIT_REASON_INVEPT		50
#define EXIT_REASON_PREEMPTION_TIMER	52
#define EXIT_REASON_INVVPID		53
#define EXIT_REASON_WBINVD		54
#define EXIT_REASON_XSETBV		55
#define VMX_EXIT_REASONS_FAILED_VMENTRY	BIT(31)

/*
 * Interruption information ("Information for VM Exits Due to Vectored
 * Events", "VM-Entry Controls for Event Injection")
 */
#define INTR_INFO_VECTOR_MASK		0xff
#define INTR_INFO_INTR_TYPE_MASK	(7 << 8)
#define INTR_TYPE_EXT_INTR		(0 << 8)
#define INTR_TYPE_NMI_INTR		(2 << 8)
#define INTR_TYPE_HARD_EXCEPTION	(3 << 8)
#define INTR_TYPE_PRIV_SW_EXCEPTION	(5 << 8)	/* INT1 (ICEBP) */
#define INTR_INFO_DELIVER_CODE_MASK	BIT(11)
#define INTR_INFO_UNBLOCK_NMI		BIT(12)
#define INTR_INFO_VALID_MASK		BIT(31)

/* Guest interruptibility state ("Guest Non-Register State") */
#define GUEST_INTR_STATE_STI		BIT(0)
#define GUEST_INTR_STATE_MOV_SS		BIT(1)
#define GUEST_INTR_STATE_NMI		BIT(3)
/*
 * EPT violation exit qualification bit 12: an IRET unblocked NMIs (SDM Vol 3
 * "Exit Qualification for EPT Violations")
 */
#define EPT_VIOLATION_UNBLOCK_NMI	BIT(12)

/* Segment access rights ("Guest Register State") */
#define VMX_AR_TYPE_MASK		0x0f
#define VMX_AR_S			BIT(4)
#define VMX_AR_DPL_SHIFT		5
#define VMX_AR_P			BIT(7)
#define VMX_AR_AVL			BIT(12)
#define VMX_AR_L			BIT(13)
#define VMX_AR_DB			BIT(14)
#define VMX_AR_G			BIT(15)
#define VMX_AR_UNUSABLE			BIT(16)

/* ---- accessors ---- */

#define VMCS_WIDTH(field)	(((field) >> 13) & 3)
#define VMCS_WIDTH_16		0
#define VMCS_WIDTH_64		1
#define VMCS_WIDTH_32		2
#define VMCS_WIDTH_NATURAL	3

#define vmcs_check(field, width) \
	BUILD_BUG_ON_MSG(__builtin_constant_p(field) && VMCS_WIDTH(field) != (width), \
			 "VMCS field accessed with the wrong width")

/*
 * A VMX instruction raised an exception: #UD once the CPU left VMX
 * operation (SDM Vol 3 "VMX Instructions", each instruction's "Operation"),
 * which the host's reboot does under a vCPU thread (main.c).  Quiet then; a
 * warning otherwise.  The instruction did nothing.
 */
void vmx_insn_fault(const char *insn);

static __always_inline unsigned long __vmcs_readl(unsigned long field)
{
	unsigned long value;

	/*
	 * A VMREAD of a valid field in the current VMCS cannot fail; it reads
	 * 0 where VMX is off.  Volatile by hand: some gcc versions do not
	 * make an asm goto with outputs volatile (GCC bug 103979; the
	 * kernel's asm_goto_output(), which 6.1 lacks, does the same).
	 */
	asm volatile goto("1: vmread %[field], %[value]\n\t"
			  _ASM_EXTABLE(1b, %l[fault])
			  : [value] "=rm"(value) : [field] "r"(field) : "cc" : fault);
	return value;
fault:
	vmx_insn_fault("VMREAD");
	return 0;
}

#define vmcs_read16(f) ({ vmcs_check(f, VMCS_WIDTH_16); (u16)__vmcs_readl(f); })
#define vmcs_read32(f) ({ vmcs_check(f, VMCS_WIDTH_32); (u32)__vmcs_readl(f); })
#define vmcs_read64(f) ({ vmcs_check(f, VMCS_WIDTH_64); (u64)__vmcs_readl(f); })
#define vmcs_readl(f) ({ vmcs_check(f, VMCS_WIDTH_NATURAL); __vmcs_readl(f); })

void vmcs_write_error(unsigned long field, unsigned long value, void *caller);

static __always_inline void __vmcs_writel(unsigned long field, unsigned long value)
{
	asm goto("1: vmwrite %1, %0\n\t"
		 "jna %l[fail]\n\t"
		 _ASM_EXTABLE(1b, %l[fault])
		 : : "r"(field), "rm"(value) : "cc" : fail, fault);
	return;
fail:
	vmcs_write_error(field, value, __builtin_return_address(0));
	return;
fault:
	vmx_insn_fault("VMWRITE");
}

#define vmcs_write16(f, v) \
	do { vmcs_check(f, VMCS_WIDTH_16); __vmcs_writel(f, (u16)(v)); } while (0)
#define vmcs_write32(f, v) \
	do { vmcs_check(f, VMCS_WIDTH_32); __vmcs_writel(f, (u32)(v)); } while (0)
#define vmcs_write64(f, v) \
	do { vmcs_check(f, VMCS_WIDTH_64); __vmcs_writel(f, (u64)(v)); } while (0)
#define vmcs_writel(f, v) \
	do { vmcs_check(f, VMCS_WIDTH_NATURAL); __vmcs_writel(f, (unsigned long)(v)); } while (0)

#endif /* MINIHV_VMX_VMCS_H */

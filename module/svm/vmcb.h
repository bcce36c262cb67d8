/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Virtual Machine Control Block, AMD64 APM Vol 2 appendix B: a 4 KiB
 * page holding the control area (offset 0, table B-1) and the state save
 * area (offset 400h, table B-2).  Every field carries its offset, and a
 * static_assert below holds each one to it.
 */
#ifndef MINIHV_SVM_VMCB_H
#define MINIHV_SVM_VMCB_H

#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/* CR intercepts (offset 0): reads in bits 15:0, writes in 31:16. */
#define INTERCEPT_CR0_WRITE	BIT(16)
#define INTERCEPT_CR4_WRITE	BIT(20)
/* DR intercepts (offset 4), the same layout: DR0-DR7 read and written. */
#define INTERCEPT_DR0_7		0x00ff00ffU
/* Intercept vector 3 (control area offset 0Ch), APM table B-1. */
#define INTERCEPT_INTR		BIT(0)
#define INTERCEPT_NMI		BIT(1)
#define INTERCEPT_SMI		BIT(2)
#define INTERCEPT_INIT		BIT(3)
#define INTERCEPT_VINTR		BIT(4)
#define INTERCEPT_RDPMC		BIT(15)
#define INTERCEPT_CPUID		BIT(18)
#define INTERCEPT_IRET		BIT(20)
#define INTERCEPT_INVD		BIT(22)
#define INTERCEPT_HLT		BIT(24)
#define INTERCEPT_INVLPGA	BIT(26)
#define INTERCEPT_IOIO_PROT	BIT(27)
#define INTERCEPT_MSR_PROT	BIT(28)
#define INTERCEPT_TASK_SWITCH	BIT(29)
#define INTERCEPT_SHUTDOWN	BIT(31)
/* Intercept vector 4 (offset 10h). */
#define INTERCEPT_VMRUN		BIT(0)
#define INTERCEPT_VMMCALL	BIT(1)
#define INTERCEPT_VMLOAD	BIT(2)
#define INTERCEPT_VMSAVE	BIT(3)
#define INTERCEPT_STGI		BIT(4)
#define INTERCEPT_CLGI		BIT(5)
#define INTERCEPT_SKINIT	BIT(6)
#define INTERCEPT_RDTSCP	BIT(7)
#define INTERCEPT_ICEBP		BIT(8)
#define INTERCEPT_WBINVD	BIT(9)
#define INTERCEPT_MONITOR	BIT(10)
#define INTERCEPT_MWAIT		BIT(11)
#define INTERCEPT_XSETBV	BIT(13)

/* int_ctl (offset 60h), APM 15.21.4 */
#define V_TPR_MASK		0xfULL
#define V_IRQ			BIT_ULL(8)
#define V_INTR_PRIO_SHIFT	16
#define V_INTR_PRIO_MASK	(0xfULL << V_INTR_PRIO_SHIFT)
#define V_IGN_TPR		BIT_ULL(20)
#define V_INTR_MASKING		BIT_ULL(24)
/* int_state (offset 68h) */
#define SVM_INTERRUPT_SHADOW	BIT_ULL(0)
/* nested_ctl (offset 90h) */
#define SVM_NESTED_CTL_NP_ENABLE BIT_ULL(0)
/* tlb_ctl (offset 5Ch), APM 15.16.1 */
#define TLB_CONTROL_DO_NOTHING		0
#define TLB_CONTROL_FLUSH_ALL_ASID	1
#define TLB_CONTROL_FLUSH_ASID		3
/* event_inj (offset A8h), APM 15.20 */
#define SVM_EVTINJ_VALID	BIT(31)
#define SVM_EVTINJ_VALID_ERR	BIT(11)
#define SVM_EVTINJ_TYPE_INTR	(0 << 8)
#define SVM_EVTINJ_TYPE_NMI	(2 << 8)
#define SVM_EVTINJ_TYPE_EXEPT	(3 << 8)
#define SVM_EVTINJ_TYPE_SOFT	(4 << 8)	/* INT n */
#define SVM_EVTINJ_TYPE_MASK	(7 << 8)
#define SVM_EVTINJ_VEC_MASK	0xff

/* Exit codes, APM appendix C. */
#define SVM_EXIT_WRITE_CR0	0x010
#define SVM_EXIT_WRITE_CR4	0x014
#define SVM_EXIT_READ_DR0	0x020	/* 20h-2Fh: MOV from DR0-DR15 */
#define SVM_EXIT_READ_DR7	0x027
#define SVM_EXIT_WRITE_DR0	0x030	/* 30h-3Fh: MOV to DR0-DR15 */
#define SVM_EXIT_WRITE_DR7	0x037
#define SVM_EXIT_EXCP_BASE	0x040	/* + vector: an intercepted exception */
#define SVM_EXIT_EXCP_DB	(SVM_EXIT_EXCP_BASE + 1)
#define SVM_EXIT_EXCP_AC	(SVM_EXIT_EXCP_BASE + 17)
#define SVM_EXIT_EXCP_MC	(SVM_EXIT_EXCP_BASE + 18)
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_INIT		0x063
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_IRET		0x074
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_TASK_SWITCH	0x07d
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_VMMCALL	0x081
#define SVM_EXIT_VMLOAD		0x082
#define SVM_EXIT_VMSAVE		0x083
#define SVM_EXIT_STGI		0x084
#define SVM_EXIT_CLGI		0x085
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_RDTSCP		0x087
#define SVM_EXIT_ICEBP		0x088
#define SVM_EXIT_WBINVD		0x089
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT		0x08b
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_INVALID	((u64)-1)

/* DR7.GD, general detect (APM Vol 2 13.1.1.5); no kernel header names it. */
#define SVM_DR7_GD		BIT_ULL(13)

/* IOIO exit information 1, APM 15.10.2 figure 15-2. */
#define SVM_IOIO_TYPE_IN	BIT(0)
#define SVM_IOIO_STR		BIT(2)
#define SVM_IOIO_REP		BIT(3)
#define SVM_IOIO_SZ_SHIFT	4	/* bits 6:4: 1, 2 or 4 bytes */
#define SVM_IOIO_ASZ_SHIFT	7	/* bits 9:7: 16, 32 or 64-bit address */
#define SVM_IOIO_PORT_SHIFT	16

/* Nested page fault error code (exit information 1), APM 15.25.6. */
#define SVM_NPF_WRITE		BIT_ULL(1)
#define SVM_NPF_FETCH		BIT_ULL(4)	/* an instruction fetch */

struct __packed vmcb_control_area {
	u32 intercept_cr;		/* 000h: reads 15:0, writes 31:16 */
	u32 intercept_dr;		/* 004h */
	u32 intercept_exceptions;	/* 008h */
	u32 intercept_misc3;		/* 00Ch: vector 3 */
	u32 intercept_misc4;		/* 010h: vector 4 */
	u32 intercept_misc5;		/* 014h: vector 5 */
	u8 reserved_1[0x3c - 0x18];	/* 018h */
	u16 pause_filter_thresh;	/* 03Ch */
	u16 pause_filter_count;		/* 03Eh */
	u64 iopm_base_pa;		/* 040h */
	u64 msrpm_base_pa;		/* 048h */
	u64 tsc_offset;			/* 050h */
	u32 asid;			/* 058h */
	u8 tlb_ctl;			/* 05Ch */
	u8 reserved_2[3];		/* 05Dh */
	u64 int_ctl;			/* 060h */
	u64 int_state;			/* 068h: bit 0 interrupt shadow */
	u64 exit_code;			/* 070h */
	u64 exit_info_1;		/* 078h */
	u64 exit_info_2;		/* 080h */
	u64 exit_int_info;		/* 088h */
	u64 nested_ctl;			/* 090h */
	u64 avic_vapic_bar;		/* 098h */
	u64 ghcb_gpa;			/* 0A0h */
	u32 event_inj;			/* 0A8h */
	u32 event_inj_err;		/* 0ACh */
	u64 nested_cr3;			/* 0B0h */
	u64 virt_ext;			/* 0B8h */
	u32 clean;			/* 0C0h: VMCB clean bits */
	u32 reserved_3;			/* 0C4h */
	u64 next_rip;			/* 0C8h: with NRIP save */
	u8 insn_len;			/* 0D0h: with decode assists */
	u8 insn_bytes[15];		/* 0D1h */
	u8 reserved_4[0x400 - 0xe0];	/* 0E0h */
};

/* Segment attributes pack descriptor bits 15:8 and 23:20 (APM 15.5.1). */
struct __packed vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};

#define SVM_SEG_ATTR_TYPE_MASK	0x000f
#define SVM_SEG_ATTR_S		BIT(4)
#define SVM_SEG_ATTR_DPL_SHIFT	5
#define SVM_SEG_ATTR_P		BIT(7)
#define SVM_SEG_ATTR_AVL	BIT(8)
#define SVM_SEG_ATTR_L		BIT(9)
#define SVM_SEG_ATTR_DB		BIT(10)
#define SVM_SEG_ATTR_G		BIT(11)

struct __packed vmcb_save_area {
	struct vmcb_seg es;		/* 400h */
	struct vmcb_seg cs;		/* 410h */
	struct vmcb_seg ss;		/* 420h */
	struct vmcb_seg ds;		/* 430h */
	struct vmcb_seg fs;		/* 440h */
	struct vmcb_seg gs;		/* 450h */
	struct vmcb_seg gdtr;		/* 460h */
	struct vmcb_seg ldtr;		/* 470h */
	struct vmcb_seg idtr;		/* 480h */
	struct vmcb_seg tr;		/* 490h */
	u8 reserved_1[0xcb - 0xa0];	/* 4A0h */
	u8 cpl;				/* 4CBh */
	u32 reserved_2;			/* 4CCh */
	u64 efer;			/* 4D0h */
	u8 reserved_3[0x148 - 0xd8];	/* 4D8h */
	u64 cr4;			/* 548h */
	u64 cr3;			/* 550h */
	u64 cr0;			/* 558h */
	u64 dr7;			/* 560h */
	u64 dr6;			/* 568h */
	u64 rflags;			/* 570h */
	u64 rip;			/* 578h */
	u8 reserved_4[0x1d8 - 0x180];	/* 580h */
	u64 rsp;			/* 5D8h */
	u64 s_cet;			/* 5E0h */
	u64 ssp;			/* 5E8h */
	u64 isst_addr;			/* 5F0h */
	u64 rax;			/* 5F8h */
	u64 star;			/* 600h */
	u64 lstar;			/* 608h */
	u64 cstar;			/* 610h */
	u64 sfmask;			/* 618h */
	u64 kernel_gs_base;		/* 620h */
	u64 sysenter_cs;		/* 628h */
	u64 sysenter_esp;		/* 630h */
	u64 sysenter_eip;		/* 638h */
	u64 cr2;			/* 640h */
	u8 reserved_5[0x268 - 0x248];	/* 648h */
	u64 g_pat;			/* 668h */
	u64 dbgctl;			/* 670h */
	u64 br_from;			/* 678h */
	u64 br_to;			/* 680h */
	u64 last_excp_from;		/* 688h */
	u64 last_excp_to;		/* 690h */
	u8 reserved_6[0xc00 - 0x298];	/* 698h, to the end of the page */
};

struct __packed vmcb {
	struct vmcb_control_area control;
	struct vmcb_save_area save;
};

#define VMCB_CTRL(f)	offsetof(struct vmcb_control_area, f)
#define VMCB_SAVE(f)	(0x400 + offsetof(struct vmcb_save_area, f))
static_assert(sizeof(struct vmcb) == 4096);
static_assert(VMCB_CTRL(intercept_misc3) == 0x00c);
static_assert(VMCB_CTRL(intercept_misc4) == 0x010);
static_assert(VMCB_CTRL(pause_filter_thresh) == 0x03c);
static_assert(VMCB_CTRL(iopm_base_pa) == 0x040);
static_assert(VMCB_CTRL(msrpm_base_pa) == 0x048);
static_assert(VMCB_CTRL(tsc_offset) == 0x050);
static_assert(VMCB_CTRL(asid) == 0x058);
static_assert(VMCB_CTRL(tlb_ctl) == 0x05c);
static_assert(VMCB_CTRL(int_ctl) == 0x060);
static_assert(VMCB_CTRL(int_state) == 0x068);
static_assert(VMCB_CTRL(exit_code) == 0x070);
static_assert(VMCB_CTRL(exit_info_1) == 0x078);
static_assert(VMCB_CTRL(exit_info_2) == 0x080);
static_assert(VMCB_CTRL(exit_int_info) == 0x088);
static_assert(VMCB_CTRL(nested_ctl) == 0x090);
static_assert(VMCB_CTRL(event_inj) == 0x0a8);
static_assert(VMCB_CTRL(nested_cr3) == 0x0b0);
static_assert(VMCB_CTRL(virt_ext) == 0x0b8);
static_assert(VMCB_CTRL(clean) == 0x0c0);
static_assert(VMCB_CTRL(next_rip) == 0x0c8);
static_assert(VMCB_CTRL(insn_len) == 0x0d0);
static_assert(VMCB_SAVE(es) == 0x400);
static_assert(VMCB_SAVE(cs) == 0x410);
static_assert(VMCB_SAVE(gdtr) == 0x460);
static_assert(VMCB_SAVE(tr) == 0x490);
static_assert(VMCB_SAVE(cpl) == 0x4cb);
static_assert(VMCB_SAVE(efer) == 0x4d0);
static_assert(VMCB_SAVE(cr4) == 0x548);
static_assert(VMCB_SAVE(cr3) == 0x550);
static_assert(VMCB_SAVE(cr0) == 0x558);
static_assert(VMCB_SAVE(dr7) == 0x560);
static_assert(VMCB_SAVE(rflags) == 0x570);
static_assert(VMCB_SAVE(rip) == 0x578);
static_assert(VMCB_SAVE(rsp) == 0x5d8);
static_assert(VMCB_SAVE(rax) == 0x5f8);
static_assert(VMCB_SAVE(star) == 0x600);
static_assert(VMCB_SAVE(kernel_gs_base) == 0x620);
static_assert(VMCB_SAVE(sysenter_eip) == 0x638);
static_assert(VMCB_SAVE(cr2) == 0x640);
static_assert(VMCB_SAVE(g_pat) == 0x668);
static_assert(VMCB_SAVE(last_excp_to) == 0x690);

/* vmenter.S */
int __svm_vcpu_run(u64 vmcb_pa, unsigned long *regs, u64 host_save_pa);

#endif /* MINIHV_SVM_VMCB_H */

/* SPDX-License-Identifier: MIT */
/* AMD SVM architectural definitions (AMD APM vol. 2, ch. 15 and appendix B). */
#ifndef KEEL_SVM_H
#define KEEL_SVM_H

#include <keel/lib.h>
#include <keel/msr.h>

/* CPUID Fn8000_000A EDX */
#define SVM_FEAT_NPT		(1u << 0)
#define SVM_FEAT_LBRV		(1u << 1)
#define SVM_FEAT_NRIPS		(1u << 3)
#define SVM_FEAT_VMCB_CLEAN	(1u << 5)
#define SVM_FEAT_FLUSH_BY_ASID	(1u << 6)
#define SVM_FEAT_DECODE_ASSISTS (1u << 7)
#define SVM_FEAT_VGIF		(1u << 16)

/* Intercept vector 3 (offset 0x00C) */
#define INTERCEPT_INTR	      (1u << 0)
#define INTERCEPT_NMI	      (1u << 1)
#define INTERCEPT_SMI	      (1u << 2)
#define INTERCEPT_INIT	      (1u << 3)
#define INTERCEPT_VINTR	      (1u << 4)
#define INTERCEPT_CPUID	      (1u << 18)
#define INTERCEPT_IRET	      (1u << 20)
#define INTERCEPT_INVD	      (1u << 22)
#define INTERCEPT_PAUSE	      (1u << 23)
#define INTERCEPT_HLT	      (1u << 24)
#define INTERCEPT_INVLPGA     (1u << 26)
#define INTERCEPT_IOIO	      (1u << 27)
#define INTERCEPT_MSR	      (1u << 28)
#define INTERCEPT_TASK_SWITCH (1u << 29)
#define INTERCEPT_SHUTDOWN    (1u << 31)
/* DR intercepts (offset 0x004): reads of DR0-DR7, writes in bits 16-23 */
#define INTERCEPT_DR0_7_RW 0x00FF00FFu
/* Exception intercepts (offset 0x008): one bit per vector */
#define INTERCEPT_EXC(v) (1u << (v))
/* Intercept vector 4 (offset 0x010) */
#define INTERCEPT_VMRUN	  (1u << 0)
#define INTERCEPT_VMMCALL (1u << 1)
#define INTERCEPT_VMLOAD  (1u << 2)
#define INTERCEPT_VMSAVE  (1u << 3)
#define INTERCEPT_STGI	  (1u << 4)
#define INTERCEPT_CLGI	  (1u << 5)
#define INTERCEPT_SKINIT  (1u << 6)
#define INTERCEPT_ICEBP	  (1u << 8)
#define INTERCEPT_MONITOR (1u << 10)
#define INTERCEPT_MWAIT	  (1u << 11)
#define INTERCEPT_XSETBV  (1u << 13)

#define TLB_CONTROL_NONE       0
#define TLB_CONTROL_FLUSH_ALL  1
#define TLB_CONTROL_FLUSH_ASID 3

#define V_IRQ		    (1ULL << 8)
#define V_INTR_PRIO_SHIFT   16
#define V_IGN_TPR	    (1ULL << 20)
#define V_INTR_MASKING	    (1ULL << 24)
#define V_INTR_VECTOR_SHIFT 32

#define INT_SHADOW (1ULL << 0)

#define EVENTINJ_VALID	   (1ULL << 31)
#define EVENTINJ_ERR_VALID (1ULL << 11)
#define EVENTINJ_TYPE_MASK (7ULL << 8)
#define EVENTINJ_TYPE_INTR (0ULL << 8)
#define EVENTINJ_TYPE_NMI  (2ULL << 8)
#define EVENTINJ_TYPE_EXC  (3ULL << 8)
#define EVENTINJ_TYPE_SOFT (4ULL << 8)

#define NP_ENABLE (1ULL << 0)

/* Exit codes (APM vol. 2 appendix C). */
#define SVM_EXIT_DR_BASE     0x20 /* 0x20-0x2F reads, 0x30-0x3F writes */
#define SVM_EXIT_DR_END	     0x40
#define SVM_EXIT_EXCP_BASE   0x40
#define SVM_EXIT_INTR	     0x60
#define SVM_EXIT_NMI	     0x61
#define SVM_EXIT_SMI	     0x62
#define SVM_EXIT_INIT	     0x63
#define SVM_EXIT_VINTR	     0x64
#define SVM_EXIT_CPUID	     0x72
#define SVM_EXIT_IRET	     0x74
#define SVM_EXIT_PAUSE	     0x77
#define SVM_EXIT_HLT	     0x78
#define SVM_EXIT_INVLPGA     0x7A
#define SVM_EXIT_IOIO	     0x7B
#define SVM_EXIT_MSR	     0x7C
#define SVM_EXIT_TASK_SWITCH 0x7D
#define SVM_EXIT_SHUTDOWN    0x7F
#define SVM_EXIT_VMRUN	     0x80
#define SVM_EXIT_VMMCALL     0x81
#define SVM_EXIT_VMLOAD	     0x82
#define SVM_EXIT_VMSAVE	     0x83
#define SVM_EXIT_STGI	     0x84
#define SVM_EXIT_CLGI	     0x85
#define SVM_EXIT_SKINIT	     0x86
#define SVM_EXIT_ICEBP	     0x88
#define SVM_EXIT_MONITOR     0x8A
#define SVM_EXIT_MWAIT	     0x8B
#define SVM_EXIT_XSETBV	     0x8D
#define SVM_EXIT_NPF	     0x400
#define SVM_EXIT_INVALID     ((uint64_t)-1)

/* IOIO EXITINFO1 */
#define IOIO_TYPE_IN	(1u << 0)
#define IOIO_STR	(1u << 2)
#define IOIO_REP	(1u << 3)
#define IOIO_SZ_SHIFT	4
#define IOIO_PORT_SHIFT 16

/* NPF EXITINFO1 (a #PF error code) */
#define NPF_PRESENT (1ULL << 0)
#define NPF_WRITE   (1ULL << 1)
#define NPF_FETCH   (1ULL << 4)

struct vmcb_seg {
	uint16_t sel;
	uint16_t attr;
	uint32_t limit;
	uint64_t base;
} __packed;

struct vmcb {
	/* Control area, offset 0x000 */
	uint32_t intercept_cr;
	uint32_t intercept_dr;
	uint32_t intercept_exc;
	uint32_t intercept_misc1;
	uint32_t intercept_misc2;
	uint32_t intercept_misc3;
	uint8_t reserved_018[0x03C - 0x018];
	uint16_t pause_filter_thresh;
	uint16_t pause_filter_count;
	uint64_t iopm_base_pa;
	uint64_t msrpm_base_pa;
	uint64_t tsc_offset;
	uint32_t asid;
	uint8_t tlb_control;
	uint8_t reserved_05d[3];
	uint64_t vintr;
	uint64_t interrupt_shadow;
	uint64_t exitcode;
	uint64_t exitinfo1;
	uint64_t exitinfo2;
	uint64_t exitintinfo;
	uint64_t np_control;
	uint64_t avic_apic_bar;
	uint64_t ghcb_pa;
	uint64_t eventinj;
	uint64_t n_cr3;
	uint64_t virt_ext;
	uint32_t clean_bits;
	uint32_t reserved_0c4;
	uint64_t next_rip;
	uint8_t insn_len;
	uint8_t insn_bytes[15];
	uint8_t reserved_0e0[0x400 - 0x0E0];
	/* State save area, offset 0x400 */
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr;
	uint8_t reserved_4a0[0x4CB - 0x4A0];
	uint8_t cpl;
	uint32_t reserved_4cc;
	uint64_t efer;
	uint8_t reserved_4d8[0x548 - 0x4D8];
	uint64_t cr4;
	uint64_t cr3;
	uint64_t cr0;
	uint64_t dr7;
	uint64_t dr6;
	uint64_t rflags;
	uint64_t rip;
	uint8_t reserved_580[0x5D8 - 0x580];
	uint64_t rsp;
	uint8_t reserved_5e0[0x5F8 - 0x5E0];
	uint64_t rax;
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2;
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;
	uint64_t dbgctl;
	uint8_t reserved_678[0x1000 - 0x678];
} __packed;

_Static_assert(offsetof(struct vmcb, iopm_base_pa) == 0x040, "vmcb layout");
_Static_assert(offsetof(struct vmcb, vintr) == 0x060, "vmcb layout");
_Static_assert(offsetof(struct vmcb, eventinj) == 0x0A8, "vmcb layout");
_Static_assert(offsetof(struct vmcb, n_cr3) == 0x0B0, "vmcb layout");
_Static_assert(offsetof(struct vmcb, next_rip) == 0x0C8, "vmcb layout");
_Static_assert(offsetof(struct vmcb, es) == 0x400, "vmcb layout");
_Static_assert(offsetof(struct vmcb, tr) == 0x490, "vmcb layout");
_Static_assert(offsetof(struct vmcb, cpl) == 0x4CB, "vmcb layout");
_Static_assert(offsetof(struct vmcb, efer) == 0x4D0, "vmcb layout");
_Static_assert(offsetof(struct vmcb, cr4) == 0x548, "vmcb layout");
_Static_assert(offsetof(struct vmcb, rip) == 0x578, "vmcb layout");
_Static_assert(offsetof(struct vmcb, rsp) == 0x5D8, "vmcb layout");
_Static_assert(offsetof(struct vmcb, rax) == 0x5F8, "vmcb layout");
_Static_assert(offsetof(struct vmcb, cr2) == 0x640, "vmcb layout");
_Static_assert(offsetof(struct vmcb, g_pat) == 0x668, "vmcb layout");
_Static_assert(sizeof(struct vmcb) == 0x1000, "vmcb size");

/*
 * VMRUN with the guest GPRs in gpr[] (RAX/RSP travel in the VMCB); stores
 * Keel's RSP at the VMRUN in *host_rsp. svm_vmrun_exit is the instruction
 * after the VMRUN.
 */
void svm_vmrun(uint64_t vmcb_pa, uint64_t *gpr, uint64_t host_vmcb_pa,
	       uint64_t *host_rsp);
extern const char svm_vmrun_exit[];

#endif

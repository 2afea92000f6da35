/* SPDX-License-Identifier: MIT */
/* Architectural x86 constants (Intel SDM vol. 3A, AMD APM vol. 2). */
#ifndef KEEL_X86_H
#define KEEL_X86_H

#include <keel/msr.h>

#define X86_CR0_PE (1UL << 0)
#define X86_CR0_MP (1UL << 1)
#define X86_CR0_EM (1UL << 2)
#define X86_CR0_TS (1UL << 3)
#define X86_CR0_ET (1UL << 4)
#define X86_CR0_NE (1UL << 5)
#define X86_CR0_WP (1UL << 16)
#define X86_CR0_AM (1UL << 18)
#define X86_CR0_NW (1UL << 29)
#define X86_CR0_CD (1UL << 30)
#define X86_CR0_PG (1UL << 31)

#define X86_CR4_VME	   (1UL << 0)
#define X86_CR4_PVI	   (1UL << 1)
#define X86_CR4_TSD	   (1UL << 2)
#define X86_CR4_DE	   (1UL << 3)
#define X86_CR4_PSE	   (1UL << 4)
#define X86_CR4_PAE	   (1UL << 5)
#define X86_CR4_MCE	   (1UL << 6)
#define X86_CR4_PGE	   (1UL << 7)
#define X86_CR4_PCE	   (1UL << 8)
#define X86_CR4_OSFXSR	   (1UL << 9)
#define X86_CR4_OSXMMEXCPT (1UL << 10)
#define X86_CR4_UMIP	   (1UL << 11)
#define X86_CR4_FSGSBASE   (1UL << 16)
#define X86_CR4_PCIDE	   (1UL << 17)
#define X86_CR4_OSXSAVE	   (1UL << 18)
#define X86_CR4_SMEP	   (1UL << 20)
#define X86_CR4_SMAP	   (1UL << 21)
#define X86_CR4_PKE	   (1UL << 22)

/* CPUID feature bits that allow the CR4 bits above (SDM vol. 2A, CPUID). */
#define CPUID_1_EDX_VME	     (1u << 1)
#define CPUID_1_EDX_DE	     (1u << 2)
#define CPUID_1_EDX_PSE	     (1u << 3)
#define CPUID_1_EDX_PAE	     (1u << 6)
#define CPUID_1_EDX_MCE	     (1u << 7)
#define CPUID_1_EDX_PGE	     (1u << 13)
#define CPUID_1_EDX_FXSR     (1u << 24)
#define CPUID_1_EDX_SSE	     (1u << 25)
#define CPUID_1_ECX_PCID     (1u << 17)
#define CPUID_1_ECX_XSAVE    (1u << 26)
#define CPUID_7_EBX_FSGSBASE (1u << 0)
#define CPUID_7_EBX_SMEP     (1u << 7)
#define CPUID_7_EBX_SMAP     (1u << 20)
#define CPUID_7_ECX_UMIP     (1u << 2)
#define CPUID_7_ECX_PKU	     (1u << 3)

#define EFER_SCE  (1UL << 0)
#define EFER_LME  (1UL << 8)
#define EFER_LMA  (1UL << 10)
#define EFER_NXE  (1UL << 11)
#define EFER_SVME (1UL << 12)

#define X86_RFLAGS_TF (1UL << 8)
#define X86_RFLAGS_IF (1UL << 9)
#define X86_RFLAGS_VM (1UL << 17)
/* Bit 1 reads as 1; what may be set besides (SDM vol. 1 §3.4.3): CF, PF,
 * AF, ZF, SF, TF, IF, DF, OF, IOPL, NT, RF, VM, AC, VIF, VIP, ID. */
#define X86_RFLAGS_FIXED1  (1UL << 1)
#define X86_RFLAGS_DEFINED 0x3F7FD5UL

#define GDT_CS64 0x08
#define GDT_DS	 0x10
#define GDT_CS32 0x18
#define GDT_TSS	 0x20

/* Page-table entry bits, shared by host paging and AMD NPT (same format). */
#define PTE_P	      (1ULL << 0)
#define PTE_W	      (1ULL << 1)
#define PTE_U	      (1ULL << 2)
#define PTE_PWT	      (1ULL << 3)
#define PTE_PCD	      (1ULL << 4)
#define PTE_A	      (1ULL << 5)
#define PTE_D	      (1ULL << 6)
#define PTE_PS	      (1ULL << 7)
#define PTE_G	      (1ULL << 8)
#define PTE_NX	      (1ULL << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL

#endif

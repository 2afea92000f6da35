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

#define X86_CR4_PAE	   (1UL << 5)
#define X86_CR4_PGE	   (1UL << 7)
#define X86_CR4_OSFXSR	   (1UL << 9)
#define X86_CR4_OSXMMEXCPT (1UL << 10)
#define X86_CR4_OSXSAVE	   (1UL << 18)

#define EFER_SCE  (1UL << 0)
#define EFER_LME  (1UL << 8)
#define EFER_LMA  (1UL << 10)
#define EFER_NXE  (1UL << 11)
#define EFER_SVME (1UL << 12)

#define X86_RFLAGS_TF (1UL << 8)
#define X86_RFLAGS_IF (1UL << 9)

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

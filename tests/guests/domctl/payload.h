/* SPDX-License-Identifier: MIT */
/* The DomU payload's layout and modes, shared by payload.S and domctl.c. */
#ifndef DOMCTL_PAYLOAD_H
#define DOMCTL_PAYLOAD_H

/* What the DomU does (its RDI at entry). */
#define DOMU_HELLO     0 /* prints a line, powers off */
#define DOMU_COUNT     1 /* increments DOMU_COUNTER_GPA forever */
#define DOMU_TRIPLE    2 /* triple fault */
#define DOMU_OUTSIDE   3 /* reads DOMU_OUTSIDE_GPA, which it was not given */
#define DOMU_RESET     4 /* writes the reset register */
#define DOMU_IO	       5 /* unclaimed port and MMIO, then powers off */
#define DOMU_ECHO      6 /* echoes a line of COM1 input, powers off */
#define DOMU_AP	       7 /* starts vCPU 1 by INIT/SIPI, powers off */
#define DOMU_HYPERCALL 8 /* a privileged and an open hypercall */
#define DOMU_ESCAPE    9 /* prints control bytes, powers off */

/* Guest-physical layout inside the DomU's first 2 MiB. */
#define DOMU_PML4_GPA	    0x1000
#define DOMU_PDPT_GPA	    0x2000
#define DOMU_PD0_GPA	    0x3000 /* 0 - 1 GiB */
#define DOMU_PD1_GPA	    0x4000 /* 1 - 2 GiB */
#define DOMU_PD3_GPA	    0x5000 /* 3 - 4 GiB */
#define DOMU_GDT_GPA	    0x6000
#define DOMU_COUNTER_GPA    0x8000
#define DOMU_RESULT_GPA	    0x8008 /* three quadwords */
#define DOMU_AP_FLAG_GPA    0x8040
#define DOMU_TRAMPOLINE_GPA 0x9000
#define DOMU_PAYLOAD_GPA    0x10000
#define DOMU_STACK_TOP	    0x20000
#define DOMU_RAM_SIZE	    0x200000

#define DOMU_OUTSIDE_GPA    0x40000000 /* 1 GiB: mapped by its page tables */
#define DOMU_UNCLAIMED_PORT 0x80
#define DOMU_UNCLAIMED_MMIO 0xc0001000
#define DOMU_AP_MAGIC	    0x1234

/* KEEL_HC_BASE + n, for the assembler. */
#define KEEL_HC_VERSION_NR	 0x4B450000
#define KEEL_HC_DOMAIN_CREATE_NR 0x4B450002

/* GDT selectors the boot state names. */
#define DOMU_SEL_CODE 0x08
#define DOMU_SEL_DATA 0x10

#endif

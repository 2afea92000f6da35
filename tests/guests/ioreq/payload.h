/* SPDX-License-Identifier: MIT */
/* The ioreq guest's DomU: layout and modes, shared by payload.S and ioreq.c. */
#ifndef IOREQ_PAYLOAD_H
#define IOREQ_PAYLOAD_H

/* What the DomU does (its RDI at entry). */
#define DOMU_SEQUENCE 0 /* the accesses ioreq.c's script expects */
#define DOMU_WAIT     1 /* one MMIO read into RESULT, then powers off */
#define DOMU_BENCH    2 /* times MMIO reads: kl-ioreq-dm --bench */

/* Guest-physical layout inside the DomU's first 2 MiB. */
#define DOMU_PML4_GPA	 0x1000
#define DOMU_PDPT_GPA	 0x2000
#define DOMU_PD0_GPA	 0x3000 /* 0 - 1 GiB */
#define DOMU_PD3_GPA	 0x5000 /* 3 - 4 GiB */
#define DOMU_GDT_GPA	 0x6000
#define DOMU_IDT_GPA	 0x7000
#define DOMU_RESULT_GPA	 0x8000 /* DOMU_NR_RESULTS quadwords */
#define DOMU_NR_RESULTS	 13
#define DOMU_IRQ_COUNT	 0x8100
#define DOMU_PAYLOAD_GPA 0x10000
/* DOMU_BENCH: RESULT[0] = the TSC kHz (CPUID 0x40000010), then TSC cycles
 * per read: DOMU_BENCH_READS of DOMU_BENCH_REG, then as many of the
 * vIOAPIC's version register (Keel's own). */
#define DOMU_BENCH_GPA	 0x100000
#define DOMU_BENCH_READS 1000
#define DOMU_BENCH_REG	 0x40 /* offset in the MMIO range */
#define DOMU_STACK_TOP	 0x20000
#define DOMU_RAM_SIZE	 0x200000

/* The ranges Dom0 registers, and addresses nobody claims. */
#define DOMU_MMIO_BASE	    0xD0000000
#define DOMU_MMIO_LEN	    0x1000
#define DOMU_MARK_OFFSET    0x800 /* 8-byte writes: where the DomU is */
#define DOMU_DOORBELL	    0xD0001050
#define DOMU_PORT_BASE	    0x700
#define DOMU_PORT_LEN	    8
#define DOMU_UNCLAIMED_MMIO 0xC0002000
#define DOMU_UNCLAIMED_PORT 0x80
#define DOMU_MARK_DOORBELLS 1 /* after two doorbell writes (3 and 5) */
#define DOMU_MARK_IRQ	    2 /* Dom0 pulses the line before it answers */
#define DOMU_MARK_REMOVED   3 /* Dom0 removes the port range first */
#define DOMU_IRQ_GSI	    5
#define DOMU_IRQ_VECTOR	    0x40

/* GDT selectors the boot state names. */
#define DOMU_SEL_CODE 0x08
#define DOMU_SEL_DATA 0x10

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Per-physical-CPU data. %gs points at this CPU's struct percpu (GS base
 * is host state that VMRUN does not restore, so the SVM loop reloads it
 * with VMLOAD after every exit).
 */
#ifndef KEEL_PERCPU_H
#define KEEL_PERCPU_H

#include <keel/lib.h>

#define MAX_CPUS       64
#define STACK_SIZE     (16 * 1024)
#define IST_STACK_SIZE (8 * 1024)

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct vcpu;

struct percpu {
	struct percpu *self; /* at offset 0: %gs:0 */
	unsigned cpu;	     /* logical index, 0 = boot CPU */
	uint32_t apic_id;
	uint64_t gdt[8] __aligned(16);
	struct tss tss __aligned(16);
	struct vcpu *current; /* vCPU running or about to run here */
	void *arch;	      /* vendor per-CPU state (host save area) */
	uint64_t irq_count[256];
	uint64_t timer_deadline; /* TSC of the next programmed Keel timer */
	uint64_t timer_late;	 /* TSC cycles its latest interrupt came late */
	uint64_t timer_late_max; /* and the most it ever came late */
	uint64_t exits; /* guest exits taken here: TLB shootdown waits on it */
	/* Passes of the vCPU loop begun here: domain_destroy() waits for
	 * each CPU to begin one (vcpu_loop_quiesce()). */
	uint64_t loop_passes;
	/* The vCPU loop's watch on itself (vcpu_loop.c, debug key 't'). */
	uint64_t pass_tsc;    /* TSC when its latest pass began */
	uint64_t longest_gap; /* TSC cycles, the longest between passes */
	uint64_t watch_due;   /* TSC of its next look at the others */
	uint64_t stall_seen;  /* pass_tsc of its last stall reported */
	uint64_t stalls;      /* stalls another CPU reported and kicked */
	bool online;
};

extern struct percpu percpu_area[MAX_CPUS];
extern unsigned nr_cpus_online;

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

void percpu_init(unsigned cpu, uint32_t apic_id);

#endif

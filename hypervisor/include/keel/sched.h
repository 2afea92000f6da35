/* SPDX-License-Identifier: MIT */
/*
 * The scheduler core: per-physical-CPU run queues of vCPUs and the loop
 * every physical CPU runs. Policies (sched/rr.c, ...) only choose.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <keel/domain.h>

struct sched_policy {
	const char *name;
	/* Next vCPU to run on cpu among its runnable ones, or NULL. */
	struct vcpu *(*pick)(unsigned cpu);
	void (*add)(struct vcpu *v, unsigned cpu);
	/* Nanoseconds the picked vCPU may run before the next decision. */
	uint64_t (*timeslice)(struct vcpu *v);
};

void sched_init(const char *cmdline);
void sched_add_vcpu(struct vcpu *v, unsigned cpu);
__noreturn void sched_loop(void);

/* Makes a blocked vCPU runnable and pokes its physical CPU. */
void vcpu_wake(struct vcpu *v);
/* INIT and STARTUP IPIs delivered to a vCPU (SDM vol. 3A §8.4). */
void vcpu_init_signal(struct vcpu *v);
void vcpu_startup_ipi(struct vcpu *v, uint8_t vector);

extern const struct sched_policy sched_rr;

#endif

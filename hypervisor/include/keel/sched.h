/* SPDX-License-Identifier: MIT */
/*
 * The scheduler core: the glue between vCPU state changes, the loop every
 * physical CPU runs (vcpu_loop.h) and the policy (sched_policy.h) that
 * decides what runs where.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <keel/domain.h>
#include <keel/sched_policy.h>

extern const struct sched_policy *sched;

/* What the boot command line asked of the scheduler. */
struct sched_params {
	const char *policy;    /* "credit" or "rr"; NULL or "": credit */
	uint64_t timeslice_ns; /* 0: the policy's default */
	uint64_t ratelimit_ns;
	bool ratelimit_set; /* else the policy's default, capped by the slice */
};

/* Starts the policy; falls back to its defaults if p is rejected. */
void sched_init(const struct sched_params *p);
/* Hands a vCPU of a running domain to the scheduler. */
void sched_add_vcpu(struct vcpu *v);
/* The policy's decision for cpu (the calling CPU) now; prev as in
 * sched_policy.schedule(). */
struct sched_decision sched_schedule(unsigned cpu, struct vcpu *prev);
/* Whether the policy kicked cpu since its last sched_schedule(): decide
 * again before entering a guest or halting. */
bool sched_kicked(unsigned cpu);
/* The debug console's 'r' key. */
void sched_dump(void);

/* Makes a blocked vCPU runnable and makes sure it notices new events. */
void vcpu_wake(struct vcpu *v);
/* Takes a vCPU that blocked, went down or stopped off the run queues. */
void vcpu_sleep(struct vcpu *v);
/* INIT and STARTUP IPIs delivered to a vCPU (SDM vol. 3A §8.4). */
void vcpu_init_signal(struct vcpu *v);
void vcpu_startup_ipi(struct vcpu *v, uint8_t vector);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The scheduler core: the loop every physical CPU runs, and the glue
 * between vCPU state changes and the policy (sched_policy.h) that decides
 * what runs where.
 */
#ifndef KEEL_SCHED_H
#define KEEL_SCHED_H

#include <keel/domain.h>
#include <keel/sched_policy.h>

extern const struct sched_policy *sched;

/* Picks the policy (sched=credit|rr), timeslice (sched_tslice_ms=) and
 * rate limit (sched_ratelimit_us=) from Keel's command line. */
void sched_init(const char *cmdline);
/* Hands a vCPU of a running domain to the scheduler. */
void sched_add_vcpu(struct vcpu *v);
__noreturn void sched_loop(void);
/* Returns once no other CPU runs d on translations from before the call
 * (TLB shootdown after a p2m change that removed or narrowed access). */
void sched_evict_domain(const struct domain *d);
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

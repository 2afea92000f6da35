/* SPDX-License-Identifier: MIT */
/* The loop every physical CPU runs: schedule, enter a vCPU, handle its exit. */
#ifndef KEEL_VCPU_LOOP_H
#define KEEL_VCPU_LOOP_H

#include <keel/domain.h>

/* Entered by each CPU once it is up; waits for sched_init() first. */
__noreturn void vcpu_loop(void);
/* Returns once no other CPU runs d on translations from before the call
 * (TLB shootdown after a p2m change that removed or narrowed access).
 * `unlocked`: the caller holds no lock, so the wait takes interrupts. */
void vcpu_loop_evict_domain(const struct domain *d, bool unlocked);
/*
 * One step of a wait for another CPU, for a caller that holds no lock:
 * takes pending interrupts (a kick, a request to release a VMCS) so that
 * a CPU waiting for this one in turn makes progress, then pauses.
 */
void vcpu_loop_wait_step(void);
/*
 * Returns once every other CPU has begun a new pass of its loop, so none
 * still uses a domain (or vCPU) that was unlisted and descheduled before
 * the call: a pass holds such pointers only until it ends. Holds no lock
 * and must be called with none held (see vcpu_loop_wait_step()).
 */
void vcpu_loop_quiesce(void);

#endif

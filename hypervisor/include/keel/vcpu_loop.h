/* SPDX-License-Identifier: MIT */
/* The loop every physical CPU runs: schedule, enter a vCPU, handle its exit. */
#ifndef KEEL_VCPU_LOOP_H
#define KEEL_VCPU_LOOP_H

#include <keel/domain.h>

/* Entered by each CPU once it is up; waits for sched_init() first. */
__noreturn void vcpu_loop(void);
/* Returns once no other CPU runs d on translations from before the call
 * (TLB shootdown after a p2m change that removed or narrowed access). */
void vcpu_loop_evict_domain(const struct domain *d);

#endif

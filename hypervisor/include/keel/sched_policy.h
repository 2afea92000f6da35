/* SPDX-License-Identifier: MIT */
/*
 * The interface between the scheduler core (sched/core.c) and a scheduling
 * policy (sched/credit.c, sched/round_robin.c). The core owns the loop each
 * physical CPU runs, time and interrupts; the policy owns run queues,
 * placement, priorities and per-vCPU/per-domain scheduling state. The
 * policy is chosen once at boot with sched= on Keel's command line.
 *
 * Calling rules, for every operation:
 *  - with interrupts disabled (as all of Keel runs); the policy's locks are
 *    plain spinlocks, so an interrupt handler may call vcpu_wake() only if it
 *    cannot interrupt a scheduler operation on the same CPU;
 *  - vcpu_remove() must not race with any other operation on the same vCPU,
 *    and no operation may be called for a vCPU after its removal;
 *  - vcpu_wake() and vcpu_sleep() on a vCPU the policy does not know (not
 *    inserted yet, or removed) are ignored.
 *
 * The policy asks a physical CPU to call schedule() soon by calling the
 * kick() the core passed to init(): for another CPU, an IPI whose exit (or
 * wake from HLT) leads to schedule(); for the calling CPU, a note that it
 * must call schedule() again before it enters a guest or halts. kick() may
 * be called with policy locks held, so it must take no scheduler lock.
 */
#ifndef KEEL_SCHED_POLICY_H
#define KEEL_SCHED_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct domain;

/* A slice that never expires: the CPU waits for a kick. */
#define SCHED_SLICE_NONE UINT64_MAX

/* Xen's default domain weight; weights range over [1, 65535]. */
#define SCHED_DEFAULT_WEIGHT 256
#define SCHED_MAX_WEIGHT     65535
/* Accepted timeslices; the rate limit ranges over [0, timeslice]. */
#define SCHED_MIN_TIMESLICE_NS 1000000ULL    /* 1 ms */
#define SCHED_MAX_TIMESLICE_NS 1000000000ULL /* 1 s */

struct sched_config {
	unsigned nr_cpus; /* CPUs 0 .. nr_cpus-1 run sched loops; <= 64 */
	uint64_t timeslice_ns;
	/* A running vCPU is not preempted by a waiting one of higher
	 * priority before it ran this long (it still yields when it blocks,
	 * or when its domain's cap parks it). */
	uint64_t ratelimit_ns;
	/* Makes cpu call schedule() soon: an IPI, or nothing for this CPU. */
	void (*kick)(unsigned cpu);
};

struct sched_decision {
	struct vcpu *next; /* NULL: nothing to run, halt */
	/* Call schedule() again at the latest this many ns after now, or on
	 * a kick, or after any exit of next; SCHED_SLICE_NONE: only then. */
	uint64_t slice_ns;
};

struct sched_policy {
	const char *name; /* the sched= value: "credit" or "rr" */
	uint64_t default_timeslice_ns;
	uint64_t default_ratelimit_ns;

	/* Resets all policy state. -EINVAL for a CPU count outside
	 * [1, MAX_CPUS], a timeslice outside [SCHED_MIN_TIMESLICE_NS,
	 * SCHED_MAX_TIMESLICE_NS] or a rate limit above the timeslice. */
	int (*init)(const struct sched_config *cfg);

	/* Makes v known, not runnable, on a CPU of its (all-CPU) affinity,
	 * with v->pcpu set; its domain gets the default weight and no cap
	 * when this is its first vCPU. -ENOMEM, or -EINVAL for ids beyond
	 * MAX_DOMAINS/MAX_VCPUS, -EEXIST if already inserted. */
	int (*vcpu_insert)(struct vcpu *v);
	/* Forgets v; -EBUSY while a CPU still runs it (kick v->pcpu and call
	 * schedule() there first), -ENOENT if unknown. Forgets its domain's
	 * parameters when this was its last vCPU. */
	int (*vcpu_remove)(struct vcpu *v);

	/* v became runnable (woken from HLT, unpaused, started by SIPI) /
	 * stopped being runnable (blocked in HLT, paused, crashed, down).
	 * Idempotent. The policy kicks whichever CPU should reschedule. */
	void (*vcpu_wake)(struct vcpu *v);
	void (*vcpu_sleep)(struct vcpu *v);

	/*
	 * The decision for cpu at now_ns (monotonic, the same clock on every
	 * CPU). prev is the vCPU the previous decision on this CPU returned
	 * (NULL if it returned none); the policy charges it for the time
	 * since then. Returning prev again means "keep running it". A
	 * returned vCPU runs on cpu only, until the next schedule() on cpu.
	 */
	struct sched_decision (*schedule)(unsigned cpu, uint64_t now_ns,
					  struct vcpu *prev);

	/* Weight in [1, SCHED_MAX_WEIGHT]; cap in percent of one CPU, 0 for
	 * none, at most 100 * nr_cpus. -EOPNOTSUPP for a policy without
	 * weights, -ESRCH for a domain with no inserted vCPU. */
	int (*set_params)(struct domain *d, unsigned weight, unsigned cap);
	int (*get_params)(const struct domain *d, unsigned *weight,
			  unsigned *cap);

	/* Hard affinity: bit n allows CPU n. Bits of CPUs beyond nr_cpus are
	 * dropped; -EINVAL if no allowed CPU remains, -ENOENT if unknown.
	 * A running vCPU leaves a forbidden CPU at its next schedule(). */
	int (*set_affinity)(struct vcpu *v, uint64_t cpumask);
	/* The mask in force, 0 for an unknown vCPU. */
	uint64_t (*get_affinity)(const struct vcpu *v);

	/* printk()s cpu's run queue: the running vCPU, then every vCPU
	 * placed on cpu with its state, run time and policy parameters. */
	void (*dump)(unsigned cpu);
};

extern const struct sched_policy sched_credit;
extern const struct sched_policy sched_round_robin;

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Per-physical-CPU run queues shared by the scheduling policies: placement
 * under hard affinity, wake-up and sleep, migration, stealing by idle CPUs
 * and the keep-or-switch decision. A policy supplies priorities and its own
 * accounting through struct runq_rules and embeds struct sched_unit in its
 * per-vCPU record.
 *
 * Locking. Each run queue has a spinlock protecting its list, its current
 * unit and the fields of every unit placed on it (unit->cpu == its index).
 * A unit moves between queues only with both locks held, taken in
 * ascending CPU order, and only while it is not running; so holding
 * runqs[u->cpu].lock (runq_lock_unit) pins u where it is. A unit is on at
 * most one queue, and runs only when taken off it under that queue's lock,
 * so no two CPUs ever run the same vCPU. Policy locks come before run-queue
 * locks. A queue's counters and current unit, and a unit's cpu, affinity
 * and runnable flag, are also read without the lock (atomically) as hints
 * for placement, kicks and accounting; the locked paths check again.
 */
#ifndef KEEL_SCHED_RUNQ_H
#define KEEL_SCHED_RUNQ_H

#include <keel/percpu.h>
#include <keel/sched_policy.h>
#include <keel/spinlock.h>

/* Priority of a unit that must not run now (a domain over its cap). */
#define RUNQ_INELIGIBLE (-1)

struct sched_unit {
	struct vcpu *vcpu;		    /* set at insert, immutable */
	struct sched_unit *q_next, *q_prev; /* run-queue links */
	unsigned cpu;	    /* its run queue: written with both queues locked */
	uint64_t affinity;  /* allowed CPUs; a unit that is not running
			       always sits on one of them */
	bool runnable;	    /* woken and not put to sleep since */
	bool running;	    /* returned by schedule() and not descheduled */
	bool queued;	    /* on runqs[cpu]'s list: runnable, not running */
	uint64_t picked_ns; /* when it was last given the CPU */
	uint64_t charged_ns;   /* run time charged up to here */
	uint64_t slice_end_ns; /* its timeslice ends here */
	uint64_t runtime_ns;   /* total time it ran */
};

struct runq {
	spinlock_t lock;
	struct sched_unit *head, *tail; /* FIFO of queued units */
	unsigned nr_queued;
	unsigned nr_placed;	 /* units with cpu == this queue's index */
	struct sched_unit *curr; /* running here; NULL when idle */
};

struct runq_rules {
	/* Higher runs first; RUNQ_INELIGIBLE keeps u waiting. Called with
	 * u's run queue locked. */
	int (*prio)(const struct sched_unit *u);
	/* Optional: u ran ran_ns more, up to now. Run-queue lock held. */
	void (*charge)(struct sched_unit *u, uint64_t ran_ns, uint64_t now);
	/* Optional: ns from now until the policy's view of u may change a
	 * decision (credit used up, end of a boost, accounting), given the
	 * best unit waiting on its CPU (NULL if none). */
	uint64_t (*horizon)(const struct sched_unit *u,
			    const struct sched_unit *waiting, uint64_t now);
	/* Optional: ns from now until a queued ineligible unit on cpu may
	 * become eligible; SCHED_SLICE_NONE if never by itself. */
	uint64_t (*ineligible_wait)(unsigned cpu, uint64_t now);
	/* Optional: u just became runnable. Its run queue is locked. */
	void (*woken)(struct sched_unit *u);
};

/* Configuration in force; set by runq_init(). */
extern struct sched_config runq_cfg;
extern uint64_t runq_online_mask;
extern struct runq runqs[MAX_CPUS];

/* Validates cfg and resets every queue; the rules stay in force. */
int runq_init(const struct sched_config *cfg, const struct runq_rules *rules);

/* Records u as v's unit and places it on its least loaded CPU. u must be
 * zeroed. -EINVAL for out-of-range ids, -EEXIST if v has a unit. */
int runq_insert(struct sched_unit *u, struct vcpu *v);
/* Takes u off its queue and forgets it; -EBUSY while it runs. */
int runq_remove(struct sched_unit *u);
/* v's unit, or NULL. */
struct sched_unit *runq_unit(const struct vcpu *v);

/* Locks the run queue u sits on and returns its CPU. */
unsigned runq_lock_unit(struct sched_unit *u);
void runq_unlock(unsigned cpu);

/* The operations of struct sched_policy that every policy shares. */
void runq_vcpu_wake(struct vcpu *v);
void runq_vcpu_sleep(struct vcpu *v);
int runq_set_affinity(struct vcpu *v, uint64_t cpumask);
uint64_t runq_get_affinity(const struct vcpu *v);
struct sched_decision runq_schedule(unsigned cpu, uint64_t now,
				    struct vcpu *prev);

/* Prints cpu's queue, calling show() for each placed unit's policy data. */
void runq_dump(unsigned cpu, void (*show)(const struct sched_unit *u));

#endif

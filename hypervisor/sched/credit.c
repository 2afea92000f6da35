/* SPDX-License-Identifier: MIT */
/*
 * Credit: weighted fair sharing after Xen's credit1 scheduler.
 *
 * Credit is run time in ns. Every accounting period (one timeslice) each
 * active vCPU receives its share of a period of its CPU, in proportion to
 * its domain's weight among the active vCPUs placed on that CPU. Sharing
 * out each CPU separately, rather than all CPUs' time among all vCPUs as
 * Xen does, keeps weights meaningful when vCPUs are pinned: two vCPUs
 * pinned to one CPU get their 1:2 whatever else runs elsewhere. A capped
 * domain receives at most cap% of one CPU's period in total.
 *
 * Running burns credit. Priorities: BOOST (woke with credit left; lasts one
 * tick) > UNDER (credit left) > OVER (none); a vCPU of a capped domain
 * with no credit is parked (not eligible) until accounting refills it.
 * Equal priorities take turns by timeslice (runq.c).
 *
 * A vCPU is active while it runs or wants to, and while it owes credit;
 * a sleeping vCPU with credit left stops drawing a share, so it does not
 * dilute the shares of busy ones, and keeps its credit for a boost when it
 * wakes. Credit stays within one period either way: a vCPU that slept for
 * long cannot then monopolise its CPU, nor one that ran alone for long be
 * starved once it has company.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>

#include "runq.h"

#define CREDIT_DEFAULT_TIMESLICE_NS 30000000ULL /* 30 ms, as Xen */
#define CREDIT_DEFAULT_RATELIMIT_NS 1000000ULL	/* 1 ms, as Xen */
/* A boost lasts one tick: a third of a timeslice, Xen's 10 of 30 ms. */
#define CREDIT_TICKS_PER_SLICE 3

enum credit_prio { PRIO_OVER, PRIO_UNDER, PRIO_BOOST };

struct credit_unit;

struct credit_dom {
	struct domain *dom;
	unsigned weight, cap; /* credit_lock; read without it */
	unsigned nr_units;    /* credit_lock */
	unsigned nr_active;   /* credit_lock: during accounting */
	struct credit_unit *units[MAX_VCPUS]; /* credit_lock */
};

struct credit_unit {
	struct sched_unit unit;
	struct credit_dom *cdom; /* set before the unit is visible */
	int64_t credit;		 /* atomic: burnt under the run-queue lock,
				    refilled under credit_lock */
	bool ran;		 /* atomic: ran since the last accounting */
	bool active;		 /* credit_lock */
	unsigned acct_cpu;	 /* credit_lock: its CPU when accounted */
	bool boost;		 /* run-queue lock */
};

/* Protects the domain table and accounting; taken before run-queue locks. */
static spinlock_t credit_lock;
static struct credit_dom *cdoms[MAX_DOMAINS];
static uint64_t period_ns;
static uint64_t next_acct_ns; /* atomic; 0 until the first schedule() */

static struct credit_unit *to_credit(const struct sched_unit *u)
{
	return container_of(u, struct credit_unit, unit);
}

static int64_t credit_of(const struct credit_unit *cu)
{
	return __atomic_load_n(&cu->credit, __ATOMIC_RELAXED);
}

static unsigned load_unsigned(const unsigned *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int credit_prio(const struct sched_unit *u)
{
	const struct credit_unit *cu = to_credit(u);
	int64_t credit = credit_of(cu);

	if (credit <= 0 && load_unsigned(&cu->cdom->cap))
		return RUNQ_INELIGIBLE; /* parked until accounting */
	if (cu->boost)
		return PRIO_BOOST;
	return credit > 0 ? PRIO_UNDER : PRIO_OVER;
}

static uint64_t tick_ns(void)
{
	return runq_cfg.timeslice_ns / CREDIT_TICKS_PER_SLICE;
}

static void credit_charge(struct sched_unit *u, uint64_t ran_ns, uint64_t now)
{
	struct credit_unit *cu = to_credit(u);
	int64_t credit =
	    __atomic_sub_fetch(&cu->credit, (int64_t)ran_ns, __ATOMIC_RELAXED);

	__atomic_store_n(&cu->ran, true, __ATOMIC_RELAXED);
	if (cu->boost && (credit <= 0 || now - u->picked_ns >= tick_ns()))
		cu->boost = false;
}

static void credit_woken(struct sched_unit *u)
{
	struct credit_unit *cu = to_credit(u);

	if (credit_of(cu) > 0)
		cu->boost = true;
}

static uint64_t until_accounting(uint64_t now)
{
	uint64_t due = __atomic_load_n(&next_acct_ns, __ATOMIC_RELAXED);

	return due > now ? due - now : 0;
}

static uint64_t credit_horizon(const struct sched_unit *u,
			       const struct sched_unit *waiting, uint64_t now)
{
	const struct credit_unit *cu = to_credit(u);
	bool capped = load_unsigned(&cu->cdom->cap) != 0;
	int64_t credit = credit_of(cu);
	uint64_t horizon = SCHED_SLICE_NONE;

	if (!waiting && !capped)
		return horizon;
	/* Accounting and running out of credit change priorities. */
	horizon = until_accounting(now);
	if (credit > 0)
		horizon = MIN(horizon, (uint64_t)credit);
	if (cu->boost && waiting) {
		uint64_t boost_end = u->picked_ns + tick_ns();

		horizon = MIN(horizon, boost_end > now ? boost_end - now : 0);
	}
	return horizon;
}

static uint64_t credit_ineligible_wait(unsigned cpu, uint64_t now)
{
	(void)cpu;
	return until_accounting(now);
}

static const struct runq_rules credit_rules = {
    .prio = credit_prio,
    .charge = credit_charge,
    .horizon = credit_horizon,
    .ineligible_wait = credit_ineligible_wait,
    .woken = credit_woken,
};

/* Adds fair to cu's credit, keeping it within one period either way. */
static void refill(struct credit_unit *cu, int64_t fair)
{
	int64_t limit = (int64_t)period_ns;
	int64_t old = credit_of(cu), new;

	do {
		new = old + fair;
		new = MIN(new, limit);
		new = MAX(new, -limit);
	} while (!__atomic_compare_exchange_n(
	    &cu->credit, &old, new, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* Shares out one period of every CPU (see the top of the file). */
static void account(void)
{
	uint64_t cpu_weight[MAX_CPUS] = {0};

	for (unsigned d = 0; d < MAX_DOMAINS; d++) {
		struct credit_dom *cd = cdoms[d];

		if (!cd)
			continue;
		cd->nr_active = 0;
		for (unsigned i = 0; i < MAX_VCPUS; i++) {
			struct credit_unit *cu = cd->units[i];
			bool busy;

			if (!cu)
				continue;
			busy = __atomic_exchange_n(&cu->ran, false,
						   __ATOMIC_RELAXED) ||
			       __atomic_load_n(&cu->unit.runnable,
					       __ATOMIC_RELAXED);
			cu->active = busy || credit_of(cu) <= 0;
			if (!cu->active)
				continue;
			cu->acct_cpu =
			    __atomic_load_n(&cu->unit.cpu, __ATOMIC_RELAXED);
			cpu_weight[cu->acct_cpu] += cd->weight;
			cd->nr_active++;
		}
	}
	for (unsigned d = 0; d < MAX_DOMAINS; d++) {
		struct credit_dom *cd = cdoms[d];
		uint64_t cap_share;

		if (!cd || !cd->nr_active)
			continue;
		cap_share = cd->cap * period_ns / 100 / cd->nr_active;
		for (unsigned i = 0; i < MAX_VCPUS; i++) {
			struct credit_unit *cu = cd->units[i];
			uint64_t fair;

			if (!cu || !cu->active)
				continue;
			fair =
			    period_ns * cd->weight / cpu_weight[cu->acct_cpu];
			if (cd->cap)
				fair = MIN(fair, cap_share);
			refill(cu, (int64_t)fair);
		}
	}
}

/* Runs the accounting of every period boundary now has passed, once. */
static void account_if_due(uint64_t now)
{
	uint64_t due = __atomic_load_n(&next_acct_ns, __ATOMIC_ACQUIRE);

	if (due && now < due)
		return;
	spin_lock(&credit_lock);
	due = next_acct_ns;
	if (!due) {
		due = now + period_ns; /* periods start with the first call */
	} else if (now >= due) {
		account();
		/* Periods nobody was there to account are not made up. */
		due += period_ns * ((now - due) / period_ns + 1);
	}
	__atomic_store_n(&next_acct_ns, due, __ATOMIC_RELEASE);
	spin_unlock(&credit_lock);
}

static int credit_init(const struct sched_config *cfg)
{
	int ret = runq_init(cfg, &credit_rules);

	if (ret)
		return ret;
	credit_lock = (spinlock_t)SPINLOCK_INIT;
	memset(cdoms, 0, sizeof(cdoms));
	period_ns = cfg->timeslice_ns;
	next_acct_ns = 0;
	return 0;
}

static int credit_vcpu_insert(struct vcpu *v)
{
	struct credit_unit *cu = xzalloc(sizeof(*cu));
	/* Allocated before the lock in case v is its domain's first vCPU. */
	struct credit_dom *fresh = xzalloc(sizeof(*fresh)), *cd;
	int ret = 0;

	if (!cu || !fresh)
		ret = -ENOMEM;
	else if (v->dom->id >= MAX_DOMAINS)
		ret = -EINVAL;
	if (ret) {
		xfree(cu);
		xfree(fresh);
		return ret;
	}
	spin_lock(&credit_lock);
	cd = cdoms[v->dom->id] ? cdoms[v->dom->id] : fresh;
	if (cd == fresh) {
		cd->dom = v->dom;
		cd->weight = SCHED_DEFAULT_WEIGHT;
	}
	cu->cdom = cd;
	ret = runq_insert(&cu->unit, v);
	if (!ret) {
		cd->units[v->id] = cu;
		cd->nr_units++;
		cdoms[v->dom->id] = cd;
	}
	spin_unlock(&credit_lock);
	if (ret)
		xfree(cu);
	if (ret || cd != fresh)
		xfree(fresh);
	return ret;
}

static int credit_vcpu_remove(struct vcpu *v)
{
	struct sched_unit *u;
	struct credit_dom *cd;
	int ret;

	spin_lock(&credit_lock);
	u = runq_unit(v);
	if (!u) {
		spin_unlock(&credit_lock);
		return -ENOENT;
	}
	ret = runq_remove(u);
	if (ret) {
		spin_unlock(&credit_lock);
		return ret;
	}
	cd = to_credit(u)->cdom;
	cd->units[v->id] = NULL;
	if (--cd->nr_units == 0)
		cdoms[v->dom->id] = NULL;
	else
		cd = NULL;
	spin_unlock(&credit_lock);
	xfree(cd);
	xfree(to_credit(u));
	return 0;
}

static struct sched_decision credit_schedule(unsigned cpu, uint64_t now,
					     struct vcpu *prev)
{
	account_if_due(now);
	return runq_schedule(cpu, now, prev);
}

/* The record of d, which must be the domain that made it. */
static struct credit_dom *find_dom(const struct domain *d)
{
	struct credit_dom *cd = d->id < MAX_DOMAINS ? cdoms[d->id] : NULL;

	return cd && cd->dom == d ? cd : NULL;
}

static int credit_set_params(struct domain *d, unsigned weight, unsigned cap)
{
	struct credit_dom *cd;

	if (!weight || weight > SCHED_MAX_WEIGHT ||
	    cap > 100 * runq_cfg.nr_cpus)
		return -EINVAL;
	spin_lock(&credit_lock);
	cd = find_dom(d);
	if (!cd) {
		spin_unlock(&credit_lock);
		return -ESRCH;
	}
	__atomic_store_n(&cd->weight, weight, __ATOMIC_RELAXED);
	__atomic_store_n(&cd->cap, cap, __ATOMIC_RELAXED);
	/* Lifting or lowering a cap can (un)park vCPUs: let CPUs decide. */
	for (unsigned i = 0; i < MAX_VCPUS; i++)
		if (cd->units[i])
			runq_cfg.kick(__atomic_load_n(&cd->units[i]->unit.cpu,
						      __ATOMIC_RELAXED));
	spin_unlock(&credit_lock);
	return 0;
}

static int credit_get_params(const struct domain *d, unsigned *weight,
			     unsigned *cap)
{
	struct credit_dom *cd;

	spin_lock(&credit_lock);
	cd = find_dom(d);
	if (cd) {
		*weight = cd->weight;
		*cap = cd->cap;
	}
	spin_unlock(&credit_lock);
	return cd ? 0 : -ESRCH;
}

static void credit_show_unit(const struct sched_unit *u)
{
	static const char *const prio_names[] = {[PRIO_OVER] = "over",
						 [PRIO_UNDER] = "under",
						 [PRIO_BOOST] = "boost"};
	const struct credit_unit *cu = to_credit(u);
	int prio = credit_prio(u);

	printk(", weight %u, cap %u, credit %ld us, %s",
	       load_unsigned(&cu->cdom->weight), load_unsigned(&cu->cdom->cap),
	       credit_of(cu) / 1000,
	       prio == RUNQ_INELIGIBLE ? "parked" : prio_names[prio]);
}

static void credit_dump(unsigned cpu)
{
	runq_dump(cpu, credit_show_unit);
}

const struct sched_policy sched_credit = {
    .name = "credit",
    .default_timeslice_ns = CREDIT_DEFAULT_TIMESLICE_NS,
    .default_ratelimit_ns = CREDIT_DEFAULT_RATELIMIT_NS,
    .init = credit_init,
    .vcpu_insert = credit_vcpu_insert,
    .vcpu_remove = credit_vcpu_remove,
    .vcpu_wake = runq_vcpu_wake,
    .vcpu_sleep = runq_vcpu_sleep,
    .schedule = credit_schedule,
    .set_params = credit_set_params,
    .get_params = credit_get_params,
    .set_affinity = runq_set_affinity,
    .get_affinity = runq_get_affinity,
    .dump = credit_dump,
};

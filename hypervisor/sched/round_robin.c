/* SPDX-License-Identifier: MIT */
/*
 * Round-robin: the runnable vCPUs of a CPU take turns of one timeslice,
 * in the order they became runnable; no weights, no caps, no preemption
 * before a slice ends. Placement, affinity and stealing by idle CPUs are
 * the run queues' (runq.c).
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>

#include "runq.h"

#define RR_DEFAULT_TIMESLICE_NS 10000000ULL /* 10 ms */

/* Every vCPU has the same priority: turns are FIFO. */
static int rr_prio(const struct sched_unit *u)
{
	(void)u;
	return 0;
}

static const struct runq_rules rr_rules = {
    .prio = rr_prio,
};

static int rr_init(const struct sched_config *cfg)
{
	return runq_init(cfg, &rr_rules);
}

static int rr_vcpu_insert(struct vcpu *v)
{
	struct sched_unit *u = xzalloc(sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = runq_insert(u, v);
	if (ret)
		xfree(u);
	return ret;
}

static int rr_vcpu_remove(struct vcpu *v)
{
	struct sched_unit *u = runq_unit(v);
	int ret;

	if (!u)
		return -ENOENT;
	ret = runq_remove(u);
	if (!ret)
		xfree(u);
	return ret;
}

static int rr_set_params(struct domain *d, unsigned weight, unsigned cap)
{
	(void)d;
	(void)weight;
	(void)cap;
	return -EOPNOTSUPP;
}

static int rr_get_params(const struct domain *d, unsigned *weight,
			 unsigned *cap)
{
	(void)d;
	(void)weight;
	(void)cap;
	return -EOPNOTSUPP;
}

static void rr_dump(unsigned cpu)
{
	runq_dump(cpu, NULL);
}

const struct sched_policy sched_round_robin = {
    .name = "rr",
    .default_timeslice_ns = RR_DEFAULT_TIMESLICE_NS,
    /* With equal priorities nothing preempts early: no rate limit. */
    .default_ratelimit_ns = 0,
    .init = rr_init,
    .vcpu_insert = rr_vcpu_insert,
    .vcpu_remove = rr_vcpu_remove,
    .vcpu_wake = runq_vcpu_wake,
    .vcpu_sleep = runq_vcpu_sleep,
    .schedule = runq_schedule,
    .set_params = rr_set_params,
    .get_params = rr_get_params,
    .set_affinity = runq_set_affinity,
    .get_affinity = runq_get_affinity,
    .dump = rr_dump,
};

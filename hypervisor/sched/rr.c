/* SPDX-License-Identifier: MIT */
/* Round-robin: every runnable vCPU of a physical CPU in turn. */
#include <keel/percpu.h>
#include <keel/sched.h>

#define RR_MAX 64
#define RR_SLICE_NS 10000000ULL /* 10 ms */

static struct {
	struct vcpu *v[RR_MAX];
	unsigned n, next;
} rq[MAX_CPUS];

static void rr_add(struct vcpu *v, unsigned cpu)
{
	if (rq[cpu].n == RR_MAX)
		panic("run queue of cpu%u is full", cpu);
	rq[cpu].v[rq[cpu].n++] = v;
}

static struct vcpu *rr_pick(unsigned cpu)
{
	for (unsigned i = 0; i < rq[cpu].n; i++) {
		unsigned k = (rq[cpu].next + i) % rq[cpu].n;
		struct vcpu *v = rq[cpu].v[k];

		if (v->state == VCPU_RUNNABLE) {
			rq[cpu].next = (k + 1) % rq[cpu].n;
			return v;
		}
	}
	return NULL;
}

static uint64_t rr_timeslice(struct vcpu *v)
{
	(void)v;
	return RR_SLICE_NS;
}

const struct sched_policy sched_rr = {
	.name = "round-robin",
	.pick = rr_pick,
	.add = rr_add,
	.timeslice = rr_timeslice,
};

/* SPDX-License-Identifier: MIT */
/*
 * The scheduler core: starts the policy chosen at boot, asks it what each
 * CPU runs (for arch/x86/hvm/vcpu_loop.c, which enters the guests) and
 * passes its kicks on. It decides and accounts; it does not run guests.
 */
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/sched.h>

const struct sched_policy *sched;
static volatile bool resched[MAX_CPUS];

static void sched_kick(unsigned cpu)
{
	if (cpu == this_cpu()->cpu)
		resched[cpu] = true;
	else
		lapic_send_ipi(percpu_area[cpu].apic_id, IPI_KICK_VECTOR);
}

void sched_init(const struct sched_params *p)
{
	struct sched_config cfg = {.nr_cpus = nr_cpus_online,
				   .kick = sched_kick};
	const struct sched_policy *policy = &sched_credit;

	if (p->policy && *p->policy) {
		if (!strcmp(p->policy, sched_round_robin.name))
			policy = &sched_round_robin;
		else if (strcmp(p->policy, sched_credit.name))
			printk("sched=%s unknown; using %s\n", p->policy,
			       policy->name);
	}
	cfg.timeslice_ns = p->timeslice_ns;
	cfg.ratelimit_ns = p->ratelimit_ns;
	if (!cfg.timeslice_ns)
		cfg.timeslice_ns = policy->default_timeslice_ns;
	if (!p->ratelimit_set)
		cfg.ratelimit_ns =
		    MIN(policy->default_ratelimit_ns, cfg.timeslice_ns);
	if (policy->init(&cfg)) {
		printk("scheduler settings rejected; using the defaults\n");
		cfg.timeslice_ns = policy->default_timeslice_ns;
		cfg.ratelimit_ns = policy->default_ratelimit_ns;
		if (policy->init(&cfg))
			panic("scheduler %s does not start", policy->name);
	}
	/* Published last: the other CPUs wait for it in vcpu_loop(). */
	__atomic_store_n(&sched, policy, __ATOMIC_RELEASE);
	printk("scheduler: %s, timeslice %lu ms, rate limit %lu us\n",
	       policy->name, cfg.timeslice_ns / 1000000,
	       cfg.ratelimit_ns / 1000);
}

void sched_add_vcpu(struct vcpu *v)
{
	if (sched->vcpu_insert(v))
		panic("cannot schedule d%u v%u", v->dom->id, v->id);
	if (v->state == VCPU_RUNNABLE && v->dom->state == DOM_RUNNING)
		sched->vcpu_wake(v);
}

void sched_dump(void)
{
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (percpu_area[c].online)
			sched->dump(c);
}

struct sched_decision sched_schedule(unsigned cpu, struct vcpu *prev)
{
	resched[cpu] = false;
	return sched->schedule(cpu, now_ns(), prev);
}

bool sched_kicked(unsigned cpu)
{
	return resched[cpu];
}

/* SPDX-License-Identifier: MIT */
/*
 * Scheduling policies on real concurrency: host threads play physical
 * CPUs (each thread two of them, in turn: ticket spinlocks convoy when
 * there are more spinning threads than host cores) and call schedule(),
 * vcpu_wake(), vcpu_sleep(), set_affinity() and set_params() at random against
 * the same policy, with Keel's own ticket spinlocks. Each CPU claims the vCPU
 * it was given until its next schedule() call; a second claim means two CPUs
 * ran one vCPU. Afterwards every vCPU is woken and must get a CPU: none was
 * lost on the way.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/sched_policy.h>
#include "shim.h"

#define NR_SIM_CPUS	 4
#define NR_THREADS	 2 /* thread t plays CPUs t and t + NR_THREADS */
#define NR_DOMAINS	 3
#define VCPUS_PER_DOMAIN 5
#define NR_SIM_VCPUS	 (NR_DOMAINS * VCPUS_PER_DOMAIN)
#define ROUNDS_PER_CPU	 200000

/* Host allocator, so AddressSanitizer sees the policies' records. */
void *xzalloc(size_t size)
{
	return calloc(1, size);
}

void xfree(void *p)
{
	free(p);
}

static const struct sched_policy *policy;
static struct domain doms[NR_DOMAINS];
static struct vcpu *vcpus[NR_SIM_VCPUS];
/* Fixed affinity of the pinned vCPUs; 0 for vCPUs free to move. */
static uint64_t pinned_to[NR_SIM_VCPUS];
/* vCPUs whose affinity the CPUs change at random. */
#define CHURNED(i) ((i) % VCPUS_PER_DOMAIN == 4)

static int owner[NR_SIM_VCPUS];	     /* CPU running it, or -1 */
static int last_owner[NR_SIM_VCPUS]; /* CPU that ran it last */
static unsigned migrations;
static unsigned double_runs, affinity_breaks, pcpu_mismatches;
static bool kicked[NR_SIM_CPUS];

static void sim_kick(unsigned cpu)
{
	__atomic_store_n(&kicked[cpu], true, __ATOMIC_RELAXED);
}

static uint64_t clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static unsigned index_of(const struct vcpu *v)
{
	return v->dom->id * VCPUS_PER_DOMAIN + v->id;
}

static void count(unsigned *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* Checks a decision and claims the vCPU for cpu. */
static void claim(unsigned cpu, struct vcpu *v)
{
	unsigned i = index_of(v);
	int nobody = -1;

	if (!__atomic_compare_exchange_n(&owner[i], &nobody, (int)cpu, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		count(&double_runs);
	if (__atomic_exchange_n(&last_owner[i], (int)cpu, __ATOMIC_RELAXED) !=
	    (int)cpu)
		count(&migrations);
	if (pinned_to[i] && !(pinned_to[i] & BIT(cpu)))
		count(&affinity_breaks);
	if (__atomic_load_n(&v->pcpu, __ATOMIC_RELAXED) != (int)cpu)
		count(&pcpu_mismatches);
}

static void release(struct vcpu *v)
{
	__atomic_store_n(&owner[index_of(v)], -1, __ATOMIC_RELEASE);
}

static void setup_policy(const struct sched_policy *p)
{
	struct sched_config cfg = {NR_SIM_CPUS, 1000000, 100000, sim_kick};

	policy = p;
	memset(doms, 0, sizeof(doms));
	memset(kicked, 0, sizeof(kicked));
	double_runs = affinity_breaks = pcpu_mismatches = migrations = 0;
	assert_int_equal(policy->init(&cfg), 0);
	for (unsigned i = 0; i < NR_SIM_VCPUS; i++) {
		struct domain *d = &doms[i / VCPUS_PER_DOMAIN];
		struct vcpu *v = calloc(1, sizeof(*v));

		assert_non_null(v);
		d->id = i / VCPUS_PER_DOMAIN;
		v->dom = d;
		v->id = d->nr_vcpus;
		d->vcpus[d->nr_vcpus++] = v;
		vcpus[i] = v;
		owner[i] = last_owner[i] = -1;
		assert_int_equal(policy->vcpu_insert(v), 0);
		/* The first two of each domain are pinned. */
		pinned_to[i] = 0;
		if (i % VCPUS_PER_DOMAIN < 2) {
			pinned_to[i] = BIT(i % NR_SIM_CPUS);
			assert_int_equal(policy->set_affinity(v, pinned_to[i]),
					 0);
		}
		policy->vcpu_wake(v);
	}
}

struct sim_cpu {
	unsigned cpu;
	struct vcpu *running; /* what its last decision gave it */
};

struct cpu_thread {
	uint32_t rng;
	pthread_t thread;
	struct sim_cpu *cpus[NR_SIM_CPUS / NR_THREADS];
};

static uint32_t next_random(struct cpu_thread *t)
{
	t->rng = t->rng * 1103515245u + 12345u;
	return t->rng >> 8;
}

/* One decision of c, a moment of guest time, one random event. */
static void step(struct cpu_thread *t, struct sim_cpu *c)
{
	struct sched_decision d;
	uint32_t r = next_random(t);
	struct vcpu *other = vcpus[r % NR_SIM_VCPUS];

	__atomic_store_n(&kicked[c->cpu], false, __ATOMIC_RELAXED);
	if (c->running)
		release(c->running);
	d = policy->schedule(c->cpu, clock_ns(), c->running);
	c->running = d.next;
	if (c->running)
		claim(c->cpu, c->running);
	for (unsigned spin = r % 256; spin; spin--)
		__asm__ volatile("" ::: "memory");
	switch ((r >> 12) % 16) {
	case 0: /* the guest halts */
		if (c->running)
			policy->vcpu_sleep(c->running);
		break;
	case 1: /* paused from elsewhere */
		policy->vcpu_sleep(other);
		break;
	case 2:
	case 3:
	case 4:
	case 5: /* interrupts and timers wake vCPUs */
		policy->vcpu_wake(other);
		break;
	case 6:
		if (CHURNED(index_of(other)))
			policy->set_affinity(
			    other, 1 + (r >> 20) % (BIT(NR_SIM_CPUS) - 1));
		break;
	case 7: /* rejected by round-robin, harmless */
		policy->set_params(other->dom, 1 + (r >> 16) % 1024,
				   (r >> 26) % 2 ? 0 : 150);
		break;
	}
}

static void *thread_main(void *arg)
{
	struct cpu_thread *t = arg;

	for (unsigned round = 0; round < ROUNDS_PER_CPU; round++)
		for (unsigned i = 0; i < ARRAY_SIZE(t->cpus); i++)
			step(t, t->cpus[i]);
	/* The model stops claiming; the CPUs' current vCPUs stay theirs. */
	for (unsigned i = 0; i < ARRAY_SIZE(t->cpus); i++)
		if (t->cpus[i]->running)
			release(t->cpus[i]->running);
	return NULL;
}

/*
 * With the threads stopped: every vCPU woken (caps lifted, churned ones
 * allowed everywhere) must get a CPU within a few rounds of decisions;
 * then all sleep, the CPUs go idle and every vCPU can be removed.
 */
static void check_nothing_lost(struct sim_cpu *cpus)
{
	bool ran[NR_SIM_VCPUS] = {false};
	uint64_t now = clock_ns();

	for (unsigned d = 0; d < NR_DOMAINS; d++)
		policy->set_params(&doms[d], SCHED_DEFAULT_WEIGHT, 0);
	for (unsigned i = 0; i < NR_SIM_VCPUS; i++) {
		if (CHURNED(i))
			assert_int_equal(policy->set_affinity(
					     vcpus[i], BIT(NR_SIM_CPUS) - 1),
					 0);
		policy->vcpu_wake(vcpus[i]);
	}
	for (unsigned round = 0; round < 4 * NR_SIM_VCPUS; round++) {
		now += 2000000; /* two timeslices a round */
		for (unsigned c = 0; c < NR_SIM_CPUS; c++) {
			struct sched_decision d =
			    policy->schedule(c, now, cpus[c].running);

			cpus[c].running = d.next;
			if (d.next)
				ran[index_of(d.next)] = true;
		}
	}
	for (unsigned i = 0; i < NR_SIM_VCPUS; i++)
		if (!ran[i])
			fail_msg("d%uv%u never ran after its last wake-up",
				 vcpus[i]->dom->id, vcpus[i]->id);
	for (unsigned i = 0; i < NR_SIM_VCPUS; i++)
		policy->vcpu_sleep(vcpus[i]);
	for (unsigned c = 0; c < NR_SIM_CPUS; c++)
		assert_null(policy->schedule(c, now, cpus[c].running).next);
	for (unsigned i = 0; i < NR_SIM_VCPUS; i++) {
		assert_int_equal(policy->vcpu_remove(vcpus[i]), 0);
		free(vcpus[i]);
	}
}

static void stress(const struct sched_policy *p)
{
	struct sim_cpu cpus[NR_SIM_CPUS];
	struct cpu_thread threads[NR_THREADS];

	setup_policy(p);
	for (unsigned c = 0; c < NR_SIM_CPUS; c++) {
		cpus[c].cpu = c;
		cpus[c].running = NULL;
		threads[c % NR_THREADS].cpus[c / NR_THREADS] = &cpus[c];
	}
	for (unsigned t = 0; t < NR_THREADS; t++) {
		threads[t].rng = 7 + t;
		assert_int_equal(pthread_create(&threads[t].thread, NULL,
						thread_main, &threads[t]),
				 0);
	}
	for (unsigned t = 0; t < NR_THREADS; t++)
		assert_int_equal(pthread_join(threads[t].thread, NULL), 0);
	assert_int_equal(double_runs, 0);
	assert_int_equal(affinity_breaks, 0);
	assert_int_equal(pcpu_mismatches, 0);
	/*
	 * The run exercised moves between CPUs, not only local turns. How
	 * many depends on how the host interleaves the threads (a loaded
	 * host runs them almost one after the other), so only ask for some.
	 */
	assert_true(migrations > 0);
	check_nothing_lost(cpus);
}

static void test_credit_under_concurrency(void **state)
{
	(void)state;
	stress(&sched_credit);
}

static void test_round_robin_under_concurrency(void **state)
{
	(void)state;
	stress(&sched_round_robin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_credit_under_concurrency),
	    cmocka_unit_test(test_round_robin_under_concurrency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

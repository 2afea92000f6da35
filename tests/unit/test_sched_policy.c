/* SPDX-License-Identifier: MIT */
/*
 * Scheduling policies (hypervisor/sched/credit.c, round_robin.c, runq.c)
 * under a simulated clock. A discrete-event model of physical CPUs does
 * what sched/core.c does: each CPU calls schedule() when its slice ends,
 * when it is kicked (the IPI arrives at once), and at every guest exit of
 * the vCPU it runs. vCPUs are busy (always runnable) or sleepers (run a
 * burst, block in HLT, wake on a timer). The model measures run time
 * itself, and checks at every decision that no vCPU runs on two CPUs, that
 * no blocked vCPU runs, that affinity holds and that v->pcpu is right.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/sched_policy.h>
#include "shim.h"

#define MS	      1000000ULL
#define US	      1000ULL
#define NEVER	      UINT64_MAX
#define SIM_MAX_CPUS  4
#define SIM_MAX_VCPUS 16
#define SIM_DOMAINS   4

/*
 * The policies' records come from the host allocator so that
 * AddressSanitizer sees any use after vcpu_remove().
 */
void *xzalloc(size_t size)
{
	return calloc(1, size);
}

void xfree(void *p)
{
	free(p);
}

enum behaviour { BUSY, SLEEPER, ASLEEP };

struct sim_vcpu {
	struct vcpu *v;
	enum behaviour behaviour;
	uint64_t burst_ns, sleep_ns; /* a sleeper's cycle */
	uint64_t burst_left;
	bool asleep;
	uint64_t wake_at; /* while asleep */
	uint64_t woke_at; /* last wake-up not followed by a run yet */
	uint64_t max_latency_ns;
	unsigned wakeups;
	int running_on;
	uint64_t run_ns;
	uint64_t run_on_ns[SIM_MAX_CPUS];
	uint64_t allowed; /* the model's copy of its affinity */
};

struct sim_cpu {
	struct vcpu *curr;
	uint64_t slice_end;
	uint64_t next_exit;
	bool kicked;
	uint64_t busy_ns;
};

static const struct sched_policy *policy;
static struct sim_cpu cpus[SIM_MAX_CPUS];
static unsigned nr_cpus;
static struct sim_vcpu sims[SIM_MAX_VCPUS];
static unsigned nr_sims;
static struct domain doms[SIM_DOMAINS];
static uint64_t now;
static uint64_t exit_interval_ns; /* 0: busy guests never exit */
static uint32_t rng_state;
static unsigned decisions;

static uint32_t rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return rng_state >> 8;
}

static void sim_kick(unsigned cpu)
{
	assert_true(cpu < nr_cpus);
	cpus[cpu].kicked = true;
}

static struct sim_vcpu *sim_of(const struct vcpu *v)
{
	for (unsigned i = 0; i < nr_sims; i++)
		if (sims[i].v == v)
			return &sims[i];
	fail_msg("schedule() returned a vCPU the model does not know");
	return NULL;
}

static uint64_t all_cpus(void)
{
	return BIT(nr_cpus) - 1;
}

static void start_with(const struct sched_policy *p, unsigned ncpus,
		       uint64_t timeslice_ns, uint64_t ratelimit_ns)
{
	struct sched_config cfg = {ncpus, timeslice_ns, ratelimit_ns, sim_kick};

	policy = p;
	nr_cpus = ncpus;
	nr_sims = 0;
	now = 1000 * MS; /* not zero: the clock is Keel's uptime */
	exit_interval_ns = 0;
	rng_state = 1;
	decisions = 0;
	memset(cpus, 0, sizeof(cpus));
	memset(sims, 0, sizeof(sims));
	memset(doms, 0, sizeof(doms));
	for (unsigned d = 0; d < SIM_DOMAINS; d++)
		doms[d].id = d;
	for (unsigned c = 0; c < ncpus; c++)
		cpus[c].slice_end = NEVER;
	assert_int_equal(policy->init(&cfg), 0);
}

static void start(const struct sched_policy *p, unsigned ncpus)
{
	start_with(p, ncpus, p->default_timeslice_ns, p->default_ratelimit_ns);
}

static void reschedule(unsigned c);

static void drain_kicks(void)
{
	for (unsigned rounds = 0;; rounds++) {
		unsigned c;

		assert_true(rounds < 1000); /* kicks must settle */
		for (c = 0; c < nr_cpus && !cpus[c].kicked; c++)
			;
		if (c == nr_cpus)
			return;
		cpus[c].kicked = false;
		reschedule(c);
	}
}

/* A sleeper's first burst starts when it is added. */
static struct sim_vcpu *add_vcpu(unsigned dom, enum behaviour b)
{
	struct sim_vcpu *s = &sims[nr_sims++];
	struct domain *d = &doms[dom];
	struct vcpu *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->dom = d;
	v->id = d->nr_vcpus;
	v->pcpu = -1;
	d->vcpus[d->nr_vcpus++] = v;
	s->v = v;
	s->behaviour = b;
	s->running_on = -1;
	s->woke_at = NEVER;
	s->allowed = all_cpus();
	assert_int_equal(policy->vcpu_insert(v), 0);
	assert_true(v->pcpu >= 0 && (unsigned)v->pcpu < nr_cpus);
	if (b == ASLEEP) {
		s->asleep = true;
		s->wake_at = NEVER;
		return s;
	}
	policy->vcpu_wake(v);
	drain_kicks();
	return s;
}

static struct sim_vcpu *add_sleeper(unsigned dom, uint64_t burst_ns,
				    uint64_t sleep_ns)
{
	struct sim_vcpu *s;

	s = add_vcpu(dom, SLEEPER);
	s->burst_ns = s->burst_left = burst_ns;
	s->sleep_ns = sleep_ns;
	return s;
}

static void pin(struct sim_vcpu *s, uint64_t mask)
{
	assert_int_equal(policy->set_affinity(s->v, mask), 0);
	s->allowed = mask;
	drain_kicks();
	assert_true(policy->get_affinity(s->v) == mask);
}

static void set_params(unsigned dom, unsigned weight, unsigned cap)
{
	assert_int_equal(policy->set_params(&doms[dom], weight, cap), 0);
	drain_kicks();
}

static void reschedule(unsigned c)
{
	struct vcpu *prev = cpus[c].curr;
	struct sched_decision d = policy->schedule(c, now, prev);

	decisions++;
	assert_true(d.slice_ns > 0);
	if (prev && d.next != prev)
		sim_of(prev)->running_on = -1;
	if (d.next) {
		struct sim_vcpu *s = sim_of(d.next);

		if (d.next != prev) {
			if (s->running_on != -1)
				fail_msg(
				    "d%uv%u picked by cpu%u while on cpu%d",
				    d.next->dom->id, d.next->id, c,
				    s->running_on);
			s->running_on = (int)c;
		}
		assert_false(s->asleep);
		if (!(s->allowed & BIT(c)))
			fail_msg("d%uv%u runs on cpu%u outside 0x%llx",
				 d.next->dom->id, d.next->id, c,
				 (unsigned long long)s->allowed);
		assert_int_equal(d.next->pcpu, (int)c);
		if (s->woke_at != NEVER) {
			s->max_latency_ns =
			    MAX(s->max_latency_ns, now - s->woke_at);
			s->woke_at = NEVER;
		}
	}
	cpus[c].curr = d.next;
	cpus[c].slice_end =
	    d.slice_ns == SCHED_SLICE_NONE ? NEVER : now + d.slice_ns;
	cpus[c].next_exit = exit_interval_ns ? now + exit_interval_ns / 2 +
						   rng() % exit_interval_ns
					     : NEVER;
}

static void advance_to(uint64_t t)
{
	for (unsigned c = 0; c < nr_cpus; c++) {
		struct sim_vcpu *s;

		if (!cpus[c].curr)
			continue;
		s = sim_of(cpus[c].curr);
		s->run_ns += t - now;
		s->run_on_ns[c] += t - now;
		cpus[c].busy_ns += t - now;
		if (s->behaviour == SLEEPER)
			s->burst_left -= t - now;
	}
	now = t;
}

/* Runs the model for duration_ns of simulated time. */
static void run_for(uint64_t duration_ns)
{
	uint64_t end = now + duration_ns;

	drain_kicks();
	while (now < end) {
		uint64_t t = end;

		for (unsigned c = 0; c < nr_cpus; c++) {
			struct sim_vcpu *s;

			t = MIN(t, cpus[c].slice_end);
			if (!cpus[c].curr)
				continue;
			s = sim_of(cpus[c].curr);
			t = MIN(t, cpus[c].next_exit);
			if (s->behaviour == SLEEPER)
				t = MIN(t, now + s->burst_left);
		}
		for (unsigned i = 0; i < nr_sims; i++)
			if (sims[i].asleep)
				t = MIN(t, sims[i].wake_at);
		assert_true(t >= now);
		advance_to(t);
		for (unsigned i = 0; i < nr_sims; i++) {
			struct sim_vcpu *s = &sims[i];

			if (!s->asleep || s->wake_at > now)
				continue;
			s->asleep = false;
			s->woke_at = now;
			s->burst_left = s->burst_ns;
			s->wakeups++;
			policy->vcpu_wake(s->v);
			drain_kicks();
		}
		for (unsigned c = 0; c < nr_cpus; c++) {
			struct sim_vcpu *s =
			    cpus[c].curr ? sim_of(cpus[c].curr) : NULL;

			if (s && s->behaviour == SLEEPER && !s->burst_left) {
				/* HLT: the core marks it blocked, then asks
				 * for a decision. */
				s->asleep = true;
				s->wake_at = now + s->sleep_ns;
				policy->vcpu_sleep(s->v);
				reschedule(c);
			} else if (now >= cpus[c].slice_end ||
				   (s && now >= cpus[c].next_exit)) {
				reschedule(c);
			}
			drain_kicks();
		}
	}
}

/* Stops every vCPU, lets the CPUs go idle and removes them all. */
static int teardown(void **state)
{
	(void)state;
	for (unsigned i = 0; i < nr_sims; i++) {
		sims[i].asleep = true;
		sims[i].wake_at = NEVER;
		policy->vcpu_sleep(sims[i].v);
	}
	drain_kicks();
	for (unsigned c = 0; c < nr_cpus; c++) {
		reschedule(c);
		assert_null(cpus[c].curr);
	}
	for (unsigned i = 0; i < nr_sims; i++) {
		assert_int_equal(policy->vcpu_remove(sims[i].v), 0);
		assert_int_equal(sims[i].v->pcpu, -1);
		free(sims[i].v);
	}
	nr_sims = 0;
	return 0;
}

/* |part / whole - expected| <= tolerance */
static void assert_share(uint64_t part, uint64_t whole, double expected,
			 double tolerance)
{
	double share = (double)part / (double)whole;

	if (share < expected - tolerance || share > expected + tolerance)
		fail_msg("share %.4f, expected %.4f +- %.4f", share, expected,
			 tolerance);
}

/* Credit: two busy vCPUs on one CPU share it 1:2 by weight. */
static void weights_one_cpu(uint64_t exit_interval)
{
	struct sim_vcpu *a, *b;
	uint64_t t0;

	start(&sched_credit, 1);
	exit_interval_ns = exit_interval;
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	set_params(2, 512, 0);
	run_for(1000 * MS);
	a->run_ns = b->run_ns = 0;
	t0 = now;
	run_for(10000 * MS);
	assert_true(a->run_ns + b->run_ns == now - t0); /* never idle */
	/* 1:2 within 5%: a's share of the pair is 1/3 +- 5% of 1/3. */
	assert_share(a->run_ns, a->run_ns + b->run_ns, 1.0 / 3, 0.05 / 3);
}

static void test_credit_weights_one_cpu(void **state)
{
	(void)state;
	weights_one_cpu(0);
}

static void test_credit_weights_one_cpu_frequent_exits(void **state)
{
	(void)state;
	weights_one_cpu(150 * US);
}

/* The system test's setting: the pair pinned to cpu1, Dom0 busy too. */
static void test_credit_weights_pinned_beside_others(void **state)
{
	struct sim_vcpu *a, *b, *d0[3];

	(void)state;
	start(&sched_credit, 2);
	exit_interval_ns = 500 * US;
	for (unsigned i = 0; i < 3; i++)
		d0[i] = add_vcpu(0, BUSY);
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	set_params(2, 512, 0);
	pin(a, BIT(1));
	pin(b, BIT(1));
	run_for(1000 * MS);
	a->run_ns = b->run_ns = 0;
	run_for(10000 * MS);
	assert_share(a->run_ns, a->run_ns + b->run_ns, 1.0 / 3, 0.05 / 3);
	assert_true(a->run_on_ns[0] == 0 && b->run_on_ns[0] == 0);
	for (unsigned i = 0; i < 3; i++)
		assert_true(d0[i]->run_ns > 1000 * MS);
}

/* Weights change the shares when set while the vCPUs run. */
static void test_credit_weight_change_takes_effect(void **state)
{
	struct sim_vcpu *a, *b;

	(void)state;
	start(&sched_credit, 1);
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	run_for(2000 * MS);
	assert_share(a->run_ns, a->run_ns + b->run_ns, 0.5, 0.025);
	set_params(1, 768, 0);
	run_for(1000 * MS);
	a->run_ns = b->run_ns = 0;
	run_for(8000 * MS);
	assert_share(a->run_ns, a->run_ns + b->run_ns, 0.75, 0.0375);
}

static void cap_alone(unsigned cap, uint64_t exit_interval)
{
	struct sim_vcpu *a;
	uint64_t t0;

	start(&sched_credit, 1);
	exit_interval_ns = exit_interval;
	a = add_vcpu(1, BUSY);
	set_params(1, 256, cap);
	run_for(1000 * MS);
	a->run_ns = 0;
	t0 = now;
	run_for(10000 * MS);
	assert_share(a->run_ns, now - t0, cap / 100.0, 0.05);
}

/* Credit: a capped busy vCPU alone on its CPU still gets only its cap. */
static void test_credit_cap_25_alone(void **state)
{
	(void)state;
	cap_alone(25, 0);
}

static void test_credit_cap_25_alone_frequent_exits(void **state)
{
	(void)state;
	cap_alone(25, 200 * US);
}

/* A cap below the fair share binds; the other vCPU takes the rest. */
static void test_credit_cap_25_beside_uncapped(void **state)
{
	struct sim_vcpu *a, *b;
	uint64_t t0;

	(void)state;
	start(&sched_credit, 1);
	exit_interval_ns = 300 * US;
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	set_params(1, 256, 25);
	run_for(1000 * MS);
	a->run_ns = b->run_ns = 0;
	t0 = now;
	run_for(10000 * MS);
	assert_share(a->run_ns, now - t0, 0.25, 0.05);
	assert_true(a->run_ns + b->run_ns == now - t0);
}

/* The cap is for the whole domain: two vCPUs on two CPUs share 50%. */
static void test_credit_cap_covers_all_vcpus_of_domain(void **state)
{
	struct sim_vcpu *a, *b;
	uint64_t t0;

	(void)state;
	start(&sched_credit, 2);
	exit_interval_ns = 400 * US;
	a = add_vcpu(1, BUSY);
	b = add_vcpu(1, BUSY);
	set_params(1, 256, 50);
	run_for(1000 * MS);
	a->run_ns = b->run_ns = 0;
	t0 = now;
	run_for(10000 * MS);
	assert_share(a->run_ns + b->run_ns, now - t0, 0.50, 0.05);
}

/* Lifting a cap lets a parked vCPU run at once and all the time. */
static void test_credit_cap_lifted(void **state)
{
	struct sim_vcpu *a;
	uint64_t t0;

	(void)state;
	start(&sched_credit, 1);
	a = add_vcpu(1, BUSY);
	set_params(1, 256, 10);
	run_for(1000 * MS);
	set_params(1, 256, 0);
	a->run_ns = 0;
	t0 = now;
	run_for(1000 * MS);
	assert_true(a->run_ns == now - t0);
}

/*
 * Credit: a vCPU that wakes (timer interrupt after HLT) while two others
 * keep the CPU busy runs within one rate limit: it wakes boosted, its CPU
 * is kicked, and the running vCPU yields once it ran for the rate limit.
 */
static void test_credit_wakeup_latency_within_ratelimit(void **state)
{
	struct sim_vcpu *a, *b, *s;

	(void)state;
	start(&sched_credit, 1);
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	s = add_sleeper(3, 200 * US, 7 * MS);
	run_for(5000 * MS);
	assert_true(s->wakeups > 500);
	assert_true(s->max_latency_ns <= sched_credit.default_ratelimit_ns);
	/* The busy pair still shares what the sleeper leaves. */
	assert_share(a->run_ns, a->run_ns + b->run_ns, 0.5, 0.025);
	assert_true(a->run_ns + b->run_ns + s->run_ns == 5000 * MS);
}

/* A larger rate limit is honoured too: latency bounded by it, not 0. */
static void test_credit_ratelimit_protects_running_vcpu(void **state)
{
	struct sim_vcpu *s;

	(void)state;
	start_with(&sched_credit, 1, 30 * MS, 5 * MS);
	add_vcpu(1, BUSY);
	add_vcpu(2, BUSY);
	/* It wakes 2 ms after a busy vCPU took the CPU: 3 ms to wait. */
	s = add_sleeper(3, 100 * US, 2 * MS);
	run_for(5000 * MS);
	assert_true(s->max_latency_ns <= 5 * MS);
	assert_true(s->max_latency_ns > 1 * MS);
}

/* An idle CPU takes a woken vCPU whose own CPU is busy: no wait at all. */
static void test_idle_cpu_takes_woken_vcpu(void **state)
{
	struct sim_vcpu *a, *b, *s;

	(void)state;
	start(&sched_credit, 2);
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	pin(a, BIT(0));
	pin(b, BIT(0));
	s = add_sleeper(3, 300 * US, 3 * MS);
	run_for(2000 * MS);
	assert_true(s->wakeups > 100);
	assert_true(s->max_latency_ns == 0);
	assert_true(s->run_on_ns[1] > 0);
}

/*
 * Load balancing: vCPUs crowded on cpu0 spread over idle CPUs once their
 * affinity allows it, while vCPUs pinned to cpu0 and cpu2 never leave.
 */
static void balance(const struct sched_policy *p)
{
	struct sim_vcpu *pinned0[3], *pinned2, *free_vcpus[6];
	uint64_t busy[SIM_MAX_CPUS], t0;

	start(p, 4);
	exit_interval_ns = 700 * US;
	for (unsigned i = 0; i < 3; i++) {
		pinned0[i] = add_vcpu(1, BUSY);
		pin(pinned0[i], BIT(0));
	}
	pinned2 = add_vcpu(2, BUSY);
	pin(pinned2, BIT(2));
	for (unsigned i = 0; i < 6; i++) {
		free_vcpus[i] = add_vcpu(3, BUSY);
		pin(free_vcpus[i], BIT(0));
	}
	run_for(500 * MS);
	assert_true(cpus[1].busy_ns == 0 && cpus[3].busy_ns == 0);
	for (unsigned i = 0; i < 6; i++)
		pin(free_vcpus[i], all_cpus());
	for (unsigned c = 0; c < 4; c++)
		busy[c] = cpus[c].busy_ns;
	t0 = now;
	run_for(3000 * MS);
	for (unsigned c = 0; c < 4; c++)
		assert_share(cpus[c].busy_ns - busy[c], now - t0, 1.0, 1e-9);
	for (unsigned i = 0; i < 3; i++)
		assert_true(pinned0[i]->run_ns == pinned0[i]->run_on_ns[0]);
	assert_true(pinned2->run_ns == pinned2->run_on_ns[2]);
	for (unsigned c = 0; c < 4; c++) {
		unsigned placed = 0;

		for (unsigned i = 0; i < nr_sims; i++)
			placed += sims[i].v->pcpu == (int)c;
		/* 10 vCPUs, 3 of them held on cpu0: 3, 2, 3, 2 or so. */
		assert_true(placed == 2 || placed == 3);
		policy->dump(c);
	}
	/* Each free vCPU got about a third of a CPU once spread out. */
	for (unsigned i = 0; i < 6; i++)
		assert_true(free_vcpus[i]->run_ns > 800 * MS);
}

static void test_credit_balance_respects_pinning(void **state)
{
	(void)state;
	balance(&sched_credit);
}

static void test_rr_balance_respects_pinning(void **state)
{
	(void)state;
	balance(&sched_round_robin);
}

/* A running vCPU whose affinity no longer allows its CPU moves at once. */
static void test_repin_running_vcpu_moves(void **state)
{
	struct sim_vcpu *a;

	(void)state;
	start(&sched_credit, 2);
	a = add_vcpu(1, BUSY);
	pin(a, BIT(0));
	run_for(100 * MS);
	assert_int_equal(a->running_on, 0);
	pin(a, BIT(1));
	assert_int_equal(a->running_on, 1);
	run_for(100 * MS);
	assert_true(a->run_on_ns[1] == 100 * MS);
}

/*
 * Paused and unpaused from another CPU before its own CPU got to
 * reschedule: the vCPU simply goes on running there, and an idle CPU must
 * not be handed it meanwhile.
 */
static void test_sleep_and_wake_while_running(void **state)
{
	struct sim_vcpu *a;

	(void)state;
	start(&sched_credit, 2);
	a = add_vcpu(1, BUSY);
	run_for(10 * MS);
	assert_true(a->running_on >= 0);
	policy->vcpu_sleep(a->v);
	policy->vcpu_wake(a->v);
	drain_kicks();
	run_for(100 * MS);
	assert_true(a->run_ns == 110 * MS);
}

/*
 * A CPU that loses its vCPU mid-slice (moved away by a new affinity), its
 * own queue empty, takes at once a vCPU waiting on another CPU's queue
 * rather than idle.
 */
static void test_cpu_left_empty_steals_waiting_vcpu(void **state)
{
	struct sim_vcpu *a, *b, *s;

	(void)state;
	start(&sched_credit, 2);
	a = add_vcpu(1, BUSY);
	b = add_vcpu(2, BUSY);
	s = add_vcpu(3, BUSY);
	pin(a, BIT(0));
	pin(b, BIT(0));
	pin(s, BIT(1));
	run_for(5 * MS);
	/* b waits on cpu0 behind a; cpu1 is busy, so nobody takes it yet. */
	pin(b, all_cpus());
	assert_int_equal(b->running_on, -1);
	assert_int_equal(s->running_on, 1);
	pin(s, BIT(0));
	assert_int_equal(b->running_on, 1);
	run_for(5 * MS);
	assert_true(cpus[1].busy_ns == 10 * MS);
}

/* Round-robin: busy vCPUs take strict turns of one timeslice. */
static void rr_turns(uint64_t timeslice_ns, uint64_t exit_interval)
{
	struct sim_vcpu *s[3];
	struct vcpu *order[3];
	unsigned turns = 0;

	start_with(&sched_round_robin, 1, timeslice_ns, 0);
	exit_interval_ns = exit_interval;
	for (unsigned i = 0; i < 3; i++)
		s[i] = add_vcpu(1, BUSY);
	/* Watch turns: the running vCPU changes once per timeslice. */
	for (uint64_t t = 0; t < 3000 * MS; t += timeslice_ns) {
		struct vcpu *running = cpus[0].curr;

		if (turns < 3)
			order[turns] = running;
		else
			assert_ptr_equal(running, order[turns % 3]);
		turns++;
		run_for(timeslice_ns);
		assert_ptr_not_equal(cpus[0].curr, running);
	}
	for (unsigned i = 0; i < 3; i++)
		assert_share(s[i]->run_ns, 3000 * MS, 1.0 / 3, 1e-9);
}

static void test_rr_alternates(void **state)
{
	(void)state;
	rr_turns(sched_round_robin.default_timeslice_ns, 0);
}

static void test_rr_alternates_with_exits_and_short_slice(void **state)
{
	(void)state;
	rr_turns(5 * MS, 130 * US);
}

/* Round-robin: a woken vCPU waits for the running one's slice to end. */
static void test_rr_wakeup_waits_for_slice(void **state)
{
	struct sim_vcpu *s;

	(void)state;
	start(&sched_round_robin, 1);
	add_vcpu(1, BUSY);
	s = add_sleeper(2, 100 * US, 15 * MS);
	run_for(2000 * MS);
	assert_true(s->max_latency_ns > 1 * MS);
	assert_true(s->max_latency_ns <=
		    sched_round_robin.default_timeslice_ns);
}

static void test_policy_parameters(void **state)
{
	struct sim_vcpu *a;
	unsigned weight, cap;

	(void)state;
	start(&sched_credit, 2);
	a = add_vcpu(1, BUSY);
	assert_int_equal(sched_credit.get_params(&doms[1], &weight, &cap), 0);
	assert_int_equal(weight, SCHED_DEFAULT_WEIGHT);
	assert_int_equal(cap, 0);
	assert_int_equal(sched_credit.set_params(&doms[1], 0, 0), -EINVAL);
	assert_int_equal(sched_credit.set_params(&doms[1], 65536, 0), -EINVAL);
	assert_int_equal(sched_credit.set_params(&doms[1], 256, 201), -EINVAL);
	assert_int_equal(sched_credit.set_params(&doms[1], 65535, 200), 0);
	assert_int_equal(sched_credit.get_params(&doms[1], &weight, &cap), 0);
	assert_int_equal(weight, 65535);
	assert_int_equal(cap, 200);
	assert_int_equal(sched_credit.set_params(&doms[2], 256, 0), -ESRCH);
	assert_int_equal(sched_credit.get_params(&doms[2], &weight, &cap),
			 -ESRCH);
	assert_int_equal(sched_credit.set_affinity(a->v, 0), -EINVAL);
	assert_int_equal(sched_credit.set_affinity(a->v, BIT(5)), -EINVAL);
	assert_int_equal(sched_credit.set_affinity(a->v, BIT(1) | BIT(7)), 0);
	a->allowed = BIT(1);
	assert_true(sched_credit.get_affinity(a->v) == BIT(1));
	drain_kicks();
	/* A cap set with no credit yet parks it until the next period. */
	run_for(100 * MS);
	assert_int_equal(a->running_on, 1);
	assert_int_equal(sched_credit.vcpu_insert(a->v), -EEXIST);
	assert_int_equal(sched_credit.vcpu_remove(a->v), -EBUSY);
}

static void test_rr_has_no_weights(void **state)
{
	unsigned weight, cap;

	(void)state;
	start(&sched_round_robin, 1);
	add_vcpu(1, BUSY);
	assert_int_equal(sched_round_robin.set_params(&doms[1], 512, 0),
			 -EOPNOTSUPP);
	assert_int_equal(sched_round_robin.get_params(&doms[1], &weight, &cap),
			 -EOPNOTSUPP);
}

static void test_init_rejects_bad_config(void **state)
{
	const struct sched_policy *ps[] = {&sched_credit, &sched_round_robin};
	const struct sched_config bad[] = {
	    {0, 30 * MS, 1 * MS, sim_kick},
	    {MAX_CPUS + 1, 30 * MS, 1 * MS, sim_kick},
	    {1, SCHED_MIN_TIMESLICE_NS - 1, 0, sim_kick},
	    {1, SCHED_MAX_TIMESLICE_NS + 1, 0, sim_kick},
	    {1, 2 * MS, 2 * MS + 1, sim_kick},
	    {1, 30 * MS, 1 * MS, NULL},
	};

	(void)state;
	for (unsigned p = 0; p < ARRAY_SIZE(ps); p++)
		for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
			assert_int_equal(ps[p]->init(&bad[i]), -EINVAL);
	/* Leave a valid configuration for the teardown. */
	start(&sched_credit, 1);
}

/* Unknown vCPUs: ignored by wake/sleep, refused by the others. */
static void test_unknown_and_removed_vcpus(void **state)
{
	struct vcpu stranger = {.dom = &doms[3], .id = 0, .pcpu = -1};
	struct vcpu bad_id = {.dom = &doms[3], .id = MAX_VCPUS, .pcpu = -1};
	struct sim_vcpu *a;
	struct sched_decision d;

	(void)state;
	start(&sched_credit, 1);
	policy->vcpu_wake(&stranger);
	policy->vcpu_sleep(&stranger);
	d = policy->schedule(0, now, NULL);
	assert_null(d.next);
	assert_true(d.slice_ns == SCHED_SLICE_NONE);
	assert_int_equal(policy->vcpu_remove(&stranger), -ENOENT);
	assert_int_equal(policy->set_affinity(&stranger, 1), -ENOENT);
	assert_true(policy->get_affinity(&stranger) == 0);
	assert_int_equal(policy->vcpu_insert(&bad_id), -EINVAL);
	a = add_vcpu(1, ASLEEP);
	run_for(10 * MS);
	assert_true(a->run_ns == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_credit_weights_one_cpu, teardown),
	    cmocka_unit_test_teardown(
		test_credit_weights_one_cpu_frequent_exits, teardown),
	    cmocka_unit_test_teardown(test_credit_weights_pinned_beside_others,
				      teardown),
	    cmocka_unit_test_teardown(test_credit_weight_change_takes_effect,
				      teardown),
	    cmocka_unit_test_teardown(test_credit_cap_25_alone, teardown),
	    cmocka_unit_test_teardown(test_credit_cap_25_alone_frequent_exits,
				      teardown),
	    cmocka_unit_test_teardown(test_credit_cap_25_beside_uncapped,
				      teardown),
	    cmocka_unit_test_teardown(
		test_credit_cap_covers_all_vcpus_of_domain, teardown),
	    cmocka_unit_test_teardown(test_credit_cap_lifted, teardown),
	    cmocka_unit_test_teardown(
		test_credit_wakeup_latency_within_ratelimit, teardown),
	    cmocka_unit_test_teardown(
		test_credit_ratelimit_protects_running_vcpu, teardown),
	    cmocka_unit_test_teardown(test_idle_cpu_takes_woken_vcpu, teardown),
	    cmocka_unit_test_teardown(test_credit_balance_respects_pinning,
				      teardown),
	    cmocka_unit_test_teardown(test_rr_balance_respects_pinning,
				      teardown),
	    cmocka_unit_test_teardown(test_repin_running_vcpu_moves, teardown),
	    cmocka_unit_test_teardown(test_sleep_and_wake_while_running,
				      teardown),
	    cmocka_unit_test_teardown(test_cpu_left_empty_steals_waiting_vcpu,
				      teardown),
	    cmocka_unit_test_teardown(test_rr_alternates, teardown),
	    cmocka_unit_test_teardown(
		test_rr_alternates_with_exits_and_short_slice, teardown),
	    cmocka_unit_test_teardown(test_rr_wakeup_waits_for_slice, teardown),
	    cmocka_unit_test_teardown(test_policy_parameters, teardown),
	    cmocka_unit_test_teardown(test_rr_has_no_weights, teardown),
	    cmocka_unit_test_teardown(test_init_rejects_bad_config, teardown),
	    cmocka_unit_test_teardown(test_unknown_and_removed_vcpus, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

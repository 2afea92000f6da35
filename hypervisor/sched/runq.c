/* SPDX-License-Identifier: MIT */
/*
 * Run queues shared by the scheduling policies (locking rules in runq.h).
 *
 * A unit's life: inserted (placed on a CPU, asleep) -> woken (queued on
 * that CPU, which or an idle CPU allowed to steal it gets kicked) ->
 * picked by schedule() (off the queue, running) -> descheduled at the end
 * of its slice, by a more urgent unit after the rate limit, by sleeping,
 * or by a change of affinity (back on a queue, or moved to an allowed CPU
 * once it no longer runs).
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/trace.h>

#include "runq.h"

/*
 * Shortest slice a policy horizon may ask for: below this, programming the
 * timer and taking the exit cost more than the decision gains.
 */
#define MIN_SLICE_NS 100000ULL /* 100 us */

struct sched_config runq_cfg;
uint64_t runq_online_mask;
struct runq runqs[MAX_CPUS];

static const struct runq_rules *rules;
/* vCPU -> unit; entries change under table_lock, are read without it. */
static struct sched_unit *unit_table[MAX_DOMAINS][MAX_VCPUS];
static spinlock_t table_lock;

int runq_init(const struct sched_config *cfg, const struct runq_rules *r)
{
	if (!cfg->nr_cpus || cfg->nr_cpus > MAX_CPUS || !cfg->kick ||
	    cfg->timeslice_ns < SCHED_MIN_TIMESLICE_NS ||
	    cfg->timeslice_ns > SCHED_MAX_TIMESLICE_NS ||
	    cfg->ratelimit_ns > cfg->timeslice_ns)
		return -EINVAL;
	runq_cfg = *cfg;
	runq_online_mask = cfg->nr_cpus == 64 ? ~0ULL : BIT(cfg->nr_cpus) - 1;
	memset(runqs, 0, sizeof(runqs));
	memset(unit_table, 0, sizeof(unit_table));
	table_lock = (spinlock_t)SPINLOCK_INIT;
	rules = r;
	return 0;
}

struct sched_unit *runq_unit(const struct vcpu *v)
{
	if (v->dom->id >= MAX_DOMAINS || v->id >= MAX_VCPUS)
		return NULL;
	return __atomic_load_n(&unit_table[v->dom->id][v->id],
			       __ATOMIC_ACQUIRE);
}

unsigned runq_lock_unit(struct sched_unit *u)
{
	for (;;) {
		unsigned cpu = __atomic_load_n(&u->cpu, __ATOMIC_ACQUIRE);

		spin_lock(&runqs[cpu].lock);
		if (u->cpu == cpu)
			return cpu;
		spin_unlock(&runqs[cpu].lock); /* it moved meanwhile */
	}
}

void runq_unlock(unsigned cpu)
{
	spin_unlock(&runqs[cpu].lock);
}

/* Both queues, in ascending CPU order so two CPUs cannot deadlock. */
static void lock_pair(unsigned a, unsigned b)
{
	if (a == b) {
		spin_lock(&runqs[a].lock);
		return;
	}
	spin_lock(&runqs[MIN(a, b)].lock);
	spin_lock(&runqs[MAX(a, b)].lock);
}

static void unlock_pair(unsigned a, unsigned b)
{
	spin_unlock(&runqs[a].lock);
	if (a != b)
		spin_unlock(&runqs[b].lock);
}

/*
 * Counters and the current unit are written under the queue's lock but
 * read without it by CPUs looking for an idle or lightly loaded queue:
 * those reads are hints that the locked paths check again.
 */
static void set_curr(struct runq *rq, struct sched_unit *u)
{
	__atomic_store_n(&rq->curr, u, __ATOMIC_RELEASE);
}

static bool cpu_idle(unsigned cpu)
{
	return !__atomic_load_n(&runqs[cpu].curr, __ATOMIC_ACQUIRE);
}

static void add_count(unsigned *counter, int delta)
{
	__atomic_store_n(counter, *counter + (unsigned)delta, __ATOMIC_RELAXED);
}

static void enqueue(struct runq *rq, struct sched_unit *u)
{
	u->q_next = NULL;
	u->q_prev = rq->tail;
	if (rq->tail)
		rq->tail->q_next = u;
	else
		rq->head = u;
	rq->tail = u;
	u->queued = true;
	add_count(&rq->nr_queued, 1);
}

static void dequeue(struct runq *rq, struct sched_unit *u)
{
	if (u->q_prev)
		u->q_prev->q_next = u->q_next;
	else
		rq->head = u->q_next;
	if (u->q_next)
		u->q_next->q_prev = u->q_prev;
	else
		rq->tail = u->q_prev;
	u->q_next = u->q_prev = NULL;
	u->queued = false;
	add_count(&rq->nr_queued, -1);
}

/* Re-homes a unit that is not running; both queues locked. */
static void move_unit(struct sched_unit *u, unsigned to)
{
	trace_vcpu(u->vcpu, KEEL_TRACE_SCHED, KEEL_TRACE_SCHED_MIGRATE,
		   (uint64_t)u->cpu << 32 | to);
	add_count(&runqs[u->cpu].nr_placed, -1);
	add_count(&runqs[to].nr_placed, 1);
	__atomic_store_n(&u->cpu, to, __ATOMIC_RELEASE);
	__atomic_store_n(&u->vcpu->pcpu, (int)to, __ATOMIC_RELAXED);
}

/* The allowed CPU with the fewest units placed on it. */
static unsigned place(uint64_t mask)
{
	unsigned best = 0, best_load = ~0u;

	mask &= runq_online_mask;
	for (unsigned cpu = 0; cpu < runq_cfg.nr_cpus; cpu++) {
		unsigned load;

		if (!(mask & BIT(cpu)))
			continue;
		load = __atomic_load_n(&runqs[cpu].nr_placed, __ATOMIC_RELAXED);
		if (load < best_load) {
			best = cpu;
			best_load = load;
		}
	}
	return best;
}

/* Highest priority eligible unit of rq allowed on cpu; FIFO among equals. */
static struct sched_unit *best_queued(struct runq *rq, unsigned cpu)
{
	struct sched_unit *best = NULL;
	int best_prio = RUNQ_INELIGIBLE;

	for (struct sched_unit *u = rq->head; u; u = u->q_next) {
		int prio;

		if (!(u->affinity & BIT(cpu)))
			continue;
		prio = rules->prio(u);
		if (prio > best_prio) {
			best = u;
			best_prio = prio;
		}
	}
	return best;
}

/* Kicks an idle CPU other than u's that u may run on: it will steal u. */
static void offer_to_idle(const struct sched_unit *u)
{
	uint64_t others = u->affinity & runq_online_mask & ~BIT(u->cpu);

	for (unsigned cpu = 0; cpu < runq_cfg.nr_cpus; cpu++) {
		if ((others & BIT(cpu)) && cpu_idle(cpu)) {
			runq_cfg.kick(cpu);
			return;
		}
	}
}

/*
 * u was just queued on its CPU: kick that CPU if it idles or runs something
 * less urgent, otherwise an idle CPU u may run on.
 */
static void tickle(struct sched_unit *u)
{
	struct sched_unit *curr = runqs[u->cpu].curr;
	int prio = rules->prio(u);

	if (!curr || prio > rules->prio(curr))
		runq_cfg.kick(u->cpu);
	else if (prio != RUNQ_INELIGIBLE)
		offer_to_idle(u);
}

int runq_insert(struct sched_unit *u, struct vcpu *v)
{
	unsigned cpu;

	if (v->dom->id >= MAX_DOMAINS || v->id >= MAX_VCPUS)
		return -EINVAL;
	spin_lock(&table_lock);
	if (unit_table[v->dom->id][v->id]) {
		spin_unlock(&table_lock);
		return -EEXIST;
	}
	u->vcpu = v;
	u->affinity = runq_online_mask;
	cpu = place(u->affinity);
	spin_lock(&runqs[cpu].lock);
	u->cpu = cpu;
	add_count(&runqs[cpu].nr_placed, 1);
	__atomic_store_n(&v->pcpu, (int)cpu, __ATOMIC_RELAXED);
	spin_unlock(&runqs[cpu].lock);
	__atomic_store_n(&unit_table[v->dom->id][v->id], u, __ATOMIC_RELEASE);
	spin_unlock(&table_lock);
	return 0;
}

int runq_remove(struct sched_unit *u)
{
	struct vcpu *v = u->vcpu;
	unsigned cpu;

	spin_lock(&table_lock);
	cpu = runq_lock_unit(u);
	if (u->running) {
		runq_unlock(cpu);
		spin_unlock(&table_lock);
		return -EBUSY;
	}
	if (u->queued)
		dequeue(&runqs[cpu], u);
	__atomic_store_n(&u->runnable, false, __ATOMIC_RELAXED);
	add_count(&runqs[cpu].nr_placed, -1);
	runq_unlock(cpu);
	__atomic_store_n(&unit_table[v->dom->id][v->id], NULL,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&v->pcpu, -1, __ATOMIC_RELAXED);
	spin_unlock(&table_lock);
	return 0;
}

void runq_vcpu_wake(struct vcpu *v)
{
	struct sched_unit *u = runq_unit(v);
	unsigned cpu;

	if (!u)
		return;
	cpu = runq_lock_unit(u);
	if (!u->runnable) {
		__atomic_store_n(&u->runnable, true, __ATOMIC_RELAXED);
		if (rules->woken)
			rules->woken(u);
		/* A running unit is queued again when it is descheduled. */
		if (!u->running) {
			enqueue(&runqs[cpu], u);
			tickle(u);
		}
	}
	runq_unlock(cpu);
}

void runq_vcpu_sleep(struct vcpu *v)
{
	struct sched_unit *u = runq_unit(v);
	unsigned cpu;

	if (!u)
		return;
	cpu = runq_lock_unit(u);
	if (u->runnable) {
		__atomic_store_n(&u->runnable, false, __ATOMIC_RELAXED);
		if (u->queued)
			dequeue(&runqs[cpu], u);
		else if (u->running)
			runq_cfg.kick(cpu);
	}
	runq_unlock(cpu);
}

int runq_set_affinity(struct vcpu *v, uint64_t cpumask)
{
	struct sched_unit *u = runq_unit(v);

	if (!u)
		return -ENOENT;
	cpumask &= runq_online_mask;
	if (!cpumask)
		return -EINVAL;
	for (;;) {
		unsigned cpu = runq_lock_unit(u), to;

		__atomic_store_n(&u->affinity, cpumask, __ATOMIC_RELAXED);
		if ((cpumask & BIT(cpu)) || u->running) {
			/* A running unit moves when it is descheduled; a
			 * queued one may now be stolen by an idle CPU. */
			if (u->running && !(cpumask & BIT(cpu)))
				runq_cfg.kick(cpu);
			else if (u->queued)
				tickle(u);
			runq_unlock(cpu);
			return 0;
		}
		to = place(cpumask);
		runq_unlock(cpu);
		lock_pair(cpu, to);
		if (u->cpu != cpu || u->running || u->affinity != cpumask) {
			unlock_pair(cpu, to); /* raced: look again */
			continue;
		}
		if (u->queued) {
			dequeue(&runqs[cpu], u);
			move_unit(u, to);
			enqueue(&runqs[to], u);
			tickle(u);
		} else {
			move_unit(u, to);
		}
		unlock_pair(cpu, to);
		return 0;
	}
}

uint64_t runq_get_affinity(const struct vcpu *v)
{
	struct sched_unit *u = runq_unit(v);

	return u ? __atomic_load_n(&u->affinity, __ATOMIC_RELAXED) : 0;
}

static void charge(struct sched_unit *u, uint64_t now)
{
	uint64_t ran = now > u->charged_ns ? now - u->charged_ns : 0;

	u->charged_ns = MAX(now, u->charged_ns);
	u->runtime_ns += ran;
	if (rules->charge)
		rules->charge(u, ran, now);
}

static void start(struct sched_unit *u, unsigned cpu, uint64_t now)
{
	u->running = true;
	u->picked_ns = u->charged_ns = now;
	u->slice_end_ns = now + runq_cfg.timeslice_ns;
	set_curr(&runqs[cpu], u);
}

/* How long u may run from now before schedule() must look again. */
static uint64_t slice_for(const struct sched_unit *u,
			  const struct sched_unit *waiting, uint64_t now)
{
	uint64_t slice = u->slice_end_ns - now;

	if (waiting && rules->prio(waiting) > rules->prio(u)) {
		uint64_t limit_end = u->picked_ns + runq_cfg.ratelimit_ns;

		slice = MIN(slice, limit_end > now ? limit_end - now : 0);
	}
	if (rules->horizon)
		slice = MIN(slice,
			    MAX(rules->horizon(u, waiting, now), MIN_SLICE_NS));
	return slice;
}

/*
 * Whether prev (running on cpu, just charged) goes on running: it must be
 * runnable, allowed here and eligible, and it yields to a more urgent unit
 * once it ran for the rate limit, or to an equally urgent one at the end of
 * its slice. A unit left waiting is offered to idle CPUs. Run-queue lock
 * held.
 */
static bool keep_running(unsigned cpu, struct sched_unit *prev, uint64_t now,
			 struct sched_decision *d)
{
	int prio = rules->prio(prev);
	struct sched_unit *waiting;

	if (!prev->runnable || !(prev->affinity & BIT(cpu)) ||
	    prio == RUNQ_INELIGIBLE)
		return false;
	waiting = best_queued(&runqs[cpu], cpu);
	if (waiting) {
		int waiting_prio = rules->prio(waiting);

		if (waiting_prio > prio &&
		    now - prev->picked_ns >= runq_cfg.ratelimit_ns)
			return false;
		if (now >= prev->slice_end_ns && waiting_prio >= prio)
			return false;
	}
	if (now >= prev->slice_end_ns)
		prev->slice_end_ns = now + runq_cfg.timeslice_ns;
	d->next = prev->vcpu;
	d->slice_ns = slice_for(prev, waiting, now);
	if (waiting)
		offer_to_idle(waiting);
	return true;
}

/*
 * prev was descheduled from a CPU its affinity no longer allows. It stayed
 * marked running so that nothing else queues or moves it; now it goes to
 * an allowed CPU.
 */
static void evict(struct sched_unit *u, unsigned from)
{
	for (;;) {
		uint64_t mask = __atomic_load_n(&u->affinity, __ATOMIC_RELAXED);
		unsigned to = place(mask);

		lock_pair(from, to);
		if (!(u->affinity & BIT(to))) {
			unlock_pair(from, to); /* affinity changed: again */
			continue;
		}
		u->running = false;
		if (to != from)
			move_unit(u, to);
		if (u->runnable) {
			enqueue(&runqs[to], u);
			tickle(u);
		}
		unlock_pair(from, to);
		return;
	}
}

/*
 * Idle cpu takes the most urgent unit it may run from the other queues,
 * the most loaded first. Its own queue is checked again under the lock
 * because a unit may have been woken onto it meanwhile.
 */
static struct sched_unit *steal(unsigned cpu, uint64_t now,
				struct sched_decision *d)
{
	uint64_t tried = BIT(cpu);

	for (;;) {
		unsigned victim = cpu, most = 0;
		struct sched_unit *u;

		for (unsigned c = 0; c < runq_cfg.nr_cpus; c++) {
			unsigned n = __atomic_load_n(&runqs[c].nr_queued,
						     __ATOMIC_RELAXED);

			if (!(tried & BIT(c)) && n > most) {
				victim = c;
				most = n;
			}
		}
		if (victim == cpu)
			return NULL;
		tried |= BIT(victim);
		lock_pair(cpu, victim);
		u = best_queued(&runqs[cpu], cpu);
		if (u) {
			dequeue(&runqs[cpu], u);
		} else {
			u = best_queued(&runqs[victim], cpu);
			if (u) {
				dequeue(&runqs[victim], u);
				move_unit(u, cpu);
			}
		}
		if (u) {
			start(u, cpu, now);
			d->next = u->vcpu;
			d->slice_ns =
			    slice_for(u, best_queued(&runqs[cpu], cpu), now);
		}
		unlock_pair(cpu, victim);
		if (u)
			return u;
	}
}

/* Units that want cpu: queued there plus the one running there. */
static unsigned load_of(unsigned cpu)
{
	return __atomic_load_n(&runqs[cpu].nr_queued, __ATOMIC_RELAXED) +
	       !cpu_idle(cpu);
}

/*
 * Evens out queue lengths, which stealing by idle CPUs alone does not: at
 * the end of a slice cpu pulls one unit it may run from the most loaded
 * queue if that has at least two more units than its own. Called with no
 * lock held.
 */
static void pull_from_busiest(unsigned cpu)
{
	unsigned busiest = cpu, most = 0;
	struct sched_unit *u;

	for (unsigned c = 0; c < runq_cfg.nr_cpus; c++) {
		unsigned load = load_of(c);

		if (c != cpu && load > most) {
			busiest = c;
			most = load;
		}
	}
	if (busiest == cpu || most < load_of(cpu) + 2)
		return;
	lock_pair(cpu, busiest);
	u = best_queued(&runqs[busiest], cpu);
	if (u && load_of(busiest) >= load_of(cpu) + 2) {
		dequeue(&runqs[busiest], u);
		move_unit(u, cpu);
		enqueue(&runqs[cpu], u);
	}
	unlock_pair(cpu, busiest);
}

struct sched_decision runq_schedule(unsigned cpu, uint64_t now,
				    struct vcpu *prev_vcpu)
{
	struct runq *rq = &runqs[cpu];
	struct sched_unit *prev = prev_vcpu ? runq_unit(prev_vcpu) : NULL;
	struct sched_unit *next, *evicted = NULL;
	struct sched_decision d = {NULL, SCHED_SLICE_NONE};
	bool waiting;

	/* prev's slice fields are only written by this CPU while it runs. */
	if (!prev || now >= prev->slice_end_ns)
		pull_from_busiest(cpu);
	spin_lock(&rq->lock);
	if (rq->curr != prev)
		panic("sched: cpu%u reports it ran %p, it was given %p", cpu,
		      (void *)prev, (void *)rq->curr);
	if (prev) {
		charge(prev, now);
		if (keep_running(cpu, prev, now, &d)) {
			spin_unlock(&rq->lock);
			return d;
		}
		set_curr(rq, NULL);
		if (prev->runnable && !(prev->affinity & BIT(cpu))) {
			evicted = prev;
		} else {
			prev->running = false;
			if (prev->runnable)
				enqueue(rq, prev);
		}
	}
	next = best_queued(rq, cpu);
	if (next) {
		struct sched_unit *waiting;

		dequeue(rq, next);
		start(next, cpu, now);
		waiting = best_queued(rq, cpu);
		d.next = next->vcpu;
		d.slice_ns = slice_for(next, waiting, now);
		if (waiting)
			offer_to_idle(waiting);
	}
	waiting = rq->nr_queued > 0;
	spin_unlock(&rq->lock);
	if (evicted)
		evict(evicted, cpu);
	if (next || steal(cpu, now, &d))
		return d;
	if (waiting && rules->ineligible_wait)
		d.slice_ns =
		    MAX(rules->ineligible_wait(cpu, now), MIN_SLICE_NS);
	return d;
}

static const char *unit_state(const struct sched_unit *u)
{
	if (u->running)
		return "running";
	if (u->queued)
		return "queued";
	return u->runnable ? "moving" : "asleep";
}

void runq_dump(unsigned cpu, void (*show)(const struct sched_unit *u))
{
	struct runq *rq = &runqs[cpu];

	spin_lock(&table_lock);
	spin_lock(&rq->lock);
	if (rq->curr)
		printk("cpu%u: running d%uv%u, %u queued, %u placed\n", cpu,
		       rq->curr->vcpu->dom->id, rq->curr->vcpu->id,
		       rq->nr_queued, rq->nr_placed);
	else
		printk("cpu%u: idle, %u queued, %u placed\n", cpu,
		       rq->nr_queued, rq->nr_placed);
	for (unsigned d = 0; d < MAX_DOMAINS; d++) {
		for (unsigned i = 0; i < MAX_VCPUS; i++) {
			struct sched_unit *u = unit_table[d][i];

			if (!u || u->cpu != cpu)
				continue;
			printk("  d%uv%u %s, affinity 0x%lx, ran %lu ms", d, i,
			       unit_state(u), u->affinity,
			       u->runtime_ns / 1000000);
			if (show)
				show(u);
			printk("\n");
		}
	}
	spin_unlock(&rq->lock);
	spin_unlock(&table_lock);
}

/* SPDX-License-Identifier: MIT */
/*
 * Every physical CPU runs sched_loop(): fire due virtual timers, ask the
 * policy what to run, enter that vCPU until its next exit, handle the
 * exit. With nothing to run the CPU halts until its next timer or a kick.
 */
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/fpu.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/sched.h>

#define IDLE_POLL_NS 20000000ULL /* console input is polled at least this often */
/* Other CPUs have nothing to poll: they sleep until a timer or a kick. */
#define AP_IDLE_NS 1000000000ULL

const struct sched_policy *sched;
static volatile bool resched[MAX_CPUS];

static void sched_kick(unsigned cpu)
{
	if (cpu == this_cpu()->cpu)
		resched[cpu] = true;
	else
		lapic_send_ipi(percpu_area[cpu].apic_id, IPI_KICK_VECTOR);
}

static uint64_t cmdline_number(const char *cmdline, const char *key)
{
	char arg[24];

	if (cmdline_get(cmdline, key, arg, sizeof(arg)) <= 0)
		return 0;
	return parse_size(arg, NULL);
}

void sched_init(const char *cmdline)
{
	struct sched_config cfg = { .nr_cpus = nr_cpus_online,
				    .kick = sched_kick };
	const struct sched_policy *policy = &sched_credit;
	char name[16];

	if (cmdline_get(cmdline, "sched", name, sizeof(name)) > 0) {
		if (!strcmp(name, sched_round_robin.name))
			policy = &sched_round_robin;
		else if (strcmp(name, sched_credit.name))
			printk("sched=%s unknown; using %s\n", name, policy->name);
	}
	cfg.timeslice_ns = cmdline_number(cmdline, "sched_tslice_ms") * 1000000;
	cfg.ratelimit_ns = cmdline_number(cmdline, "sched_ratelimit_us") * 1000;
	if (!cfg.timeslice_ns)
		cfg.timeslice_ns = policy->default_timeslice_ns;
	if (!cmdline_has(cmdline, "sched_ratelimit_us"))
		cfg.ratelimit_ns = MIN(policy->default_ratelimit_ns, cfg.timeslice_ns);
	if (policy->init(&cfg)) {
		printk("scheduler settings rejected; using the defaults\n");
		cfg.timeslice_ns = policy->default_timeslice_ns;
		cfg.ratelimit_ns = policy->default_ratelimit_ns;
		if (policy->init(&cfg))
			panic("scheduler %s does not start", policy->name);
	}
	/* Published last: the other CPUs wait for it in sched_loop(). */
	__atomic_store_n(&sched, policy, __ATOMIC_RELEASE);
	printk("scheduler: %s, timeslice %lu ms, rate limit %lu us\n",
	       policy->name, cfg.timeslice_ns / 1000000, cfg.ratelimit_ns / 1000);
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

/*
 * A CPU that is in (or about to enter) one of d's vCPUs may still hold
 * translations of d's old nested page tables: kick it out of the guest and
 * wait until it has left. Its next entry flushes, because the vendor code
 * marked every vCPU of d before this was called (hvm_ops.p2m_flush).
 * Waiting is safe with d->lock held: a CPU counts its exit before it
 * takes the lock to handle it.
 */
void sched_evict_domain(const struct domain *d)
{
	uint64_t seen[MAX_CPUS];
	unsigned self = this_cpu()->cpu;

	/* The flags set by p2m_flush must be visible before `current` is read;
	 * the other side takes d->lock (a full barrier) after setting it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct vcpu *v = __atomic_load_n(&percpu_area[c].current,
						 __ATOMIC_ACQUIRE);

		seen[c] = 0;
		if (c == self || !percpu_area[c].online || !v || v->dom != d)
			continue;
		seen[c] = __atomic_load_n(&percpu_area[c].exits, __ATOMIC_ACQUIRE) + 1;
		lapic_send_ipi(percpu_area[c].apic_id, IPI_KICK_VECTOR);
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		while (seen[c] && __atomic_load_n(&percpu_area[c].current,
						  __ATOMIC_ACQUIRE) &&
		       __atomic_load_n(&percpu_area[c].exits,
				       __ATOMIC_ACQUIRE) < seen[c])
			cpu_relax();
}

/* Host TSC at which v's virtual LAPIC timer is due, or 0. */
static uint64_t vtimer_due(struct vcpu *v)
{
	uint64_t d = vlapic_timer_deadline(&v->vlapic);

	return d ? d - v->tsc_offset : 0;
}

/*
 * Fires the due virtual timers of the vCPUs queued on this CPU (running,
 * waiting or blocked); returns the earliest future deadline.
 */
static uint64_t run_vtimers(unsigned cpu, uint64_t horizon)
{
	uint64_t now = rdtsc();

	for (unsigned id = 0; id < MAX_DOMAINS; id++) {
		struct domain *d = domains[id];

		if (!d || d->state != DOM_RUNNING)
			continue;
		for (unsigned i = 0; i < d->nr_vcpus; i++) {
			struct vcpu *v = d->vcpus[i];
			uint64_t due;

			if (v->pcpu != (int)cpu || v->state == VCPU_STOPPED ||
			    v->state == VCPU_DOWN)
				continue;
			due = vtimer_due(v);
			if (due && due <= now) {
				spin_lock(&d->lock);
				vlapic_timer_expire(&v->vlapic, now + v->tsc_offset);
				spin_unlock(&d->lock);
				due = vtimer_due(v);
			}
			if (due && due < horizon)
				horizon = due;
		}
	}
	return horizon;
}

/* Opens a window for pending physical interrupts (STI shadow: NOP). */
static void take_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

static uint64_t slice_end(uint64_t now, uint64_t slice_ns)
{
	return slice_ns == SCHED_SLICE_NONE ? UINT64_MAX
					    : now + ns_to_tsc(slice_ns);
}

__noreturn void sched_loop(void)
{
	unsigned cpu = this_cpu()->cpu;
	struct vcpu *prev = NULL;
	struct vm_exit exit;

	while (!__atomic_load_n(&sched, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (;;) {
		uint64_t now = rdtsc(), horizon, start;
		struct sched_decision dec;
		struct vcpu *v;

		if (cpu == 0)
			console_poll_input();
		horizon = run_vtimers(
		    cpu, now + ns_to_tsc(cpu ? AP_IDLE_NS : IDLE_POLL_NS));
		resched[cpu] = false;
		dec = sched->schedule(cpu, now_ns(), prev);
		if (prev && dec.next != prev)
			fpu_release(prev); /* before another CPU can run it */
		prev = v = dec.next;
		if (resched[cpu])
			continue;
		horizon = MIN(horizon, slice_end(now, dec.slice_ns));
		if (!v) {
			lapic_timer_arm(horizon);
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		this_cpu()->current = v;
		/*
		 * The domain lock covers the virtual platform (vLAPICs,
		 * vIOAPIC, vUART) shared by vCPUs on different CPUs; it is
		 * never held while the guest runs.
		 */
		spin_lock(&v->dom->lock);
		hvm_deliver_events(v);
		spin_unlock(&v->dom->lock);
		fpu_switch_to(v);
		start = now_ns();
		hvm->vcpu_run(v, horizon, &exit); /* back in Keel by horizon */
		v->runtime_ns += now_ns() - start;
		this_cpu()->current = NULL;
		__atomic_add_fetch(&this_cpu()->exits, 1, __ATOMIC_RELEASE);
		spin_lock(&v->dom->lock);
		hvm_handle_exit(v, &exit);
		spin_unlock(&v->dom->lock);
		take_interrupts();
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * What every physical CPU runs once Keel is up (ACRN's vCPU thread beside
 * its common scheduler): fire due virtual timers, ask the scheduler which
 * vCPU runs here, enter it until its next exit and handle the exit. With
 * nothing to run the CPU halts until its next timer, an interrupt or a
 * kick. The scheduler (sched/) only decides and accounts.
 */
#include <keel/fpu.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/trace.h>
#include <keel/vcpu_loop.h>

/* An idle CPU wakes at least this often; interrupts and kicks wake it
 * earlier. */
#define IDLE_NS 1000000000ULL

/*
 * A CPU that is in (or about to enter) one of d's vCPUs may still hold
 * translations of d's old nested page tables: kick it out of the guest and
 * wait until it has left. Its next entry flushes, because the vendor code
 * marked every vCPU of d before this was called (hvm_ops.p2m_flush).
 * Waiting is safe with d->lock held: a CPU counts its exit before it
 * takes the lock to handle it, and publishes the vCPU it enters only
 * after its last use of the lock before the entry. A caller holding no lock
 * (domain destruction) passes `unlocked` and takes interrupts while it waits,
 * as the CPU waited for may itself wait for this one (a VMCS to release).
 */
void vcpu_loop_evict_domain(const struct domain *d, bool unlocked)
{
	uint64_t seen[MAX_CPUS];
	unsigned self = this_cpu()->cpu;

	/* The flags set by p2m_flush must be visible before `current` is read;
	 * the other side sets it with a full barrier before it enters. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct vcpu *v =
		    __atomic_load_n(&percpu_area[c].current, __ATOMIC_ACQUIRE);

		seen[c] = 0;
		if (c == self || !percpu_area[c].online || !v || v->dom != d)
			continue;
		seen[c] =
		    __atomic_load_n(&percpu_area[c].exits, __ATOMIC_ACQUIRE) +
		    1;
		lapic_send_ipi(percpu_area[c].apic_id, IPI_KICK_VECTOR);
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		while (seen[c] &&
		       __atomic_load_n(&percpu_area[c].current,
				       __ATOMIC_ACQUIRE) &&
		       __atomic_load_n(&percpu_area[c].exits,
				       __ATOMIC_ACQUIRE) < seen[c]) {
			if (unlocked)
				vcpu_loop_wait_step();
			else
				cpu_relax();
		}
}

/* The same window as take_interrupts(), for CPUs that wait. */
void vcpu_loop_wait_step(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
	cpu_relax();
}

void vcpu_loop_quiesce(void)
{
	uint64_t seen[MAX_CPUS];
	unsigned self = this_cpu()->cpu;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		seen[c] = __atomic_load_n(&percpu_area[c].loop_passes,
					  __ATOMIC_ACQUIRE);
		/* A kick ends a guest run or a halt: a new pass follows. */
		if (c != self && percpu_area[c].online)
			lapic_send_ipi(percpu_area[c].apic_id, IPI_KICK_VECTOR);
	}
	for (unsigned c = 0; c < MAX_CPUS; c++)
		while (c != self && percpu_area[c].online &&
		       __atomic_load_n(&percpu_area[c].loop_passes,
				       __ATOMIC_ACQUIRE) == seen[c])
			vcpu_loop_wait_step();
}

/*
 * Host TSC at which v's virtual LAPIC timer is due (now if it is), or 0
 * for never. The guest may have moved its TSC anywhere (IA32_TSC writes)
 * and may ask for any deadline, 2^64-1 included: what counts is the
 * distance from the guest's now, compared as the vLAPIC compares, and a
 * deadline beyond the host TSC's range is never. Converting the deadline
 * itself (d - offset) wraps: a timer the vLAPIC sees in the future could
 * look due to the host forever and end every run on this CPU at once.
 */
static uint64_t vtimer_due(struct vcpu *v, uint64_t now)
{
	uint64_t d = vlapic_timer_deadline(&v->vlapic);
	uint64_t guest_now = now + v->tsc_offset;

	if (!d)
		return 0;
	if (d <= guest_now)
		return now;
	return d - guest_now > UINT64_MAX - now ? 0 : now + (d - guest_now);
}

/*
 * Fires the due virtual timers of the vCPUs queued on this CPU (running,
 * waiting or blocked); returns the earliest future deadline of a blocked
 * one, which its timer wakes. A runnable vCPU's timer waits for its next
 * run (vcpu_loop adds the deadline of the vCPU it runs): a guest with a
 * short periodic timer must not cut the runs of the others short.
 */
static uint64_t run_vtimers(unsigned cpu, uint64_t horizon)
{
	uint64_t now = rdtsc();

	for (unsigned id = 0; id < MAX_DOMAINS; id++) {
		struct domain *d = domains[id];

		if (!d || d->state != DOM_RUNNING || d->dying)
			continue;
		for (unsigned i = 0; i < d->nr_vcpus; i++) {
			struct vcpu *v = d->vcpus[i];
			uint64_t due;

			if (v->pcpu != (int)cpu || v->state == VCPU_STOPPED ||
			    v->state == VCPU_DOWN)
				continue;
			due = vtimer_due(v, now);
			if (due && due <= now) {
				spin_lock(&d->lock);
				vlapic_timer_expire(&v->vlapic,
						    now + v->tsc_offset);
				spin_unlock(&d->lock);
				due = vtimer_due(v, now);
			}
			if (due && due < horizon && v->state == VCPU_BLOCKED)
				horizon = due;
		}
	}
	return horizon;
}

/*
 * A pass ends by its horizon, at most IDLE_NS away, through the CPU's own
 * timer, or earlier by an exit or a kick. A CPU that began no pass for
 * several times that lost its timer interrupt (in a guest or in HLT) or
 * spins in Keel: the first other CPU to see it reports it, with the state
 * of its timer, and kicks it, which ends a guest run or a halt. Looked at
 * once per IDLE_NS by each CPU.
 */
#define STALL_NS (3 * IDLE_NS)

static void report_stall(unsigned cpu, uint64_t seen, uint64_t now)
{
	static uint64_t reported;
	struct percpu *p = &percpu_area[cpu];
	uint64_t armed = __atomic_load_n(&p->timer_deadline, __ATOMIC_RELAXED);
	struct vcpu *v = __atomic_load_n(&p->current, __ATOMIC_ACQUIRE);
	uint64_t n = __atomic_add_fetch(&reported, 1, __ATOMIC_RELAXED);
	uint64_t khz = tsc_khz();

	__atomic_add_fetch(&p->stalls, 1, __ATOMIC_RELAXED);
	lapic_send_ipi(p->apic_id, IPI_KICK_VECTOR);
	if (n > 16 && n % 1024)
		return;
	/* v cannot be freed meanwhile: that waits for this CPU to begin a
	 * new pass (vcpu_loop_quiesce()). */
	if (v)
		printk("cpu%u: in d%uv%u", cpu, v->dom->id, v->id);
	else
		printk("cpu%u: not in a guest", cpu);
	printk(" and no new pass of its vCPU loop for %lu ms; its timer %s "
	       "%lu us; kicked by cpu%u (%lu stalls so far)\n",
	       (now - seen) / khz,
	       !armed	     ? "not armed,"
	       : armed > now ? "due in"
			     : "overdue by",
	       !armed ? 0
		      : (armed > now ? armed - now : now - armed) * 1000 / khz,
	       this_cpu()->cpu, n);
}

/*
 * The CPU's own account once it is back, which a CPU without others to
 * watch it can give too: how long the previous pass took, what it did,
 * and how late its timer's latest interrupt came, or, when something
 * else ended the pass first, how overdue the interrupt still is.
 */
static void report_gap(const struct percpu *self, uint64_t now, uint64_t gap,
		       const struct vcpu *prev)
{
	uint64_t khz = tsc_khz(), armed = self->timer_deadline;

	printk("cpu%u: its previous pass of the vCPU loop took %lu ms (",
	       self->cpu, gap / khz);
	if (prev)
		printk("running d%uv%u", prev->dom->id, prev->id);
	else
		printk("idle");
	if (armed && armed < now)
		printk("); its timer's interrupt is %lu ms overdue\n",
		       (now - armed) / khz);
	else
		printk("); its timer's latest interrupt came %lu ms late\n",
		       self->timer_late / khz);
}

static void watch_passes(struct percpu *self, uint64_t now,
			 const struct vcpu *prev)
{
	uint64_t stall = ns_to_tsc(STALL_NS);
	uint64_t gap =
	    self->pass_tsc && now > self->pass_tsc ? now - self->pass_tsc : 0;

	if (gap > self->longest_gap)
		self->longest_gap = gap;
	if (gap > stall)
		report_gap(self, now, gap, prev);
	__atomic_store_n(&self->pass_tsc, now, __ATOMIC_RELAXED);
	if (now < self->watch_due)
		return;
	self->watch_due = now + ns_to_tsc(IDLE_NS);
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct percpu *p = &percpu_area[c];
		uint64_t seen = __atomic_load_n(&p->pass_tsc, __ATOMIC_RELAXED);

		if (p == self || !p->online || !seen || seen >= now ||
		    now - seen < stall)
			continue;
		/* One report per stall, whichever CPU sees it first. */
		if (__atomic_exchange_n(&p->stall_seen, seen,
					__ATOMIC_RELAXED) != seen)
			report_stall(c, seen, now);
	}
}

/*
 * Opens a window for pending physical interrupts (STI shadow: NOP). Their
 * handlers (console input, forwarded GSIs) run here, with no lock held.
 */
static void take_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

static uint64_t slice_end(uint64_t now, uint64_t slice_ns)
{
	return slice_ns == SCHED_SLICE_NONE ? UINT64_MAX
					    : now + ns_to_tsc(slice_ns);
}

__noreturn void vcpu_loop(void)
{
	unsigned cpu = this_cpu()->cpu;
	struct vcpu *prev = NULL;
	struct vm_exit exit;

	while (!__atomic_load_n(&sched, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (;;) {
		uint64_t now = rdtsc(), horizon, start, exited, done;
		struct sched_decision dec;
		struct vcpu *v;

		/* No pointer from an earlier pass is used beyond here, but
		 * prev, which the scheduler has not let go of yet. */
		__atomic_add_fetch(&this_cpu()->loop_passes, 1,
				   __ATOMIC_SEQ_CST);
		watch_passes(this_cpu(), now, prev);
		horizon = run_vtimers(cpu, now + ns_to_tsc(IDLE_NS));
		dec = sched_schedule(cpu, prev);
		if (prev && dec.next != prev) {
			fpu_release(prev); /* before another CPU can run it */
			trace_vcpu(prev, KEEL_TRACE_SCHED, KEEL_TRACE_SCHED_OUT,
				   cpu);
		}
		if (dec.next && dec.next != prev)
			trace_vcpu(dec.next, KEEL_TRACE_SCHED,
				   KEEL_TRACE_SCHED_IN, cpu);
		prev = v = dec.next;
		if (sched_kicked(cpu))
			continue;
		horizon = MIN(horizon, slice_end(now, dec.slice_ns));
		if (v && vtimer_due(v, now))
			horizon =
			    MIN(horizon, vtimer_due(v, now)); /* its own */
		if (!v) {
			lapic_timer_arm(horizon);
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		/*
		 * The domain lock covers the virtual platform (vLAPICs,
		 * vIOAPIC, vUART) shared by vCPUs on different CPUs; it is
		 * never held while the guest runs.
		 */
		spin_lock(&v->dom->lock);
		hvm_deliver_events(v);
		spin_unlock(&v->dom->lock);
		/*
		 * Published once the lock is dropped: a CPU that holds it and
		 * waits for the CPUs in v's domain to leave their guests
		 * (vcpu_loop_evict_domain()) must not wait for this one while
		 * it spins on that lock. A full barrier: the entry then reads
		 * the flush marks set before that CPU read `current`.
		 */
		__atomic_store_n(&this_cpu()->current, v, __ATOMIC_SEQ_CST);
		fpu_switch_to(v);
		start = now_ns();
		if (!v->dom->first_entry_ns) /* the boot timer's reference */
			v->dom->first_entry_ns = start;
		hvm->vcpu_run(v, horizon, &exit); /* back in Keel by horizon */
		exited = rdtsc();
		v->runtime_ns += now_ns() - start;
		this_cpu()->current = NULL;
		__atomic_add_fetch(&this_cpu()->exits, 1, __ATOMIC_RELEASE);
		spin_lock(&v->dom->lock);
		hvm_handle_exit(v, &exit);
		spin_unlock(&v->dom->lock);
		ioreq_notify_dom0(v); /* Dom0's lock may be needed for it */
		take_interrupts();
		/* What the exit cost Keel, for the debug key's profile and
		 * the trace: handling and the host interrupts it let in, not
		 * the world switch. */
		done = rdtsc();
		v->exit_cycles[exit.reason] += done - exited;
		trace_exit(v, &exit, exited, done);
	}
}

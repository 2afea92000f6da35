/* SPDX-License-Identifier: MIT */
/*
 * Every physical CPU runs sched_loop(): take pending work, fire due
 * virtual timers, let the policy pick a vCPU, enter it until its next
 * exit, handle the exit. With nothing runnable the CPU halts until its
 * next timer or interrupt.
 */
#include <keel/bootinfo.h>
#include <keel/console.h>
#include <keel/fpu.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/sched.h>

#define MAX_PER_CPU 64
#define IDLE_POLL_NS 20000000ULL /* console input is polled at least this often */

static const struct sched_policy *policy = &sched_rr;
static struct {
	struct vcpu *v[MAX_PER_CPU];
	unsigned n;
} cpu_vcpus[MAX_CPUS];

void sched_init(const char *cmdline)
{
	char name[16];

	if (cmdline_get(cmdline, "sched", name, sizeof(name)) > 0 &&
	    strcmp(name, "rr"))
		printk("sched=%s unknown; using round-robin\n", name);
	printk("scheduler: %s\n", policy->name);
}

void sched_add_vcpu(struct vcpu *v, unsigned cpu)
{
	if (cpu_vcpus[cpu].n == MAX_PER_CPU)
		panic("too many vCPUs on cpu%u", cpu);
	cpu_vcpus[cpu].v[cpu_vcpus[cpu].n] = v;
	__atomic_add_fetch(&cpu_vcpus[cpu].n, 1, __ATOMIC_RELEASE);
	v->pcpu = (int)cpu;
	policy->add(v, cpu);
}

/* Host TSC at which v's virtual LAPIC timer is due, or 0. */
static uint64_t vtimer_due(struct vcpu *v)
{
	uint64_t d = vlapic_timer_deadline(&v->vlapic);

	return d ? d - v->tsc_offset : 0;
}

/* Fires due virtual timers; returns the earliest future deadline. */
static uint64_t run_vtimers(unsigned cpu, uint64_t horizon)
{
	uint64_t now = rdtsc();

	for (unsigned i = 0; i < cpu_vcpus[cpu].n; i++) {
		struct vcpu *v = cpu_vcpus[cpu].v[i];
		uint64_t due;

		if (v->state == VCPU_STOPPED || v->state == VCPU_DOWN)
			continue;
		due = vtimer_due(v);
		if (due && due <= now) {
			spin_lock(&v->dom->lock);
			vlapic_timer_expire(&v->vlapic, now + v->tsc_offset);
			spin_unlock(&v->dom->lock);
			due = vtimer_due(v);
		}
		if (due && due < horizon)
			horizon = due;
	}
	return horizon;
}

/* Opens a window for pending physical interrupts (STI shadow: NOP). */
static void take_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

__noreturn void sched_loop(void)
{
	unsigned cpu = this_cpu()->cpu;
	struct vm_exit exit;

	for (;;) {
		uint64_t now = rdtsc(), horizon, start;
		struct vcpu *v;

		if (cpu == 0)
			console_poll_input();
		horizon = run_vtimers(cpu, now + ns_to_tsc(IDLE_POLL_NS));
		v = policy->pick(cpu);
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
		horizon = MIN(horizon, now + ns_to_tsc(policy->timeslice(v)));
		lapic_timer_arm(horizon);
		fpu_switch_to(v);
		start = now_ns();
		hvm->vcpu_run(v, &exit);
		v->runtime_ns += now_ns() - start;
		this_cpu()->current = NULL;
		__atomic_add_fetch(&this_cpu()->exits, 1, __ATOMIC_RELEASE);
		spin_lock(&v->dom->lock);
		hvm_handle_exit(v, &exit);
		spin_unlock(&v->dom->lock);
		take_interrupts();
	}
}

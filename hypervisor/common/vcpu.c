/* SPDX-License-Identifier: MIT */
/* vCPU life cycle: wake-ups, sleeps and the INIT/SIPI protocol. */
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/trace.h>

void vcpu_wake(struct vcpu *v)
{
	int cpu;

	/* Blocked on an I/O request, it waits for Dom0's answer only. */
	if (v->state == VCPU_BLOCKED && !v->ioreq.waiting) {
		v->state = VCPU_RUNNABLE;
		trace_vcpu(v, KEEL_TRACE_SCHED, KEEL_TRACE_SCHED_WAKE,
			   (uint64_t)v->pcpu);
	}
	if (v->state == VCPU_RUNNABLE && v->dom->state == DOM_RUNNING)
		sched->vcpu_wake(v);
	/* A vCPU running elsewhere must exit to see a new interrupt. One
	 * read: the scheduler may move it or set -1 at any time. */
	cpu = __atomic_load_n(&v->pcpu, __ATOMIC_RELAXED);
	if (cpu >= 0 && (unsigned)cpu != this_cpu()->cpu)
		lapic_send_ipi(percpu_area[cpu].apic_id, IPI_KICK_VECTOR);
}

void vcpu_sleep(struct vcpu *v)
{
	sched->vcpu_sleep(v);
}

/* INIT: the vCPU waits for a STARTUP IPI in the reset state. */
void vcpu_init_signal(struct vcpu *v)
{
	if (v->state == VCPU_STOPPED || v->id == 0)
		return; /* INIT to the boot vCPU would reset the guest: ignored
			 */
	vlapic_reset(&v->vlapic);
	ioreq_cancel(v);
	v->state = VCPU_DOWN;
	vcpu_sleep(v);
}

/*
 * STARTUP: v starts in real mode at vector * 4 KiB. The sender holds the
 * domain lock, and v's state may be loaded on another CPU (a VMCS only that
 * CPU can release): v's own CPU applies it before v next runs.
 */
void vcpu_startup_ipi(struct vcpu *v, uint8_t vector)
{
	ASSERT_LOCKED(&v->dom->lock);
	if (v->state != VCPU_DOWN)
		return;
	hvm->startup_ipi(v, vector);
	v->state = VCPU_RUNNABLE;
	vcpu_wake(v);
}

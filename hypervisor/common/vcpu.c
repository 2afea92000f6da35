/* SPDX-License-Identifier: MIT */
/* vCPU life cycle: wake-ups, sleeps and the INIT/SIPI protocol. */
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/sched.h>

void vcpu_wake(struct vcpu *v)
{
	if (v->state == VCPU_BLOCKED)
		v->state = VCPU_RUNNABLE;
	if (v->state == VCPU_RUNNABLE && v->dom->state == DOM_RUNNING)
		sched->vcpu_wake(v);
	/* A vCPU running elsewhere must exit to see a new interrupt. */
	if (v->pcpu >= 0 && (unsigned)v->pcpu != this_cpu()->cpu)
		lapic_send_ipi(percpu_area[v->pcpu].apic_id, IPI_KICK_VECTOR);
}

void vcpu_sleep(struct vcpu *v)
{
	sched->vcpu_sleep(v);
}

/* INIT: the vCPU waits for a STARTUP IPI in the reset state. */
void vcpu_init_signal(struct vcpu *v)
{
	if (v->state == VCPU_STOPPED || v->id == 0)
		return; /* INIT to the boot vCPU would reset the guest: ignored */
	vlapic_reset(&v->vlapic);
	v->state = VCPU_DOWN;
	vcpu_sleep(v);
}

/* STARTUP: real mode at vector * 4 KiB (SDM vol. 3A §8.4.4.1). */
void vcpu_startup_ipi(struct vcpu *v, uint8_t vector)
{
	struct guest_state s;

	if (v->state != VCPU_DOWN)
		return;
	hvm->get_state(v, &s);
	memset(v->gpr, 0, sizeof(v->gpr));
	s.cr0 = 0x60000010; /* CD | NW | ET */
	s.cr3 = s.cr4 = s.efer = 0;
	s.rflags = 2;
	s.rip = 0;
	s.cs = (struct segment){ (uint16_t)(vector << 8), 0x9B, 0xFFFF,
				 (uint64_t)vector << 12 };
	s.ds = s.es = s.fs = s.gs = s.ss =
		(struct segment){ 0, 0x93, 0xFFFF, 0 };
	s.tr = (struct segment){ 0, 0x8B, 0xFFFF, 0 };
	s.ldtr = (struct segment){ 0, 0x82, 0xFFFF, 0 };
	s.gdtr_base = s.idtr_base = 0;
	s.gdtr_limit = s.idtr_limit = 0xFFFF;
	s.cpl = 0;
	hvm->set_state(v, &s);
	v->state = VCPU_RUNNABLE;
	vcpu_wake(v);
}

/* SPDX-License-Identifier: MIT */
/* Cross-CPU control. */
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/traps.h>

/* A kick only has to make the CPU leave the guest or HLT. */
static void ipi_kick(struct cpu_regs *regs)
{
	(void)regs;
}

static void ipi_stop(struct cpu_regs *regs)
{
	(void)regs;
	this_cpu()->online = false;
	for (;;)
		__asm__ volatile("cli; hlt");
}

void smp_init_ipis(void)
{
	irq_set_handler(IPI_KICK_VECTOR, ipi_kick);
	irq_set_handler(IPI_PANIC_VECTOR, ipi_stop);
}

/* Halts every other online CPU (panic path): they take IPI_PANIC_VECTOR. */
void smp_stop_others(void)
{
	unsigned me = this_cpu()->cpu;

	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (i != me && percpu_area[i].online)
			lapic_send_ipi(percpu_area[i].apic_id, IPI_PANIC_VECTOR);
}

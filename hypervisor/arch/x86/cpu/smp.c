/* SPDX-License-Identifier: MIT */
/* Cross-CPU control. */
#include <keel/irq.h>
#include <keel/percpu.h>

/* Halts every other online CPU (panic path): they take IPI_PANIC_VECTOR. */
void smp_stop_others(void)
{
	unsigned me = this_cpu()->cpu;

	for (unsigned i = 0; i < MAX_CPUS; i++)
		if (i != me && percpu_area[i].online)
			lapic_send_ipi(percpu_area[i].apic_id, IPI_PANIC_VECTOR);
}

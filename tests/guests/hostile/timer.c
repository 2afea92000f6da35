/* SPDX-License-Identifier: MIT */
/*
 * The LAPIC timer at its extremes. Periodic mode with an initial count of
 * 1 and divide-by-1 asks for an interrupt every few nanoseconds; Keel
 * stretches the period to 100 us (as KVM's min_timer_period_us). Then the
 * guest moves its TSC back to 0 and arms a TSC deadline of 2^64-1, which
 * is never, and one in the past, which fires at once. The neighbour's
 * progress on the same CPU is judged outside.
 */
#include "hostile.h"

#define MSR_TSC	      0x10
#define TIMER_VECTOR  0x40
#define MIN_PERIOD_US 100

static volatile uint64_t ticks, end_tsc;

/*
 * Stops a periodic timer itself once the phase is over: on a slow
 * emulated CPU each interrupt's exit can take longer than the period,
 * and the loop below would then never run another instruction.
 */
static void timer_irq(uint8_t vector)
{
	(void)vector;
	ticks++;
	if (rdtsc() >= end_tsc)
		apic_write(APIC_TIMER_INITIAL_COUNT, 0);
	apic_eoi();
}

static uint64_t run_for(uint64_t us)
{
	uint64_t start = ticks;

	end_tsc = rdtsc() + us_to_tsc(us);
	__asm__ volatile("sti");
	while (rdtsc() < end_tsc)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	return ticks - start;
}

void case_timer(void)
{
	uint64_t secs = attack_seconds(), n, limit;

	apic_software_enable(0xff);
	irq_set_handler(TIMER_VECTOR, timer_irq);

	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_TIMER_PERIODIC);
	end_tsc = ~0ULL;
	apic_write(APIC_TIMER_INITIAL_COUNT, 1);
	n = run_for(secs * 1000000);
	apic_write(APIC_TIMER_INITIAL_COUNT, 0);
	limit = secs * 1000000 / MIN_PERIOD_US;
	printf("hostile: timer: periodic count 1: %lu interrupts in %lu s\n", n,
	       secs);
	check(n > 0 && n <= limit + limit / 10,
	      "periodic count 1: at most one interrupt per %u us (%lu)",
	      MIN_PERIOD_US, n);

	if (!(cpuid(1).ecx & (1u << 24))) {
		check(false, "CPUID shows the TSC-deadline timer");
		return;
	}
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR | APIC_LVT_TIMER_TSC_DEADLINE);
	wrmsr(MSR_TSC, 0);
	wrmsr(MSR_IA32_TSC_DEADLINE, ~0ULL);
	n = run_for(secs * 1000000);
	check(n == 0, "TSC deadline 2^64-1 after TSC := 0: never (%lu)", n);
	wrmsr(MSR_IA32_TSC_DEADLINE, 1);
	n = run_for(100000);
	check(n == 1, "TSC deadline in the past: fires once at once (%lu)", n);
}

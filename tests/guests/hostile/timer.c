/* SPDX-License-Identifier: MIT */
/*
 * The LAPIC timer at its extremes. Periodic mode with an initial count of
 * 1 and divide-by-1 asks for an interrupt every few nanoseconds; Keel
 * stretches the period to 100 us (as KVM's min_timer_period_us). Every
 * divide value with initial counts 1 and 2^32-1 must count down and fire
 * (or not yet) as the SDM says. The guest moves its TSC back to 0 and
 * arms a TSC deadline of 2^64-1, which is never; one in the past fires at
 * once. The neighbour's progress on the same CPU is judged outside.
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

static void timer_init(uint32_t lvt)
{
	apic_software_enable(0xff);
	irq_set_handler(TIMER_VECTOR, timer_irq);
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR | lvt);
}

void case_timer_period(void)
{
	uint64_t secs = attack_seconds(), n, limit;

	timer_init(APIC_LVT_TIMER_PERIODIC);
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
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
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

void case_timer_divide(void)
{
	/* The divide configuration register's bits 3, 1:0 (SDM figure
	 * 11-10), and garbage in the reserved bits above them. */
	static const uint32_t divides[] = {0x0, 0x1, 0x2, 0x3,
					   0x8, 0x9, 0xA, 0xB};
	uint64_t n;

	timer_init(APIC_LVT_TIMER_ONESHOT);
	for (unsigned i = 0; i < ARRAY_SIZE(divides); i++) {
		apic_write(APIC_TIMER_DIVIDE, divides[i] | 0xFFFFFFF4);
		apic_write(APIC_TIMER_INITIAL_COUNT, 0xFFFFFFFF);
		n = run_for(2000);
		check(n == 0 &&
			  apic_read(APIC_TIMER_CURRENT_COUNT) < 0xFFFFFFFF,
		      "divide %x, count 2^32-1: counts down, no interrupt yet "
		      "(%lu)",
		      divides[i], n);
		apic_write(APIC_TIMER_INITIAL_COUNT, 1);
		n = run_for(20000);
		check(n == 1 && !apic_read(APIC_TIMER_CURRENT_COUNT),
		      "divide %x, count 1: one interrupt, count 0 (%lu)",
		      divides[i], n);
	}
	apic_write(APIC_TIMER_INITIAL_COUNT, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

static bool tsc_deadline_shown(void)
{
	return check(cpuid(1).ecx & (1u << 24),
		     "CPUID shows the TSC-deadline timer");
}

void case_deadline_max(void)
{
	uint64_t n;

	if (!tsc_deadline_shown())
		return;
	timer_init(APIC_LVT_TIMER_TSC_DEADLINE);
	wrmsr(MSR_TSC, 0);
	wrmsr(MSR_IA32_TSC_DEADLINE, ~0ULL);
	n = run_for(attack_seconds() * 1000000);
	check(n == 0, "TSC deadline 2^64-1 after TSC := 0: never (%lu)", n);
	wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

void case_deadline_past(void)
{
	uint64_t n;

	if (!tsc_deadline_shown())
		return;
	timer_init(APIC_LVT_TIMER_TSC_DEADLINE);
	wrmsr(MSR_IA32_TSC_DEADLINE, 1);
	n = run_for(100000);
	check(n == 1, "TSC deadline in the past: fires once at once (%lu)", n);
	check(!rdmsr(MSR_IA32_TSC_DEADLINE),
	      "the deadline MSR reads 0 after it fired");
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

/* SPDX-License-Identifier: MIT */
/*
 * NMI nesting: an NMI handler that sends itself more NMIs must not be
 * entered again before its IRET, and one of them (the latched one) must
 * arrive after it (SDM vol. 3A §6.7.1, APM vol. 2 §8.2.7). The storm
 * sends self-NMIs for as long as an attack lasts.
 */
#include "hostile.h"

static volatile unsigned depth, max_depth, received;

static void nmi_handler(uint8_t vector)
{
	(void)vector;
	if (++depth > max_depth)
		max_depth = depth;
	if (received++ < 3) {
		for (unsigned i = 0; i < 4; i++)
			apic_send_ipi(apic_id(), APIC_ICR_NMI);
		delay_us(2000);
	}
	depth--;
}

void case_nmi(void)
{
	uint64_t end;

	apic_software_enable(0xff);
	nmi_set_handler(nmi_handler);
	__asm__ volatile("sti");
	apic_send_ipi(apic_id(), APIC_ICR_NMI);
	end = rdtsc() + us_to_tsc(200000);
	while (rdtsc() < end)
		__asm__ volatile("pause");
	__asm__ volatile("cli");
	printf("hostile: nmi: %u NMIs, deepest nesting %u\n", received,
	       max_depth);
	check(max_depth == 1, "no NMI inside the NMI handler (depth %u)",
	      max_depth);
	/* Each handler run leaves one latched NMI for after its IRET. */
	check(received == 4, "the latched NMIs arrive after IRET (%u of 4)",
	      received);
}

static volatile uint64_t storm_nmis;

static void storm_handler(uint8_t vector)
{
	(void)vector;
	storm_nmis++;
}

/* Self-NMIs as fast as the ICR takes them: each must arrive or merge
 * with one pending, and the neighbour must keep its share. */
void case_nmistorm(void)
{
	uint64_t end = rdtsc() + us_to_tsc(attack_seconds() * 1000000),
		 sent = 0;

	apic_software_enable(0xff);
	nmi_set_handler(storm_handler);
	while (rdtsc() < end) {
		apic_send_ipi(apic_id(), APIC_ICR_NMI);
		sent++;
	}
	spin_us(1000);
	printf("hostile: nmistorm: %lu NMIs sent, %lu taken\n", sent,
	       storm_nmis);
	check(storm_nmis > 0 && storm_nmis <= sent,
	      "between 1 and %lu NMIs taken (%lu)", sent, storm_nmis);
}

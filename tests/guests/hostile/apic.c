/* SPDX-License-Identifier: MIT */
/*
 * The virtual LAPIC from a hostile guest: INIT/SIPI storms at a sibling
 * vCPU and STARTUP IPIs at itself (ignored while it runs, SDM vol. 3A
 * §8.4.4), every ICR delivery mode and destination shorthand, self-IPI
 * storms, EOIs with nothing in service and garbage in every register.
 */
#include "hostile.h"

#define VECTOR		 0x40
#define ICR_SELF	 (1u << 18)
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_DM(m)	 ((uint32_t)(m) << 8)
#define STUB_PAGE	 0x9000 /* STARTUP vector 0x09 */
#define APIC_LVT_LINT0	 0x350
#define APIC_LVT_ERROR	 0x370

static volatile uint64_t fixed_count, nmi_count;
static volatile bool ap_ran;

static void fixed_irq(uint8_t vector)
{
	(void)vector;
	fixed_count++;
	apic_eoi();
}

static void nmi(uint8_t vector)
{
	(void)vector;
	nmi_count++;
}

/* Offsets the xAPIC page leaves reserved (SDM vol. 3A table 11-1). */
static bool xapic_reserved(unsigned reg)
{
	return (reg >= 0x40 && reg <= 0x70) || reg == 0x90 || reg == 0xC0 ||
	       (reg >= 0x290 && reg <= 0x2F0) ||
	       (reg >= 0x3A0 && reg <= 0x3D0) || reg == 0x3F0;
}

static void ap_main(unsigned int cpu)
{
	(void)cpu;
	ap_ran = true;
}

void case_initsipi(void)
{
	static const uint8_t stub[] = {0xFA, 0xF4, 0xEB, 0xFD}; /* cli; hlt */
	unsigned online;

	if (cpu_count() < 2)
		test_fail("needs 2 vCPUs (cpus=2), found %u", cpu_count());
	memcpy((void *)STUB_PAGE, stub, sizeof(stub));
	for (unsigned i = 0; i < 500; i++) {
		apic_send_ipi(cpu_apic_id(1),
			      APIC_ICR_INIT | APIC_ICR_LEVEL_ASSERT);
		apic_send_ipi(cpu_apic_id(1), APIC_ICR_INIT);
		apic_send_ipi(cpu_apic_id(1), APIC_ICR_STARTUP | 0x09);
		apic_send_ipi(cpu_apic_id(1), APIC_ICR_STARTUP | 0x09);
		apic_send_ipi(0, ICR_ALL_BUT_SELF | APIC_ICR_INIT |
				     APIC_ICR_LEVEL_ASSERT);
		apic_send_ipi(0, ICR_ALL_BUT_SELF | APIC_ICR_STARTUP | 0x09);
		/* A running vCPU ignores STARTUP. */
		apic_send_ipi(apic_id(), APIC_ICR_STARTUP | 0x09);
	}
	printf("hostile: initsipi: 3500 INIT and STARTUP IPIs sent\n");
	online = smp_start_aps(ap_main);
	delay_us(100000);
	check(online == 2 && ap_ran,
	      "the sibling still starts normally afterwards (%u online)",
	      online);
}

void case_lapic(void)
{
	uint64_t before;

	apic_software_enable(0xff);
	irq_set_handler(VECTOR, fixed_irq);
	nmi_set_handler(nmi);

	/* Every delivery mode at every shorthand; INIT at itself left out
	 * (that resets the sender, as on hardware). */
	for (unsigned dm = 0; dm < 8; dm++) {
		if (dm == 5)
			continue;
		apic_send_ipi(0, ICR_SELF | ICR_DM(dm) | VECTOR);
		apic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_DM(dm) | VECTOR);
		apic_send_ipi(0x77, ICR_DM(dm) | VECTOR);
		apic_send_ipi(0x80, APIC_ICR_LOGICAL | ICR_DM(dm) | VECTOR);
	}
	__asm__ volatile("sti; nop; nop; cli");
	/* Illegal vectors 0-15 are not delivered (SDM vol. 3A §11.5.3). */
	for (unsigned v = 0; v < 16; v++)
		apic_send_ipi(0, ICR_SELF | v);
	__asm__ volatile("sti; nop; nop; cli");
	printf("hostile: lapic: %lu fixed and %lu NMIs from the mode sweep\n",
	       fixed_count, nmi_count);
	check(fixed_count >= 1, "a fixed self-IPI arrives");

	/* 10000 self-IPIs with interrupts off: one IRR bit, one interrupt. */
	before = fixed_count;
	for (unsigned i = 0; i < 10000; i++)
		apic_send_ipi(0, ICR_SELF | VECTOR);
	__asm__ volatile("sti; nop; nop; cli");
	check(fixed_count - before == 1,
	      "10000 self-IPIs with IF=0 coalesce into one (%lu)",
	      fixed_count - before);

	for (unsigned i = 0; i < 10000; i++)
		apic_eoi(); /* nothing in service */
	/*
	 * Garbage in every defined register (read-only ones ignore it),
	 * then the APIC must still work. Keel answers writes to the
	 * reserved offsets with #GP, where an xAPIC ignores them: left out.
	 */
	for (unsigned reg = 0x20; reg < 0x400; reg += 0x10)
		if (reg != APIC_ICR && reg != APIC_EOI && reg != APIC_SVR &&
		    reg != APIC_ID && !xapic_reserved(reg))
			apic_write(reg, 0xFFFFFFFF);
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	apic_write(APIC_TPR, 0);
	before = fixed_count;
	apic_send_ipi(0, ICR_SELF | VECTOR);
	__asm__ volatile("sti; nop; nop; cli");
	check(fixed_count - before == 1,
	      "a self-IPI still arrives after the garbage (%lu)",
	      fixed_count - before);
}

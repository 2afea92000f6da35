/* SPDX-License-Identifier: MIT */
/*
 * The virtual LAPIC from a hostile guest: INIT/SIPI storms at a sibling
 * vCPU and STARTUP IPIs at itself (ignored while it runs, SDM vol. 3A
 * §8.4.4), every ICR delivery mode and destination shorthand, self-IPI
 * storms, EOIs with nothing in service, garbage in every register and
 * every x2APIC MSR.
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

static void lapic_init(void)
{
	apic_software_enable(0xff);
	irq_set_handler(VECTOR, fixed_irq);
	nmi_set_handler(nmi);
}

/* Every delivery mode at every shorthand; INIT at itself left out (that
 * resets the sender, as on hardware). */
void case_icr(void)
{
	lapic_init();
	for (unsigned dm = 0; dm < 8; dm++) {
		if (dm == 5)
			continue;
		apic_send_ipi(0, ICR_SELF | ICR_DM(dm) | VECTOR);
		apic_send_ipi(0, ICR_ALL_BUT_SELF | ICR_DM(dm) | VECTOR);
		apic_send_ipi(0x77, ICR_DM(dm) | VECTOR);
		apic_send_ipi(0x80, APIC_ICR_LOGICAL | ICR_DM(dm) | VECTOR);
		apic_send_ipi(0xFF, ICR_DM(dm) | VECTOR); /* broadcast */
	}
	__asm__ volatile("sti; nop; nop; cli");
	/* Illegal vectors 0-15 are not delivered (SDM vol. 3A §11.5.3). */
	for (unsigned v = 0; v < 16; v++)
		apic_send_ipi(0, ICR_SELF | v);
	__asm__ volatile("sti; nop; nop; cli");
	printf("hostile: icr: %lu fixed and %lu NMIs from the mode sweep\n",
	       fixed_count, nmi_count);
	check(fixed_count >= 1, "a fixed self-IPI arrives");
	check(nmi_count >= 1, "an NMI at itself arrives");
}

/* 10000 self-IPIs with interrupts off make one IRR bit and one
 * interrupt; then self-IPIs with interrupts on for as long as an attack
 * lasts, each taken. */
void case_selfipi(void)
{
	uint64_t before, end, sent = 0, masked;

	lapic_init();
	before = fixed_count;
	for (unsigned i = 0; i < 10000; i++)
		apic_send_ipi(0, ICR_SELF | VECTOR);
	__asm__ volatile("sti; nop; nop; cli");
	check(fixed_count - before == 1,
	      "10000 self-IPIs with IF=0 coalesce into one (%lu)",
	      fixed_count - before);

	before = fixed_count;
	masked = irq_if_clear_count;
	end = rdtsc() + us_to_tsc(attack_seconds() * 1000000);
	__asm__ volatile("sti");
	while (rdtsc() < end) {
		apic_send_ipi(0, ICR_SELF | VECTOR);
		sent++;
	}
	__asm__ volatile("nop; cli");
	masked = irq_if_clear_count - masked;
	printf("hostile: selfipi: %lu self-IPIs with IF=1, %lu taken, %lu of "
	       "them into code running with IF=0\n",
	       sent, fixed_count - before, masked);
	check(fixed_count - before == sent,
	      "each self-IPI with IF=1 taken (%lu of %lu)",
	      fixed_count - before, sent);
	/* Their handler runs with IF=0: one arriving there came twice. */
	check(masked == 0, "no self-IPI interrupts its own handler (%lu did)",
	      masked);
}

void case_eoi(void)
{
	uint64_t before;

	lapic_init();
	for (unsigned i = 0; i < 10000; i++)
		apic_eoi(); /* nothing in service */
	before = fixed_count;
	apic_send_ipi(0, ICR_SELF | VECTOR);
	__asm__ volatile("sti; nop; nop; cli");
	check(
	    fixed_count - before == 1,
	    "after 10000 EOIs with nothing in service a self-IPI arrives once "
	    "(%lu)",
	    fixed_count - before);
}

/*
 * Garbage in every defined register (read-only ones ignore it), then the
 * APIC must still work. Keel answers writes to the reserved offsets with
 * #GP, where an xAPIC ignores them: left out.
 */
void case_lapicregs(void)
{
	uint64_t before;

	lapic_init();
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

/*
 * x2APIC MSRs 0x800-0x8FF (SDM vol. 3A §11.12.1.2, table 11-6): reads of
 * write-only and undefined ones and writes to read-only and undefined
 * ones are #GP, as are reserved bits in SELF IPI; defined registers
 * take garbage; every delivery mode through the ICR MSR; then
 * the APIC must still deliver a self-IPI. Stays in x2APIC mode.
 */
void case_x2apic(void)
{
	uint64_t before, val, gp_read = 0, gp_write = 0;

	lapic_init();
	if (!check(!apic_enable_x2apic(), "x2APIC mode can be entered"))
		return;
	for (uint32_t msr = 0x800; msr <= 0x8FF; msr++) {
		unsigned reg = (msr - 0x800) << 4;

		if (exinfo_faulted(rdmsr_safe(msr, &val)))
			gp_read++;
		/* The registers the rest of the case needs keep theirs. */
		if (reg == APIC_SVR || reg == APIC_ICR || reg == APIC_EOI ||
		    reg == APIC_TPR || reg == 0x3F0)
			continue;
		if (exinfo_faulted(wrmsr_safe(msr, ~0ULL)))
			gp_write++;
	}
	printf("hostile: x2apic: %lu MSRs #GP on read, %lu on a write of "
	       "all-ones\n",
	       gp_read, gp_write);
	check(exinfo_faulted(rdmsr_safe(0x800 + (APIC_EOI >> 4), &val)),
	      "reading the EOI MSR: #GP");
	check(exinfo_faulted(wrmsr_safe(0x800 + (APIC_EOI >> 4), 1)),
	      "a non-zero EOI write: #GP");
	check(exinfo_faulted(wrmsr_safe(0x800 + (APIC_VERSION >> 4), 0)),
	      "writing the version MSR: #GP");
	check(exinfo_faulted(wrmsr_safe(0x800 + (APIC_ICR_HIGH >> 4), 0)),
	      "the ICR high MSR 0x831 does not exist: #GP");
	check(exinfo_faulted(wrmsr_safe(0x83F, 0x100 | VECTOR)),
	      "SELF IPI with reserved bits: #GP");
	for (unsigned dm = 0; dm < 8; dm++) {
		if (dm == 5)
			continue;
		wrmsr_safe(0x830, (0xFFFFFFFFULL << 32) | ICR_DM(dm) | VECTOR);
		wrmsr_safe(0x830, ICR_ALL_BUT_SELF | ICR_DM(dm) | VECTOR);
	}
	__asm__ volatile("sti; nop; nop; cli");
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	apic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	before = fixed_count;
	for (unsigned i = 0; i < 1000; i++)
		wrmsr(0x83F, VECTOR);
	__asm__ volatile("sti; nop; nop; cli");
	check(fixed_count - before == 1,
	      "1000 SELF IPI writes with IF=0, then one interrupt (%lu)",
	      fixed_count - before);
}

/* SPDX-License-Identifier: MIT */
/*
 * hostile: one attacker guest per surface, chosen by `case=` on its
 * command line. Each case prints what it attacks and ends with the one
 * result line of every test guest; PASS means it got the architectural
 * answer everywhere. The runtime then halts with interrupts off (CLI;
 * HLT), so every case also leaves Keel a vCPU that never yields an
 * interrupt.
 */
#include "hostile.h"

const char test_name[] = "hostile";

/* The control: a plain CPU hog, which every attacker is measured
 * against. */
static void case_hog(void)
{
	uint64_t end = rdtsc() + us_to_tsc(attack_seconds() * 1000000);

	while (rdtsc() < end)
		__asm__ volatile("pause");
}

static const struct {
	const char *name;
	void (*run)(void);
	const char *surface;
} cases[] = {
    {"hog", case_hog, "none: a plain CPU hog, the control"},
    {"exceptions", case_exceptions,
     "#AC and #DB reflected, single step, data breakpoint, ICEBP"},
    {"drwrite", case_drwrite, "debug registers: writes DR0-DR3 and DR6"},
    {"drread", case_drread, "debug registers: reads only its own"},
    {"nmi", case_nmi, "NMIs sent from inside the NMI handler"},
    {"insns", case_insns,
     "EFER/CR0/CR4/XCR0 invalid values, SVM and VMX instructions"},
    {"timer", case_timer,
     "LAPIC timer: periodic count 1, TSC-deadline after a TSC rewrite"},
    {"hypercall", case_hypercall,
     "hypercalls: every number, garbage arguments, CPL0 and CPL3"},
    {"msr", case_msr, "MSR sweep: reads and write-backs"},
    {"cpuid", case_cpuid, "CPUID sweep: leaves and subleaves"},
    {"ports", case_ports, "port I/O sweep: every port in and out"},
    {"initsipi", case_initsipi, "INIT/SIPI storms at itself and a sibling"},
    {"lapic", case_lapic, "ICR delivery modes and destinations, EOI storms"},
};

bool cpu_is_amd(void)
{
	return cpuid(0).ebx == 0x68747541; /* "Auth" */
}

uint64_t attack_seconds(void)
{
	uint64_t s = 4;

	cmdline_u64("seconds", &s);
	return s;
}

#define WAKE_VECTOR 0x41

static volatile bool woke;

static void wake(uint8_t vector)
{
	(void)vector;
	woke = true;
	apic_eoi();
}

/*
 * Sleeps (HLT, the LAPIC timer's one-shot mode in 100 ms steps) so that
 * the neighbour's progress alone can be measured before the attack.
 */
static void idle_seconds(uint64_t seconds)
{
	uint32_t step = platform_lapic_khz() * 100;

	apic_software_enable(0xff);
	irq_set_handler(WAKE_VECTOR, wake);
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, WAKE_VECTOR | APIC_LVT_TIMER_ONESHOT);
	for (uint64_t i = 0; i < seconds * 10; i++) {
		woke = false;
		apic_write(APIC_TIMER_INITIAL_COUNT, step);
		while (!woke)
			__asm__ volatile("sti; hlt; cli");
	}
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

void test_main(void)
{
	const char *name;
	size_t len;
	uint64_t wait = 0;

	if (!cmdline_find("case", &name, &len))
		test_fail("no case= on the command line");
	if (cmdline_u64("wait", &wait) && wait) {
		if (!platform_lapic_khz())
			test_fail("wait= needs the LAPIC timer frequency");
		idle_seconds(wait);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		if (strlen(cases[i].name) != len ||
		    strncmp(cases[i].name, name, len))
			continue;
		printf("hostile: case %s: %s\n", cases[i].name,
		       cases[i].surface);
		cases[i].run();
		test_finish();
	}
	test_fail("unknown case '%.*s'", (int)len, name);
}

/* SPDX-License-Identifier: MIT */
/*
 * tracework: a DomU with exits known in advance, for `kl trace`
 * (tests/system/test_kl_trace.py). Between two writes to MARK_PORT it
 * runs exactly cpuid= CPUIDs (default 100), io= byte writes to
 * WORK_PORT (default 50) and hlt= HLTs (default 10), each HLT woken by
 * its own one-shot LAPIC timer. Nothing else in that window exits for
 * those reasons on its vCPU: no console output, the timer is programmed
 * through xAPIC MMIO (NPF exits) and waited for with interrupt windows,
 * not HLT. Both ports are unclaimed in a DomU, so Keel drops the writes.
 * Then it prints the counts and passes.
 */
#include "apic.h"
#include "guest.h"

const char test_name[] = "tracework";

#define MARK_PORT	0x81
#define WORK_PORT	0x80
#define TIMER_VECTOR	0x40
#define SPURIOUS_VECTOR 0xff
#define TIMER_US	200

static volatile uint64_t ticks;

static void timer_interrupt(uint8_t vector)
{
	(void)vector;
	ticks = ticks + 1;
	apic_eoi();
}

void test_main(void)
{
	uint64_t n = 100, m = 50, k = 10, lapic_khz;
	uint32_t count;

	cmdline_u64("cpuid", &n);
	cmdline_u64("io", &m);
	cmdline_u64("hlt", &k);
	lapic_khz = platform_lapic_khz();
	if (!lapic_khz)
		test_fail("no LAPIC timer frequency from Keel's CPUID leaf");
	count = (uint32_t)(lapic_khz * TIMER_US / 1000);
	apic_use_mode(APIC_MODE_XAPIC);
	irq_set_handler(TIMER_VECTOR, timer_interrupt);
	apic_software_enable(SPURIOUS_VECTOR);
	apic_write(APIC_TIMER_DIVIDE, APIC_TIMER_DIVIDE_BY_1);
	apic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_ONESHOT | TIMER_VECTOR);

	outb(MARK_PORT, 1);
	for (uint64_t i = 0; i < n; i++)
		cpuid(0);
	for (uint64_t i = 0; i < m; i++)
		outb(WORK_PORT, (uint8_t)i);
	for (uint64_t i = 0; i < k; i++) {
		apic_write(APIC_TIMER_INITIAL_COUNT, count);
		irq_wait(); /* one HLT; the timer (maybe already due) ends it */
		while (ticks <= i)
			irq_window();
	}
	outb(MARK_PORT, 2);

	printf("tracework: cpuid=%lu io=%lu hlt=%lu\n", n, m, k);
	test_pass();
}

/* SPDX-License-Identifier: MIT */
/*
 * TSC calibration. QEMU TCG has no invariant TSC and no CPUID 0x15, so we
 * measure: against the ACPI PM timer (3.579545 MHz) when the FADT gives
 * one, else PIT channel 2 (1.193182 MHz) gated through port 0x61.
 */
#include <keel/irq.h>
#include <keel/io.h>
#include <keel/acpi.h>

#define PIT_HZ	     1193182ULL
#define PM_TIMER_HZ  3579545ULL
#define CALIBRATE_MS 50

static uint64_t tsc_rate_khz;
static uint64_t tsc_at_boot;
static const char *source = "none";

static uint64_t calibrate_pit(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / 1000;
	uint8_t gate = inb(0x61);
	uint64_t t0, t1;
	unsigned spins = 0;

	outb(0x61, (gate & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xB0); /* channel 2, lo/hi byte, mode 0, binary */
	outb(0x42, count & 0xFF);
	outb(0x42, count >> 8);
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		if (++spins > 100000000)
			panic("PIT channel 2 does not count: no time source");
	t1 = rdtsc();
	outb(0x61, gate);
	return (t1 - t0) / CALIBRATE_MS;
}

static uint64_t calibrate_pm_timer(uint16_t port, bool ext32)
{
	uint32_t mask = ext32 ? 0xFFFFFFFF : 0xFFFFFF;
	uint32_t ticks = PM_TIMER_HZ * CALIBRATE_MS / 1000, start, now;
	uint64_t t0, t1;

	start = inl(port) & mask;
	t0 = rdtsc();
	do
		now = inl(port) & mask;
	while (((now - start) & mask) < ticks);
	t1 = rdtsc();
	return (t1 - t0) * PM_TIMER_HZ /
	       ((uint64_t)((now - start) & mask) * 1000);
}

void time_init(void)
{
	struct acpi_pm_timer pm;

	if (acpi_pm_timer(&pm) == 0 && pm.port) {
		tsc_rate_khz = calibrate_pm_timer(pm.port, pm.ext32);
		source = "ACPI PM timer";
	} else {
		tsc_rate_khz = calibrate_pit();
		source = "PIT";
	}
	if (!tsc_rate_khz)
		panic("TSC calibration failed");
	tsc_at_boot = rdtsc();
	printk("TSC: %lu.%03lu MHz (calibrated against the %s)\n",
	       tsc_rate_khz / 1000, tsc_rate_khz % 1000, source);
}

const char *time_source(void)
{
	return source;
}

uint64_t tsc_khz(void)
{
	return tsc_rate_khz;
}

uint64_t now_ns(void)
{
	uint64_t d = rdtsc() - tsc_at_boot;

	/* Split to avoid overflow: whole ms, then the remainder. */
	return d / tsc_rate_khz * 1000000 +
	       d % tsc_rate_khz * 1000000 / tsc_rate_khz;
}

uint64_t ns_to_tsc(uint64_t ns)
{
	return ns / 1000000 * tsc_rate_khz +
	       ns % 1000000 * tsc_rate_khz / 1000000;
}

void udelay(uint64_t us)
{
	uint64_t end = rdtsc() + ns_to_tsc(us * 1000);

	while ((int64_t)(rdtsc() - end) < 0)
		cpu_relax();
}

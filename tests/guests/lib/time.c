/* SPDX-License-Identifier: MIT */
/* TSC and LAPIC timer frequencies, and TSC delays. */
#include "guest.h"

#define KEEL_CPUID_BASE	  0x40000000
#define KEEL_CPUID_TIMING 0x40000010

bool keel_timing_leaf_present(void)
{
	struct cpuid_regs base = cpuid(KEEL_CPUID_BASE);

	return base.eax >= KEEL_CPUID_TIMING && !memcmp(&base.ebx, "Keel", 4) &&
	       !memcmp(&base.ecx, "Keel", 4) && !memcmp(&base.edx, "Keel", 4);
}

/* Looked up once: CPUID exits to the hypervisor, and delay loops ask
 * often. Every CPU computes the same values, so a race is harmless. */
static uint32_t tsc_khz_cached, lapic_khz_cached;
static bool frequencies_known;

static uint32_t cmdline_khz(const char *key)
{
	uint64_t value;

	if (cmdline_u64(key, &value) && value <= UINT32_MAX)
		return (uint32_t)value;
	return 0;
}

static void find_frequencies(void)
{
	if (__atomic_load_n(&frequencies_known, __ATOMIC_ACQUIRE))
		return;
	if (keel_timing_leaf_present()) {
		struct cpuid_regs timing = cpuid(KEEL_CPUID_TIMING);
		tsc_khz_cached = timing.eax;
		lapic_khz_cached = timing.ebx;
	} else {
		tsc_khz_cached = cmdline_khz("tsc_khz");
		lapic_khz_cached = cmdline_khz("lapic_khz");
	}
	__atomic_store_n(&frequencies_known, true, __ATOMIC_RELEASE);
}

uint32_t platform_tsc_khz(void)
{
	find_frequencies();
	return tsc_khz_cached;
}

uint32_t platform_lapic_khz(void)
{
	find_frequencies();
	return lapic_khz_cached;
}

uint64_t us_to_tsc(uint64_t us)
{
	return us * platform_tsc_khz() / 1000;
}

uint64_t tsc_to_us(uint64_t ticks)
{
	uint32_t khz = platform_tsc_khz();

	return khz ? ticks * 1000 / khz : 0;
}

void delay_us(uint64_t us)
{
	uint64_t start = rdtsc(), ticks = us_to_tsc(us);

	while (rdtsc() - start < ticks)
		cpu_relax();
}

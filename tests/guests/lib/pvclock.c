/* SPDX-License-Identifier: MIT */
#include "pvclock.h"
#include "guest.h"

#define PVCLOCK_READ_ATTEMPTS 1000000

int pvclock_snapshot(const volatile struct pvclock_vcpu_time_info *info,
		     struct pvclock_snapshot *out)
{
	for (unsigned int i = 0; i < PVCLOCK_READ_ATTEMPTS; i++) {
		uint32_t version = info->version;
		__asm__ volatile("" ::: "memory");
		out->tsc_timestamp = info->tsc_timestamp;
		out->system_time = info->system_time;
		out->tsc_to_system_mul = info->tsc_to_system_mul;
		out->tsc_shift = info->tsc_shift;
		out->flags = info->flags;
		__asm__ volatile("" ::: "memory");
		if (!(version & 1) && version == info->version) {
			out->version = version;
			return 0;
		}
		cpu_relax();
	}
	return -1;
}

uint64_t pvclock_scale_delta(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

uint64_t pvclock_ns_at(const struct pvclock_snapshot *s, uint64_t tsc)
{
	uint64_t delta = tsc > s->tsc_timestamp ? tsc - s->tsc_timestamp : 0;

	return s->system_time +
	       pvclock_scale_delta(delta, s->tsc_to_system_mul, s->tsc_shift);
}

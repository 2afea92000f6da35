/* SPDX-License-Identifier: MIT */
/*
 * domain_owns_ram() as in hypervisor/common/domain.c, for tests that walk
 * guest memory (guest_mem.c) without linking domain.c, which needs the
 * scheduler, interrupt and console code. Keep it in step with domain.c.
 */
#include <keel/domain.h>

bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < d->nr_ranges; i++)
		if (pa >= d->ram[i].start && pa + len <= d->ram[i].end &&
		    pa + len >= pa)
			return true;
	return false;
}

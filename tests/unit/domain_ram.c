/* SPDX-License-Identifier: MIT */
/*
 * domain_owns_ram() as in hypervisor/common/mem_extent.c (a linear scan
 * where Keel searches its sorted list), for tests that walk
 * guest memory (guest_mem.c) without linking mem_extent.c, which needs the
 * heap. Keep it in step with mem_extent.c.
 */
#include <keel/domain.h>

bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len)
{
	for (unsigned i = 0; i < d->nr_extents; i++)
		if (pa >= d->extents[i].hpa &&
		    pa + len <= d->extents[i].hpa + d->extents[i].len &&
		    pa + len >= pa)
			return true;
	return false;
}

/* SPDX-License-Identifier: MIT */
/* Per-CPU TLB tag generations (see keel/asid.h). */
#include <keel/asid.h>

void asid_pool_init(struct asid_pool *p, uint32_t limit)
{
	p->generation = 0;
	p->limit = limit;
	p->next = limit; /* exhausted: the first entry starts generation 1 */
}

void asid_tag_invalidate(struct asid_tag *t)
{
	t->generation = 0;
}

bool asid_assign(struct asid_pool *p, struct asid_tag *t, int cpu)
{
	bool flush = false;

	if (t->generation == p->generation && t->cpu == cpu && t->generation)
		return false;
	if (p->next >= p->limit) {
		p->generation++;
		p->next = 1;
		flush = true;
	}
	t->asid = p->next++;
	t->generation = p->generation;
	t->cpu = cpu;
	return flush;
}

/* SPDX-License-Identifier: MIT */
/* e820 memory map editing (keel/e820.h). */
#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/lib.h>

/* End of an entry, saturating: firmware maps may wrap past 2^64. */
static uint64_t entry_end(const struct e820_entry *e)
{
	return e->addr + e->size < e->addr ? UINT64_MAX : e->addr + e->size;
}

/* Overlap priority: RAM lowest, then by type number. */
static uint64_t type_rank(uint32_t type)
{
	return type == E820_RAM ? 0 : (uint64_t)type + 1;
}

int e820_add(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type)
{
	if (size == 0 || addr + size < addr)
		return -EINVAL;
	if (m->nr >= E820_MAX)
		return -ENOSPC;
	m->map[m->nr].addr = addr;
	m->map[m->nr].size = size;
	m->map[m->nr].type = type;
	m->nr++;
	return 0;
}

/*
 * Sweeps the address space from boundary to boundary (every entry start
 * and end): between two consecutive boundaries the covering entries do not
 * change, so the winner's type holds for the whole piece. O(n^2) for at
 * most E820_MAX entries, with no sorting and no extra arrays.
 */
void e820_sanitize(struct e820_map *m)
{
	static struct e820_map out;
	uint64_t cur = UINT64_MAX;
	bool more = false;

	out.nr = 0;
	for (uint32_t i = 0; i < m->nr; i++) {
		if (m->map[i].size && m->map[i].addr <= cur) {
			cur = m->map[i].addr;
			more = true;
		}
	}

	while (more) {
		uint64_t next = UINT64_MAX, best_rank = 0;
		uint32_t best_type = 0;
		bool covered = false;

		more = false;
		for (uint32_t i = 0; i < m->nr; i++) {
			const struct e820_entry *e = &m->map[i];
			uint64_t end = entry_end(e);

			if (!e->size)
				continue;
			if (e->addr > cur && e->addr <= next) {
				next = e->addr;
				more = true;
			}
			if (end > cur && end <= next) {
				next = end;
				more = true;
			}
			if (e->addr <= cur && cur < end &&
			    (!covered || type_rank(e->type) > best_rank)) {
				covered = true;
				best_rank = type_rank(e->type);
				best_type = e->type;
			}
		}
		if (covered) {
			struct e820_entry *last =
			    out.nr ? &out.map[out.nr - 1] : NULL;

			if (last && last->type == best_type &&
			    last->addr + last->size == cur) {
				last->size += next - cur;
			} else if (out.nr < E820_MAX) {
				out.map[out.nr].addr = cur;
				out.map[out.nr].size = next - cur;
				out.map[out.nr].type = best_type;
				out.nr++;
			} else {
				printk("e820: map overflow, dropping 0x%llx-"
				       "0x%llx\n",
				       (unsigned long long)cur,
				       (unsigned long long)next);
			}
		}
		cur = next;
	}
	memcpy(m, &out, sizeof(out.nr) + out.nr * sizeof(out.map[0]));
}

int e820_set_type(struct e820_map *m, uint64_t addr, uint64_t size,
		  uint32_t type)
{
	uint64_t end = addr + size;
	struct e820_entry tail = {0, 0, 0};
	int64_t count;
	uint32_t n = 0;

	if (size == 0 || end < addr)
		return -EINVAL;
	e820_sanitize(m);

	/* Count first so a refused change leaves the map as it was. */
	count = (int64_t)m->nr + 1;
	for (uint32_t i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->map[i];

		if (e->addr < addr && entry_end(e) > end)
			count++; /* split in two around the range */
		else if (e->addr >= addr && entry_end(e) <= end)
			count--; /* swallowed whole */
	}
	if (count > E820_MAX)
		return -ENOSPC;

	/*
	 * The map is sorted and free of overlaps, so at most one entry
	 * contains the whole range and needs the extra tail entry.
	 */
	for (uint32_t i = 0; i < m->nr; i++) {
		struct e820_entry e = m->map[i];
		uint64_t e_end = entry_end(&e);

		if (e_end <= addr || e.addr >= end) {
			m->map[n++] = e;
			continue;
		}
		if (e.addr < addr) {
			m->map[n] = e;
			m->map[n++].size = addr - e.addr;
		}
		if (e_end > end) {
			tail = e;
			tail.addr = end;
			tail.size = e_end - end;
		}
	}
	if (tail.size)
		m->map[n++] = tail;
	m->map[n].addr = addr;
	m->map[n].size = size;
	m->map[n].type = type;
	m->nr = n + 1;
	e820_sanitize(m);
	return 0;
}

uint64_t e820_limit_ram(struct e820_map *m, uint64_t keep_bytes,
			uint32_t new_type)
{
	uint64_t kept = 0, cut = 0;
	bool over_budget = false;

	e820_sanitize(m);
	/* Find where the budget runs out: the first RAM address not kept. */
	for (uint32_t i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->map[i];

		if (e->type != E820_RAM)
			continue;
		if (e->size > keep_bytes - kept) {
			cut = e->addr + (keep_bytes - kept);
			over_budget = true;
			kept = keep_bytes;
			if (cut != e->addr &&
			    e820_set_type(m, cut, entry_end(e) - cut,
					  new_type) != 0) {
				/* No room to split: give up the whole entry. */
				kept -= cut - e->addr;
				cut = e->addr;
			}
			break;
		}
		kept += e->size;
	}
	if (!over_budget)
		return kept;
	for (uint32_t i = 0; i < m->nr; i++)
		if (m->map[i].type == E820_RAM && m->map[i].addr >= cut)
			m->map[i].type = new_type;
	e820_sanitize(m);
	return kept;
}

uint64_t e820_total(const struct e820_map *m, uint32_t type)
{
	uint64_t total = 0;

	for (uint32_t i = 0; i < m->nr; i++)
		if (m->map[i].type == type)
			total += m->map[i].size;
	return total;
}

bool e820_range_is(const struct e820_map *m, uint64_t addr, uint64_t size,
		   uint32_t type)
{
	uint64_t end = addr + size, cur = addr;

	if (size == 0 || end < addr)
		return false;
	/* Walk up from addr through entries of the type that touch cur. */
	while (cur < end) {
		uint64_t reach = cur;

		for (uint32_t i = 0; i < m->nr; i++) {
			const struct e820_entry *e = &m->map[i];

			if (e->type == type && e->addr <= cur &&
			    entry_end(e) > reach)
				reach = entry_end(e);
		}
		if (reach == cur)
			return false;
		cur = reach;
	}
	return true;
}

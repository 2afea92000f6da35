/* SPDX-License-Identifier: MIT */
/*
 * e820 map building (hypervisor/common/e820.c): the firmware's map comes
 * from the boot loader, and Keel turns it into Dom0's (mm/memmap.c) by
 * sanitizing it, retyping its own image and cutting RAM to dom0_mem.
 *
 * Input: u8 entry count, that many (u64 addr, u64 size, u8 type) entries
 * added with e820_add, then operations: sanitize, set_type, limit_ram,
 * add, range_is. Addresses are often small multiples of 4 KiB so ranges
 * meet and overlap; types are 0-7. Every result is checked against a
 * brute-force model: the type of an address is that of the highest-ranked
 * entry covering it (RAM lowest, then by type number), and every
 * operation must keep that meaning where it does not change it.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/lib.h>

FUZZ_SHIM_INIT()

#define NO_TYPE	   UINT32_MAX
#define MAX_POINTS 1024

/* The map, the map before an operation, and that one sanitized. */
static struct e820_map map, before, clean;

static uint64_t end_of(const struct e820_entry *e)
{
	return e->addr + e->size < e->addr ? UINT64_MAX : e->addr + e->size;
}

static uint64_t rank(uint32_t type)
{
	return type == E820_RAM ? 0 : (uint64_t)type + 1;
}

/* The type at pa in any map, by the overlap rule; NO_TYPE if a hole. */
static uint32_t type_at(const struct e820_map *m, uint64_t pa)
{
	uint32_t best = NO_TYPE;

	for (uint32_t i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->map[i];

		if (e->size && e->addr <= pa && pa < end_of(e) &&
		    (best == NO_TYPE || rank(e->type) > rank(best)))
			best = e->type;
	}
	return best;
}

static void check_sanitized(const struct e820_map *m)
{
	FUZZ_CHECK(m->nr <= E820_MAX);
	for (uint32_t i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->map[i];

		FUZZ_CHECK(e->size && e->addr + e->size > e->addr);
		if (i) {
			const struct e820_entry *p = &m->map[i - 1];

			FUZZ_CHECK(p->addr + p->size <= e->addr);
			/* Touching entries of one type are merged. */
			FUZZ_CHECK(p->addr + p->size < e->addr ||
				   p->type != e->type);
		}
	}
}

/* Addresses where types can change: every boundary and its neighbours. */
static unsigned sample_points(const struct e820_map *m, uint64_t *pts,
			      unsigned n)
{
	for (uint32_t i = 0; i < m->nr && n + 4 <= MAX_POINTS; i++) {
		uint64_t a = m->map[i].addr, e = end_of(&m->map[i]);

		pts[n++] = a;
		pts[n++] = a - 1;
		pts[n++] = e;
		pts[n++] = e - 1;
	}
	return n;
}

/* After sanitizing, every address keeps the type `from` gave it. */
static void check_same_types(const struct e820_map *from,
			     const struct e820_map *to, uint64_t skip_start,
			     uint64_t skip_end)
{
	static uint64_t pts[MAX_POINTS];
	unsigned n = sample_points(from, pts, 0);

	n = sample_points(to, pts, n);
	for (unsigned i = 0; i < n; i++)
		if (pts[i] < skip_start || pts[i] >= skip_end)
			FUZZ_CHECK(type_at(from, pts[i]) ==
				   type_at(to, pts[i]));
}

static uint64_t pick_addr(struct fuzz_input *in)
{
	uint8_t sel = fuzz_u8(in);

	if (sel & 0x80)
		return fuzz_u64(in);
	/* Page multiples below 1 MiB, or MiB multiples: ranges that meet. */
	return sel & 0x40 ? (uint64_t)fuzz_u8(in) << 20
			  : (uint64_t)fuzz_u8(in) << 12;
}

static uint64_t ram(const struct e820_map *m)
{
	return e820_total(m, E820_RAM);
}

/*
 * dom0_mem: RAM stays RAM or becomes new_type, from some address up;
 * everything else keeps its type.
 */
static void check_limited(const struct e820_map *from,
			  const struct e820_map *to, uint32_t new_type)
{
	static uint64_t pts[MAX_POINTS];
	unsigned n = sample_points(from, pts, 0);

	n = sample_points(to, pts, n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t was = type_at(from, pts[i]), now = type_at(to, pts[i]);

		if (was == E820_RAM)
			FUZZ_CHECK(now == E820_RAM || now == new_type);
		else
			FUZZ_CHECK(now == was);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input fi = fuzz_input(data, size);
	unsigned nr = fuzz_u8(&fi), ops = 0;
	bool sanitized = false;

	memset(&map, 0, sizeof(map));
	for (unsigned i = 0; i < nr; i++) {
		uint64_t addr = pick_addr(&fi), len = pick_addr(&fi);
		uint32_t type = fuzz_u8(&fi) & 7;
		int rc = e820_add(&map, addr, len, type);

		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
		FUZZ_CHECK(rc != -ENOSPC || map.nr == E820_MAX);
	}

	while (fi.left && ops++ < 16) {
		uint8_t op = fuzz_u8(&fi);
		uint64_t addr, len, kept;
		/* A full sanitized map may have dropped pieces (e820.h). */
		bool full;
		uint32_t type;
		int rc;

		before = clean = map;
		e820_sanitize(&clean);
		full = clean.nr == E820_MAX;
		switch (op % 5) {
		case 0:
			e820_sanitize(&map);
			check_sanitized(&map);
			if (!full)
				check_same_types(&before, &map, 0, 0);
			/* Sanitizing a sanitized map changes nothing. */
			e820_sanitize(&clean);
			FUZZ_CHECK(clean.nr == map.nr &&
				   !memcmp(clean.map, map.map,
					   map.nr * sizeof(map.map[0])));
			sanitized = true;
			break;
		case 1: /* Keel's image, Dom0's ACPI area */
			addr = pick_addr(&fi);
			len = pick_addr(&fi);
			type = fuzz_u8(&fi) & 7;
			rc = e820_set_type(&map, addr, len, type);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
			if (rc == -EINVAL)
				FUZZ_CHECK(!len || addr + len < addr);
			if (rc == -ENOSPC) /* sanitized, nothing more */
				FUZZ_CHECK(
				    map.nr == clean.nr &&
				    !memcmp(clean.map, map.map,
					    map.nr * sizeof(map.map[0])));
			if (rc != -EINVAL)
				sanitized = true;
			if (rc == 0) {
				check_sanitized(&map);
				FUZZ_CHECK(
				    e820_range_is(&map, addr, len, type));
				if (!full)
					check_same_types(&before, &map, addr,
							 addr + len);
			}
			break;
		case 2: /* dom0_mem */
			len = pick_addr(&fi);
			type = fuzz_u8(&fi) & 7;
			kept = e820_limit_ram(&map, len, type);
			check_sanitized(&map);
			FUZZ_CHECK(kept <= len);
			if (type != E820_RAM)
				FUZZ_CHECK(ram(&map) == kept);
			if (!full)
				check_limited(&before, &map, type);
			sanitized = true;
			break;
		case 3:
			addr = pick_addr(&fi);
			len = pick_addr(&fi);
			rc = e820_add(&map, addr, len, fuzz_u8(&fi) & 7);
			FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC);
			sanitized = false;
			break;
		case 4: /* the queries memmap.c and dom0_build.c make */
			addr = pick_addr(&fi);
			len = pick_addr(&fi);
			type = fuzz_u8(&fi) & 7;
			if (sanitized && len && addr + len > addr &&
			    e820_range_is(&map, addr, len, type)) {
				FUZZ_CHECK(type_at(&map, addr) == type);
				FUZZ_CHECK(type_at(&map, addr + len - 1) ==
					   type);
			}
			break;
		}
	}
	return 0;
}

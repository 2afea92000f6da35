/* SPDX-License-Identifier: MIT */
/*
 * BIOS e820 memory maps: the one Keel receives (from multiboot2) and the
 * one it gives Dom0 (boot_params.e820_table, Linux
 * Documentation/x86/zero-page.rst). Dom0's map is the physical map with the
 * hypervisor's ranges retyped reserved, limited to dom0_mem.
 */
#ifndef KEEL_E820_H
#define KEEL_E820_H

#include <stdbool.h>
#include <stdint.h>
#include <keel/lib.h>

/* ACPI 6.5, table 15.6 "Address Range Types". */
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4
#define E820_UNUSABLE 5

/* Entries in boot_params.e820_table. */
#define E820_MAX 128

/* The layout of boot_params.e820_table[] (struct boot_e820_entry). */
struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __packed;

struct e820_map {
	uint32_t nr;
	struct e820_entry map[E820_MAX];
};

/* Appends an entry: -EINVAL for an empty or wrapping range, -ENOSPC full. */
int e820_add(struct e820_map *m, uint64_t addr, uint64_t size, uint32_t type);

/*
 * Sorts the map, resolves overlaps and merges adjacent entries of the same
 * type. Where entries overlap, the higher type number wins, except that RAM
 * always loses: memory anyone claims for something else is not RAM. Empty
 * entries are dropped; an entry reaching past 2^64 is cut there. Not
 * reentrant (it builds the result in one static scratch map).
 */
void e820_sanitize(struct e820_map *m);

/*
 * Gives [addr, addr + size) the type, cutting it out of whatever covered it
 * (holes inside it are typed too). Leaves the map sanitized. -EINVAL for an
 * empty or wrapping range, -ENOSPC if the map would overflow (then the map
 * is unchanged).
 */
int e820_set_type(struct e820_map *m, uint64_t addr, uint64_t size,
		  uint32_t type);

/*
 * Keeps the first keep_bytes of RAM, in ascending address order, and
 * retypes all RAM above that to new_type. Returns the RAM kept, less than
 * keep_bytes if there is less RAM. Leaves the map sanitized.
 */
uint64_t e820_limit_ram(struct e820_map *m, uint64_t keep_bytes,
			uint32_t new_type);

/* Bytes of the given type (in a sanitized map: no double counting). */
uint64_t e820_total(const struct e820_map *m, uint32_t type);

/*
 * True if entries of that type cover all of [addr, addr + size), possibly
 * several adjacent ones. An empty range is never "covered".
 */
bool e820_range_is(const struct e820_map *m, uint64_t addr, uint64_t size,
		   uint32_t type);

#endif

/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * Pure arithmetic keel.ko does on shared memory: merging pinned pages into
 * the extents KEEL_HC_MEMORY_MAP takes, and the console ring's indices
 * (include/public/keel.h, struct keel_console_ring). No kernel calls here,
 * so the toolstack's host tests (tests/toolstack/test_kmod_ring.c) compile
 * this very file.
 */
#ifndef KEEL_KMOD_RING_H
#define KEEL_KMOD_RING_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#include <public/keel.h>

/*
 * Appends len bytes at Dom0-physical phys, to be seen by the guest at
 * gpa, to the nr extents in ext: grows the last extent when both ranges
 * continue it, else starts a new one. False (nothing added) when a new
 * extent is needed and max are in use: the caller hands the full batch to
 * Keel, empties it and adds again.
 */
static inline bool keel_extent_add(struct keel_mem_extent *ext, size_t *nr,
				   size_t max, uint64_t gpa, uint64_t phys,
				   uint64_t len)
{
	if (*nr) {
		struct keel_mem_extent *last = &ext[*nr - 1];

		if (last->gpa + last->len == gpa &&
		    last->dom0_gpa + last->len == phys) {
			last->len += len;
			return true;
		}
	}
	if (*nr >= max)
		return false;
	ext[*nr].gpa = gpa;
	ext[*nr].dom0_gpa = phys;
	ext[*nr].len = len;
	(*nr)++;
	return true;
}

/*
 * The console ring's indices only grow, modulo 2^32; a byte's place in
 * the ring is its index modulo the ring's size (a power of two).
 */
struct keel_ring_span {
	uint32_t start; /* index of the oldest byte still in the ring */
	uint32_t len;	/* bytes readable from start */
	uint32_t lost;	/* bytes overwritten before the reader got them */
};

/*
 * What a reader at cons may take from a ring of size bytes whose writer
 * is at prod. Keel never waits for the reader: more than size bytes
 * behind means the oldest were overwritten, and reading restarts at the
 * oldest byte still there.
 */
static inline struct keel_ring_span
keel_ring_readable(uint32_t prod, uint32_t cons, uint32_t size)
{
	struct keel_ring_span s = {cons, prod - cons, 0};

	if (s.len > size) {
		s.lost = s.len - size;
		s.start = prod - size;
		s.len = size;
	}
	return s;
}

/*
 * After copying len bytes from index start, with the writer now at prod:
 * how many of the copied bytes, from the front, the writer may have
 * overwritten during the copy (they must be dropped).
 */
static inline uint32_t keel_ring_overwritten(uint32_t prod, uint32_t start,
					     uint32_t len, uint32_t size)
{
	uint32_t ahead = prod - start;

	if (ahead <= size)
		return 0;
	return ahead - size < len ? ahead - size : len;
}

/* Bytes from index i to the ring's end: the first of at most two copies. */
static inline uint32_t keel_ring_contig(uint32_t i, uint32_t len, uint32_t size)
{
	uint32_t off = i & (size - 1);

	return len < size - off ? len : size - off;
}

/*
 * Room for the writer at prod when the reader is at cons, or -1 when the
 * indices are impossible (the reader ahead, or more than size apart).
 */
static inline int64_t keel_ring_space(uint32_t prod, uint32_t cons,
				      uint32_t size)
{
	uint32_t used = prod - cons;

	return used > size ? -1 : (int64_t)(size - used);
}

/* A guest name as KEEL_HC_DOMAIN_CREATE takes it: [A-Za-z0-9._-]+, ended. */
static inline bool keel_domain_name_valid(const char *name, size_t size)
{
	size_t i;

	for (i = 0; i < size && name[i]; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return i > 0 && i < size;
}

#endif

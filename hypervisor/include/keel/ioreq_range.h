/* SPDX-License-Identifier: MIT */
/*
 * A domain's table of I/O-request ranges (KEEL_HC_IOREQ_RANGE): what Dom0
 * may register and where an access goes. Pure logic over the table, no
 * locking (the caller holds the domain's lock), so the host tests run it.
 */
#ifndef KEEL_IOREQ_RANGE_H
#define KEEL_IOREQ_RANGE_H

#include <keel/lib.h>
#include <public/keel.h>

struct ioreq_range {
	uint64_t start, len; /* len 0: the entry is free */
	uint32_t flags;	     /* KEEL_IOREQ_F_* */
};

/*
 * Whether a range of these flags may exist at all on the DomU platform:
 * 0, or -EINVAL for unknown flags, an empty or wrapping range, MMIO
 * outside the DomU MMIO hole or over the vIOAPIC or xAPIC page, ports
 * beyond 0xFFFF or over COM1 or the power ports.
 */
int ioreq_range_valid(uint32_t flags, uint64_t start, uint64_t len);
/*
 * Adds a valid range to t[0..n): its index, -EEXIST if it overlaps one of
 * the same space, -ENOSPC if t is full.
 */
int ioreq_range_add(struct ioreq_range *t, unsigned n, uint32_t flags,
		    uint64_t start, uint64_t len);
/* Removes exactly that range: 0, or -ENOENT. */
int ioreq_range_remove(struct ioreq_range *t, unsigned n, uint32_t flags,
		       uint64_t start, uint64_t len);
/* The index of the range of that space (ports or MMIO) holding addr, or -1. */
int ioreq_range_find(const struct ioreq_range *t, unsigned n, bool pio,
		     uint64_t addr);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * I/O-request ranges (keel/ioreq_range.h). Keel's own devices are never
 * given away: an access there must reach Keel's emulation, whatever the
 * device model wants, so ranges over them are refused rather than
 * shadowed.
 */
#include <keel/errno.h>
#include <keel/ioreq_range.h>
#include <keel/vintr.h>
#include <keel/vlapic.h>

#define NR_PORTS 0x10000ULL

/* Keel's devices in a DomU, as vintr.c and domu_platform.c place them. */
static const struct {
	bool pio;
	uint64_t start, len;
} keel_owned[] = {
    {false, VINTR_VIOAPIC_BASE, PAGE_SIZE},
    {false, VLAPIC_DEFAULT_BASE, PAGE_SIZE},
    {true, VINTR_COM1_BASE, VUART_NR_PORTS},
    {true, KEEL_DOMU_SLEEP_CONTROL_PORT,
     KEEL_DOMU_BOOT_TIMER_PORT - KEEL_DOMU_SLEEP_CONTROL_PORT + 1},
};

/* Whether [a, a + alen) and [b, b + blen) share a byte; differences, not
 * ends, so a range ending at 2^64 does not wrap (as mem_extent.c's). */
static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return alen && blen && (a >= b ? a - b < blen : b - a < alen);
}

int ioreq_range_valid(uint32_t flags, uint64_t start, uint64_t len)
{
	bool pio = flags & KEEL_IOREQ_F_PIO;

	if ((flags & ~KEEL_IOREQ_F_ALL) || !len || start + len < start)
		return -EINVAL;
	if (pio ? start + len > NR_PORTS
		: start < KEEL_DOMU_MMIO_HOLE_START ||
		      start + len > KEEL_DOMU_MMIO_HOLE_END)
		return -EINVAL;
	for (unsigned i = 0; i < ARRAY_SIZE(keel_owned); i++)
		if (keel_owned[i].pio == pio &&
		    overlap(start, len, keel_owned[i].start, keel_owned[i].len))
			return -EINVAL;
	return 0;
}

static bool same_space(const struct ioreq_range *r, uint32_t flags)
{
	return !((r->flags ^ flags) & KEEL_IOREQ_F_PIO);
}

int ioreq_range_add(struct ioreq_range *t, unsigned n, uint32_t flags,
		    uint64_t start, uint64_t len)
{
	int free = -1;

	for (unsigned i = 0; i < n; i++) {
		if (!t[i].len) {
			if (free < 0)
				free = (int)i;
			continue;
		}
		if (same_space(&t[i], flags) &&
		    overlap(start, len, t[i].start, t[i].len))
			return -EEXIST;
	}
	if (free < 0)
		return -ENOSPC;
	t[free] = (struct ioreq_range){start, len, flags};
	return free;
}

int ioreq_range_remove(struct ioreq_range *t, unsigned n, uint32_t flags,
		       uint64_t start, uint64_t len)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].len && t[i].flags == flags && t[i].start == start &&
		    t[i].len == len) {
			t[i] = (struct ioreq_range){0};
			return 0;
		}
	return -ENOENT;
}

int ioreq_range_find(const struct ioreq_range *t, unsigned n, bool pio,
		     uint64_t addr)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].len && !(t[i].flags & KEEL_IOREQ_F_PIO) == !pio &&
		    addr - t[i].start < t[i].len)
			return (int)i;
	return -1;
}

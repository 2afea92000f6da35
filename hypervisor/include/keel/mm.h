/* SPDX-License-Identifier: MIT */
/*
 * Physical memory: the buddy frame allocator (mm/buddy.c) and the heap
 * (mm/heap.c).
 *
 * Locking: the frame allocator and the heap each take their own spinlock
 * inside their public functions; call them with interrupts disabled (as
 * all of Keel runs) and never from an interrupt handler.
 */
#ifndef KEEL_MM_H
#define KEEL_MM_H

#include <stddef.h>
#include <stdint.h>

/* Largest block: 2^18 pages = 1 GiB, the largest page-table mapping. */
#define MAX_ORDER 18

/*
 * Gives free RAM [base, end) to the frame allocator. Unaligned edges are
 * trimmed to whole pages and page 0 is never managed (0 means failure).
 * The allocator's bookkeeping for the range (one byte per page) is taken
 * from the top of the range itself. Ranges must not overlap.
 */
void frames_add_range(uint64_t base, uint64_t end);

/*
 * Returns the physical address of 2^order contiguous pages aligned to their
 * size, NOT zeroed, or 0 when no such block is free. High addresses are
 * handed out first: low memory is precious to Dom0 and legacy devices.
 */
uint64_t frames_alloc(unsigned order);

/*
 * Returns 2^order pages at pa (aligned to their size) to the allocator.
 * Every page must be allocated or claimed: anything else panics. An
 * allocated block may be freed in aligned pieces of any smaller order.
 */
void frames_free(uint64_t pa, unsigned order);

/*
 * Takes the specific range [base, end) (page aligned) out of the allocator,
 * splitting free blocks around it. All or nothing: -EBUSY if any page of it
 * is not free, -EINVAL for a bad range. Claimed pages count as allocated.
 */
int frames_claim(uint64_t base, uint64_t end);

uint64_t frames_free_pages(void);
/* Pages managed by the allocator (excluding its own bookkeeping). */
uint64_t frames_total_pages(void);

/*
 * The hypervisor's view of physical memory. Every access to RAM by physical
 * address goes through these, so host unit tests can back "physical memory"
 * with a buffer. Implemented by the paging code (and by tests/unit/shim.c).
 */
void *phys_to_virt(uint64_t pa);
uint64_t virt_to_phys(const void *p);

/* One zeroed 4 KiB page, or NULL when memory is exhausted. */
void *page_alloc(void);
/* Frees a page from page_alloc(); NULL is ignored. */
void page_free(void *p);

/*
 * Heap: zeroed, 16-byte aligned memory of any size, or NULL when memory is
 * exhausted. xfree(NULL) is ignored; freeing anything else not from
 * xzalloc() panics.
 */
void *xzalloc(size_t size);
void xfree(void *p);
/* Bytes allocated with xzalloc() and not freed (rounded up to the size
 * class for small objects). */
uint64_t heap_bytes_in_use(void);

#endif

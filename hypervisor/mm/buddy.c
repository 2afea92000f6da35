/* SPDX-License-Identifier: MIT */
/*
 * Buddy frame allocator.
 *
 * Every range given to frames_add_range() becomes a zone. A zone's
 * bookkeeping sits in the top pages of the range itself: a header with one
 * free list per order, then one state byte per managed page. The zone
 * therefore costs 1/4096 of its size and nothing is sized by the amount of
 * RAM at build time; 1 TiB of RAM needs 256 MiB of state taken from that
 * RAM.
 *
 * A page's state byte says what it is:
 *   PAGE_ALLOCATED           allocated or claimed (owned by someone)
 *   PAGE_FREE_HEAD | order   first page of a free block of 2^order pages
 *   PAGE_FREE_TAIL           any other page of a free block
 * Keeping "allocated" per page rather than per block lets frames_free()
 * check every page it is handed: a double free, a free of a claimed-but-
 * never-allocated range or of someone else's page is caught before it can
 * corrupt the lists, and a block may be freed in smaller aligned pieces.
 *
 * Free blocks are linked through their own first 16 bytes (struct
 * free_link, reached with phys_to_virt()); lists are per zone and per order
 * and hold physical addresses, FREE_NIL ending them.
 *
 * Allocation prefers high addresses: zones are searched from the highest,
 * and within a zone the highest-addressed list head of a large enough order
 * is split, keeping the upper half. Low memory stays free for Dom0.
 *
 * Locking: frames_lock, this file's own, guards the lists and page
 * states; every public function takes it, so callers need no lock.
 */
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/spinlock.h>

#define PAGE_ALLOCATED	0x01
#define PAGE_FREE_TAIL	0x02
#define PAGE_FREE_HEAD	0x80
#define PAGE_ORDER_MASK 0x1f

#define FREE_NIL (~0ULL)

struct free_link {
	uint64_t next;
	uint64_t prev;
};

struct frame_zone {
	uint64_t base;	   /* first managed page */
	uint64_t end;	   /* end of managed pages, where this header sits */
	uint64_t span_end; /* end of the range, bookkeeping included */
	struct frame_zone *next; /* next lower zone */
	uint64_t free_head[MAX_ORDER + 1];
	uint8_t state[]; /* one byte per page from base */
};

static struct frame_zone *zones; /* highest first */
static uint64_t nr_free_pages;
static uint64_t nr_total_pages;

/* Serialises every public entry point; physical CPUs share one allocator. */
static spinlock_t frames_lock = SPINLOCK_INIT;

/* Invariant violations are reported with the lock released. */
#define frames_panic(...)                                                      \
	do {                                                                   \
		spin_unlock(&frames_lock);                                     \
		panic(__VA_ARGS__);                                            \
	} while (0)

static uint64_t block_bytes(unsigned order)
{
	return PAGE_SIZE << order;
}

static uint8_t *page_state(struct frame_zone *z, uint64_t pa)
{
	return &z->state[(pa - z->base) >> PAGE_SHIFT];
}

static struct free_link *free_link_of(uint64_t pa)
{
	return phys_to_virt(pa);
}

static void free_list_push(struct frame_zone *z, uint64_t pa, unsigned order)
{
	struct free_link *l = free_link_of(pa);

	l->prev = FREE_NIL;
	l->next = z->free_head[order];
	if (l->next != FREE_NIL)
		free_link_of(l->next)->prev = pa;
	z->free_head[order] = pa;
	*page_state(z, pa) = PAGE_FREE_HEAD | order;
}

static void free_list_unlink(struct frame_zone *z, uint64_t pa, unsigned order)
{
	struct free_link *l = free_link_of(pa);

	if (l->prev != FREE_NIL)
		free_link_of(l->prev)->next = l->next;
	else
		z->free_head[order] = l->next;
	if (l->next != FREE_NIL)
		free_link_of(l->next)->prev = l->prev;
}

static struct frame_zone *zone_of(uint64_t pa)
{
	for (struct frame_zone *z = zones; z; z = z->next)
		if (pa >= z->base && pa < z->end)
			return z;
	return NULL;
}

/*
 * Frees [start, end) inside one zone as the fewest aligned blocks. The pages
 * must already be free tails (or be marked so here) and their would-be
 * buddies outside the range must not be free, so no merging is needed.
 */
static void release_range(struct frame_zone *z, uint64_t start, uint64_t end)
{
	while (start < end) {
		unsigned order = 0;

		while (order < MAX_ORDER &&
		       IS_ALIGNED(start, block_bytes(order + 1)) &&
		       end - start >= block_bytes(order + 1))
			order++;
		free_list_push(z, start, order);
		nr_free_pages += 1ULL << order;
		start += block_bytes(order);
	}
}

static void frames_add_range_locked(uint64_t base, uint64_t end)
{
	uint64_t pages, meta_pages, managed_end;
	struct frame_zone *z, **pos;

	if (base > UINT64_MAX - PAGE_SIZE)
		return;
	base = ALIGN_UP(base, PAGE_SIZE);
	if (base == 0)
		base = PAGE_SIZE; /* 0 is frames_alloc()'s failure value */
	end = ALIGN_DOWN(end, PAGE_SIZE);
	if (end <= base)
		return;
	pages = (end - base) >> PAGE_SHIFT;
	meta_pages =
	    (sizeof(struct frame_zone) + pages + PAGE_SIZE - 1) >> PAGE_SHIFT;
	if (meta_pages >= pages) {
		printk("frames: range 0x%llx-0x%llx too small to manage\n",
		       (unsigned long long)base, (unsigned long long)end);
		return;
	}
	for (z = zones; z; z = z->next)
		if (base < z->span_end && z->base < end)
			frames_panic(
			    "frames: range 0x%llx-0x%llx overlaps managed "
			    "0x%llx-0x%llx",
			    (unsigned long long)base, (unsigned long long)end,
			    (unsigned long long)z->base,
			    (unsigned long long)z->span_end);

	managed_end = end - (meta_pages << PAGE_SHIFT);
	pages -= meta_pages;
	z = phys_to_virt(managed_end);
	z->base = base;
	z->end = managed_end;
	z->span_end = end;
	for (unsigned o = 0; o <= MAX_ORDER; o++)
		z->free_head[o] = FREE_NIL;
	memset(z->state, PAGE_FREE_TAIL, pages);

	for (pos = &zones; *pos && (*pos)->base > base; pos = &(*pos)->next)
		;
	z->next = *pos;
	*pos = z;

	nr_total_pages += pages;
	release_range(z, base, managed_end);
}

static uint64_t frames_alloc_locked(unsigned order)
{
	if (order > MAX_ORDER)
		return 0;
	for (struct frame_zone *z = zones; z; z = z->next) {
		uint64_t pa = FREE_NIL;
		unsigned found = 0;

		for (unsigned o = order; o <= MAX_ORDER; o++) {
			uint64_t head = z->free_head[o];

			if (head != FREE_NIL && (pa == FREE_NIL || head > pa)) {
				pa = head;
				found = o;
			}
		}
		if (pa == FREE_NIL)
			continue;
		free_list_unlink(z, pa, found);
		/* Split, returning lower halves, keeping the upper one. */
		while (found > order) {
			found--;
			free_list_push(z, pa, found);
			pa += block_bytes(found);
		}
		memset(page_state(z, pa), PAGE_ALLOCATED, 1ULL << order);
		nr_free_pages -= 1ULL << order;
		return pa;
	}
	return 0;
}

static void frames_free_locked(uint64_t pa, unsigned order)
{
	struct frame_zone *z;
	uint64_t pages = 1ULL << order;
	uint8_t *state;

	if (order > MAX_ORDER || !IS_ALIGNED(pa, block_bytes(order)))
		frames_panic("frames_free: bad block 0x%llx order %u",
			     (unsigned long long)pa, order);
	z = zone_of(pa);
	if (!z || z->end - pa < block_bytes(order))
		frames_panic(
		    "frames_free: 0x%llx order %u is not managed memory",
		    (unsigned long long)pa, order);
	state = page_state(z, pa);
	for (uint64_t i = 0; i < pages; i++)
		if (state[i] != PAGE_ALLOCATED)
			frames_panic(
			    "frames_free: page 0x%llx of block 0x%llx order "
			    "%u is not allocated (double free?)",
			    (unsigned long long)(pa + (i << PAGE_SHIFT)),
			    (unsigned long long)pa, order);
	memset(state, PAGE_FREE_TAIL, pages);
	nr_free_pages += pages;

	while (order < MAX_ORDER) {
		uint64_t buddy = pa ^ block_bytes(order);

		if (buddy < z->base || buddy >= z->end ||
		    z->end - buddy < block_bytes(order) ||
		    *page_state(z, buddy) != (PAGE_FREE_HEAD | order))
			break;
		free_list_unlink(z, buddy, order);
		*page_state(z, buddy) = PAGE_FREE_TAIL;
		pa = MIN(pa, buddy);
		order++;
	}
	*page_state(z, pa) = PAGE_FREE_TAIL;
	free_list_push(z, pa, order);
}

/*
 * Finds the free block holding page pa: its head is the first address at or
 * below pa, aligned to some order, whose state is a free head.
 */
static bool free_block_of(struct frame_zone *z, uint64_t pa, uint64_t *head,
			  unsigned *order)
{
	uint8_t s = *page_state(z, pa);

	if (s == PAGE_ALLOCATED)
		return false;
	for (unsigned o = 0; o <= MAX_ORDER; o++) {
		uint64_t h = ALIGN_DOWN(pa, block_bytes(o));

		if (h < z->base)
			break;
		s = *page_state(z, h);
		if (s & PAGE_FREE_HEAD) {
			if ((s & PAGE_ORDER_MASK) < o)
				break;
			*head = h;
			*order = s & PAGE_ORDER_MASK;
			return true;
		}
	}
	frames_panic("frames: free page 0x%llx belongs to no free block",
		     (unsigned long long)pa);
}

static int frames_claim_locked(uint64_t base, uint64_t end)
{
	struct frame_zone *z;
	uint64_t pa, head;
	unsigned order;

	if (end <= base || !IS_ALIGNED(base, PAGE_SIZE) ||
	    !IS_ALIGNED(end, PAGE_SIZE))
		return -EINVAL;
	z = zone_of(base);
	if (!z || end > z->end)
		return -EBUSY;

	/* Check the whole range first so a refused claim changes nothing. */
	for (pa = base; pa < end; pa = head + block_bytes(order))
		if (!free_block_of(z, pa, &head, &order))
			return -EBUSY;

	for (pa = base; pa < end;) {
		uint64_t block_end, claim_end;

		free_block_of(z, pa, &head, &order);
		block_end = head + block_bytes(order);
		claim_end = MIN(end, block_end);
		free_list_unlink(z, head, order);
		*page_state(z, head) = PAGE_FREE_TAIL;
		nr_free_pages -= 1ULL << order;
		release_range(z, head, pa);
		release_range(z, claim_end, block_end);
		memset(page_state(z, pa), PAGE_ALLOCATED,
		       (claim_end - pa) >> PAGE_SHIFT);
		pa = claim_end;
	}
	return 0;
}

void frames_add_range(uint64_t base, uint64_t end)
{
	spin_lock(&frames_lock);
	frames_add_range_locked(base, end);
	spin_unlock(&frames_lock);
}

uint64_t frames_alloc(unsigned order)
{
	uint64_t r;

	spin_lock(&frames_lock);
	r = frames_alloc_locked(order);
	spin_unlock(&frames_lock);
	return r;
}

void frames_free(uint64_t pa, unsigned order)
{
	spin_lock(&frames_lock);
	frames_free_locked(pa, order);
	spin_unlock(&frames_lock);
}

int frames_claim(uint64_t base, uint64_t end)
{
	int r;

	spin_lock(&frames_lock);
	r = frames_claim_locked(base, end);
	spin_unlock(&frames_lock);
	return r;
}

uint64_t frames_free_pages(void)
{
	return nr_free_pages;
}

uint64_t frames_total_pages(void)
{
	return nr_total_pages;
}

void *page_alloc(void)
{
	uint64_t pa = frames_alloc(0);
	void *p;

	if (!pa)
		return NULL;
	p = phys_to_virt(pa);
	memset(p, 0, PAGE_SIZE);
	return p;
}

void page_free(void *p)
{
	if (p)
		frames_free(virt_to_phys(p), 0);
}

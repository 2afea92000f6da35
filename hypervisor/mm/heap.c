/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor heap: xzalloc()/xfree() over the frame allocator.
 *
 * Sizes up to SLAB_MAX_OBJ come from slabs: one page holding a struct slab
 * header and equal power-of-two objects after it, starting at SLAB_OBJ_START.
 * Larger sizes get 2^order contiguous frames with a struct large_header in
 * their first 16 bytes and the memory right after it.
 *
 * xfree() finds the page a pointer lies in and reads the magic at its
 * start. Slab objects never start at offset 16 of a page (objects begin at
 * SLAB_OBJ_START), so the two kinds cannot be confused; a slab records
 * which objects are free, so a double free or a pointer into the middle of
 * an object panics instead of corrupting the heap.
 *
 * Locking: heap_lock, this file's own, guards the slabs; xzalloc() and
 * xfree() take it (and the frame allocator takes its own inside).
 */
#include <keel/lib.h>
#include <keel/mm.h>
#include <keel/spinlock.h>

#define SLAB_MAGIC  0x42414c53u /* "SLAB" */
#define LARGE_MAGIC 0x45475241u /* "ARGE" */

#define SLAB_MIN_SHIFT	4 /* 16 bytes: the alignment every caller gets */
#define SLAB_MAX_SHIFT	10
#define SLAB_MAX_OBJ	(1u << SLAB_MAX_SHIFT)
#define NR_SLAB_CLASSES (SLAB_MAX_SHIFT - SLAB_MIN_SHIFT + 1)
#define SLAB_OBJ_START	64
#define SLAB_MAX_OBJS	((PAGE_SIZE - SLAB_OBJ_START) >> SLAB_MIN_SHIFT)

struct slab {
	uint32_t magic;
	uint16_t obj_size;
	uint16_t nr_free;
	struct slab *next; /* in its class's list of slabs with free objects */
	struct slab *prev;
	uint64_t free_map[(SLAB_MAX_OBJS + 63) / 64]; /* bit set: free */
};
_Static_assert(sizeof(struct slab) <= SLAB_OBJ_START, "slab header too big");

struct large_header {
	uint32_t magic;
	uint32_t order;
	uint64_t size;
};
_Static_assert(sizeof(struct large_header) == 16, "16-byte alignment");

/* Slabs with at least one free object, per size class. */
static struct slab *partial_slabs[NR_SLAB_CLASSES];

/* Serialises xzalloc and xfree across physical CPUs. */
static spinlock_t heap_lock = SPINLOCK_INIT;
/* Bytes handed out and not freed (object or request sizes): what a leak
 * test watches, as slab pages hide small leaks from the frame count. */
static uint64_t heap_in_use;

/* Invariant violations are reported with the lock released. */
#define heap_panic(...)                                                        \
	do {                                                                   \
		spin_unlock(&heap_lock);                                       \
		panic(__VA_ARGS__);                                            \
	} while (0)

static unsigned slab_capacity(unsigned obj_size)
{
	return (PAGE_SIZE - SLAB_OBJ_START) / obj_size;
}

static void slab_list_add(struct slab **head, struct slab *s)
{
	s->prev = NULL;
	s->next = *head;
	if (s->next)
		s->next->prev = s;
	*head = s;
}

static void slab_list_del(struct slab **head, struct slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		*head = s->next;
	if (s->next)
		s->next->prev = s->prev;
}

static unsigned size_class(size_t size)
{
	unsigned c = 0;

	while ((size_t)1 << (c + SLAB_MIN_SHIFT) < size)
		c++;
	return c;
}

static void *slab_alloc(size_t size)
{
	unsigned c = size_class(size);
	unsigned obj_size = 1u << (c + SLAB_MIN_SHIFT);
	struct slab *s = partial_slabs[c];
	unsigned idx = 0;
	void *obj;

	if (!s) {
		unsigned cap = slab_capacity(obj_size);

		s = page_alloc();
		if (!s)
			return NULL;
		s->magic = SLAB_MAGIC;
		s->obj_size = obj_size;
		s->nr_free = cap;
		for (unsigned i = 0; i < cap; i++)
			s->free_map[i / 64] |= 1ULL << (i % 64);
		slab_list_add(&partial_slabs[c], s);
	}
	for (unsigned w = 0; w < ARRAY_SIZE(s->free_map); w++) {
		if (s->free_map[w]) {
			idx = w * 64 + __builtin_ctzll(s->free_map[w]);
			break;
		}
	}
	s->free_map[idx / 64] &= ~(1ULL << (idx % 64));
	if (--s->nr_free == 0)
		slab_list_del(&partial_slabs[c], s);
	obj = (uint8_t *)s + SLAB_OBJ_START + (size_t)idx * obj_size;
	memset(obj, 0, obj_size);
	return obj;
}

static void slab_free(struct slab *s, void *p)
{
	size_t off = (uintptr_t)p - (uintptr_t)s;
	unsigned c = size_class(s->obj_size);
	unsigned cap = slab_capacity(s->obj_size);
	unsigned idx;

	if (off < SLAB_OBJ_START || (off - SLAB_OBJ_START) % s->obj_size)
		heap_panic("xfree: %p is not the start of a heap object", p);
	idx = (off - SLAB_OBJ_START) / s->obj_size;
	if (idx >= cap)
		heap_panic("xfree: %p is past the last object of its slab", p);
	if (s->free_map[idx / 64] & (1ULL << (idx % 64)))
		heap_panic("xfree: double free of %p", p);
	s->free_map[idx / 64] |= 1ULL << (idx % 64);
	if (s->nr_free++ == 0)
		slab_list_add(&partial_slabs[c], s);
	if (s->nr_free == cap) {
		slab_list_del(&partial_slabs[c], s);
		s->magic = 0;
		page_free(s);
	}
}

static void *large_alloc(size_t size)
{
	uint64_t bytes, pa;
	unsigned order = 0;
	struct large_header *h;

	if (size > (PAGE_SIZE << MAX_ORDER) - sizeof(*h))
		return NULL;
	bytes = size + sizeof(*h);
	while ((PAGE_SIZE << order) < bytes)
		order++;
	pa = frames_alloc(order);
	if (!pa)
		return NULL;
	h = phys_to_virt(pa);
	memset(h, 0, bytes);
	h->magic = LARGE_MAGIC;
	h->order = order;
	h->size = size;
	return h + 1;
}

static void *xzalloc_locked(size_t size)
{
	void *p;

	if (size <= SLAB_MAX_OBJ) {
		p = slab_alloc(size);
		if (p)
			heap_in_use += 1u
				       << (SLAB_MIN_SHIFT + size_class(size));
		return p;
	}
	p = large_alloc(size);
	if (p)
		heap_in_use += size;
	return p;
}

static void xfree_locked(void *p)
{
	void *page = (void *)ALIGN_DOWN((uintptr_t)p, PAGE_SIZE);
	struct large_header *h = page;

	if (!p)
		return;
	if (h->magic == SLAB_MAGIC) {
		heap_in_use -= ((struct slab *)page)->obj_size;
		slab_free(page, p);
	} else if (h->magic == LARGE_MAGIC && p == (void *)(h + 1)) {
		heap_in_use -= h->size;
		h->magic = 0;
		frames_free(virt_to_phys(h), h->order);
	} else {
		heap_panic("xfree: %p is not a heap pointer", p);
	}
}

void *xzalloc(size_t size)
{
	void *p;

	spin_lock(&heap_lock);
	p = xzalloc_locked(size);
	spin_unlock(&heap_lock);
	return p;
}

void xfree(void *p)
{
	spin_lock(&heap_lock);
	xfree_locked(p);
	spin_unlock(&heap_lock);
}

uint64_t heap_bytes_in_use(void)
{
	uint64_t n;

	spin_lock(&heap_lock);
	n = heap_in_use;
	spin_unlock(&heap_lock);
	return n;
}

/* SPDX-License-Identifier: MIT */
/* A 4-level guest-physical tree; leaves at 2 MiB or 4 KiB. */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/mm.h>
#include <keel/p2m.h>
#include <keel/vcpu_loop.h>
#include <keel/x86.h>

#define LEVELS	4
#define ENTRIES 512
/* Four levels translate 48 bits; anything above would alias low memory. */
#define GPA_LIMIT (1ULL << 48)

static unsigned idx(uint64_t gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * level)) & (ENTRIES - 1);
}

static uint64_t *table_of(uint64_t entry)
{
	return phys_to_virt(entry & PTE_ADDR_MASK);
}

static uint64_t new_table(struct domain *d)
{
	void *p = page_alloc();

	if (!p)
		return 0;
	d->p2m_pages++;
	return virt_to_phys(p);
}

int p2m_init(struct domain *d)
{
	d->p2m_root = new_table(d);
	return d->p2m_root ? 0 : -ENOMEM;
}

/* Returns the entry slot at `level` for gpa, creating tables on the way. */
static uint64_t *walk_create(struct domain *d, uint64_t gpa, int level)
{
	uint64_t *t = phys_to_virt(d->p2m_root);

	for (int l = LEVELS - 1; l > level; l--) {
		uint64_t *e = &t[idx(gpa, l)];

		if (!hvm->p2m_present(*e)) {
			uint64_t pa = new_table(d);

			if (!pa)
				return NULL;
			*e = hvm->p2m_table_entry(pa);
		} else if (hvm->p2m_is_large(*e)) {
			/* Split a 2 MiB leaf into 512 4 KiB leaves, same
			 * rights. */
			uint64_t pa = new_table(d), *nt,
				 base = *e & PTE_ADDR_MASK;

			if (!pa)
				return NULL;
			nt = phys_to_virt(pa);
			for (unsigned i = 0; i < ENTRIES; i++)
				nt[i] =
				    (*e & ~(PTE_ADDR_MASK | PTE_PS)) |
				    ((base + i * PAGE_SIZE) & PTE_ADDR_MASK);
			*e = hvm->p2m_table_entry(pa);
		}
		t = table_of(*e);
	}
	return &t[idx(gpa, level)];
}

int p2m_map(struct domain *d, uint64_t gpa, uint64_t hpa, uint64_t size,
	    unsigned perms, bool uncached)
{
	if (!IS_ALIGNED(gpa | hpa | size, PAGE_SIZE) || gpa >= GPA_LIMIT ||
	    size > GPA_LIMIT - gpa)
		return -EINVAL;
	bool replaced = false;

	while (size) {
		bool large = IS_ALIGNED(gpa | hpa, LARGE_PAGE_SIZE) &&
			     size >= LARGE_PAGE_SIZE;
		uint64_t *e = walk_create(d, gpa, large ? 1 : 0);
		uint64_t step = large ? LARGE_PAGE_SIZE : PAGE_SIZE;

		if (!e)
			return -ENOMEM;
		if (large && hvm->p2m_present(*e) && !hvm->p2m_is_large(*e)) {
			/* Replacing a table of 4K leaves: free it. */
			page_free(table_of(*e));
			d->p2m_pages--;
		}
		replaced |= hvm->p2m_present(*e);
		*e = hvm->p2m_entry(hpa, perms, large, uncached);
		gpa += step;
		hpa += step;
		size -= step;
	}
	hvm->p2m_flush(d);
	/* Non-present entries are never cached: only a replaced one can be
	 * stale in another CPU's TLB. */
	if (replaced)
		vcpu_loop_evict_domain(d, false);
	return 0;
}

/*
 * Removes translations without allocating: a 2 MiB leaf only partly
 * covered is split, and if that needs memory we do not have, the whole
 * leaf goes (failing closed: the guest loses more, never keeps access).
 * Every vCPU of d flushes at its next entry; a CPU still in one may use
 * the old translations until the caller evicts d, which it does once it
 * holds no lock (vcpu_loop_evict_domain()) and before the memory is
 * reused.
 */
void p2m_unmap(struct domain *d, uint64_t gpa, uint64_t size)
{
	uint64_t end = gpa + size;

	if (end > GPA_LIMIT || end < gpa)
		end = GPA_LIMIT;
	gpa = ALIGN_DOWN(gpa, PAGE_SIZE);
	while (gpa < end) {
		uint64_t *t = phys_to_virt(d->p2m_root), *e = NULL;
		uint64_t next = ALIGN_UP(gpa + 1, PAGE_SIZE);
		int l;

		for (l = LEVELS - 1; l >= 0; l--) {
			uint64_t span = PAGE_SIZE << (9 * l);

			e = &t[idx(gpa, l)];
			if (!hvm->p2m_present(*e)) {
				next = ALIGN_DOWN(gpa, span) + span;
				e = NULL;
				break;
			}
			if (l == 0)
				break;
			if (l == 1 && hvm->p2m_is_large(*e)) {
				uint64_t base = ALIGN_DOWN(gpa, span);

				next = base + span;
				if (base >= gpa && next <= end)
					break; /* the whole leaf goes */
				e = walk_create(d, gpa, 0);
				if (!e) {
					e = &t[idx(gpa, l)];
					break;
				}
				next = gpa + PAGE_SIZE;
				break;
			}
			t = table_of(*e);
		}
		if (e)
			*e = 0;
		gpa = next;
	}
	hvm->p2m_flush(d);
}

int p2m_lookup(struct domain *d, uint64_t gpa, uint64_t *hpa)
{
	uint64_t *t = phys_to_virt(d->p2m_root);

	if (gpa >= GPA_LIMIT)
		return -EFAULT;
	for (int l = LEVELS - 1; l >= 0; l--) {
		uint64_t e = t[idx(gpa, l)];

		if (!hvm->p2m_present(e))
			return -EFAULT;
		if (l == 0 || (l == 1 && hvm->p2m_is_large(e))) {
			uint64_t mask = l ? LARGE_PAGE_SIZE - 1 : PAGE_SIZE - 1;

			*hpa = (e & PTE_ADDR_MASK & ~mask) | (gpa & mask);
			return 0;
		}
		t = table_of(e);
	}
	return -EFAULT;
}

static void free_level(struct domain *d, uint64_t *t, int level)
{
	if (level > 0)
		for (unsigned i = 0; i < ENTRIES; i++)
			if (hvm->p2m_present(t[i]) && !hvm->p2m_is_large(t[i]))
				free_level(d, table_of(t[i]), level - 1);
	page_free(t);
	d->p2m_pages--;
}

void p2m_destroy(struct domain *d)
{
	if (d->p2m_root)
		free_level(d, phys_to_virt(d->p2m_root), LEVELS - 1);
	d->p2m_root = 0;
}

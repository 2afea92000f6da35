/* SPDX-License-Identifier: MIT */
/*
 * A domain's RAM as a growing list of extents, kept sorted by host address
 * so that domain_owns_ram() (every guest memory access Keel makes) is a
 * binary search, and the checks on extents Dom0 donates.
 */
#include <keel/errno.h>
#include <keel/mem_extent.h>
#include <keel/mm.h>

#define FIRST_MAX_EXTENTS 8

bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	/* Differences, not ends: a range ending at 2^64 must not wrap. */
	return alen && blen && (a >= b ? a - b < blen : b - a < alen);
}

/* Index of the first extent whose host range ends after hpa. */
static unsigned first_ending_after(const struct domain *d, uint64_t hpa)
{
	unsigned lo = 0, hi = d->nr_extents;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct dom_extent *e = &d->extents[mid];

		if (hpa - e->hpa < e->len || hpa < e->hpa)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len)
{
	unsigned i = first_ending_after(d, pa);
	const struct dom_extent *e;

	if (i == d->nr_extents || pa + len < pa)
		return false;
	e = &d->extents[i];
	return pa >= e->hpa && pa + len <= e->hpa + e->len;
}

bool domain_extents_overlap_hpa(const struct domain *d, uint64_t hpa,
				uint64_t len)
{
	unsigned i = first_ending_after(d, hpa);

	return i < d->nr_extents &&
	       ranges_overlap(d->extents[i].hpa, d->extents[i].len, hpa, len);
}

bool domain_extents_overlap_gpa(const struct domain *d, uint64_t gpa,
				uint64_t len)
{
	for (unsigned i = 0; i < d->nr_extents; i++)
		if (ranges_overlap(d->extents[i].gpa, d->extents[i].len, gpa,
				   len))
			return true;
	return false;
}

int domain_add_extent(struct domain *d, uint64_t gpa, uint64_t hpa,
		      uint64_t len)
{
	unsigned i;

	if (d->nr_extents == d->max_extents) {
		unsigned max =
		    d->max_extents ? 2 * d->max_extents : FIRST_MAX_EXTENTS;
		struct dom_extent *n = xzalloc(max * sizeof(*n));

		if (!n)
			return -ENOMEM;
		if (d->nr_extents)
			memcpy(n, d->extents, d->nr_extents * sizeof(*n));
		xfree(d->extents);
		d->extents = n;
		d->max_extents = max;
	}
	i = first_ending_after(d, hpa);
	memmove(&d->extents[i + 1], &d->extents[i],
		(d->nr_extents - i) * sizeof(d->extents[0]));
	d->extents[i] = (struct dom_extent){gpa, hpa, len};
	d->nr_extents++;
	d->ram_bytes += len;
	return 0;
}

void domain_remove_extent(struct domain *d, uint64_t hpa)
{
	unsigned i = first_ending_after(d, hpa);

	if (i == d->nr_extents || d->extents[i].hpa != hpa)
		return;
	d->ram_bytes -= d->extents[i].len;
	d->nr_extents--;
	memmove(&d->extents[i], &d->extents[i + 1],
		(d->nr_extents - i) * sizeof(d->extents[0]));
}

void domain_extents_free(struct domain *d)
{
	xfree(d->extents);
	d->extents = NULL;
	d->nr_extents = d->max_extents = 0;
	d->ram_bytes = 0;
}

static int extent_check(const struct keel_mem_extent *e,
			const struct mem_extent_env *env,
			struct dom_extent *out)
{
	uint64_t hpa;

	if (!e->len || !IS_ALIGNED(e->gpa | e->dom0_gpa | e->len, PAGE_SIZE))
		return -EINVAL;
	/* Written so that no sum can wrap. */
	if (e->gpa >= KEEL_MAX_GPA || e->len > KEEL_MAX_GPA - e->gpa ||
	    e->dom0_gpa + e->len < e->dom0_gpa)
		return -EINVAL;
	if (env->dom0_ram(env->ctx, e->dom0_gpa, e->len, &hpa) ||
	    hpa + e->len < hpa)
		return -EINVAL;
	if (env->hpa_in_use(env->ctx, hpa, e->len) ||
	    env->gpa_in_use(env->ctx, e->gpa, e->len))
		return -EINVAL;
	*out = (struct dom_extent){e->gpa, hpa, e->len};
	return 0;
}

int mem_extents_check(const struct keel_mem_extent *ex, unsigned n,
		      const struct mem_extent_env *env, struct dom_extent *out)
{
	if (!n || n > KEEL_MAX_EXTENTS_PER_CALL)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (extent_check(&ex[i], env, &out[i]))
			return -EINVAL;
		/* Within the call, neither side may be given twice. */
		for (unsigned j = 0; j < i; j++)
			if (ranges_overlap(out[i].gpa, out[i].len, out[j].gpa,
					   out[j].len) ||
			    ranges_overlap(out[i].hpa, out[i].len, out[j].hpa,
					   out[j].len))
				return -EINVAL;
	}
	return 0;
}

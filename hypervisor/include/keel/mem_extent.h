/* SPDX-License-Identifier: MIT */
/*
 * A domain's RAM as extents (guest-physical range -> host-physical range),
 * and the checks on extents Dom0 donates (KEEL_HC_MEMORY_MAP). The checks
 * are pure: what they need from the rest of Keel comes through struct
 * mem_extent_env, so the host unit tests run the shipped code.
 */
#ifndef KEEL_MEM_EXTENT_H
#define KEEL_MEM_EXTENT_H

#include <keel/domain.h>
#include <public/keel.h>

struct mem_extent_env {
	/*
	 * The host-physical address behind Dom0's [dom0_gpa, + len) if all
	 * of it is Dom0's RAM, contiguous in host memory; -EINVAL otherwise
	 * (Keel's memory, MMIO, unmapped, another domain's Keel memory).
	 */
	int (*dom0_ram)(void *ctx, uint64_t dom0_gpa, uint64_t len,
			uint64_t *hpa);
	/* Whether host-physical [hpa, + len) overlaps an extent of any
	 * domain but Dom0 (the target included). */
	bool (*hpa_in_use)(void *ctx, uint64_t hpa, uint64_t len);
	/* Whether the target's guest-physical [gpa, + len) is mapped. */
	bool (*gpa_in_use)(void *ctx, uint64_t gpa, uint64_t len);
	void *ctx;
};

/*
 * Checks n extents of one KEEL_HC_MEMORY_MAP call as public/keel.h says
 * and fills out[0..n) with their host addresses. 0, or -EINVAL for the
 * first bad one (n == 0 or above KEEL_MAX_EXTENTS_PER_CALL included).
 */
int mem_extents_check(const struct keel_mem_extent *ex, unsigned n,
		      const struct mem_extent_env *env, struct dom_extent *out);

/* Whether [a, a + alen) and [b, b + blen) share a byte (no overflow). */
bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen);
/* Whether one of d's extents overlaps host-physical [hpa, + len). */
bool domain_extents_overlap_hpa(const struct domain *d, uint64_t hpa,
				uint64_t len);
/* Whether one of d's extents overlaps guest-physical [gpa, + len). */
bool domain_extents_overlap_gpa(const struct domain *d, uint64_t gpa,
				uint64_t len);
/* Forgets d's extent at host address hpa (added by domain_add_extent). */
void domain_remove_extent(struct domain *d, uint64_t hpa);
/* Forgets d's extents and frees their list (not the memory they name). */
void domain_extents_free(struct domain *d);

#endif

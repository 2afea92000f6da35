/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical to host-physical maps (the NPT or EPT tree of a domain).
 * The tree walk is common; entry encoding comes from hvm_ops.
 */
#ifndef KEEL_P2M_H
#define KEEL_P2M_H

#include <keel/lib.h>

struct domain;

int p2m_init(struct domain *d);
void p2m_destroy(struct domain *d);
/* Maps [gpa, gpa+size) to [hpa, ...); uses 2 MiB pages where aligned. */
int p2m_map(struct domain *d, uint64_t gpa, uint64_t hpa, uint64_t size,
	    unsigned perms, bool uncached);
/* Unmaps; the caller evicts d from the CPUs in it (p2m.c says when). */
void p2m_unmap(struct domain *d, uint64_t gpa, uint64_t size);
/* Host-physical address backing gpa, or -EFAULT if unmapped. */
int p2m_lookup(struct domain *d, uint64_t gpa, uint64_t *hpa);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * TLB tags for guests (SVM ASIDs, VMX VPIDs), handed out per physical CPU
 * in generations, as Xen's hvm/asid.c does. A vCPU keeps its tag while it
 * stays on one CPU in one generation; moving to another CPU or needing a
 * clean TLB (a p2m change) gives it a fresh tag there. When a CPU runs
 * out of tags it starts a new generation: every tag it handed out before
 * is void and its whole TLB must be flushed once. So two vCPUs never hold
 * the same tag on one CPU, and a tag is never reused without a flush.
 *
 * Each pool is touched only by its own CPU, at guest entry: no lock.
 */
#ifndef KEEL_ASID_H
#define KEEL_ASID_H

#include <keel/lib.h>

struct asid_pool {
	uint64_t generation; /* 0 until the CPU's first entry */
	uint32_t next;	     /* the next free tag of this generation */
	uint32_t limit;	     /* tags are 1 .. limit - 1 (0 is the host's) */
};

struct asid_tag {
	uint64_t generation; /* of the pool it came from; 0 = none */
	uint32_t asid;
	int cpu;
};

void asid_pool_init(struct asid_pool *p, uint32_t limit);
/* A vCPU gives up its tag: it gets a fresh one, with a clean TLB. */
void asid_tag_invalidate(struct asid_tag *t);
/*
 * Before entering a guest on `cpu` (whose pool p is): keeps t's tag or
 * assigns a fresh one. Returns true when the caller must flush every tag
 * on this CPU first (a new generation began).
 */
bool asid_assign(struct asid_pool *p, struct asid_tag *t, int cpu);

#endif

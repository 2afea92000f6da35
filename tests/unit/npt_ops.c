/* SPDX-License-Identifier: MIT */
#include "npt_ops.h"

#include <keel/hvm.h>
#include <keel/x86.h>

unsigned npt_flushes;
unsigned npt_evictions;

static uint64_t npt_table_entry(uint64_t pa)
{
	return (pa & PTE_ADDR_MASK) | PTE_P | PTE_W | PTE_U | PTE_A;
}

static uint64_t npt_entry(uint64_t hpa, unsigned perms, bool large,
			  bool uncached)
{
	uint64_t e = (hpa & PTE_ADDR_MASK) | PTE_P | PTE_U | PTE_A | PTE_D;

	if (perms & P2M_W)
		e |= PTE_W;
	if (!(perms & P2M_X))
		e |= PTE_NX;
	if (large)
		e |= PTE_PS;
	if (uncached)
		e |= PTE_PCD | PTE_PWT;
	return e;
}

static bool npt_present(uint64_t entry)
{
	return entry & PTE_P;
}

static bool npt_is_large(uint64_t entry)
{
	return entry & PTE_PS;
}

static void npt_flush(struct domain *d)
{
	(void)d;
	npt_flushes++;
}

/* One vCPU's control state, for tests that set and read it back. */
struct guest_state npt_vcpu_state;

static void npt_get_state(struct vcpu *v, struct guest_state *s)
{
	(void)v;
	*s = npt_vcpu_state;
}

static void npt_set_state(struct vcpu *v, const struct guest_state *s)
{
	(void)v;
	npt_vcpu_state = *s;
}

static const struct hvm_ops npt_ops = {
    .name = "npt-test",
    .p2m_entry = npt_entry,
    .p2m_table_entry = npt_table_entry,
    .p2m_present = npt_present,
    .p2m_is_large = npt_is_large,
    .p2m_flush = npt_flush,
    .get_state = npt_get_state,
    .set_state = npt_set_state,
};
const struct hvm_ops *hvm = &npt_ops;

/* The vCPU loop's side of a shootdown: no other CPUs here, count the calls. */
void vcpu_loop_evict_domain(const struct domain *d, bool unlocked)
{
	(void)d, (void)unlocked;
	npt_evictions++;
}

/* SPDX-License-Identifier: MIT */
/*
 * VM entries after which the CPU handed back Keel's own state as the
 * guest's and the backend entered the vCPU again (svm.c): an emulator
 * fault Keel survives, counted so it stays visible (debug key 't').
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/hvm.h>

static uint64_t entries_recovered;

void hvm_entry_recovered(struct vcpu *v)
{
	uint64_t n =
	    __atomic_add_fetch(&entries_recovered, 1, __ATOMIC_RELAXED);

	/* The first few, then one in 1024: a guest could cause them. */
	if (n <= 16 || !(n % 1024))
		printk("d%uv%u: the CPU returned Keel's own state as the "
		       "guest's after VM entry; entered again from the saved "
		       "state (%lu recovered so far)\n",
		       v->dom->id, v->id, n);
}

uint64_t hvm_entries_recovered(void)
{
	return __atomic_load_n(&entries_recovered, __ATOMIC_RELAXED);
}

/* SPDX-License-Identifier: MIT */
/*
 * Run as Dom0: Keel maps Dom0's device memory on first touch, and every
 * 2 MiB touched needs a page-table page from Keel's own frame pool. This
 * touches one byte in every 2 MiB of the address space below the
 * IOAPIC that Dom0's e820 map leaves out (device memory, for all Keel
 * knows): Keel must stop Dom0 at its quota, not give it the pool.
 */
#include "hostile.h"

#define STEP	     0x200000ULL
#define IOAPIC_FIRST 0xFEC00000ULL

static bool in_e820(uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < boot_params.e820_entries; i++) {
		const struct boot_e820_entry *e = &boot_params.e820_table[i];

		if (start < e->addr + e->size && e->addr < end)
			return true;
	}
	return false;
}

void case_mmiodrain(void)
{
	uint64_t touched = 0;

	for (uint64_t a = STEP; a < IOAPIC_FIRST; a += STEP) {
		if (in_e820(a, a + STEP))
			continue;
		(void)*(volatile uint8_t *)a;
		if (++touched % 256 == 0)
			printf("hostile: mmiodrain: %lu regions of 2 MiB "
			       "touched\n",
			       touched);
	}
	printf("hostile: mmiodrain: all %lu regions touched\n", touched);
	expect_stopped("touching device memory in every 2 MiB");
}

/* SPDX-License-Identifier: MIT */
/*
 * Keel's own address space: an identity map of physical memory. head.S
 * maps the first 4 GiB with 2 MiB pages; paging_map_ram() extends it to
 * the top of RAM, with 1 GiB pages when the CPU has them.
 */
#include <keel/cpu.h>
#include <keel/io.h>
#include <keel/mm.h>
#include <keel/x86.h>

#define EXTRA_PDS 60 /* without 1 GiB pages: RAM up to 64 GiB */

extern uint64_t boot_pml4[512], boot_pdpt[512];
static uint64_t extra_pd[EXTRA_PDS][512] __aligned(4096);

void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

uint64_t virt_to_phys(const void *p)
{
	return (uintptr_t)p;
}

/* Returns the highest address mapped (exclusive). */
uint64_t paging_map_ram(uint64_t top)
{
	uint64_t limit = boot_cpu.pdpe1gb ? GiB(512) : GiB(4 + EXTRA_PDS);

	if (top > limit) {
		printk("RAM above %lu GiB is not used (identity map limit)\n",
		       limit >> 30);
		top = limit;
	}
	for (uint64_t gb = 4; gb < (top + GiB(1) - 1) >> 30; gb++) {
		if (boot_cpu.pdpe1gb) {
			boot_pdpt[gb] = (gb << 30) | PTE_P | PTE_W | PTE_PS;
			continue;
		}
		uint64_t *pd = extra_pd[gb - 4];

		for (unsigned i = 0; i < 512; i++)
			pd[i] = ((gb << 30) + ((uint64_t)i << 21)) | PTE_P |
				PTE_W | PTE_PS;
		boot_pdpt[gb] = virt_to_phys(pd) | PTE_P | PTE_W;
	}
	write_cr3(read_cr3());
	return top;
}

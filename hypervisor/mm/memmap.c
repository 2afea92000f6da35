/* SPDX-License-Identifier: MIT */
/*
 * Who owns physical memory. Dom0 is identity-mapped (guest-physical ==
 * host-physical, so its drivers can DMA without an IOMMU) so it gets RAM
 * from the bottom of the map up to dom0_mem; Keel's image is carved out and
 * shown as reserved; RAM above Dom0's share feeds the frame allocator (Keel's
 * own data, page tables and, later, DomU memory).
 */
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/param.h>

#define MAX_PRIVATE 16

struct e820_map host_e820;
struct e820_map dom0_e820;
static struct {
	uint64_t start, end;
} private_ranges[MAX_PRIVATE];
static unsigned nr_private;

extern char _start[], _end[];
uint64_t paging_map_ram(uint64_t top);

/* dom0_mem=SIZE; 0: all RAM but a share kept for Keel and DomUs. */
static uint64_t opt_dom0_mem;
integer_param("dom0_mem", opt_dom0_mem);

/* Default: all RAM but a share kept for Keel and DomUs. */
static uint64_t default_dom0_mem(uint64_t total)
{
	uint64_t keep = total / 16;

	keep = MAX(keep, MiB(64));
	keep = MIN(keep, GiB(1));
	return total > keep ? total - keep : total / 2;
}

void memmap_init(const struct boot_info *bi)
{
	uint64_t keel_start = (uint64_t)_start;
	uint64_t keel_end = ALIGN_UP((uint64_t)_end, LARGE_PAGE_SIZE);
	uint64_t total, dom0_mem, top = 0;

	for (unsigned i = 0; i < bi->nr_mmap; i++)
		e820_add(&host_e820, bi->mmap[i].addr, bi->mmap[i].len,
			 bi->mmap[i].type);
	e820_sanitize(&host_e820);
	total = e820_total(&host_e820, E820_RAM);

	dom0_e820 = host_e820;
	if (e820_set_type(&dom0_e820, keel_start, keel_end - keel_start,
			  E820_RESERVED))
		panic("cannot reserve Keel's image in Dom0's memory map");
	dom0_mem = default_dom0_mem(total);
	if (opt_dom0_mem)
		dom0_mem = opt_dom0_mem;
	/* Whole 2 MiB pages keep Dom0's nested page tables small. */
	dom0_mem = e820_limit_ram(
	    &dom0_e820, ALIGN_DOWN(dom0_mem, LARGE_PAGE_SIZE), E820_UNUSABLE);

	for (uint32_t i = 0; i < host_e820.nr; i++)
		if (host_e820.map[i].type == E820_RAM)
			top = MAX(top, host_e820.map[i].addr +
					   host_e820.map[i].size);
	paging_map_ram(top);

	/* Host RAM that Dom0 was not given (and is not Keel) is ours. */
	for (uint32_t i = 0; i < dom0_e820.nr; i++) {
		const struct e820_entry *e = &dom0_e820.map[i];
		uint64_t start = MAX(e->addr, MiB(1)), end = e->addr + e->size;

		if (e->type != E820_UNUSABLE || end <= start ||
		    !e820_range_is(&host_e820, start, end - start, E820_RAM))
			continue;
		frames_add_range(start, end);
	}
	printk("memory: %lu MiB RAM; Keel image %lx-%lx; Dom0 %lu MiB; "
	       "free for Keel and DomUs %lu MiB\n",
	       total >> 20, keel_start, keel_end, dom0_mem >> 20,
	       (frames_free_pages() * PAGE_SIZE) >> 20);
	if (!frames_free_pages())
		panic("no memory left for Keel: lower dom0_mem=");
}

bool memmap_is_ram(uint64_t pa)
{
	return e820_range_is(&host_e820, pa, 1, E820_RAM);
}

bool memmap_is_firmware(uint64_t pa)
{
	return e820_range_is(&host_e820, pa, 1, E820_ACPI) ||
	       e820_range_is(&host_e820, pa, 1, E820_NVS);
}

void memmap_add_private(uint64_t pa, uint64_t size)
{
	if (nr_private == MAX_PRIVATE)
		panic("too many private MMIO ranges");
	private_ranges[nr_private].start = pa;
	private_ranges[nr_private].end = pa + size;
	nr_private++;
}

bool memmap_is_private(uint64_t pa)
{
	for (unsigned i = 0; i < nr_private; i++)
		if (pa >= private_ranges[i].start && pa < private_ranges[i].end)
			return true;
	return false;
}

/* SPDX-License-Identifier: MIT */
/*
 * The DomU's e820 map and 64-bit boot protocol zero page. The map editing
 * and the bzImage header checks are the hypervisor's (common/e820.c and
 * common/bzimage.c, linked unmodified): a DomU is described by the same
 * rules Keel applies to Dom0.
 */
#include <errno.h>
#include <string.h>

#include <kl/domu_boot.h>

#define PAGE	0x1000ULL
#define MIN_RAM 0x200000ULL

static uint64_t align_down(uint64_t v, uint64_t a)
{
	return v & ~(a - 1);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int kl_domu_e820(struct e820_map *m, uint64_t ram_bytes, uint64_t acpi_gpa,
		 uint64_t acpi_size)
{
	uint64_t low_end;

	m->nr = 0;
	if (ram_bytes < MIN_RAM || ram_bytes % PAGE ||
	    ram_bytes > UINT64_MAX - KL_DOMU_4G)
		return -EINVAL;
	if (acpi_size && (acpi_gpa % PAGE || acpi_size % PAGE ||
			  acpi_gpa + acpi_size < acpi_gpa))
		return -EINVAL;
	low_end = ram_bytes < KL_DOMU_MMIO_HOLE_START ? ram_bytes
						      : KL_DOMU_MMIO_HOLE_START;
	if (e820_add(m, 0, KL_DOMU_LOW_RAM_END, E820_RAM) ||
	    e820_add(m, KL_DOMU_HIGH_RAM_START,
		     low_end - KL_DOMU_HIGH_RAM_START, E820_RAM))
		return -EINVAL;
	if (ram_bytes > low_end &&
	    e820_add(m, KL_DOMU_4G, ram_bytes - low_end, E820_RAM))
		return -EINVAL;
	e820_sanitize(m);
	if (!acpi_size)
		return 0;
	/*
	 * The tables may sit in the first MiB's hole (memory the guest has
	 * but is not told about) or be cut out of RAM; either way the guest
	 * must have memory there: below the end of low RAM, not in the MMIO
	 * hole.
	 */
	if (acpi_gpa + acpi_size > low_end)
		return -EINVAL;
	return e820_set_type(m, acpi_gpa, acpi_size, E820_ACPI) ? -EINVAL : 0;
}

static void put32(uint8_t *bp, unsigned off, uint32_t v)
{
	memcpy(bp + off, &v, 4);
}

static void put64(uint8_t *bp, unsigned off, uint64_t v)
{
	memcpy(bp + off, &v, 8);
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/*
 * boot.rst, "Loading the rest of the kernel": a relocatable kernel may
 * run at any kernel_alignment-aligned address with init_size bytes of RAM
 * from there; others only at pref_address. Above 1 MiB either way.
 */
static int place_kernel(const struct e820_map *m, const struct bzimage_info *bz,
			uint64_t *gpa)
{
	if (e820_range_is(m, bz->pref_address, bz->init_size, E820_RAM)) {
		*gpa = bz->pref_address;
		return 0;
	}
	if (!bz->relocatable)
		return -ENOSPC;
	for (uint32_t i = 0; i < m->nr; i++) {
		const struct e820_entry *e = &m->map[i];
		uint64_t start = align_up(e->addr < KL_DOMU_HIGH_RAM_START
					      ? KL_DOMU_HIGH_RAM_START
					      : e->addr,
					  bz->alignment);

		if (e->type == E820_RAM &&
		    e820_range_is(m, start, bz->init_size, E820_RAM)) {
			*gpa = start;
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * As high as the kernel allows (initrd_addr_max is the last byte it can
 * reach), in RAM above 1 MiB, clear of the kernel's init_size, so that
 * the kernel's own early allocations below it keep their room.
 */
static int place_initrd(const struct e820_map *m, const struct bzimage_info *bz,
			uint64_t kernel_gpa, uint64_t len, uint64_t *gpa)
{
	uint64_t limit = (uint64_t)bz->initrd_addr_max + 1;

	for (uint32_t i = m->nr; i-- > 0;) {
		const struct e820_entry *e = &m->map[i];
		uint64_t top = e->addr + e->size, addr;

		if (e->type != E820_RAM || e->size < len)
			continue;
		if (top > limit)
			top = limit;
		if (top < len || top - len < e->addr)
			continue;
		addr = align_down(top - len, PAGE);
		if (addr < e->addr || addr < KL_DOMU_HIGH_RAM_START)
			continue;
		if (overlaps(addr, len, kernel_gpa, bz->init_size)) {
			if (kernel_gpa < len)
				continue;
			addr = align_down(kernel_gpa - len, PAGE);
			if (addr < e->addr || addr < KL_DOMU_HIGH_RAM_START)
				continue;
		}
		*gpa = addr;
		return 0;
	}
	return -ENOSPC;
}

int kl_domu_boot_plan(const struct kl_domu_boot_in *in,
		      struct kl_domu_boot_plan *out)
{
	struct bzimage_info *bz = &out->bz;
	uint8_t *bp = out->boot_params;
	size_t cmdline_len = strlen(in->cmdline);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = bzimage_parse(in->kernel, in->kernel_len, bz);
	if (rc)
		return rc;
	if (cmdline_len > bz->cmdline_max || cmdline_len > KL_DOMU_CMDLINE_MAX)
		return -E2BIG;
	if (in->e820->nr > E820_MAX)
		return -EINVAL;
	rc = place_kernel(in->e820, bz, &out->kernel_gpa);
	if (rc)
		return rc;
	if (in->initrd_len) {
		rc = place_initrd(in->e820, bz, out->kernel_gpa, in->initrd_len,
				  &out->initrd_gpa);
		if (rc)
			return rc;
	}
	out->boot_params_gpa = KL_DOMU_BOOT_PARAMS_GPA;
	out->cmdline_gpa = KL_DOMU_CMDLINE_GPA;
	out->entry_gpa = out->kernel_gpa + ENTRY_64_OFFSET;

	/* zero-page.rst: the setup header as the kernel ships it, then the
	 * fields a boot loader owns. */
	bzimage_setup_boot_params(in->kernel, bp);
	bp[BP_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	put32(bp, BP_CMD_LINE_PTR, (uint32_t)out->cmdline_gpa);
	put32(bp, BP_EXT_CMD_LINE_PTR, (uint32_t)(out->cmdline_gpa >> 32));
	put32(bp, BP_RAMDISK_IMAGE, (uint32_t)out->initrd_gpa);
	put32(bp, BP_RAMDISK_SIZE, (uint32_t)in->initrd_len);
	put32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(out->initrd_gpa >> 32));
	put32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(in->initrd_len >> 32));
	put64(bp, BP_ACPI_RSDP_ADDR, in->rsdp_gpa);
	bp[BP_E820_ENTRIES] = (uint8_t)in->e820->nr;
	memcpy(bp + BP_E820_TABLE, in->e820->map,
	       in->e820->nr * sizeof(struct e820_entry));
	return 0;
}

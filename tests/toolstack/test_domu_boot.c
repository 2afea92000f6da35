/* SPDX-License-Identifier: MIT */
/*
 * The DomU e820 map and boot plan (toolstack/domu_boot.c, with the
 * hypervisor's e820.c and bzimage.c): maps for small and large guests,
 * kernel and initramfs placement, and the zero page read back at the
 * offsets of Linux Documentation/arch/x86/zero-page.rst.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <kl/domu_boot.h>

#define MB	 (1ULL << 20)
#define GB	 (1ULL << 30)
#define ACPI_GPA 0xE0000ULL /* in the first MiB's hole */

struct range {
	uint64_t first, last;
	uint32_t type;
};

static struct e820_map map;

static void expect_map(const struct range *r, size_t n)
{
	if (map.nr != n) {
		for (uint32_t i = 0; i < map.nr; i++)
			print_message("  %#llx-%#llx %u\n",
				      (unsigned long long)map.map[i].addr,
				      (unsigned long long)(map.map[i].addr +
							   map.map[i].size - 1),
				      map.map[i].type);
		fail_msg("map has %u entries, want %zu", map.nr, n);
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(map.map[i].addr, r[i].first);
		assert_int_equal(map.map[i].addr + map.map[i].size - 1,
				 r[i].last);
		assert_int_equal(map.map[i].type, r[i].type);
	}
}

static void test_e820_small(void **state)
{
	static const struct range want[] = {
	    {0, 0x9EFFF, E820_RAM},
	    {0xE0000, 0xE0FFF, E820_ACPI},
	    {0x100000, 512 * MB - 1, E820_RAM},
	};

	(void)state;
	assert_int_equal(kl_domu_e820(&map, 512 * MB, ACPI_GPA, 0x1000), 0);
	expect_map(want, 3);
}

static void test_e820_above_4g(void **state)
{
	static const struct range want[] = {
	    {0, 0x9EFFF, E820_RAM},
	    {0x100000, 0xBFFFEFFF, E820_RAM},
	    {0xBFFFF000, 0xBFFFFFFF, E820_ACPI},
	    {4 * GB, 5 * GB - 1, E820_RAM},
	};

	(void)state;
	/* 4 GiB: 3 below the MMIO hole, 1 from 4 GiB; tables cut from the
	 * top of low RAM. */
	assert_int_equal(kl_domu_e820(&map, 4 * GB, 0xBFFFF000, 0x1000), 0);
	expect_map(want, 4);
	assert_int_equal(e820_total(&map, E820_RAM),
			 4 * GB - (0x100000 - 0x9F000) - 0x1000);
}

static void test_e820_no_acpi_and_errors(void **state)
{
	static const struct range want[] = {
	    {0, 0x9EFFF, E820_RAM},
	    {0x100000, 3 * GB - 1, E820_RAM},
	};

	(void)state;
	assert_int_equal(kl_domu_e820(&map, 3 * GB, 0, 0), 0);
	expect_map(want, 2);
	assert_int_equal(kl_domu_e820(&map, MB, 0, 0), -EINVAL);
	assert_int_equal(kl_domu_e820(&map, 64 * MB + 1, 0, 0), -EINVAL);
	assert_int_equal(kl_domu_e820(&map, 64 * MB, 0xE0800, 0x1000), -EINVAL);
	/* Tables past the end of RAM, or in the MMIO hole. */
	assert_int_equal(kl_domu_e820(&map, 64 * MB, 64 * MB, 0x1000), -EINVAL);
	assert_int_equal(kl_domu_e820(&map, 8 * GB, 0xC0000000, 0x1000),
			 -EINVAL);
}

/* A 2.15 bzImage header (boot.rst), payload after 5 setup sectors. */
#define SETUP_SIZE (5 * 512)

static uint8_t *make_bzimage(size_t size, bool relocatable, uint64_t pref,
			     uint32_t init_size)
{
	uint8_t *img = calloc(1, size);
	uint16_t v16;
	uint32_t v32;

	assert_non_null(img);
	img[BP_SETUP_SECTS] = 4;
	v32 = (uint32_t)((size - SETUP_SIZE) / 16);
	memcpy(img + BP_SYSSIZE, &v32, 4);
	v16 = BOOT_FLAG_MAGIC;
	memcpy(img + BP_BOOT_FLAG, &v16, 2);
	img[BP_JUMP] = 0xEB;
	img[BP_JUMP + 1] = 0x6A; /* header runs to 0x26C */
	v32 = HDRS_MAGIC;
	memcpy(img + BP_HEADER, &v32, 4);
	v16 = 0x020F;
	memcpy(img + BP_VERSION, &v16, 2);
	img[BP_LOADFLAGS] = 0x01; /* LOADED_HIGH */
	v32 = 0x7FFFFFFF;
	memcpy(img + BP_INITRD_ADDR_MAX, &v32, 4);
	v32 = 0x200000;
	memcpy(img + BP_KERNEL_ALIGNMENT, &v32, 4);
	img[BP_RELOCATABLE] = relocatable;
	v16 = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	memcpy(img + BP_XLOADFLAGS, &v16, 2);
	v32 = 2047;
	memcpy(img + BP_CMDLINE_SIZE, &v32, 4);
	memcpy(img + BP_PREF_ADDRESS, &pref, 8);
	memcpy(img + BP_INIT_SIZE, &init_size, 4);
	return img;
}

static uint32_t rd32(const uint8_t *p, unsigned off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p, unsigned off)
{
	uint64_t v;

	memcpy(&v, p + off, 8);
	return v;
}

static void test_boot_plan(void **state)
{
	static struct kl_domu_boot_plan plan;
	const size_t size = 64 * 1024;
	uint8_t *img = make_bzimage(size, true, 16 * MB, 32 * MB);
	struct kl_domu_boot_in in = {
	    .kernel = img,
	    .kernel_len = size,
	    .initrd_len = 20 * MB + 123,
	    .cmdline = "console=ttyS0 root=/dev/vda1",
	    .e820 = &map,
	    .rsdp_gpa = ACPI_GPA,
	};
	const uint8_t *bp = plan.boot_params;

	(void)state;
	assert_int_equal(kl_domu_e820(&map, 256 * MB, ACPI_GPA, 0x1000), 0);
	assert_int_equal(kl_domu_boot_plan(&in, &plan), 0);
	assert_int_equal(plan.kernel_gpa, 16 * MB);
	assert_int_equal(plan.entry_gpa, 16 * MB + 0x200);
	assert_int_equal(plan.bz.payload, img + SETUP_SIZE);
	assert_int_equal(plan.bz.payload_size, size - SETUP_SIZE);
	/* The initramfs ends as high as RAM goes, page aligned. */
	assert_int_equal(plan.initrd_gpa,
			 (256 * MB - (20 * MB + 123)) & ~0xFFFULL);
	assert_true(plan.initrd_gpa >= 16 * MB + 32 * MB);
	assert_int_equal(plan.boot_params_gpa, 0x80000);
	assert_int_equal(plan.cmdline_gpa, 0x81000);

	/* zero-page.rst offsets, read without the builder's names. */
	assert_int_equal(rd64(bp, 0x070), ACPI_GPA); /* acpi_rsdp_addr */
	assert_int_equal(bp[0x1E8], 3);		     /* e820_entries */
	assert_int_equal(rd64(bp, 0x2D0), 0);	     /* e820_table[0] */
	assert_int_equal(rd64(bp, 0x2D0 + 8), 0x9F000);
	assert_int_equal(rd32(bp, 0x2D0 + 16), E820_RAM);
	assert_int_equal(rd64(bp, 0x2D0 + 20), ACPI_GPA); /* [1] */
	assert_int_equal(rd32(bp, 0x2D0 + 20 + 16), E820_ACPI);
	assert_int_equal(rd64(bp, 0x2D0 + 40), 0x100000); /* [2] */
	assert_int_equal(rd64(bp, 0x2D0 + 48), 255 * MB);
	assert_int_equal(bp[0x210], 0xFF);		    /* type_of_loader */
	assert_int_equal(rd32(bp, 0x218), plan.initrd_gpa); /* ramdisk_image */
	assert_int_equal(rd32(bp, 0x21C), 20 * MB + 123);   /* ramdisk_size */
	assert_int_equal(rd32(bp, 0x0C0), 0);
	assert_int_equal(rd32(bp, 0x228), 0x81000); /* cmd_line_ptr */
	assert_int_equal(rd32(bp, 0x0C8), 0);
	/* The kernel's own header came along; nothing before it did. */
	assert_int_equal(rd32(bp, 0x202), HDRS_MAGIC);
	assert_int_equal(bp[0x206], 0x0F);
	assert_int_equal(rd32(bp, 0x260), 32 * MB);
	assert_int_equal(bp[0x1F1], 4);
	assert_int_equal(bp[0x000], 0);
	free(img);
}

static void test_boot_plan_relocation_and_limits(void **state)
{
	static struct kl_domu_boot_plan plan;
	static char longline[2100];
	const size_t size = 64 * 1024;
	uint8_t *img;
	struct kl_domu_boot_in in = {
	    .kernel_len = size,
	    .cmdline = "",
	    .e820 = &map,
	};

	(void)state;
	/* 40 MiB of RAM cannot hold a kernel at 16 MiB needing 32 MiB: a
	 * relocatable one moves to the first 2 MiB-aligned address. */
	assert_int_equal(kl_domu_e820(&map, 40 * MB, 0, 0), 0);
	img = make_bzimage(size, true, 16 * MB, 32 * MB);
	in.kernel = img;
	assert_int_equal(kl_domu_boot_plan(&in, &plan), 0);
	assert_int_equal(plan.kernel_gpa, 2 * MB);
	assert_int_equal(plan.initrd_gpa, 0);
	assert_int_equal(rd32(plan.boot_params, 0x218), 0);
	/* An initramfs that fits only below the kernel's init_size area
	 * is refused rather than overlapped. */
	in.initrd_len = 15 * MB;
	assert_int_equal(kl_domu_boot_plan(&in, &plan), -ENOSPC);
	in.initrd_len = 5 * MB;
	assert_int_equal(kl_domu_boot_plan(&in, &plan), 0);
	assert_int_equal(plan.initrd_gpa, 35 * MB);
	in.initrd_len = 0;
	free(img);

	/* Not relocatable: pref_address or nothing. */
	img = make_bzimage(size, false, 16 * MB, 32 * MB);
	in.kernel = img;
	assert_int_equal(kl_domu_boot_plan(&in, &plan), -ENOSPC);
	assert_int_equal(kl_domu_e820(&map, 64 * MB, 0, 0), 0);
	assert_int_equal(kl_domu_boot_plan(&in, &plan), 0);
	assert_int_equal(plan.kernel_gpa, 16 * MB);
	/* With no room above the kernel's [16, 48) MiB, the initramfs goes
	 * right below it. */
	assert_int_equal(kl_domu_e820(&map, 50 * MB, 0, 0), 0);
	in.initrd_len = 10 * MB;
	assert_int_equal(kl_domu_boot_plan(&in, &plan), 0);
	assert_int_equal(plan.initrd_gpa, 6 * MB);
	in.initrd_len = 0;

	/* A command line longer than cmdline_size is refused, not cut. */
	memset(longline, 'x', sizeof(longline) - 1);
	in.cmdline = longline;
	assert_int_equal(kl_domu_boot_plan(&in, &plan), -E2BIG);
	longline[2047] = '\0';
	assert_int_equal(kl_domu_boot_plan(&in, &plan), 0);
	in.cmdline = "";

	/* Not a bzImage, or too old for the 64-bit entry. */
	img[BP_HEADER] = 'X';
	assert_int_equal(kl_domu_boot_plan(&in, &plan), -ENOEXEC);
	img[BP_HEADER] = 'H';
	img[BP_VERSION] = 0x0B; /* 2.11 */
	assert_int_equal(kl_domu_boot_plan(&in, &plan), -ENOEXEC);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_e820_small),
	    cmocka_unit_test(test_e820_above_4g),
	    cmocka_unit_test(test_e820_no_acpi_and_errors),
	    cmocka_unit_test(test_boot_plan),
	    cmocka_unit_test(test_boot_plan_relocation_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/* e820 map editing (hypervisor/arch/x86/boot/e820.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/e820.h>
#include <keel/errno.h>
#include <keel/lib.h>

struct range {
	uint64_t first, last; /* inclusive, as firmware logs print them */
	uint32_t type;
};

static void load(struct e820_map *m, const struct range *r, size_t n)
{
	m->nr = 0;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(e820_add(m, r[i].first,
					  r[i].last - r[i].first + 1,
					  r[i].type),
				 0);
}

static void expect_map(const struct e820_map *m, const struct range *r,
		       size_t n)
{
	if (m->nr != n) {
		for (uint32_t i = 0; i < m->nr; i++)
			print_message("  %#llx-%#llx %u\n",
				      (unsigned long long)m->map[i].addr,
				      (unsigned long long)(m->map[i].addr +
							   m->map[i].size - 1),
				      m->map[i].type);
		fail_msg("map has %u entries, want %zu", m->nr, n);
	}
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m->map[i].addr, r[i].first);
		assert_int_equal(m->map[i].addr + m->map[i].size - 1,
				 r[i].last);
		assert_int_equal(m->map[i].type, r[i].type);
	}
}

/* qemu-system-x86_64 -machine q35 -m 4G with SeaBIOS, as Linux logs it. */
static const struct range seabios_q35_4g[] = {
    {0x0000000000000000, 0x000000000009fbff, E820_RAM},
    {0x000000000009fc00, 0x000000000009ffff, E820_RESERVED},
    {0x00000000000f0000, 0x00000000000fffff, E820_RESERVED},
    {0x0000000000100000, 0x000000007ffdffff, E820_RAM},
    {0x000000007ffe0000, 0x000000007fffffff, E820_RESERVED},
    {0x00000000b0000000, 0x00000000bfffffff, E820_RESERVED},
    {0x00000000fed1c000, 0x00000000fed1ffff, E820_RESERVED},
    {0x00000000feffc000, 0x00000000feffffff, E820_RESERVED},
    {0x00000000fffc0000, 0x00000000ffffffff, E820_RESERVED},
    {0x0000000100000000, 0x000000017fffffff, E820_RAM},
};
#define SEABIOS_RAM (0x9fc00ULL + 0x7fee0000ULL + GiB(2))

/*
 * OVMF (q35, 1 GiB) through GRUB's multiboot2 memory map: one entry per
 * UEFI memory descriptor, so neighbouring RAM comes in pieces, unsorted.
 */
static const struct range ovmf_q35_1g_raw[] = {
    {0x0000000000100000, 0x00000000007fffff, E820_RAM},
    {0x0000000000000000, 0x000000000009ffff, E820_RAM},
    {0x0000000000800000, 0x0000000000807fff, E820_NVS},
    {0x0000000000808000, 0x000000000080afff, E820_RAM},
    {0x000000000080b000, 0x000000000080bfff, E820_NVS},
    {0x000000000080c000, 0x0000000000810fff, E820_RAM},
    {0x0000000000811000, 0x00000000008fffff, E820_NVS},
    {0x0000000000900000, 0x000000000fffffff, E820_RAM},
    {0x0000000010000000, 0x000000003e8eefff, E820_RAM},
    {0x000000003e8ef000, 0x000000003eb6efff, E820_RESERVED},
    {0x000000003eb6f000, 0x000000003eb7efff, E820_ACPI},
    {0x000000003eb7f000, 0x000000003ebfefff, E820_NVS},
    {0x000000003ebff000, 0x000000003ef3ffff, E820_RAM},
    {0x000000003ef40000, 0x000000003ef43fff, E820_RESERVED},
    {0x000000003ef44000, 0x000000003ef45fff, E820_NVS},
    {0x000000003ef46000, 0x000000003fffffff, E820_RAM},
    {0x00000000ffc00000, 0x00000000ffffffff, E820_RESERVED},
    {0x00000000b0000000, 0x00000000bfffffff, E820_RESERVED},
};

static const struct range ovmf_q35_1g[] = {
    {0x0000000000000000, 0x000000000009ffff, E820_RAM},
    {0x0000000000100000, 0x00000000007fffff, E820_RAM},
    {0x0000000000800000, 0x0000000000807fff, E820_NVS},
    {0x0000000000808000, 0x000000000080afff, E820_RAM},
    {0x000000000080b000, 0x000000000080bfff, E820_NVS},
    {0x000000000080c000, 0x0000000000810fff, E820_RAM},
    {0x0000000000811000, 0x00000000008fffff, E820_NVS},
    {0x0000000000900000, 0x000000003e8eefff, E820_RAM},
    {0x000000003e8ef000, 0x000000003eb6efff, E820_RESERVED},
    {0x000000003eb6f000, 0x000000003eb7efff, E820_ACPI},
    {0x000000003eb7f000, 0x000000003ebfefff, E820_NVS},
    {0x000000003ebff000, 0x000000003ef3ffff, E820_RAM},
    {0x000000003ef40000, 0x000000003ef43fff, E820_RESERVED},
    {0x000000003ef44000, 0x000000003ef45fff, E820_NVS},
    {0x000000003ef46000, 0x000000003fffffff, E820_RAM},
    {0x00000000b0000000, 0x00000000bfffffff, E820_RESERVED},
    {0x00000000ffc00000, 0x00000000ffffffff, E820_RESERVED},
};

static void test_entry_layout(void **state)
{
	(void)state;
	/* boot_params.e820_table entries are 20 bytes, packed. */
	assert_int_equal(sizeof(struct e820_entry), 20);
	assert_int_equal(offsetof(struct e820_entry, type), 16);
}

static void test_add_limits(void **state)
{
	static struct e820_map m;

	(void)state;
	m.nr = 0;
	assert_int_equal(e820_add(&m, 0x1000, 0, E820_RAM), -EINVAL);
	assert_int_equal(e820_add(&m, UINT64_MAX - 10, 100, E820_RAM), -EINVAL);
	for (int i = 0; i < E820_MAX; i++)
		assert_int_equal(e820_add(&m, i * 0x2000ULL, 0x1000, E820_RAM),
				 0);
	assert_int_equal(e820_add(&m, GiB(1), 0x1000, E820_RAM), -ENOSPC);
	assert_int_equal(m.nr, E820_MAX);
}

static void test_sanitize_seabios_shuffled(void **state)
{
	static struct e820_map m;
	static const size_t order[] = {9, 3, 0, 7, 5, 1, 8, 2, 6, 4};
	struct range shuffled[ARRAY_SIZE(seabios_q35_4g)];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++)
		shuffled[i] = seabios_q35_4g[order[i]];
	load(&m, shuffled, ARRAY_SIZE(shuffled));
	e820_sanitize(&m);
	expect_map(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	assert_int_equal(e820_total(&m, E820_RAM), SEABIOS_RAM);
	/* Sanitizing a sanitized map changes nothing. */
	e820_sanitize(&m);
	expect_map(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
}

static void test_sanitize_ovmf_merges_pieces(void **state)
{
	static struct e820_map m;

	(void)state;
	load(&m, ovmf_q35_1g_raw, ARRAY_SIZE(ovmf_q35_1g_raw));
	e820_sanitize(&m);
	expect_map(&m, ovmf_q35_1g, ARRAY_SIZE(ovmf_q35_1g));
}

static void test_sanitize_overlaps(void **state)
{
	static struct e820_map m;
	static const struct range in[] = {
	    {0x0, 0xffffff, E820_RAM},
	    {0x100000, 0x1fffff, E820_RESERVED}, /* inside RAM */
	    {0x180000, 0x27ffff, E820_RAM},	 /* RAM loses */
	    {0x2000000, 0x2ffffff, E820_ACPI},
	    {0x2800000, 0x37fffff, E820_NVS},	   /* 4 beats 3 */
	    {0x4000000, 0x4ffffff, 12},		   /* persistent memory */
	    {0x4800000, 0x57fffff, E820_RESERVED}, /* 12 beats 2 */
	    {0x6000000, 0x6ffffff, E820_RAM},
	    {0x6000000, 0x6ffffff, E820_RAM}, /* duplicate */
	    {0x7000000, 0x7ffffff, E820_RAM}, /* adjacent: merges */
	    {0x8000000, 0x8ffffff, E820_UNUSABLE},
	    {0x8800000, 0x88fffff, E820_RESERVED}, /* 5 beats 2 */
	};
	static const struct range want[] = {
	    {0x0, 0xfffff, E820_RAM},
	    {0x100000, 0x1fffff, E820_RESERVED},
	    {0x200000, 0xffffff, E820_RAM},
	    {0x2000000, 0x27fffff, E820_ACPI},
	    {0x2800000, 0x37fffff, E820_NVS},
	    {0x4000000, 0x4ffffff, 12},
	    {0x5000000, 0x57fffff, E820_RESERVED},
	    {0x6000000, 0x7ffffff, E820_RAM},
	    {0x8000000, 0x8ffffff, E820_UNUSABLE},
	};

	(void)state;
	load(&m, in, ARRAY_SIZE(in));
	e820_sanitize(&m);
	expect_map(&m, want, ARRAY_SIZE(want));
}

static void test_sanitize_odd_entries(void **state)
{
	static struct e820_map m;

	(void)state;
	/* Entries written directly, as a firmware table may hold them. */
	m.nr = 3;
	m.map[0] = (struct e820_entry){0x5000, 0, E820_RESERVED};
	m.map[1] = (struct e820_entry){UINT64_MAX - 0xfff, 0x2000, E820_RAM};
	m.map[2] = (struct e820_entry){0x1000, 0x1000, E820_RAM};
	e820_sanitize(&m);
	assert_int_equal(m.nr, 2);
	assert_int_equal(m.map[0].addr, 0x1000);
	assert_int_equal(m.map[1].addr, UINT64_MAX - 0xfff);
	assert_int_equal(m.map[1].size, 0xfff); /* cut at 2^64 */

	m.nr = 0;
	e820_sanitize(&m);
	assert_int_equal(m.nr, 0);
}

static void test_set_type_splits(void **state)
{
	static struct e820_map m;
	static const struct range want[] = {
	    {0x0000000000000000, 0x000000000009fbff, E820_RAM},
	    {0x000000000009fc00, 0x000000000009ffff, E820_RESERVED},
	    {0x00000000000f0000, 0x00000000000fffff, E820_RESERVED},
	    {0x0000000000100000, 0x0000000000ffffff, E820_RAM},
	    {0x0000000001000000, 0x0000000001ffffff, E820_RESERVED},
	    {0x0000000002000000, 0x000000007ffdffff, E820_RAM},
	    {0x000000007ffe0000, 0x000000007fffffff, E820_RESERVED},
	    {0x00000000b0000000, 0x00000000bfffffff, E820_RESERVED},
	    {0x00000000fed1c000, 0x00000000fed1ffff, E820_RESERVED},
	    {0x00000000feffc000, 0x00000000feffffff, E820_RESERVED},
	    {0x00000000fffc0000, 0x00000000ffffffff, E820_RESERVED},
	    {0x0000000100000000, 0x000000017fffffff, E820_RAM},
	};

	(void)state;
	load(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	/* The hypervisor image at 16 MiB. */
	assert_int_equal(e820_set_type(&m, MiB(16), MiB(16), E820_RESERVED), 0);
	expect_map(&m, want, ARRAY_SIZE(want));
	assert_true(e820_range_is(&m, MiB(16), MiB(16), E820_RESERVED));
	assert_false(e820_range_is(&m, MiB(16) - 1, 2, E820_RESERVED));
	assert_true(e820_range_is(&m, MiB(1), MiB(15), E820_RAM));
	assert_int_equal(e820_total(&m, E820_RAM), SEABIOS_RAM - MiB(16));

	/* Retyping back merges with the neighbours again. */
	assert_int_equal(e820_set_type(&m, MiB(16), MiB(16), E820_RAM), 0);
	expect_map(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
}

static void test_set_type_edges_and_holes(void **state)
{
	static struct e820_map m;
	static const struct range want[] = {
	    {0x0000000000000000, 0x000000000009fbff, E820_RAM},
	    {0x000000000009fc00, 0x000000000009ffff, E820_RESERVED},
	    {0x00000000000f0000, 0x00000000000fffff, E820_RESERVED},
	    {0x0000000000100000, 0x000000007ffcffff, E820_RAM},
	    {0x000000007ffd0000, 0x000000008fffffff, E820_UNUSABLE},
	    {0x00000000b0000000, 0x00000000bfffffff, E820_RESERVED},
	    {0x00000000fed1c000, 0x00000000fed1ffff, E820_RESERVED},
	    {0x00000000feffc000, 0x00000000feffffff, E820_RESERVED},
	    {0x00000000fffc0000, 0x00000000ffffffff, E820_RESERVED},
	    {0x0000000100000000, 0x000000017fffffff, E820_RAM},
	};

	(void)state;
	load(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	/* Spans the end of RAM, a reserved entry and a hole. */
	assert_int_equal(
	    e820_set_type(&m, 0x7ffd0000, 0x10030000, E820_UNUSABLE), 0);
	expect_map(&m, want, ARRAY_SIZE(want));
	assert_true(e820_range_is(&m, 0x80000000, 0x1000, E820_UNUSABLE));

	assert_int_equal(e820_set_type(&m, 0x1000, 0, E820_RAM), -EINVAL);
	assert_int_equal(e820_set_type(&m, UINT64_MAX - 1, 8, E820_RAM),
			 -EINVAL);
}

static void test_set_type_full_map(void **state)
{
	static struct e820_map m, before;

	(void)state;
	m.nr = 0;
	for (int i = 0; i < E820_MAX; i++)
		assert_int_equal(e820_add(&m, i * 0x10000ULL, 0x10000,
					  i % 2 ? E820_RESERVED : E820_RAM),
				 0);
	before = m;
	/* Splitting an entry needs one more slot than there is. */
	assert_int_equal(e820_set_type(&m, 0x1000, 0x1000, E820_NVS), -ENOSPC);
	assert_memory_equal(&m, &before, sizeof(m));
	/* Replacing a whole entry needs none. */
	assert_int_equal(e820_set_type(&m, 0x10000, 0x10000, E820_NVS), 0);
	assert_int_equal(m.nr, E820_MAX);
	assert_int_equal(m.map[1].type, E820_NVS);
	/* Joining three into one frees two. */
	assert_int_equal(e820_set_type(&m, 0x20000, 0x30000, E820_RAM), 0);
	assert_int_equal(m.nr, E820_MAX - 2);
}

static void test_limit_ram(void **state)
{
	static struct e820_map m;

	(void)state;
	load(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	assert_int_equal(e820_limit_ram(&m, GiB(1), E820_RESERVED), GiB(1));
	assert_int_equal(e820_total(&m, E820_RAM), GiB(1));
	/* Low memory is kept first; the cut lies inside the 1M..2G entry. */
	assert_true(e820_range_is(&m, 0, 0x9fc00, E820_RAM));
	assert_true(e820_range_is(&m, MiB(1), GiB(1) - 0x9fc00, E820_RAM));
	assert_true(e820_range_is(&m, MiB(1) + GiB(1) - 0x9fc00,
				  0x7ffe0000 - (MiB(1) + GiB(1) - 0x9fc00),
				  E820_RESERVED));
	assert_true(e820_range_is(&m, GiB(4), GiB(2), E820_RESERVED));

	/* A cut at an entry boundary needs no split. */
	load(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	assert_int_equal(e820_limit_ram(&m, 0x9fc00, E820_UNUSABLE), 0x9fc00);
	assert_int_equal(e820_total(&m, E820_RAM), 0x9fc00);
	assert_int_equal(e820_total(&m, E820_UNUSABLE), SEABIOS_RAM - 0x9fc00);

	/* Asking for more than there is keeps everything. */
	load(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	assert_int_equal(e820_limit_ram(&m, GiB(64), E820_RESERVED),
			 SEABIOS_RAM);
	expect_map(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));

	/* Keeping nothing retypes all RAM. */
	load(&m, seabios_q35_4g, ARRAY_SIZE(seabios_q35_4g));
	assert_int_equal(e820_limit_ram(&m, 0, E820_UNUSABLE), 0);
	assert_int_equal(e820_total(&m, E820_RAM), 0);
}

static void test_limit_ram_full_map(void **state)
{
	static struct e820_map m;

	(void)state;
	m.nr = 0;
	for (int i = 0; i < E820_MAX; i++)
		assert_int_equal(e820_add(&m, i * 0x10000ULL, 0x10000,
					  i % 2 ? E820_RESERVED : E820_RAM),
				 0);
	/* Cutting entry 2 in half needs a slot: it goes whole instead. */
	assert_int_equal(e820_limit_ram(&m, 0x18000, E820_UNUSABLE), 0x10000);
	assert_int_equal(e820_total(&m, E820_RAM), 0x10000);
}

/* What the Dom0 builder does with the OVMF map. */
static void test_dom0_map_from_ovmf(void **state)
{
	static struct e820_map m;
	uint64_t kept;

	(void)state;
	load(&m, ovmf_q35_1g_raw, ARRAY_SIZE(ovmf_q35_1g_raw));
	e820_sanitize(&m);
	/* Hypervisor image and heap, then dom0_mem=512M. */
	assert_int_equal(e820_set_type(&m, MiB(32), MiB(64), E820_RESERVED), 0);
	kept = e820_limit_ram(&m, MiB(512), E820_RESERVED);
	assert_int_equal(kept, MiB(512));
	assert_int_equal(e820_total(&m, E820_RAM), MiB(512));
	assert_true(e820_range_is(&m, MiB(32), MiB(64), E820_RESERVED));
	/* Firmware ranges are untouched. */
	assert_true(e820_range_is(&m, 0x3eb6f000, 0x10000, E820_ACPI));
	assert_true(e820_range_is(&m, 0x800000, 0x8000, E820_NVS));
	assert_int_equal(e820_total(&m, E820_NVS),
			 0x8000 + 0x1000 + 0xef000 + 0x80000 + 0x2000);
	for (uint32_t i = 1; i < m.nr; i++)
		assert_true(m.map[i - 1].addr + m.map[i - 1].size <=
			    m.map[i].addr);
}

static void test_range_is(void **state)
{
	static struct e820_map m;

	(void)state;
	m.nr = 0;
	/* Unsanitized on purpose: adjacent and overlapping pieces. */
	e820_add(&m, 0x3000, 0x1000, E820_RAM);
	e820_add(&m, 0x1000, 0x2000, E820_RAM);
	e820_add(&m, 0x2000, 0x4000, E820_RAM);
	e820_add(&m, 0x8000, 0x1000, E820_RAM);
	assert_true(e820_range_is(&m, 0x1000, 0x5000, E820_RAM));
	assert_true(e820_range_is(&m, 0x1800, 0x10, E820_RAM));
	assert_false(e820_range_is(&m, 0x1000, 0x6000, E820_RAM)); /* hole */
	assert_false(e820_range_is(&m, 0x1000, 0x1000, E820_RESERVED));
	assert_false(e820_range_is(&m, 0x1000, 0, E820_RAM));
	assert_false(e820_range_is(&m, UINT64_MAX, 2, E820_RAM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_entry_layout),
	    cmocka_unit_test(test_add_limits),
	    cmocka_unit_test(test_sanitize_seabios_shuffled),
	    cmocka_unit_test(test_sanitize_ovmf_merges_pieces),
	    cmocka_unit_test(test_sanitize_overlaps),
	    cmocka_unit_test(test_sanitize_odd_entries),
	    cmocka_unit_test(test_set_type_splits),
	    cmocka_unit_test(test_set_type_edges_and_holes),
	    cmocka_unit_test(test_set_type_full_map),
	    cmocka_unit_test(test_limit_ram),
	    cmocka_unit_test(test_limit_ram_full_map),
	    cmocka_unit_test(test_dom0_map_from_ovmf),
	    cmocka_unit_test(test_range_is),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

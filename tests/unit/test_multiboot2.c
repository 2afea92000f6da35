/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 information parsing and command-line lookup
 * (hypervisor/arch/x86/boot/multiboot2.c). The blobs are built the way the
 * Multiboot2 specification §3.6 lays them out: a fixed part (total_size,
 * reserved) followed by tags, each starting on an 8-byte boundary.
 *
 * Every blob is handed to mb2_parse() in a heap block of exactly total_size
 * bytes, so AddressSanitizer reports any read past the end.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <keel/bootinfo.h>
#include <keel/errno.h>
#include <keel/lib.h>

/* Tag types, Multiboot2 spec §3.6. */
#define TAG_END		    0
#define TAG_CMDLINE	    1
#define TAG_BOOTLOADER_NAME 2
#define TAG_MODULE	    3
#define TAG_BASIC_MEMINFO   4
#define TAG_MMAP	    6
#define TAG_EFI64	    12
#define TAG_ACPI_OLD	    14
#define TAG_ACPI_NEW	    15
#define TAG_LOAD_BASE_ADDR  21

#define MMAP_ENTRY_SIZE 24
#define MBI_MAX		65536

struct mbi {
	uint32_t len;
	uint8_t buf[MBI_MAX] __attribute__((aligned(8)));
};

struct mmap_entry {
	uint64_t addr, len;
	uint32_t type, reserved;
};

static void mbi_begin(struct mbi *m)
{
	memset(m, 0, sizeof(*m));
	m->len = 8;
}

/* Appends a tag with its 8-byte header and pads to the next 8 bytes. */
static void mbi_tag(struct mbi *m, uint32_t type, const void *body,
		    uint32_t body_len)
{
	uint32_t size = 8 + body_len;

	assert_true(m->len + ALIGN_UP(size, 8) <= MBI_MAX);
	memcpy(m->buf + m->len, &type, 4);
	memcpy(m->buf + m->len + 4, &size, 4);
	if (body_len)
		memcpy(m->buf + m->len + 8, body, body_len);
	m->len += ALIGN_UP(size, 8);
}

static void mbi_cmdline(struct mbi *m, const char *s)
{
	mbi_tag(m, TAG_CMDLINE, s, (uint32_t)strlen(s) + 1);
}

static void mbi_module(struct mbi *m, uint32_t start, uint32_t end,
		       const char *cmdline)
{
	static uint8_t body[8 + 2 * BOOT_CMDLINE_MAX];
	uint32_t n = (uint32_t)strlen(cmdline) + 1;

	assert_true(8 + n <= sizeof(body));
	memcpy(body, &start, 4);
	memcpy(body + 4, &end, 4);
	memcpy(body + 8, cmdline, n);
	mbi_tag(m, TAG_MODULE, body, 8 + n);
}

/* An mmap tag whose entries are entry_size apart (>= 24 per spec). */
static void mbi_mmap(struct mbi *m, const struct mmap_entry *e, unsigned n,
		     uint32_t entry_size)
{
	static uint8_t body[8 + 256 * 64];
	uint32_t version = 0;

	assert_true(entry_size >= sizeof(*e) && n <= 256 && entry_size <= 64);
	memset(body, 0xA5, sizeof(body));
	memcpy(body, &entry_size, 4);
	memcpy(body + 4, &version, 4);
	for (unsigned i = 0; i < n; i++)
		memcpy(body + 8 + i * entry_size, &e[i], sizeof(*e));
	mbi_tag(m, TAG_MMAP, body, 8 + n * entry_size);
}

static void mbi_end(struct mbi *m)
{
	mbi_tag(m, TAG_END, NULL, 0);
}

/* Stores total_size and returns an exact-size heap copy of the blob. */
static uint8_t *mbi_finish(struct mbi *m)
{
	uint8_t *copy = malloc(m->len);

	assert_non_null(copy);
	memcpy(m->buf, &m->len, 4);
	memcpy(copy, m->buf, m->len);
	return copy;
}

static int parse(struct mbi *m, struct boot_info *bi)
{
	uint8_t *blob = mbi_finish(m);
	int rc = mb2_parse(blob, bi);

	free(blob);
	return rc;
}

static struct mbi mbi;
static struct boot_info bi;

/* A 20-byte ACPI 1.0 RSDP and a 36-byte ACPI 2.0 one (ACPI 6.4 §5.2.5.3). */
static const uint8_t rsdp_v1[20] = "RSD PTR \x11OEMID1\x00\x00\x0f\x00\x00";
static const uint8_t rsdp_v2[36] = "RSD PTR \x22OEMID2\x02\x00\x00\x0f\x00$"
				   "\x00\x00\x00\x00\x10\x0f\x00\x00\x00\x00"
				   "\x00\x44\x00\x00\x00";

static void test_grub_like_blob(void **state)
{
	const struct mmap_entry map[] = {
	    {0x0, 0x9fc00, 1, 0},
	    {0x9fc00, 0x400, 2, 0},
	    {0x100000, 0x7fee0000, 1, 0},
	    {0xfffc0000, 0x40000, 2, 0},
	};
	const uint32_t meminfo[2] = {639, 2096000};
	const uint64_t efi_systab = 0x7fb3e018;
	const uint32_t load_base = 0x200000;

	(void)state;
	mbi_begin(&mbi);
	mbi_cmdline(&mbi, "console=com1 dom0_mem=2G loglvl=all");
	mbi_tag(&mbi, TAG_BOOTLOADER_NAME, "GRUB 2.06-13+deb12u1", 21);
	mbi_module(&mbi, 0x1000000, 0x17d8000, "/vmlinuz root=/dev/sda1 ro");
	mbi_module(&mbi, 0x17d8000, 0x2400123, "/initrd.img");
	mbi_tag(&mbi, TAG_BASIC_MEMINFO, meminfo, sizeof(meminfo));
	mbi_mmap(&mbi, map, ARRAY_SIZE(map), MMAP_ENTRY_SIZE);
	mbi_tag(&mbi, TAG_EFI64, &efi_systab, sizeof(efi_systab));
	mbi_tag(&mbi, TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
	mbi_tag(&mbi, TAG_LOAD_BASE_ADDR, &load_base, sizeof(load_base));
	mbi_end(&mbi);

	assert_int_equal(parse(&mbi, &bi), 0);
	assert_string_equal(bi.cmdline, "console=com1 dom0_mem=2G loglvl=all");
	assert_int_equal(bi.nr_modules, 2);
	assert_int_equal(bi.modules[0].start, 0x1000000);
	assert_int_equal(bi.modules[0].end, 0x17d8000);
	assert_string_equal(bi.modules[0].cmdline,
			    "/vmlinuz root=/dev/sda1 ro");
	assert_int_equal(bi.modules[1].start, 0x17d8000);
	assert_int_equal(bi.modules[1].end, 0x2400123);
	assert_string_equal(bi.modules[1].cmdline, "/initrd.img");
	assert_int_equal(bi.nr_mmap, ARRAY_SIZE(map));
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++) {
		assert_int_equal(bi.mmap[i].addr, map[i].addr);
		assert_int_equal(bi.mmap[i].len, map[i].len);
		assert_int_equal(bi.mmap[i].type, map[i].type);
	}
	assert_true(bi.efi);
	assert_true(bi.has_rsdp);
	assert_memory_equal(bi.rsdp, rsdp_v1, sizeof(rsdp_v1));
	/* The rest of the 36-byte copy is cleared, not left over. */
	for (size_t i = sizeof(rsdp_v1); i < sizeof(bi.rsdp); i++)
		assert_int_equal(bi.rsdp[i], 0);
}

static void test_minimal_blob(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_end(&mbi);
	/* Leftovers from an earlier parse must not survive. */
	memset(&bi, 0x5A, sizeof(bi));
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.nr_modules, 0);
	assert_int_equal(bi.nr_mmap, 0);
	assert_false(bi.efi);
	assert_false(bi.has_rsdp);
}

/* The ACPI 2.0+ RSDP (with the XSDT) wins whichever tag comes first. */
static void test_acpi_new_preferred(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_tag(&mbi, TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
	mbi_tag(&mbi, TAG_ACPI_NEW, rsdp_v2, sizeof(rsdp_v2));
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_true(bi.has_rsdp);
	assert_memory_equal(bi.rsdp, rsdp_v2, sizeof(rsdp_v2));

	mbi_begin(&mbi);
	mbi_tag(&mbi, TAG_ACPI_NEW, rsdp_v2, sizeof(rsdp_v2));
	mbi_tag(&mbi, TAG_ACPI_OLD, rsdp_v1, sizeof(rsdp_v1));
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_memory_equal(bi.rsdp, rsdp_v2, sizeof(rsdp_v2));
}

/* Entries are entry_size apart: a later spec may grow them. */
static void test_mmap_larger_entries(void **state)
{
	const struct mmap_entry map[] = {
	    {0x0, 0x9f000, 1, 0},
	    {0x100000, 0x3ff00000, 1, 0},
	    {0xe0000000, 0x10000000, 2, 0},
	};

	(void)state;
	mbi_begin(&mbi);
	mbi_mmap(&mbi, map, ARRAY_SIZE(map), 40);
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_mmap, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(bi.mmap[i].addr, map[i].addr);
		assert_int_equal(bi.mmap[i].len, map[i].len);
		assert_int_equal(bi.mmap[i].type, map[i].type);
	}
}

/*
 * An entry size that is not a multiple of 8 (the specification promises
 * one, a broken boot loader may not keep it) leaves the 64-bit fields
 * unaligned: they must be read without assuming alignment, which UBSan
 * checks here. Found by tests/fuzz/fuzz_multiboot2.c.
 */
static void test_mmap_unaligned_entry_size(void **state)
{
	const struct mmap_entry map[] = {
	    {0x0, 0x9f000, 1, 0},
	    {0x100000, 0x3ff00000, 1, 0},
	    {0xe0000000, 0x10000000, 2, 0},
	};

	(void)state;
	mbi_begin(&mbi);
	mbi_mmap(&mbi, map, ARRAY_SIZE(map), 28);
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_mmap, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(bi.mmap[i].addr, map[i].addr);
		assert_int_equal(bi.mmap[i].len, map[i].len);
		assert_int_equal(bi.mmap[i].type, map[i].type);
	}
}

static void test_mmap_entry_size_too_small(void **state)
{
	uint8_t body[8 + 2 * 16] = {0};
	uint32_t esize = 16;

	(void)state;
	memcpy(body, &esize, 4);
	mbi_begin(&mbi);
	mbi_tag(&mbi, TAG_MMAP, body, sizeof(body));
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), -EINVAL);
}

static void test_mmap_body_too_short(void **state)
{
	uint32_t esize = MMAP_ENTRY_SIZE;

	(void)state;
	mbi_begin(&mbi);
	mbi_tag(&mbi, TAG_MMAP, &esize, 4);
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), -EINVAL);
}

/* A partial trailing entry is ignored rather than read past the tag. */
static void test_mmap_partial_trailing_entry(void **state)
{
	const struct mmap_entry map[] = {{0x100000, 0x100000, 1, 0}};
	uint8_t body[8 + MMAP_ENTRY_SIZE + 12];
	uint32_t esize = MMAP_ENTRY_SIZE, version = 0;

	(void)state;
	memset(body, 0xEE, sizeof(body));
	memcpy(body, &esize, 4);
	memcpy(body + 4, &version, 4);
	memcpy(body + 8, map, sizeof(map));
	mbi_begin(&mbi);
	mbi_tag(&mbi, TAG_MMAP, body, sizeof(body));
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_mmap, 1);
	assert_int_equal(bi.mmap[0].addr, 0x100000);
}

static void test_mmap_capped(void **state)
{
	static struct mmap_entry map[200];

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(map); i++)
		map[i] = (struct mmap_entry){i * PAGE_SIZE, PAGE_SIZE, 1, 0};
	mbi_begin(&mbi);
	mbi_mmap(&mbi, map, ARRAY_SIZE(map), MMAP_ENTRY_SIZE);
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_mmap, BOOT_MAX_MMAP);
	assert_int_equal(bi.mmap[BOOT_MAX_MMAP - 1].addr,
			 (BOOT_MAX_MMAP - 1) * PAGE_SIZE);
}

static void test_modules_capped(void **state)
{
	char name[32];

	(void)state;
	mbi_begin(&mbi);
	for (unsigned i = 0; i < BOOT_MAX_MODULES + 3; i++) {
		snprintf(name, sizeof(name), "mod%u", i);
		mbi_module(&mbi, i * 0x10000, i * 0x10000 + 0x1000, name);
	}
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_modules, BOOT_MAX_MODULES);
	assert_string_equal(bi.modules[BOOT_MAX_MODULES - 1].cmdline, "mod15");
}

static void test_module_end_before_start(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_module(&mbi, 0x2000000, 0x1000000, "/vmlinuz");
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), -EINVAL);
}

/* An empty module (start == end) is legal: an empty initramfs file. */
static void test_module_empty(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_module(&mbi, 0x2000000, 0x2000000, "");
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_modules, 1);
	assert_string_equal(bi.modules[0].cmdline, "");
}

static void test_cmdline_truncated(void **state)
{
	static char longline[BOOT_CMDLINE_MAX + 100];

	(void)state;
	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	mbi_begin(&mbi);
	mbi_cmdline(&mbi, longline);
	mbi_module(&mbi, 0x1000000, 0x2000000, longline);
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
	assert_int_equal(strlen(bi.modules[0].cmdline), BOOT_CMDLINE_MAX - 1);
}

/* A string without its NUL stops at the end of its tag. */
static void test_cmdline_unterminated(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_tag(&mbi, TAG_CMDLINE, "quiet!!!", 5);
	mbi_end(&mbi);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_string_equal(bi.cmdline, "quiet");
}

static void test_missing_end_tag(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_cmdline(&mbi, "console=com1");
	assert_int_equal(parse(&mbi, &bi), -EINVAL);
}

/* A tag reaching past total_size. */
static void test_tag_past_total(void **state)
{
	uint32_t big = 64;

	(void)state;
	mbi_begin(&mbi);
	mbi_cmdline(&mbi, "console=com1");
	mbi_end(&mbi);
	memcpy(mbi.buf + 12, &big, 4);
	assert_int_equal(parse(&mbi, &bi), -EINVAL);
}

/* Sizes below the 8-byte header (0 would loop forever). */
static void test_tag_size_too_small(void **state)
{
	(void)state;
	for (uint32_t size = 0; size < 8; size++) {
		mbi_begin(&mbi);
		mbi_cmdline(&mbi, "console=com1");
		mbi_end(&mbi);
		memcpy(mbi.buf + 12, &size, 4);
		assert_int_equal(parse(&mbi, &bi), -EINVAL);
	}
}

/* The padding after a tag is not part of it: the next tag is 8-aligned. */
static void test_tag_alignment(void **state)
{
	(void)state;
	mbi_begin(&mbi);
	mbi_cmdline(&mbi, "a");			 /* size 10, padded to 16 */
	mbi_module(&mbi, 0x1000, 0x2000, "abc"); /* size 20, padded to 24 */
	mbi_cmdline(&mbi, "second");
	mbi_end(&mbi);
	assert_int_equal(mbi.len, 8 + 16 + 24 + 16 + 8);
	assert_int_equal(parse(&mbi, &bi), 0);
	assert_int_equal(bi.nr_modules, 1);
	assert_string_equal(bi.modules[0].cmdline, "abc");
	assert_string_equal(bi.cmdline, "second");
}

static void test_total_size_bounds(void **state)
{
	uint8_t blob[16] __attribute__((aligned(8))) = {0};
	uint32_t total;

	(void)state;
	for (total = 0; total < 16; total += 4) {
		memcpy(blob, &total, 4);
		assert_int_equal(mb2_parse(blob, &bi), -EINVAL);
	}
	/* A total beyond 16 MiB is refused before any tag is read. */
	total = MiB(16) + 8;
	memcpy(blob, &total, 4);
	assert_int_equal(mb2_parse(blob, &bi), -EINVAL);
}

/*
 * Runs mb2_parse() on an exact-size copy of blob in a child process, so
 * an AddressSanitizer report for a read past total_size fails only this
 * test. Returns the parse result, or 1000 if the child died.
 */
static int parse_in_child(const uint8_t *blob, uint32_t len)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *copy = malloc(len);
		struct boot_info *b = malloc(sizeof(*b));
		int rc;

		if (!copy || !b)
			_exit(23);
		memcpy(copy, blob, len);
		rc = mb2_parse(copy, b);
		/* Distinct from AddressSanitizer's exit status 1. */
		_exit(rc == -EINVAL ? 20 : rc == 0 ? 21 : 22);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		return 1000;
	switch (WEXITSTATUS(status)) {
	case 20:
		return -EINVAL;
	case 21:
		return 0;
	default:
		return 1000;
	}
}

/*
 * An mmap tag of exactly 8 bytes (no entry_size field) at the very end of
 * the information: entry_size must not be read from beyond total_size.
 */
static void test_mmap_header_only_at_end(void **state)
{
	const uint32_t blob[4] = {16, 0, TAG_MMAP, 8};

	(void)state;
	assert_int_equal(parse_in_child((const uint8_t *)blob, sizeof(blob)),
			 -EINVAL);
}

/*
 * entry_size 0xFFFFFFF8 makes `p + esize` wrap to 0 in 32 bits: no entry
 * fits in an 8-byte body, so nothing may be read after the tag.
 */
static void test_mmap_entry_size_wraps(void **state)
{
	uint32_t blob[8] = {32, 0, TAG_MMAP, 16, 0xFFFFFFF8u, 0, TAG_END, 8};
	uint8_t *copy;

	(void)state;
	assert_int_equal(parse_in_child((const uint8_t *)blob, sizeof(blob)),
			 0);
	/* With readable bytes after the blob, the parse records no entry. */
	copy = malloc(sizeof(blob) + 64);
	assert_non_null(copy);
	memcpy(copy, blob, sizeof(blob));
	memset(copy + sizeof(blob), 0x77, 64);
	assert_int_equal(mb2_parse(copy, &bi), 0);
	free(copy);
	assert_int_equal(bi.nr_mmap, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grub_like_blob),
	    cmocka_unit_test(test_minimal_blob),
	    cmocka_unit_test(test_acpi_new_preferred),
	    cmocka_unit_test(test_mmap_larger_entries),
	    cmocka_unit_test(test_mmap_unaligned_entry_size),
	    cmocka_unit_test(test_mmap_entry_size_too_small),
	    cmocka_unit_test(test_mmap_body_too_short),
	    cmocka_unit_test(test_mmap_partial_trailing_entry),
	    cmocka_unit_test(test_mmap_capped),
	    cmocka_unit_test(test_modules_capped),
	    cmocka_unit_test(test_module_end_before_start),
	    cmocka_unit_test(test_module_empty),
	    cmocka_unit_test(test_cmdline_truncated),
	    cmocka_unit_test(test_cmdline_unterminated),
	    cmocka_unit_test(test_missing_end_tag),
	    cmocka_unit_test(test_tag_past_total),
	    cmocka_unit_test(test_tag_size_too_small),
	    cmocka_unit_test(test_tag_alignment),
	    cmocka_unit_test(test_total_size_bounds),
	    cmocka_unit_test(test_mmap_header_only_at_end),
	    cmocka_unit_test(test_mmap_entry_size_wraps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

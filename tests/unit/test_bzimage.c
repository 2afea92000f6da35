/* SPDX-License-Identifier: MIT */
/*
 * bzImage setup-header validation and boot_params preparation
 * (hypervisor/arch/x86/guest/bzimage.c), against synthetic headers laid out as
 * Linux Documentation/arch/x86/boot.rst describes them, and against the
 * Debian kernel the image build fetches when it is present.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/linux_boot.h>

/* Fields the parser does not name (boot.rst, "The real-mode kernel header"). */
#define BP_SYSSIZE	      0x1F4
#define BP_KERNEL_INFO_OFFSET 0x268
#define HDR_2_15_END	      0x26C

/* Where `make` runs the tests from: scripts/fetch-kernel.sh puts it here. */
#define DEBIAN_KERNEL "build/kernel/vmlinuz"

#define IMG_SIZE    KiB(64)
#define SETUP_SECTS 4
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)

static uint8_t *img;
static struct bzimage_info bz;

static void put16(uint32_t off, uint16_t v)
{
	memcpy(img + off, &v, 2);
}

static void put32(uint32_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static void put64(uint32_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

/*
 * A relocatable 2.15 kernel as Linux 6.1's build writes it: setup sectors,
 * then a protected-mode payload of IMG_SIZE - SETUP_SIZE bytes.
 */
static int make_image(void **state)
{
	(void)state;
	img = malloc(IMG_SIZE);
	assert_non_null(img);
	/* Filler everywhere, so a copy that runs too far shows up. */
	memset(img, 0xCC, IMG_SIZE);
	img[BP_SETUP_SECTS] = SETUP_SECTS;
	put32(BP_SYSSIZE, (IMG_SIZE - SETUP_SIZE) / 16);
	put16(BP_BOOT_FLAG, BOOT_FLAG_MAGIC);
	img[BP_JUMP] = 0xEB; /* jmp short to the end of the header */
	img[BP_JUMP + 1] = HDR_2_15_END - BP_HEADER;
	put32(BP_HEADER, HDRS_MAGIC);
	put16(BP_VERSION, 0x020F);
	img[BP_TYPE_OF_LOADER] = 0;
	img[BP_LOADFLAGS] = 0x01; /* LOADED_HIGH */
	put32(BP_RAMDISK_IMAGE, 0);
	put32(BP_RAMDISK_SIZE, 0);
	put32(BP_CMD_LINE_PTR, 0);
	put32(BP_INITRD_ADDR_MAX, 0x7FFFFFFF);
	put32(BP_KERNEL_ALIGNMENT, 0x200000);
	img[BP_RELOCATABLE] = 1;
	put16(BP_XLOADFLAGS, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	put32(BP_CMDLINE_SIZE, 2047);
	put64(BP_PREF_ADDRESS, 0x1000000);
	put32(BP_INIT_SIZE, 0x400000);
	put32(BP_KERNEL_INFO_OFFSET, 0x1234);
	return 0;
}

static int free_image(void **state)
{
	(void)state;
	free(img);
	return 0;
}

static void test_good_2_15(void **state)
{
	(void)state;
	memset(&bz, 0x5A, sizeof(bz));
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_int_equal(bz.version, 0x020F);
	assert_int_equal(bz.setup_size, SETUP_SIZE);
	assert_ptr_equal(bz.payload, img + SETUP_SIZE);
	assert_int_equal(bz.payload_size, IMG_SIZE - SETUP_SIZE);
	assert_int_equal(bz.pref_address, 0x1000000);
	assert_int_equal(bz.alignment, 0x200000);
	assert_int_equal(bz.init_size, 0x400000);
	assert_int_equal(bz.cmdline_max, 2047);
	assert_int_equal(bz.initrd_addr_max, 0x7FFFFFFF);
	assert_true(bz.relocatable);
	assert_true(bz.initrd_above_4g);
}

static void test_initrd_below_4g_only(void **state)
{
	(void)state;
	put16(BP_XLOADFLAGS, XLF_KERNEL_64);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_false(bz.initrd_above_4g);
}

static void test_not_relocatable(void **state)
{
	(void)state;
	img[BP_RELOCATABLE] = 0;
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_false(bz.relocatable);
}

static void test_no_boot_flag(void **state)
{
	(void)state;
	put16(BP_BOOT_FLAG, 0);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -ENOEXEC);
}

static void test_no_hdrs(void **state)
{
	(void)state;
	/* An ELF vmlinux, say, or a pre-2.00 zImage. */
	put32(BP_HEADER, 0x464C457F);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -ENOEXEC);
}

/* 2.12 is the first version with xloadflags (the 64-bit entry flag). */
static void test_version_2_11_refused(void **state)
{
	(void)state;
	put16(BP_VERSION, 0x020B);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -ENOEXEC);
	put16(BP_VERSION, 0x0200);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -ENOEXEC);
	put16(BP_VERSION, 0x020C);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_int_equal(bz.version, 0x020C);
}

static void test_no_kernel_64(void **state)
{
	(void)state;
	/* A 32-bit kernel: can be loaded above 4G is meaningless alone. */
	put16(BP_XLOADFLAGS, XLF_CAN_BE_LOADED_ABOVE_4G);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -ENOEXEC);
}

/* boot.rst: "If this field is 0, the real value is 4." */
static void test_setup_sects_zero_means_four(void **state)
{
	(void)state;
	img[BP_SETUP_SECTS] = 0;
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_int_equal(bz.setup_size, 5 * 512);
	assert_ptr_equal(bz.payload, img + 5 * 512);
	assert_int_equal(bz.payload_size, IMG_SIZE - 5 * 512);
}

static void test_setup_sects_larger(void **state)
{
	(void)state;
	img[BP_SETUP_SECTS] = 39; /* Debian 6.1's value */
	put32(BP_SYSSIZE, (IMG_SIZE - 40 * 512) / 16);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_int_equal(bz.setup_size, 40 * 512);
	assert_int_equal(bz.payload_size, IMG_SIZE - 40 * 512);
}

/* Setup sectors that swallow the whole file leave no kernel. */
static void test_setup_covers_image(void **state)
{
	(void)state;
	img[BP_SETUP_SECTS] = 255;
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -EINVAL);
	img[BP_SETUP_SECTS] = SETUP_SECTS;
	assert_int_equal(bzimage_parse(img, SETUP_SIZE, &bz), -EINVAL);
	assert_int_equal(bzimage_parse(img, SETUP_SIZE - 1, &bz), -EINVAL);
}

/* Shorter than the header the parser reads (up to init_size at 0x260). */
static void test_truncated_header(void **state)
{
	uint8_t *shorter;

	(void)state;
	for (uint64_t len = 0; len < BP_INIT_SIZE + 4; len += 0x3D) {
		/* Exact-size copies: reading past len is caught. */
		shorter = malloc(len ? len : 1);
		assert_non_null(shorter);
		memcpy(shorter, img, len);
		assert_int_equal(bzimage_parse(shorter, len, &bz), -ENOEXEC);
		free(shorter);
	}
}

/*
 * syssize (boot.rst: "the size of the protected-mode code in units of
 * 16-byte paragraphs") says how much kernel must follow the setup code; a
 * file cut short of it is a damaged kernel. Signed kernels carry more
 * bytes after it, which is fine.
 */
static void test_truncated_payload(void **state)
{
	(void)state;
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	put32(BP_SYSSIZE, (IMG_SIZE - SETUP_SIZE) / 16 - 4);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	put32(BP_SYSSIZE, (IMG_SIZE - SETUP_SIZE) / 16);
	assert_int_equal(bzimage_parse(img, IMG_SIZE - 16, &bz), -EINVAL);
	assert_int_equal(bzimage_parse(img, SETUP_SIZE + 512, &bz), -EINVAL);
}

static void test_bad_alignment(void **state)
{
	const uint32_t bad[] = {0, 3, 0x180000, 0x200001, 0xFFFFFFFF};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		put32(BP_KERNEL_ALIGNMENT, bad[i]);
		assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -EINVAL);
	}
	put32(BP_KERNEL_ALIGNMENT, 0x1000);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_int_equal(bz.alignment, 0x1000);
}

/* init_size covers at least the payload: less is a lie about memory. */
static void test_init_size_too_small(void **state)
{
	(void)state;
	put32(BP_INIT_SIZE, IMG_SIZE - SETUP_SIZE - 1);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -EINVAL);
	put32(BP_INIT_SIZE, IMG_SIZE - SETUP_SIZE);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
}

static void test_no_pref_address(void **state)
{
	(void)state;
	put64(BP_PREF_ADDRESS, 0);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), -EINVAL);
}

static void test_cmdline_size_zero(void **state)
{
	(void)state;
	put32(BP_CMDLINE_SIZE, 0);
	assert_int_equal(bzimage_parse(img, IMG_SIZE, &bz), 0);
	assert_int_equal(bz.cmdline_max, 255);
}

/*
 * The setup header, 0x1F1 up to 0x202 + the byte at 0x201, goes into the
 * zero page; everything else starts as zero (boot.rst, "64-bit boot
 * protocol").
 */
static void test_setup_boot_params(void **state)
{
	uint8_t *bp = malloc(BP_SIZE);

	(void)state;
	assert_non_null(bp);
	memset(bp, 0xEE, BP_SIZE);
	bzimage_setup_boot_params(img, bp);
	for (unsigned i = 0; i < BP_SETUP_SECTS; i++)
		assert_int_equal(bp[i], 0);
	assert_memory_equal(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS,
			    HDR_2_15_END - BP_SETUP_SECTS);
	for (unsigned i = HDR_2_15_END; i < BP_SIZE; i++)
		assert_int_equal(bp[i], 0);

	/* A 2.12 header is shorter: ends at 0x250 (setup_data was its last). */
	img[BP_JUMP + 1] = 0x250 - BP_HEADER;
	memset(bp, 0xEE, BP_SIZE);
	bzimage_setup_boot_params(img, bp);
	assert_memory_equal(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS,
			    0x250 - BP_SETUP_SECTS);
	for (unsigned i = 0x250; i < BP_SIZE; i++)
		assert_int_equal(bp[i], 0);
	free(bp);
}

static uint8_t *read_file(const char *path, uint64_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data;
	long n;

	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	data = malloc((size_t)n);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (uint64_t)n;
	return data;
}

/* Debian's signed 6.1 kernel: what Keel boots as Dom0. */
static void test_debian_kernel(void **state)
{
	uint64_t len, sys;
	uint8_t *k = read_file(DEBIAN_KERNEL, &len);
	uint8_t *bp;
	uint32_t syssize;

	(void)state;
	if (!k) {
		print_message(
		    "# %s is absent (scripts/fetch-kernel.sh fetches it)\n",
		    DEBIAN_KERNEL);
		skip();
	}
	assert_int_equal(bzimage_parse(k, len, &bz), 0);
	assert_true(bz.version >= 0x020F);
	assert_true(bz.relocatable);
	assert_true(bz.initrd_above_4g);
	assert_int_equal(bz.setup_size, (k[BP_SETUP_SECTS] + 1) * 512);
	assert_int_equal(bz.alignment, MiB(2));
	assert_true(bz.pref_address >= MiB(1));
	assert_true(IS_ALIGNED(bz.pref_address, bz.alignment));
	assert_true(bz.init_size > bz.payload_size);
	assert_true(bz.cmdline_max >= 255);
	memcpy(&syssize, k + BP_SYSSIZE, 4);
	sys = (uint64_t)syssize * 16;
	assert_true(bz.setup_size + sys <= len);

	bp = calloc(1, BP_SIZE);
	assert_non_null(bp);
	bzimage_setup_boot_params(k, bp);
	assert_memory_equal(bp + BP_HEADER, "HdrS", 4);
	assert_int_equal(bp[BP_SETUP_SECTS], k[BP_SETUP_SECTS]);
	free(bp);

	/* Half a kernel is not a kernel. */
	assert_int_equal(bzimage_parse(k, bz.setup_size + sys / 2, &bz),
			 -EINVAL);
	free(k);
}

#define T(f) cmocka_unit_test_setup_teardown(f, make_image, free_image)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_good_2_15),
	    T(test_initrd_below_4g_only),
	    T(test_not_relocatable),
	    T(test_no_boot_flag),
	    T(test_no_hdrs),
	    T(test_version_2_11_refused),
	    T(test_no_kernel_64),
	    T(test_setup_sects_zero_means_four),
	    T(test_setup_sects_larger),
	    T(test_setup_covers_image),
	    T(test_truncated_header),
	    T(test_truncated_payload),
	    T(test_bad_alignment),
	    T(test_init_size_too_small),
	    T(test_no_pref_address),
	    T(test_cmdline_size_zero),
	    T(test_setup_boot_params),
	    T(test_debian_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: MIT */
/*
 * The AML emitter (toolstack/aml.c) against encodings worked out by hand
 * from ACPI 6.5 chapter 20 and section 6.4, and a PkgLength decoder
 * written from section 20.2.4 independently of the encoder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <kl/aml.h>

static uint8_t out[1 << 16];
static struct aml a;

static void start(void)
{
	memset(out, 0xEE, sizeof(out));
	aml_init(&a, out, sizeof(out));
}

#define EXPECT_BYTES(...)                                                      \
	do {                                                                   \
		static const uint8_t want_[] = {__VA_ARGS__};                  \
		assert_int_equal(aml_finish(&a), sizeof(want_));               \
		assert_memory_equal(out, want_, sizeof(want_));                \
	} while (0)

/* 20.2.4: bits 6-7 of the lead byte count the bytes that follow. */
static size_t decode_pkglength(const uint8_t *p, size_t *nbytes)
{
	unsigned follow = p[0] >> 6;
	size_t v;

	*nbytes = follow + 1;
	if (!follow)
		return p[0] & 0x3F;
	assert_int_equal(p[0] & 0x30, 0); /* reserved bits of a long lead */
	v = p[0] & 0x0F;
	for (unsigned i = 1; i <= follow; i++)
		v |= (size_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

static void test_pkglength_edges(void **state)
{
	static const struct {
		size_t body;
		int n;
		uint8_t bytes[4];
	} cases[] = {
	    {0, 1, {0x01}},
	    {62, 1, {0x3F}},	   /* 63 total: the 1-byte max */
	    {63, 2, {0x41, 0x04}}, /* 65 = 0x041 */
	    {64, 2, {0x42, 0x04}},
	    {4093, 2, {0x4F, 0xFF}},	   /* 4095 = 0xFFF */
	    {4094, 3, {0x81, 0x00, 0x01}}, /* 4097 = 0x1001 */
	    {4095, 3, {0x82, 0x00, 0x01}},
	    {0xFFFFC, 3, {0x8F, 0xFF, 0xFF}},	    /* 0xFFFFF */
	    {0xFFFFD, 4, {0xC1, 0x00, 0x00, 0x01}}, /* 0x100001 */
	    {0xFFFFFFB, 4, {0xCF, 0xFF, 0xFF, 0xFF}},
	};
	uint8_t b[4];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n;

		memset(b, 0, sizeof(b));
		assert_int_equal(aml_pkglength_encode(cases[i].body, b),
				 cases[i].n);
		assert_memory_equal(b, cases[i].bytes, (size_t)cases[i].n);
		assert_int_equal(decode_pkglength(b, &n),
				 cases[i].body + (size_t)cases[i].n);
		assert_int_equal(n, cases[i].n);
	}
	assert_int_equal(aml_pkglength_encode(0xFFFFFFC, b), -ERANGE);
	/* Every length up to 1 MiB round-trips through the decoder with the
	 * shortest encoding. */
	for (size_t body = 0; body < (1 << 20) + 16; body++) {
		size_t n;
		int enc = aml_pkglength_encode(body, b);

		assert_true(enc > 0);
		assert_int_equal(decode_pkglength(b, &n), body + (size_t)enc);
		if (enc > 1)
			assert_true(
			    aml_pkglength_encode(body, b) == enc &&
			    body + (size_t)enc - 1 >
				(enc == 2 ? 0x3Fu
					  : (1u << (4 + 8 * (enc - 2))) - 1));
	}
}

/* A Package of Byte elements whose body crosses the 1/2-byte boundary. */
static void test_package_lengths_in_stream(void **state)
{
	(void)state;
	for (unsigned elems = 28; elems <= 34; elems++) {
		size_t n, len,
		    body = 1 + 2 * elems; /* NumElements, 2 per Byte */

		start();
		aml_package_begin(&a, elems);
		for (unsigned i = 0; i < elems; i++)
			aml_integer(&a, 0x80 + i);
		aml_end(&a);
		assert_true(aml_finish(&a) > 0);
		assert_int_equal(out[0], 0x12);
		len = decode_pkglength(out + 1, &n);
		assert_int_equal(len, body + n);
		assert_int_equal(n, body + 1 <= 63 ? 1 : 2);
		assert_int_equal(out[1 + n], elems);
		assert_int_equal(out[2 + n], 0x0A);
		assert_int_equal(out[3 + n], 0x80);
		assert_int_equal((size_t)aml_finish(&a), 1 + n + body);
	}
	/* A Buffer just over 4095 bytes needs three PkgLength bytes, and
	 * its BufferSize a WordConst. */
	start();
	aml_buffer_begin(&a);
	for (int i = 0; i < 4092; i++)
		aml_bytes(&a, "\x5a", 1);
	aml_end(&a);
	{
		size_t n, len = (size_t)aml_finish(&a);

		size_t plen = decode_pkglength(out + 1, &n);

		assert_int_equal(out[0], 0x11);
		assert_int_equal(plen, 3 + 4092 + n);
		assert_int_equal(n, 3);
		assert_int_equal(out[4], 0x0B);
		assert_int_equal(out[5] | out[6] << 8, 4092);
		assert_int_equal(len, 1 + 3 + 3 + 4092);
		assert_int_equal(out[len - 1], 0x5a);
	}
}

static void test_integers(void **state)
{
	(void)state;
	start();
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 2);
	aml_integer(&a, 0xFF);
	aml_integer(&a, 0x100);
	aml_integer(&a, 0xFFFF);
	aml_integer(&a, 0x10000);
	aml_integer(&a, 0xFFFFFFFF);
	aml_integer(&a, 0x100000000ULL);
	EXPECT_BYTES(0x00, 0x01, 0x0A, 0x02, 0x0A, 0xFF, 0x0B, 0x00, 0x01, 0x0B,
		     0xFF, 0xFF, 0x0C, 0x00, 0x00, 0x01, 0x00, 0x0C, 0xFF, 0xFF,
		     0xFF, 0xFF, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
		     0x00);
}

static void test_names(void **state)
{
	(void)state;
	start();
	aml_name_string(&a, "_S5");
	aml_name_string(&a, "\\_SB.COM1");
	aml_name_string(&a, "\\_SB.PCI0.LPC");
	aml_name_string(&a, "^^X");
	aml_name_string(&a, "\\");
	EXPECT_BYTES('_', 'S', '5', '_', '\\', 0x2E, '_', 'S', 'B', '_', 'C',
		     'O', 'M', '1', '\\', 0x2F, 3, '_', 'S', 'B', '_', 'P', 'C',
		     'I', '0', 'L', 'P', 'C', '_', '^', '^', 'X', '_', '_', '_',
		     '\\', 0x00);

	static const char *const bad[] = {"abcd", "TOOLONG", "1ABC", "A..B",
					  "A.",	  "\\\\A",   "^\\A", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start();
		aml_name_string(&a, bad[i]);
		if (i == sizeof(bad) / sizeof(bad[0]) - 1) {
			/* The empty name is the NullName. */
			EXPECT_BYTES(0x00);
			continue;
		}
		if (aml_finish(&a) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
}

static void test_strings_and_eisaid(void **state)
{
	(void)state;
	start();
	aml_string(&a, "LNRO0005");
	aml_eisaid(&a, "PNP0501");
	aml_eisaid(&a, "PNP0A03");
	EXPECT_BYTES(0x0D, 'L', 'N', 'R', 'O', '0', '0', '0', '5', 0x00, 0x0C,
		     0x41, 0xD0, 0x05, 0x01, 0x0C, 0x41, 0xD0, 0x0A, 0x03);
	start();
	aml_eisaid(&a, "pnp0501");
	assert_int_equal(aml_finish(&a), -EINVAL);
	start();
	aml_string(&a, "caf\xc3\xa9");
	assert_int_equal(aml_finish(&a), -EINVAL);
}

/* Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 1, 8)
 * IRQNoFlags () {4} Memory32Fixed (ReadWrite, 0xFEB00000, 0x200)
 * Interrupt (ResourceConsumer, Level, ActiveHigh, Exclusive) {5} }) */
static void test_resource_template(void **state)
{
	uint8_t sum = 0;
	size_t len;

	(void)state;
	start();
	aml_name(&a, "_CRS");
	aml_restemplate_begin(&a);
	aml_res_io(&a, 0x3F8, 0x3F8, 1, 8);
	aml_res_irq_noflags(&a, 4);
	aml_res_memory32_fixed(&a, true, 0xFEB00000, 0x200);
	aml_res_ext_irq(&a, AML_IRQ_CONSUMER, 5);
	aml_end(&a);
	len = (size_t)aml_finish(&a);
	/* 8 + 3 + 12 + 9 + 2 = 34 template bytes; BufferSize 0x22. */
	assert_int_equal(len, 5 + 1 + 1 + 2 + 34);
	assert_memory_equal(
	    out,
	    ((uint8_t[]){0x08, '_',  'C',  'R',	 'S',  0x11, 0x25, 0x0A, 0x22,
			 0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, 0x22,
			 0x10, 0x00, 0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xB0,
			 0xFE, 0x00, 0x02, 0x00, 0x00, 0x89, 0x06, 0x00, 0x01,
			 0x01, 0x05, 0x00, 0x00, 0x00, 0x79}),
	    42);
	for (size_t i = 9; i < len; i++)
		sum = (uint8_t)(sum + out[i]);
	assert_int_equal(sum, 0);
	/* Descriptors outside a template are refused. */
	start();
	aml_res_io(&a, 1, 1, 1, 1);
	assert_int_equal(aml_finish(&a), -EINVAL);
	start();
	aml_restemplate_begin(&a);
	aml_res_irq_noflags(&a, 16);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

static void test_device_in_scope(void **state)
{
	(void)state;
	start();
	aml_scope_begin(&a, "\\_SB");
	aml_device_begin(&a, "VR00");
	aml_name(&a, "_UID");
	aml_integer(&a, 0);
	aml_end(&a);
	aml_end(&a);
	EXPECT_BYTES(0x10, 0x13, '\\', '_', 'S', 'B', '_', 0x5B, 0x82, 0x0B,
		     'V', 'R', '0', '0', 0x08, '_', 'U', 'I', 'D', 0x00);
}

static void test_method_and_notify(void **state)
{
	(void)state;
	start();
	aml_method_begin(&a, "_EVT", 1);
	aml_notify(&a, "\\_SB.PWRB", 0x80);
	aml_end(&a);
	/* MethodOp, PkgLength 0x13, _EVT, flags (1 arg), NotifyOp, the
	 * dual-name path, BytePrefix 0x80. */
	EXPECT_BYTES(0x14, 0x13, '_', 'E', 'V', 'T', 0x01, 0x86, '\\', 0x2E,
		     '_', 'S', 'B', '_', 'P', 'W', 'R', 'B', 0x0A, 0x80);
	start();
	aml_method_begin(&a, "_EVT", 8);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

static void test_errors_are_sticky(void **state)
{
	uint8_t small[8];

	(void)state;
	aml_init(&a, small, sizeof(small));
	aml_string(&a, "12345678"); /* 10 bytes */
	aml_integer(&a, 0);
	assert_int_equal(aml_finish(&a), -ENOSPC);
	/* The PkgLength insertion itself can run out of room. */
	aml_init(&a, small, sizeof(small));
	aml_package_begin(&a, 3);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_integer(&a, 0); /* 8 bytes: the PkgLength has no room */
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -ENOSPC);
	start();
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	start();
	aml_scope_begin(&a, "\\_SB");
	assert_int_equal(aml_finish(&a), -EINVAL); /* left open */
	start();
	aml_package_begin(&a, 256);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkglength_edges),
	    cmocka_unit_test(test_package_lengths_in_stream),
	    cmocka_unit_test(test_integers),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_strings_and_eisaid),
	    cmocka_unit_test(test_resource_template),
	    cmocka_unit_test(test_device_in_scope),
	    cmocka_unit_test(test_method_and_notify),
	    cmocka_unit_test(test_errors_are_sticky),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

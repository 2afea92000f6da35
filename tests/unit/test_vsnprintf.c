/* SPDX-License-Identifier: MIT */
/*
 * Keel's printf subset (hypervisor/lib/vsnprintf.c) against the host C
 * library's, and the string helpers of hypervisor/lib/string.c.
 *
 * Their names are the C library's, so test_vsnprintf.cflags renames them
 * (vsnprintf becomes keel_vsnprintf, and so on) throughout this test: here
 * the plain names, redeclared below, are the host's.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <keel/lib.h>

#undef vsnprintf
#undef snprintf
#undef memcmp
int vsnprintf(char *restrict buf, size_t size, const char *restrict fmt,
	      va_list ap) __printf(3, 0);
int memcmp(const void *a, const void *b, size_t n);

#define BUF    256
#define FILLER '#'

/*
 * Formats with Keel's and the host's vsnprintf into every interesting
 * buffer size (0, tiny, around the full length, roomy) and wants the same
 * return value and the same bytes, including the untouched ones after the
 * end of the buffer.
 */
static void __printf(2, 3) check(int line, const char *fmt, ...)
{
	char want[BUF + 7], got[BUF + 7];
	va_list ap, aq;
	int full;
	/* The roomy size first, so a mismatch shows the whole text. */
	size_t sizes[10] = {BUF, 0, 0, 0, 0, 1, 2, 3, 5, 8};

	va_start(ap, fmt);
	va_copy(aq, ap);
	full = vsnprintf(want, BUF, fmt, aq);
	va_end(aq);
	assert_true(full >= 0 && full < BUF - 1);
	sizes[1] = (size_t)full + 1;
	sizes[2] = (size_t)full;
	sizes[3] = full ? (size_t)full - 1 : 0;
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		int nwant, ngot;

		for (unsigned b = 0; b < sizeof(want); b++)
			want[b] = got[b] = FILLER;
		va_copy(aq, ap);
		nwant = vsnprintf(want, sizes[i], fmt, aq);
		va_end(aq);
		va_copy(aq, ap);
		ngot = keel_vsnprintf(got, sizes[i], fmt, aq);
		va_end(aq);
		if (ngot != nwant || memcmp(got, want, sizes[i] + 7)) {
			/* Show the buffer and the first bytes after it. */
			size_t shown = MIN(sizes[i] + 7, sizeof(want) - 1);

			want[shown] = got[shown] = '\0';
			fail_msg("line %d, \"%s\", size %zu: Keel returned %d "
				 "\"%s\", host %d \"%s\"",
				 line, fmt, sizes[i], ngot, got, nwant, want);
		}
	}
	va_end(ap);
}

#define CHECK(...) check(__LINE__, __VA_ARGS__)

static void test_plain_text(void **state)
{
	(void)state;
	CHECK("%s", "");
	CHECK("hello, world");
	CHECK("a%%b");
	CHECK("%%");
	CHECK("100%% done %%%%");
}

static void test_signed(void **state)
{
	const int ints[] = {0, 1, -1, 42, -42, 999999, INT_MAX, INT_MIN};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(ints); i++) {
		int v = ints[i];

		CHECK("%d", v);
		CHECK("%i", v);
		CHECK("[%5d]", v);
		CHECK("[%-5d]", v);
		CHECK("[%05d]", v);
		CHECK("[%012d]", v);
		CHECK("[%-12i]", v);
		CHECK("[%1d]", v);
		CHECK("%d|%d", v, v / -2);
	}
}

static void test_long_signed(void **state)
{
	const long longs[] = {
	    0, -1, 1234567890123L, -1234567890123L, LONG_MAX, LONG_MIN};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(longs); i++) {
		CHECK("%ld", longs[i]);
		CHECK("%li", longs[i]);
		CHECK("%lld", (long long)longs[i]);
		CHECK("%zd", (ptrdiff_t)longs[i]);
		CHECK("[%25ld]", longs[i]);
		CHECK("[%-25ld]", longs[i]);
		CHECK("[%025ld]", longs[i]);
	}
}

static void test_unsigned_and_hex(void **state)
{
	const unsigned vals[] = {0,  1,	  9,	      10,      15,
				 16, 255, 0xdeadbeef, UINT_MAX};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
		unsigned v = vals[i];

		CHECK("%u %x %X", v, v, v);
		CHECK("[%10u][%-10u][%010u]", v, v, v);
		CHECK("[%8x][%-8x][%08x]", v, v, v);
		CHECK("[%02x][%04X]", v & 0xff, v & 0xffff);
	}
}

static void test_long_unsigned(void **state)
{
	const unsigned long vals[] = {0, 0xffffffffUL, 0x100000000UL,
				      0xfedcba9876543210UL, ULONG_MAX};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(vals); i++) {
		unsigned long v = vals[i];

		CHECK("%lu %lx %lX", v, v, v);
		CHECK("%llu %llx", (unsigned long long)v,
		      (unsigned long long)v);
		CHECK("%zu %zx", (size_t)v, (size_t)v);
		/* The register-dump format. */
		CHECK("RAX %016lx RBX %016lx", v, v >> 3);
		CHECK("[%-20lx][%03lu]", v, v);
	}
}

/* A 64-bit argument after a 32-bit one: the va_list must stay in step. */
static void test_mixed_sizes(void **state)
{
	(void)state;
	CHECK("%u %lx %d %llu %s %c %zx", 7u, 0x123456789abUL, -3,
	      18446744073709551615ULL, "str", 'z', (size_t)4096);
	CHECK("d%u v%u: RIP %04x:%016lx RFLAGS %lx CPL %u", 1u, 2u, 0x10,
	      0xffffffff81000000UL, 0x202UL, 0u);
}

static void test_strings(void **state)
{
	const char *volatile null_str = NULL;

	(void)state;
	CHECK("%s", "");
	CHECK("%s", "abc");
	CHECK("[%10s]", "abc");
	CHECK("[%-10s]", "abc");
	CHECK("[%2s]", "abcdef");
	CHECK("[%*s]", 6, "ab");
	CHECK("[%-*s]", 6, "ab");
	CHECK("%s=%s", "key", "value");
	/* glibc and Keel agree on the spelling of a NULL string. */
	CHECK("%s", null_str);
	CHECK("[%8s]", null_str);
}

static void test_chars(void **state)
{
	(void)state;
	CHECK("%c", 'a');
	CHECK("%c%c%c", 'K', 'e', 'l');
	CHECK("[%c]", ' ');
	CHECK("%c", 0x7f);
}

/* C11 §7.21.6.1: the width pads %c like any other conversion. */
static void test_char_width(void **state)
{
	(void)state;
	CHECK("[%3c]", 'x');
	CHECK("[%-3c]", 'x');
}

/* C11 §7.21.6.1p5: a negative '*' width is a '-' flag and its magnitude. */
static void test_negative_star_width(void **state)
{
	(void)state;
	CHECK("[%*d]", 5, 42);
	CHECK("[%*d]", -5, 42);
	CHECK("[%*s]", -6, "ab");
}

static void test_pointers(void **state)
{
	int local;

	(void)state;
	CHECK("%p", (void *)&local);
	CHECK("%p", (void *)0x1000);
	CHECK("%p", (void *)0xffff800000000000UL);
	CHECK("at %p: %u", (void *)test_pointers, 5u);
}

/* The width covers the whole "0x..." text, as for every conversion. */
static void test_pointer_width(void **state)
{
	(void)state;
	CHECK("[%20p]", (void *)0x1234);
	CHECK("[%-20p]", (void *)0x1234);
}

/* Keel's own choice: NULL prints as the number it is. */
static void test_null_pointer(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(keel_snprintf(buf, sizeof(buf), "%p", NULL), 3);
	assert_string_equal(buf, "0x0");
}

static void test_zero_and_left_flags_together(void **state)
{
	(void)state;
	/* '-' wins over '0' (C11 §7.21.6.1p6). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	CHECK("[%-05d]", 42);
	CHECK("[%0-5d]", -42);
	CHECK("[%-08x]", 0xabcu);
#pragma GCC diagnostic pop
}

/* What the subset leaves out is copied, not misread as an argument. */
static void test_unknown_conversion(void **state)
{
	char buf[32];

	(void)state;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	assert_int_equal(keel_snprintf(buf, sizeof(buf), "a%wb%d", 5), 5);
	assert_string_equal(buf, "a%wb5");
	assert_int_equal(keel_snprintf(buf, sizeof(buf), "end%"), 4);
	assert_string_equal(buf, "end%");
#pragma GCC diagnostic pop
}

static void test_snprintf_wrapper(void **state)
{
	char buf[8];

	(void)state;
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = FILLER;
	assert_int_equal(keel_snprintf(buf, 4, "%s-%d", "abc", 12345), 9);
	assert_string_equal(buf, "abc");
	assert_int_equal(buf[4], FILLER);
	assert_int_equal(keel_snprintf(NULL, 0, "%lu", 1234567UL), 7);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t val;
		size_t used;
	} cases[] = {
	    {"0", 0, 1},
	    {"123", 123, 3},
	    {"4096 rest", 4096, 4},
	    {"1K", KiB(1), 2},
	    {"8k", KiB(8), 2},
	    {"512M", MiB(512), 4},
	    {"2m", MiB(2), 2},
	    {"4G", GiB(4), 2},
	    {"16g", GiB(16), 3},
	    {"1024G", GiB(1024), 5},
	    {"0x1000", 0x1000, 6},
	    {"0X1f", 0x1f, 4},
	    {"0xABCdef", 0xabcdef, 8},
	    {"0x40000000", GiB(1), 10},
	    {"0x10M", MiB(16), 5},
	    {"0xffffffffffffffff", UINT64_MAX, 18},
	    {"18446744073709551615", UINT64_MAX, 20},
	    {"2GiB", GiB(2), 2},
	    {"1T", 1, 1},
	    {"12ab", 12, 2},
	    {"abc", 0, 0},
	    {"", 0, 0},
	    {"-1", 0, 0},
	};

	(void)state;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *end = NULL;
		uint64_t v = parse_size(cases[i].s, &end);

		if (v != cases[i].val || end != cases[i].s + cases[i].used)
			fail_msg("parse_size(\"%s\") = %#lx, used %td; want "
				 "%#lx, used %zu",
				 cases[i].s, (unsigned long)v, end - cases[i].s,
				 (unsigned long)cases[i].val, cases[i].used);
		assert_int_equal(parse_size(cases[i].s, NULL), cases[i].val);
	}
}

static void test_memmove_overlap(void **state)
{
	char buf[16];

	(void)state;
	keel_memcpy(buf, "0123456789", 11);
	/* Forward overlap: the destination is above the source. */
	assert_ptr_equal(keel_memmove(buf + 2, buf, 6), buf + 2);
	assert_string_equal(buf, "0101234589");
	keel_memcpy(buf, "0123456789", 11);
	/* Backward overlap. */
	keel_memmove(buf, buf + 3, 7);
	assert_string_equal(buf, "3456789789");
	keel_memmove(buf, buf, 10);
	assert_string_equal(buf, "3456789789");
	keel_memmove(buf + 1, buf, 0);
	assert_string_equal(buf, "3456789789");
}

static void test_memset_memcmp(void **state)
{
	unsigned char a[8], b[8];

	(void)state;
	assert_ptr_equal(keel_memset(a, 0x1AB, sizeof(a)), a);
	for (unsigned i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], 0xAB);
	keel_memset(b, 0xAB, sizeof(b));
	assert_int_equal(keel_memcmp(a, b, sizeof(a)), 0);
	b[5] = 0x01;
	/* Bytes compare as unsigned char (C11 §7.24.4p1). */
	assert_true(keel_memcmp(a, b, sizeof(a)) > 0);
	assert_true(keel_memcmp(b, a, sizeof(a)) < 0);
	assert_int_equal(keel_memcmp(a, b, 5), 0);
	assert_int_equal(keel_memcmp(a, b, 0), 0);
}

static void test_string_compare(void **state)
{
	(void)state;
	assert_int_equal(keel_strcmp("abc", "abc"), 0);
	assert_true(keel_strcmp("abc", "abd") < 0);
	assert_true(keel_strcmp("abc", "ab") > 0);
	assert_true(keel_strcmp("", "a") < 0);
	assert_true(keel_strcmp("\xff", "a") > 0);
	assert_int_equal(keel_strncmp("abcdef", "abcxyz", 3), 0);
	assert_true(keel_strncmp("abcdef", "abcxyz", 4) < 0);
	assert_int_equal(keel_strncmp("abc", "abd", 0), 0);
	/* Both strings end before n: equal, and nothing past them is read. */
	assert_int_equal(keel_strncmp("ab", "ab", 100), 0);
	assert_true(keel_strncmp("ab", "abc", 100) < 0);
	assert_true(keel_strncmp("\x80", "\x7f", 1) > 0);
}

static void test_string_length_and_search(void **state)
{
	const char *s = "console=com1";

	(void)state;
	assert_int_equal(keel_strlen(""), 0);
	assert_int_equal(keel_strlen(s), 12);
	assert_int_equal(keel_strnlen(s, 5), 5);
	assert_int_equal(keel_strnlen(s, 100), 12);
	assert_int_equal(keel_strnlen(s, 0), 0);
	assert_ptr_equal(keel_strchr(s, '='), s + 7);
	assert_ptr_equal(keel_strchr(s, 'c'), s);
	assert_null(keel_strchr(s, 'x'));
	/* The terminator is part of the string (C11 §7.24.5.2). */
	assert_ptr_equal(keel_strchr(s, '\0'), s + 12);
	/* c is converted to char: 0x100 + '=' is '='. */
	assert_ptr_equal(keel_strchr(s, 0x100 + '='), s + 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_text),
	    cmocka_unit_test(test_signed),
	    cmocka_unit_test(test_long_signed),
	    cmocka_unit_test(test_unsigned_and_hex),
	    cmocka_unit_test(test_long_unsigned),
	    cmocka_unit_test(test_mixed_sizes),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_chars),
	    cmocka_unit_test(test_char_width),
	    cmocka_unit_test(test_negative_star_width),
	    cmocka_unit_test(test_pointers),
	    cmocka_unit_test(test_pointer_width),
	    cmocka_unit_test(test_null_pointer),
	    cmocka_unit_test(test_zero_and_left_flags_together),
	    cmocka_unit_test(test_unknown_conversion),
	    cmocka_unit_test(test_snprintf_wrapper),
	    cmocka_unit_test(test_parse_size),
	    cmocka_unit_test(test_memmove_overlap),
	    cmocka_unit_test(test_memset_memcmp),
	    cmocka_unit_test(test_string_compare),
	    cmocka_unit_test(test_string_length_and_search),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

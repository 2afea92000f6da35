/* SPDX-License-Identifier: MIT */
/*
 * `kl info` output (toolstack/platform_info.c): the xl-style lines with
 * memory in MiB and the TSC rate in MHz, and the JSON object with exact
 * byte counts, escaped strings, and a scheduler name that fills its whole
 * field without a NUL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kl/platform_info.h>

static const struct keel_platform_info sample = {
    .size = sizeof(struct keel_platform_info),
    .version = (0 << 16) | 1,
    .nr_cpus = 4,
    .nr_domains = 3,
    .tsc_khz = 2994007,
    .total_ram = 0x17FF7F000ULL, /* 6143 MiB and a bit */
    .free_ram = 300ULL << 20,
    .sched_name = "credit",
};

static char *capture(void (*print)(FILE *, const char *,
				   const struct keel_platform_info *),
		     const char *host, const struct keel_platform_info *info)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	print(f, host, info);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_text(void **state)
{
	char *text = capture(kl_info_print_text, "dom0", &sample);

	(void)state;
	assert_string_equal(text, "host                   : dom0\n"
				  "keel_version           : 0.1\n"
				  "nr_cpus                : 4\n"
				  "scheduler              : credit\n"
				  "tsc_mhz                : 2994.007\n"
				  "total_memory           : 6143\n"
				  "free_memory            : 300\n"
				  "nr_domains             : 3\n");
	free(text);
}

static void test_json(void **state)
{
	char *text = capture(kl_info_print_json, "dom0", &sample);

	(void)state;
	assert_string_equal(
	    text, "{\"host\": \"dom0\", \"keel_version\": \"0.1\", "
		  "\"nr_cpus\": 4, \"scheduler\": \"credit\", "
		  "\"tsc_khz\": 2994007, \"total_memory_bytes\": 6441922560, "
		  "\"free_memory_bytes\": 314572800, \"nr_domains\": 3}\n");
	free(text);
}

static void test_json_escapes_and_full_name(void **state)
{
	struct keel_platform_info info = sample;
	char *text;

	(void)state;
	memcpy(info.sched_name, "0123456789abcdef", KEEL_SCHED_NAME_LEN);
	text = capture(kl_info_print_json, "a\"b\\c\n", &info);
	assert_non_null(strstr(text, "\"host\": \"a\\\"b\\\\c\\u000a\""));
	assert_non_null(strstr(text, "\"scheduler\": \"0123456789abcdef\","));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_escapes_and_full_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

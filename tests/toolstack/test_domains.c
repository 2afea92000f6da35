/* SPDX-License-Identifier: MIT */
/*
 * Naming and printing domains (toolstack/domains.c) and kl's argument
 * parsing (toolstack/cli.c): lookup by domid or name, `kl list` text and
 * JSON exactly, vcpu-list lines, create's options and overrides, CPU
 * lists for vcpu-pin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <kl/cli.h>
#include <kl/domains.h>

static struct keel_domain_info doms[3];

static int setup(void **state)
{
	(void)state;
	memset(doms, 0, sizeof(doms));
	doms[0] = (struct keel_domain_info){
	    .domid = 0,
	    .state = KEEL_DOMSTATE_RUNNING,
	    .flags = KEEL_DOMFLAG_PRIVILEGED,
	    .nr_vcpus = 2,
	    .nr_vcpus_up = 2,
	    .weight = 256,
	    .ram_bytes = 1920ULL << 20,
	    .cpu_time_ns = 12345000000ULL,
	};
	strcpy(doms[0].name, "Domain-0");
	doms[1] = (struct keel_domain_info){
	    .domid = 7,
	    .state = KEEL_DOMSTATE_PAUSED,
	    .nr_vcpus = 1,
	    .weight = 512,
	    .cap = 50,
	    .ram_bytes = 128ULL << 20,
	    .p2m_bytes = 300 << 10,
	    .cpu_time_ns = 1500000000ULL,
	};
	strcpy(doms[1].name, "busybox");
	doms[2] = (struct keel_domain_info){
	    .domid = 12,
	    .state = KEEL_DOMSTATE_CRASHED,
	    .nr_vcpus = 4,
	    .ram_bytes = 64ULL << 20,
	};
	/* A name that is a number, and a full field without its NUL. */
	memcpy(doms[2].name, "7", 2);
	strcpy(doms[2].crash_reason, "triple \"fault\"");
	return 0;
}

static void test_find(void **state)
{
	struct keel_domain_info full = doms[1];

	(void)state;
	assert_int_equal(kl_domain_find(doms, 3, "busybox"), 1);
	assert_int_equal(kl_domain_find(doms, 3, "0"), 0);
	assert_int_equal(kl_domain_find(doms, 3, "Domain-0"), 0);
	/* Digits are a domid first (as xl), then a name. */
	assert_int_equal(kl_domain_find(doms, 3, "7"), 1);
	assert_int_equal(kl_domain_find(doms, 3, "12"), 2);
	assert_int_equal(kl_domain_find(doms, 3, "3"), -1);
	assert_int_equal(kl_domain_find(doms, 3, "busy"), -1);
	assert_int_equal(kl_domain_find(doms, 3, ""), -1);
	assert_int_equal(kl_domain_find(doms, 3, "99999999999999999999"), -1);
	memset(full.name, 'x', KEEL_DOMAIN_NAME_LEN);
	assert_int_equal(
	    kl_domain_find(&full, 1, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), 0);
}

static char *capture_list(bool json, bool long_format)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	if (json)
		kl_list_print_json(f, doms, 3);
	else
		kl_list_print_text(f, doms, 3, long_format);
	assert_int_equal(fclose(f), 0);
	return text;
}

static void test_list_text(void **state)
{
	char *text = capture_list(false, false);

	(void)state;
	assert_string_equal(
	    text,
	    "Name                                ID   Mem VCPUs  State   "
	    "Time(s)\n"
	    "Domain-0                             0  1920     2 r-----      "
	    "12.3\n"
	    "busybox                              7   128     1 --p---       "
	    "1.5\n"
	    "7                                   12    64     4 ----c-       "
	    "0.0\n");
	free(text);
	text = capture_list(false, true);
	assert_non_null(strstr(text, "Weight   Cap  P2M(K)  Reason\n"));
	assert_non_null(strstr(text, "   512    50     300  \n"));
	assert_non_null(strstr(text, "triple \"fault\"\n"));
	free(text);
}

static void test_list_json(void **state)
{
	char *text = capture_list(true, false);

	(void)state;
	assert_string_equal(
	    text,
	    "[{\"domid\": 0, \"name\": \"Domain-0\", \"state\": \"running\", "
	    "\"shutdown_reason\": \"\", \"crash_reason\": \"\", "
	    "\"privileged\": true, \"boot_domain\": false, \"vcpus\": 2, "
	    "\"vcpus_up\": 2, \"memory_bytes\": 2013265920, \"p2m_bytes\": 0, "
	    "\"cpu_time_ns\": 12345000000, \"weight\": 256, \"cap\": 0}, "
	    "{\"domid\": 7, \"name\": \"busybox\", \"state\": \"paused\", "
	    "\"shutdown_reason\": \"\", \"crash_reason\": \"\", "
	    "\"privileged\": false, \"boot_domain\": false, \"vcpus\": 1, "
	    "\"vcpus_up\": 0, \"memory_bytes\": 134217728, \"p2m_bytes\": "
	    "307200, \"cpu_time_ns\": 1500000000, \"weight\": 512, \"cap\": "
	    "50}, "
	    "{\"domid\": 12, \"name\": \"7\", \"state\": \"crashed\", "
	    "\"shutdown_reason\": \"\", \"crash_reason\": \"triple "
	    "\\\"fault\\\"\", \"privileged\": false, \"boot_domain\": false, "
	    "\"vcpus\": 4, \"vcpus_up\": 0, \"memory_bytes\": 67108864, "
	    "\"p2m_bytes\": 0, \"cpu_time_ns\": 0, \"weight\": 0, \"cap\": "
	    "0}]\n");
	free(text);
}

static void test_list_json_empty_and_escapes(void **state)
{
	struct keel_domain_info d = doms[1];
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	kl_list_print_json(f, &d, 0);
	fflush(f);
	assert_string_equal(text, "[]\n");
	rewind(f);
	d.shutdown_reason = KEEL_SHUTDOWN_REBOOT;
	d.state = KEEL_DOMSTATE_SHUTDOWN;
	memcpy(d.name, "a\\b\x01", 5);
	kl_list_print_json(f, &d, 1);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "\"name\": \"a\\\\b\\u0001\""));
	assert_non_null(strstr(text, "\"state\": \"shutdown\""));
	assert_non_null(strstr(text, "\"shutdown_reason\": \"reboot\""));
	free(text);
}

static void test_state_letters(void **state)
{
	static const struct {
		uint32_t state;
		const char *letters, *name;
	} cases[] = {
	    {KEEL_DOMSTATE_BUILDING, "-b----", "building"},
	    {KEEL_DOMSTATE_RUNNING, "r-----", "running"},
	    {KEEL_DOMSTATE_PAUSED, "--p---", "paused"},
	    {KEEL_DOMSTATE_SHUTDOWN, "---s--", "shutdown"},
	    {KEEL_DOMSTATE_CRASHED, "----c-", "crashed"},
	    {99, "------", "unknown"},
	};
	struct keel_domain_info d;
	char letters[7];

	(void)state;
	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		d.state = cases[i].state;
		kl_domain_state_letters(&d, letters);
		assert_string_equal(letters, cases[i].letters);
		assert_string_equal(kl_domain_state_name(d.state),
				    cases[i].name);
	}
}

static void test_vcpu_line(void **state)
{
	struct keel_vcpu_info v = {.vcpu = 1,
				   .state = KEEL_VCPUSTATE_BLOCKED,
				   .pcpu = -1,
				   .affinity = 0x2F,
				   .cpu_time_ns = 2500000000ULL};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	kl_vcpu_print(f, &doms[1], &v, true);
	v.pcpu = 3;
	v.affinity = UINT64_MAX;
	kl_vcpu_print(f, &doms[1], &v, false);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(
	    text, "Name                                ID  VCPU   CPU State   "
		  "    Time(s)  Affinity\n"
		  "busybox                              7     1     - blocked  "
		  "       2.5  0-3,5\n"
		  "busybox                              7     1     3 blocked  "
		  "       2.5  all\n");
	free(text);
}

static void test_create_args(void **state)
{
	char *argv1[] = {"create", "-cp", "vm.cfg", "memory=256", "name=\"b\""};
	char *argv2[] = {"create", "-qt", "--", "-odd.cfg"};
	char *bad1[] = {"create", "-x", "vm.cfg"};
	char *bad2[] = {"create", "-c"};
	char *bad3[] = {"create", "memory=256"};
	char *bad4[] = {"create", "a.cfg", "b.cfg"};
	char *help[] = {"create", "--help"};
	struct kl_create_args a;
	char err[128];

	(void)state;
	assert_int_equal(kl_create_args_parse(5, argv1, &a, err, sizeof(err)),
			 0);
	assert_true(a.console && a.paused && !a.quiet && !a.timing);
	assert_string_equal(a.file, "vm.cfg");
	assert_int_equal(a.nr_overrides, 2);
	assert_string_equal(a.overrides[0], "memory=256");
	assert_string_equal(a.overrides[1], "name=\"b\"");
	assert_int_equal(kl_create_args_parse(4, argv2, &a, err, sizeof(err)),
			 0);
	assert_true(a.quiet && a.timing && !a.console);
	assert_string_equal(a.file, "-odd.cfg");
	assert_int_equal(a.nr_overrides, 0);
	assert_int_equal(kl_create_args_parse(3, bad1, &a, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	assert_int_equal(kl_create_args_parse(2, bad2, &a, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "no configuration file given");
	assert_int_equal(kl_create_args_parse(2, bad3, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "configuration file comes first"));
	assert_int_equal(kl_create_args_parse(3, bad4, &a, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'b.cfg' is not a KEY=VALUE"));
	assert_int_equal(kl_create_args_parse(2, help, &a, err, sizeof(err)),
			 1);
}

static void test_numbers_and_cpus(void **state)
{
	uint64_t mask;
	uint32_t v;

	(void)state;
	assert_int_equal(kl_parse_u32("65535", 1, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(kl_parse_u32("0", 1, 65535, &v), -EINVAL);
	assert_int_equal(kl_parse_u32("65536", 1, 65535, &v), -EINVAL);
	assert_int_equal(kl_parse_u32("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(kl_parse_u32("1x", 0, 10, &v), -EINVAL);
	assert_int_equal(kl_parse_u32("", 0, 10, &v), -EINVAL);
	assert_int_equal(kl_parse_u32("99999999999", 0, UINT32_MAX, &v),
			 -EINVAL);
	assert_int_equal(kl_parse_cpumask64("all", &mask), 0);
	assert_true(mask == UINT64_MAX);
	assert_int_equal(kl_parse_cpumask64("0-3,^1", &mask), 0);
	assert_int_equal(mask, 0xD);
	assert_int_equal(kl_parse_cpumask64("63", &mask), 0);
	assert_true(mask == 1ULL << 63);
	assert_int_equal(kl_parse_cpumask64("64", &mask), -EINVAL);
	assert_int_equal(kl_parse_cpumask64("1,^1", &mask), -EINVAL);
	assert_int_equal(kl_parse_cpumask64("x", &mask), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_find, setup),
	    cmocka_unit_test_setup(test_list_text, setup),
	    cmocka_unit_test_setup(test_list_json, setup),
	    cmocka_unit_test_setup(test_list_json_empty_and_escapes, setup),
	    cmocka_unit_test(test_state_letters),
	    cmocka_unit_test_setup(test_vcpu_line, setup),
	    cmocka_unit_test(test_create_args),
	    cmocka_unit_test(test_numbers_and_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

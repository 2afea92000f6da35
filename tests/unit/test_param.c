/* SPDX-License-Identifier: MIT */
/*
 * Keel's command-line options (hypervisor/common/param.c): options
 * declared with param.h's macros in this file, as hypervisor files declare
 * theirs, set by param_parse() from whole command lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/lib.h>
#include <keel/param.h>
#include "shim.h"

static uint64_t opt_mem;
integer_param("dom0_mem", opt_mem);
static uint64_t opt_mem_max;
integer_param("dom0_mem_max", opt_mem_max);
static unsigned opt_cpus;
integer_param("maxcpus", opt_cpus);
static char opt_name[6];
string_param("sched", opt_name);

static const char *seen[4];
static unsigned nr_seen;

static int record(const char *val)
{
	if (!strncmp(val, "bad", 3))
		return -1;
	seen[nr_seen++] = val;
	return 0;
}
custom_param("domu", record);

static int reset(void **state)
{
	(void)state;
	opt_mem = opt_mem_max = 0;
	opt_cpus = 0;
	memset(opt_name, 0, sizeof(opt_name));
	nr_seen = 0;
	shim_last_printk[0] = '\0';
	return 0;
}

static void test_values(void **state)
{
	(void)state;
	param_parse("  dom0_mem_max=4G  dom0_mem=512M maxcpus=0x10 sched=rr ");
	assert_int_equal(opt_mem, 512ULL << 20);
	assert_int_equal(opt_mem_max, 4ULL << 30);
	assert_int_equal(opt_cpus, 16);
	assert_string_equal(opt_name, "rr");
	assert_string_equal(shim_last_printk, "");
}

static void test_later_wins_and_strings_truncate(void **state)
{
	(void)state;
	param_parse("maxcpus=2 sched=round-robin maxcpus=3");
	assert_int_equal(opt_cpus, 3);
	assert_string_equal(opt_name, "round");
}

static void test_custom_sees_every_value(void **state)
{
	(void)state;
	param_parse("domu=a:1,mem=32M quiet=1 domu=b:2 domu=bad");
	assert_int_equal(nr_seen, 2);
	/* Values point into the command line and end at a space. */
	assert_memory_equal(seen[0], "a:1,mem=32M ", 12);
	assert_string_equal(seen[1], "b:2 domu=bad");
	assert_string_equal(shim_last_printk,
			    "option domu=bad: bad value; ignored\n");
}

static void test_unknown_options_are_named(void **state)
{
	(void)state;
	param_parse("console=com1 dom0_mem=1G");
	assert_string_equal(shim_last_printk,
			    "unknown option console= ignored\n");
	assert_int_equal(opt_mem, 1ULL << 30);
	param_parse("quiet");
	assert_string_equal(shim_last_printk, "unknown option quiet ignored\n");
	/* Prefixes of known names are not those options. */
	param_parse("dom0=1");
	assert_string_equal(shim_last_printk, "unknown option dom0= ignored\n");
	param_parse("dom0_me=1");
	assert_string_equal(shim_last_printk,
			    "unknown option dom0_me= ignored\n");
}

static void test_bad_values_change_nothing(void **state)
{
	(void)state;
	opt_mem = 7;
	param_parse("dom0_mem");
	assert_string_equal(shim_last_printk,
			    "option dom0_mem needs a value; ignored\n");
	param_parse("dom0_mem=");
	assert_string_equal(shim_last_printk,
			    "option dom0_mem=: bad value; ignored\n");
	param_parse("dom0_mem=12Q");
	assert_string_equal(shim_last_printk,
			    "option dom0_mem=12Q: bad value; ignored\n");
	assert_int_equal(opt_mem, 7);
	/* An option's value may contain '='. */
	param_parse("sched=a=b");
	assert_string_equal(opt_name, "a=b");
}

static void test_empty(void **state)
{
	(void)state;
	param_parse("");
	param_parse("   ");
	assert_string_equal(shim_last_printk, "");
	assert_int_equal(opt_mem, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_values, reset),
	    cmocka_unit_test_setup(test_later_wins_and_strings_truncate, reset),
	    cmocka_unit_test_setup(test_custom_sees_every_value, reset),
	    cmocka_unit_test_setup(test_unknown_options_are_named, reset),
	    cmocka_unit_test_setup(test_bad_values_change_nothing, reset),
	    cmocka_unit_test_setup(test_empty, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

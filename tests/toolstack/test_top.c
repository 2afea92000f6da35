/* SPDX-License-Identifier: MIT */
/*
 * `kl top`'s pure part (toolstack/top.c): rates between two samples,
 * unknown rates (new domain, reused id, counters going backwards),
 * sorting, the table and the JSON report exactly.
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
#include <kl/top.h>

static struct keel_vcpu_info vcpus[2][4];
static struct kl_top_dom doms[2][3];
static struct kl_top_sample samples[2];

/*
 * Two samples 2 s apart. Dom0 (2 vCPUs) used 0.5 s of CPU, 1000 exits;
 * "web" (1 vCPU) 1.5 s, 300 exits, 40 interrupts, 10 I/O requests;
 * "new" exists only in the second sample.
 */
static int setup(void **state)
{
	(void)state;
	memset(vcpus, 0, sizeof(vcpus));
	memset(doms, 0, sizeof(doms));
	for (int s = 0; s < 2; s++) {
		struct kl_top_dom *d0 = &doms[s][0], *web = &doms[s][1];

		d0->info = (struct keel_domain_info){
		    .domid = 0,
		    .state = KEEL_DOMSTATE_RUNNING,
		    .nr_vcpus = 2,
		    .nr_vcpus_up = 2,
		    .weight = 256,
		    .ram_bytes = 512ull << 20,
		    .cpu_time_ns = 10000000000ull + s * 500000000ull,
		    .name = "Domain-0"};
		d0->nr_vcpus = 2;
		d0->vcpus = &vcpus[s][0];
		vcpus[s][0] = (struct keel_vcpu_info){
		    .vcpu = 0,
		    .state = KEEL_VCPUSTATE_RUNNABLE,
		    .pcpu = 0,
		    .cpu_time_ns = 6000000000ull + s * 400000000ull,
		    .exits = 5000 + s * 800,
		    .irqs_injected = 100 + s * 20};
		vcpus[s][1] = (struct keel_vcpu_info){
		    .vcpu = 1,
		    .state = KEEL_VCPUSTATE_BLOCKED,
		    .pcpu = 1,
		    .cpu_time_ns = 4000000000ull + s * 100000000ull,
		    .exits = 3000 + s * 200};
		web->info = (struct keel_domain_info){
		    .domid = 3,
		    .state = KEEL_DOMSTATE_RUNNING,
		    .nr_vcpus = 1,
		    .nr_vcpus_up = 1,
		    .weight = 512,
		    .cap = 50,
		    .ram_bytes = 128ull << 20,
		    .cpu_time_ns = 2000000000ull + s * 1500000000ull,
		    .name = "web"};
		web->nr_vcpus = 1;
		web->vcpus = &vcpus[s][2];
		vcpus[s][2] = (struct keel_vcpu_info){
		    .vcpu = 0,
		    .state = KEEL_VCPUSTATE_RUNNABLE,
		    .pcpu = 1,
		    .cpu_time_ns = 2000000000ull + s * 1500000000ull,
		    .exits = 700 + s * 300,
		    .irqs_injected = 60 + s * 40,
		    .ioreqs = 5 + s * 10};
		samples[s].time_ns = 1000000000000ull + s * 2000000000ull;
		samples[s].doms = doms[s];
		samples[s].nr = 2;
	}
	doms[1][2].info =
	    (struct keel_domain_info){.domid = 4,
				      .state = KEEL_DOMSTATE_PAUSED,
				      .nr_vcpus = 1,
				      .ram_bytes = 32ull << 20,
				      .cpu_time_ns = 7,
				      .name = "new"};
	doms[1][2].nr_vcpus = 1;
	doms[1][2].vcpus = &vcpus[1][3];
	vcpus[1][3] = (struct keel_vcpu_info){
	    .vcpu = 0, .state = KEEL_VCPUSTATE_STOPPED, .pcpu = -1};
	samples[1].nr = 3;
	return 0;
}

static void test_rate(void **state)
{
	(void)state;
	assert_true(kl_top_rate(100, 400, 2000000000ull) == 150.0);
	assert_true(kl_top_rate(5, 5, 1000000000ull) == 0.0);
	assert_true(kl_top_rate(400, 100, 1000000000ull) < 0);
	assert_true(kl_top_rate(1, 2, 0) < 0);
}

static void test_rows(void **state)
{
	struct kl_top_row *rows;
	size_t nr;

	(void)state;
	assert_int_equal(kl_top_rows(&samples[0], &samples[1], &rows, &nr), 0);
	assert_int_equal(nr, 3);
	assert_string_equal(rows[0].name, "Domain-0");
	assert_true(rows[0].cpu_pct == 25.0);
	assert_true(rows[0].exits_s == 500.0);
	assert_true(rows[0].irqs_s == 10.0);
	assert_true(rows[0].ioreqs_s == 0.0);
	assert_int_equal(rows[0].exits, 9000);
	assert_int_equal(rows[0].nr_vcpu_rows, 2);
	assert_true(rows[0].vcpus[0].cpu_pct == 20.0);
	assert_true(rows[0].vcpus[1].cpu_pct == 5.0);
	assert_true(rows[0].vcpus[1].exits_s == 100.0);
	assert_true(rows[1].cpu_pct == 75.0);
	assert_true(rows[1].exits_s == 150.0);
	assert_true(rows[1].irqs_s == 20.0);
	assert_true(rows[1].ioreqs_s == 5.0);
	assert_string_equal(rows[1].state_letters, "r-----");
	/* New since the first sample: nothing to compare with. */
	assert_true(rows[2].cpu_pct < 0 && rows[2].exits_s < 0 &&
		    rows[2].vcpus[0].cpu_pct < 0);
	kl_top_rows_free(rows, nr);

	/* No first sample at all. */
	assert_int_equal(kl_top_rows(NULL, &samples[1], &rows, &nr), 0);
	assert_true(rows[1].cpu_pct < 0);
	kl_top_rows_free(rows, nr);
}

static void test_reused_id(void **state)
{
	struct kl_top_row *rows;
	size_t nr;

	(void)state;
	/* Domain 3 destroyed and another created under its id. */
	strcpy(doms[1][1].info.name, "other");
	assert_int_equal(kl_top_rows(&samples[0], &samples[1], &rows, &nr), 0);
	assert_true(rows[1].cpu_pct < 0 && rows[1].exits_s < 0);
	kl_top_rows_free(rows, nr);
	/* Same name, but counters went backwards. */
	strcpy(doms[1][1].info.name, "web");
	doms[1][1].info.cpu_time_ns = 1;
	vcpus[1][2].exits = 1;
	assert_int_equal(kl_top_rows(&samples[0], &samples[1], &rows, &nr), 0);
	assert_true(rows[1].cpu_pct < 0 && rows[1].exits_s < 0);
	assert_true(rows[1].irqs_s == 20.0);
	kl_top_rows_free(rows, nr);
}

static void test_sort(void **state)
{
	struct kl_top_row *rows;
	size_t nr;
	enum kl_top_sort key;

	(void)state;
	assert_int_equal(kl_top_sort_parse("cpu", &key), 0);
	assert_int_equal(key, KL_TOP_SORT_CPU);
	assert_int_equal(kl_top_sort_parse("exits", &key), 0);
	assert_int_equal(key, KL_TOP_SORT_EXITS);
	assert_int_equal(kl_top_sort_parse("mem", &key), -EINVAL);
	assert_int_equal(kl_top_rows(&samples[0], &samples[1], &rows, &nr), 0);
	kl_top_sort(rows, nr, KL_TOP_SORT_CPU);
	assert_int_equal(rows[0].domid, 3);
	assert_int_equal(rows[1].domid, 0);
	assert_int_equal(rows[2].domid, 4); /* unknown last */
	kl_top_sort(rows, nr, KL_TOP_SORT_EXITS);
	assert_int_equal(rows[0].domid, 0);
	kl_top_sort(rows, nr, KL_TOP_SORT_NAME);
	assert_string_equal(rows[0].name, "Domain-0");
	assert_string_equal(rows[1].name, "new");
	assert_string_equal(rows[2].name, "web");
	kl_top_sort(rows, nr, KL_TOP_SORT_ID);
	assert_int_equal(rows[2].domid, 4);
	assert_int_equal(rows[0].domid, 0);
	kl_top_rows_free(rows, nr);
}

static char *print(bool json, bool vcpus)
{
	struct kl_top_row *rows;
	size_t nr, len = 0;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(kl_top_rows(&samples[0], &samples[1], &rows, &nr), 0);
	if (json)
		kl_top_print_json(f, rows, nr, 2.0, 7);
	else
		kl_top_print_text(f, rows, nr, vcpus, 2.0);
	fclose(f);
	kl_top_rows_free(rows, nr);
	return buf;
}

static void test_text(void **state)
{
	char *out;

	(void)state;
	out = print(false, false);
	assert_string_equal(
	    out,
	    "kl top - 3 domains, 2 running, interval 2.0s\n"
	    "NAME                    ID  STATE     CPU(sec) CPU(%)     MEM(k) "
	    "VCPUS    EXITS/s    IRQS/s  IOREQS/s\n"
	    "Domain-0                 0 r-----           10   25.0     524288 "
	    "    2        500        10         0\n"
	    "web                      3 r-----            3   75.0     131072 "
	    "    1        150        20         5\n"
	    "new                      4 --p---            0      -      32768 "
	    "    1          -         -         -\n");
	free(out);
	out = print(false, true);
	assert_non_null(strstr(
	    out,
	    "    1          -         -         -\n"
	    "    VCPU   0  CPU   -  stopped  CPU(%)      -  EXITS/s          "
	    "-\n"));
	assert_non_null(strstr(out,
			       "    VCPU   1  CPU   1  blocked  CPU(%)    5.0  "
			       "EXITS/s        100\n"));
	free(out);
}

static void test_json(void **state)
{
	char *out;

	(void)state;
	out = print(true, false);
	assert_string_equal(
	    out,
	    "{\"report\": 7, \"interval_s\": 2.000, \"domains\": ["
	    "{\"domid\": 0, \"name\": \"Domain-0\", \"state\": \"running\", "
	    "\"memory_bytes\": 536870912, \"vcpus\": 2, \"vcpus_up\": 2, "
	    "\"weight\": 256, \"cap\": 0, \"cpu_time_ns\": 10500000000, "
	    "\"exits\": 9000, \"irqs\": 120, \"ioreqs\": 0, "
	    "\"cpu_percent\": 25.00, \"exits_per_s\": 500.0, "
	    "\"irqs_per_s\": 10.0, \"ioreqs_per_s\": 0.0, \"vcpu_list\": ["
	    "{\"vcpu\": 0, \"pcpu\": 0, \"state\": \"runnable\", "
	    "\"cpu_percent\": 20.00, \"exits_per_s\": 400.0}, "
	    "{\"vcpu\": 1, \"pcpu\": 1, \"state\": \"blocked\", "
	    "\"cpu_percent\": 5.00, \"exits_per_s\": 100.0}]}, "
	    "{\"domid\": 3, \"name\": \"web\", \"state\": \"running\", "
	    "\"memory_bytes\": 134217728, \"vcpus\": 1, \"vcpus_up\": 1, "
	    "\"weight\": 512, \"cap\": 50, \"cpu_time_ns\": 3500000000, "
	    "\"exits\": 1000, \"irqs\": 100, \"ioreqs\": 15, "
	    "\"cpu_percent\": 75.00, \"exits_per_s\": 150.0, "
	    "\"irqs_per_s\": 20.0, \"ioreqs_per_s\": 5.0, \"vcpu_list\": ["
	    "{\"vcpu\": 0, \"pcpu\": 1, \"state\": \"runnable\", "
	    "\"cpu_percent\": 75.00, \"exits_per_s\": 150.0}]}, "
	    "{\"domid\": 4, \"name\": \"new\", \"state\": \"paused\", "
	    "\"memory_bytes\": 33554432, \"vcpus\": 1, \"vcpus_up\": 0, "
	    "\"weight\": 0, \"cap\": 0, \"cpu_time_ns\": 7, "
	    "\"exits\": 0, \"irqs\": 0, \"ioreqs\": 0, "
	    "\"cpu_percent\": null, \"exits_per_s\": null, "
	    "\"irqs_per_s\": null, \"ioreqs_per_s\": null, \"vcpu_list\": ["
	    "{\"vcpu\": 0, \"pcpu\": -1, \"state\": \"stopped\", "
	    "\"cpu_percent\": null, \"exits_per_s\": null}]}]}\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate),
	    cmocka_unit_test_setup(test_rows, setup),
	    cmocka_unit_test_setup(test_reused_id, setup),
	    cmocka_unit_test_setup(test_sort, setup),
	    cmocka_unit_test_setup(test_text, setup),
	    cmocka_unit_test_setup(test_json, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

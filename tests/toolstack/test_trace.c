/* SPDX-License-Identifier: MIT */
/*
 * `kl trace`'s pure part (toolstack/trace.c): reading a ring the way
 * Keel writes it (wrap, a reader left behind, records overwritten while
 * copied), the merge by TSC, reason lists, filters, the text line and
 * JSON object exactly, statistics and percentiles, and the record file.
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
#include <kl/trace.h>

#define SLOTS 8
#define KHZ   2000000 /* 2 GHz: 2000 cycles a microsecond */

static struct {
	struct keel_trace_ring hdr;
	struct keel_trace_rec slot[SLOTS];
} ring;

/* As Keel's trace.c: the record in slot head % nr_slots, then head. */
static void produce(uint64_t tsc)
{
	ring.slot[ring.hdr.head % SLOTS] =
	    (struct keel_trace_rec){.tsc = tsc, .kind = KEEL_TRACE_EXIT};
	ring.hdr.head++;
}

static int setup(void **state)
{
	(void)state;
	memset(&ring, 0, sizeof(ring));
	ring.hdr.nr_slots = SLOTS;
	return 0;
}

static void test_ring_read(void **state)
{
	struct keel_trace_rec out[SLOTS];
	uint64_t pos = 0, lost = 0;

	(void)state;
	assert_int_equal(kl_trace_ring_read(&ring.hdr, &pos, out, SLOTS, &lost),
			 0);
	for (uint64_t t = 1; t <= 5; t++)
		produce(t);
	assert_int_equal(kl_trace_ring_read(&ring.hdr, &pos, out, 3, &lost), 3);
	assert_int_equal(out[0].tsc, 1);
	assert_int_equal(out[2].tsc, 3);
	assert_int_equal(kl_trace_ring_read(&ring.hdr, &pos, out, SLOTS, &lost),
			 2);
	assert_int_equal(out[1].tsc, 5);
	assert_int_equal(pos, 5);
	assert_int_equal(lost, 0);
	/* 13 more: the reader is 5 behind a ring of 8. */
	for (uint64_t t = 6; t <= 18; t++)
		produce(t);
	assert_int_equal(kl_trace_ring_read(&ring.hdr, &pos, out, SLOTS, &lost),
			 SLOTS);
	assert_int_equal(lost, 5);
	assert_int_equal(out[0].tsc, 11);
	assert_int_equal(out[SLOTS - 1].tsc, 18);
	assert_int_equal(pos, 18);
}

/* Reads that stop short of head, and a reader two past a full ring. */
static void test_ring_catch_up(void **state)
{
	struct keel_trace_rec out[SLOTS];
	uint64_t pos = 0, lost = 0;
	struct keel_trace_ring *r = &ring.hdr;

	(void)state;
	for (uint64_t t = 1; t <= SLOTS; t++)
		produce(t);
	assert_int_equal(kl_trace_ring_read(r, &pos, out, 5, &lost), 5);
	produce(9);
	produce(10);
	produce(11);
	assert_int_equal(kl_trace_ring_read(r, &pos, out, SLOTS, &lost), 6);
	assert_int_equal(lost, 0);
	assert_int_equal(out[0].tsc, 6);
	/* Behind by exactly a ring plus two. */
	for (uint64_t t = 12; t <= 11 + SLOTS + 2; t++)
		produce(t);
	assert_int_equal(kl_trace_ring_read(r, &pos, out, SLOTS, &lost), SLOTS);
	assert_int_equal(lost, 2);
	assert_int_equal(out[0].tsc, 14);
}

static void test_sort(void **state)
{
	struct kl_trace_event ev[4] = {
	    {.cpu = 1, .rec.tsc = 30},
	    {.cpu = 0, .rec.tsc = 10},
	    {.cpu = 1, .rec.tsc = 20},
	    {.cpu = 0, .rec.tsc = 20},
	};

	(void)state;
	kl_trace_sort(ev, 4);
	assert_int_equal(ev[0].rec.tsc, 10);
	assert_int_equal(ev[1].cpu, 0);
	assert_int_equal(ev[2].cpu, 1);
	assert_int_equal(ev[3].rec.tsc, 30);
}

static void test_reasons(void **state)
{
	uint32_t mask;

	(void)state;
	assert_int_equal(kl_trace_parse_reasons("io,cpuid,hlt", &mask), 0);
	assert_int_equal(mask, (1u << KEEL_TRACE_EXIT_IO) |
				   (1u << KEEL_TRACE_EXIT_CPUID) |
				   (1u << KEEL_TRACE_EXIT_HLT));
	assert_int_equal(kl_trace_parse_reasons("msr-write", &mask), 0);
	assert_int_equal(mask, 1u << KEEL_TRACE_EXIT_MSR_WRITE);
	assert_int_equal(kl_trace_parse_reasons("", &mask), -EINVAL);
	assert_int_equal(kl_trace_parse_reasons("io,", &mask), -EINVAL);
	assert_int_equal(kl_trace_parse_reasons("i", &mask), -EINVAL);
	assert_int_equal(kl_trace_parse_reasons("io,,hlt", &mask), -EINVAL);
	for (unsigned r = 1; r < KEEL_TRACE_EXIT_NR; r++) {
		assert_non_null(kl_trace_exit_name(r));
		assert_non_null(kl_trace_exit_explain(r));
	}
	assert_null(kl_trace_exit_name(0));
	assert_null(kl_trace_exit_name(KEEL_TRACE_EXIT_NR));
}

static void test_filter(void **state)
{
	struct kl_trace_names names = {0};
	struct keel_trace_rec io = {.domid = 3,
				    .vcpu = 1,
				    .kind = KEEL_TRACE_EXIT,
				    .reason = KEEL_TRACE_EXIT_IO};
	struct keel_trace_rec wake = {.domid = 3,
				      .vcpu = 1,
				      .kind = KEEL_TRACE_SCHED,
				      .reason = KEEL_TRACE_SCHED_WAKE};
	struct keel_trace_rec dom = {.domid = 3,
				     .kind = KEEL_TRACE_DOMAIN,
				     .reason = KEEL_TRACE_DOM_CREATE};
	struct kl_trace_filter all = {.vcpu = -1};
	struct kl_trace_filter byname = {.domain = "web", .vcpu = -1};
	struct kl_trace_filter byid = {.domain = "3", .vcpu = 1};
	struct kl_trace_filter other = {.domain = "4", .vcpu = -1};
	struct kl_trace_filter vcpu0 = {.vcpu = 0};
	struct kl_trace_filter cpuid = {.vcpu = -1,
					.exits = 1u << KEEL_TRACE_EXIT_CPUID};
	struct kl_trace_filter ioonly = {.vcpu = -1,
					 .exits = 1u << KEEL_TRACE_EXIT_IO};

	(void)state;
	assert_true(kl_trace_match(&all, &names, &io));
	assert_false(kl_trace_match(&byname, &names, &io)); /* unknown yet */
	assert_int_equal(kl_trace_names_set(&names, 3, "web"), 0);
	assert_int_equal(kl_trace_names_set(&names, 0, "Domain-0"), 0);
	assert_int_equal(kl_trace_names_set(&names, 3, "web"), 0);
	assert_int_equal(names.nr, 2);
	assert_string_equal(kl_trace_names_get(&names, 3), "web");
	assert_true(kl_trace_match(&byname, &names, &io));
	assert_true(kl_trace_match(&byid, &names, &io));
	assert_false(kl_trace_match(&byid, &names, &dom)); /* no vCPU */
	assert_false(kl_trace_match(&other, &names, &io));
	assert_false(kl_trace_match(&vcpu0, &names, &io));
	assert_false(kl_trace_match(&cpuid, &names, &io));
	assert_true(kl_trace_match(&ioonly, &names, &io));
	assert_false(kl_trace_match(&ioonly, &names, &wake));
	kl_trace_names_free(&names);
}

static void test_format(void **state)
{
	struct kl_trace_event ev = {
	    .cpu = 1,
	    .rec = {.tsc = 24009024000ULL + 2000000000ULL,
		    .domid = 3,
		    .vcpu = 1,
		    .kind = KEEL_TRACE_EXIT,
		    .reason = KEEL_TRACE_EXIT_IO,
		    .info = 1,
		    .qual = 0x3F8,
		    .cycles = 1600}};
	char line[160];

	(void)state;
	kl_trace_format(line, sizeof(line), &ev, 2000000000ULL, KHZ);
	assert_string_equal(line,
			    "12.004512 d3v1 exit io out 0x3f8 len 1 -> vuart "
			    "0.8us");
	ev.rec.info = 4 | KEEL_TRACE_IO_IN | KEEL_TRACE_IOREQ;
	ev.rec.qual = 0xCF8;
	kl_trace_format(line, sizeof(line), &ev, 2000000000ULL, KHZ);
	assert_string_equal(line, "12.004512 d3v1 exit io in 0xcf8 len 4 -> "
				  "dom0 device model 0.8us");
	ev.rec.kind = KEEL_TRACE_SCHED;
	ev.rec.reason = KEEL_TRACE_SCHED_MIGRATE;
	ev.rec.qual = 0ULL << 32 | 1;
	kl_trace_format(line, sizeof(line), &ev, 2000000000ULL, KHZ);
	assert_string_equal(line, "12.004512 d3v1 sched migrate cpu0 -> cpu1");
	ev.rec.kind = KEEL_TRACE_DOMAIN;
	ev.rec.reason = KEEL_TRACE_DOM_DESTROY;
	kl_trace_format(line, sizeof(line), &ev, 2000000000ULL, KHZ);
	assert_string_equal(line, "12.004512 d3 domain destroy");
}

static char *capture_json(const struct kl_trace_event *ev,
			  const struct kl_trace_names *names)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	kl_trace_print_json(f, ev, 0, KHZ, names);
	fclose(f);
	return buf;
}

static void test_json(void **state)
{
	struct kl_trace_names names = {0};
	struct kl_trace_event ev = {.cpu = 0,
				    .rec = {.tsc = 4000,
					    .domid = 2,
					    .kind = KEEL_TRACE_EXIT,
					    .reason = KEEL_TRACE_EXIT_MSR_WRITE,
					    .qual = 0x6E0,
					    .cycles = 3000}};
	char *out;

	(void)state;
	assert_int_equal(kl_trace_names_set(&names, 2, "a\"b"), 0);
	out = capture_json(&ev, &names);
	assert_string_equal(out, "{\"t\": 0.000002, \"tsc\": 4000, \"cpu\": 0, "
				 "\"domid\": 2, \"domain\": \"a\\\"b\", "
				 "\"vcpu\": 0, \"kind\": \"exit\", \"reason\": "
				 "\"msr-write\", \"msr\": 1760, \"action\": "
				 "\"msr\", \"us\": 1.500}\n");
	free(out);
	ev.rec = (struct keel_trace_rec){.domid = 9,
					 .kind = KEEL_TRACE_INJECT,
					 .reason = KEEL_TRACE_INJ_IRQ,
					 .qual = 0xEC};
	out = capture_json(&ev, &names);
	assert_string_equal(out, "{\"t\": 0.000000, \"tsc\": 0, \"cpu\": 0, "
				 "\"domid\": 9, \"domain\": null, \"vcpu\": 0, "
				 "\"kind\": \"inject\", \"reason\": \"irq\", "
				 "\"vector\": 236}\n");
	free(out);
	kl_trace_names_free(&names);
}

static void test_stats(void **state)
{
	struct kl_trace_stats s = {0};
	struct kl_trace_names names = {0};
	struct keel_trace_rec r = {.domid = 1,
				   .kind = KEEL_TRACE_EXIT,
				   .reason = KEEL_TRACE_EXIT_CPUID};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	/* 1..100 microseconds, in reverse; one HLT of Dom0; a wake ignored. */
	for (uint32_t i = 100; i >= 1; i--) {
		r.cycles = i * 2000;
		assert_int_equal(kl_trace_stats_add(&s, &r), 0);
	}
	r = (struct keel_trace_rec){.domid = 0,
				    .kind = KEEL_TRACE_EXIT,
				    .reason = KEEL_TRACE_EXIT_HLT,
				    .cycles = 5000};
	assert_int_equal(kl_trace_stats_add(&s, &r), 0);
	r.kind = KEEL_TRACE_SCHED;
	assert_int_equal(kl_trace_stats_add(&s, &r), 0);
	assert_int_equal(s.nr, 2);
	assert_int_equal(
	    kl_trace_percentile(&s.doms[0], KEEL_TRACE_EXIT_CPUID, 50),
	    50 * 2000);
	assert_int_equal(
	    kl_trace_percentile(&s.doms[0], KEEL_TRACE_EXIT_CPUID, 99),
	    99 * 2000);
	assert_int_equal(
	    kl_trace_percentile(&s.doms[0], KEEL_TRACE_EXIT_IO, 50), 0);
	s.lost = 7;
	assert_int_equal(kl_trace_names_set(&names, 1, "web"), 0);
	f = open_memstream(&buf, &len);
	kl_trace_stats_print_json(f, &s, &names, KHZ, 2.0);
	fclose(f);
	assert_string_equal(
	    buf,
	    "{\"seconds\": 2.000, \"lost\": 7, \"domains\": ["
	    "{\"domid\": 0, \"name\": null, \"exits\": {\"hlt\": "
	    "{\"count\": 1, \"p50_us\": 2.500, \"p99_us\": 2.500}}}, "
	    "{\"domid\": 1, \"name\": \"web\", \"exits\": {\"cpuid\": "
	    "{\"count\": 100, \"p50_us\": 50.000, \"p99_us\": 99.000}}}]}\n");
	free(buf);
	f = open_memstream(&buf, &len);
	kl_trace_stats_print(f, &s, &names, KHZ, 2.0);
	fclose(f);
	assert_string_equal(
	    buf, "2.0 s, 7 records lost\n"
		 "\nd0 ?: 1 exits\n"
		 "  REASON            COUNT    p50(us)    p99(us)\n"
		 "  hlt                   1       2.50       2.50\n"
		 "\nd1 web: 100 exits\n"
		 "  REASON            COUNT    p50(us)    p99(us)\n"
		 "  cpuid               100      50.00      99.00\n");
	free(buf);
	kl_trace_stats_free(&s);
	kl_trace_names_free(&names);
}

static void test_file(void **state)
{
	struct kl_trace_entry e = {.type = KL_TRACE_ENTRY_REC,
				   .arg = 1,
				   .rec = {.tsc = 99, .kind = KEEL_TRACE_EXIT}};
	char *buf = NULL;
	size_t len = 0;
	uint64_t khz = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(kl_trace_file_write_header(f, KHZ), 0);
	fwrite(&e, sizeof(e), 1, f);
	e = (struct kl_trace_entry){.type = KL_TRACE_ENTRY_NAME, .arg = 4};
	memset(e.name, 'x', sizeof(e.name)); /* no NUL: the reader adds one */
	fwrite(&e, sizeof(e), 1, f);
	fclose(f);

	f = fmemopen(buf, len, "rb");
	assert_int_equal(kl_trace_file_read_header(f, &khz), 0);
	assert_int_equal(khz, KHZ);
	assert_int_equal(kl_trace_file_read(f, &e), 1);
	assert_int_equal(e.rec.tsc, 99);
	assert_int_equal(kl_trace_file_read(f, &e), 1);
	assert_int_equal(e.arg, 4);
	assert_int_equal(strlen(e.name), sizeof(e.name) - 1);
	assert_int_equal(kl_trace_file_read(f, &e), 0);
	fclose(f);

	/* Cut in the middle of an entry, and not a recording at all. */
	f = fmemopen(buf, len - 1, "rb");
	assert_int_equal(kl_trace_file_read_header(f, &khz), 0);
	assert_int_equal(kl_trace_file_read(f, &e), 1);
	assert_int_equal(kl_trace_file_read(f, &e), -EINVAL);
	fclose(f);
	f = fmemopen("KLTRACE0xxxxxxxx", 16, "rb");
	assert_int_equal(kl_trace_file_read_header(f, &khz), -EINVAL);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_ring_read, setup),
	    cmocka_unit_test_setup(test_ring_catch_up, setup),
	    cmocka_unit_test(test_sort),
	    cmocka_unit_test(test_reasons),
	    cmocka_unit_test(test_filter),
	    cmocka_unit_test(test_format),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test(test_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

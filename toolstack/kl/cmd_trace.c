/* SPDX-License-Identifier: MIT */
/*
 * kl trace: Keel's trace rings, live or from a recording. Live, it turns
 * tracing on if it is off (and off again at the end), maps every CPU's
 * ring read-only through /dev/keel and polls them; records are merged by
 * TSC, filtered and printed, summed (--stats) or written to a file (-o)
 * that -r replays. The records' logic is toolstack/trace.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <kl/cli.h>
#include <kl/libkeel.h>
#include <kl/trace.h>

#include "kl.h"

static const char trace_usage[] =
    "Usage: kl trace [-d DOMAIN] [-v VCPU] [-e REASON[,..]] [--explain]\n"
    "                [--stats] [--json] [-t SECONDS] [-b PAGES] [-i MS]\n"
    "                [-o FILE | -r FILE]\n"
    "  -d, --domain D    only domain D (a name or a domid)\n"
    "  -v, --vcpu N      only vCPU N\n"
    "  -e, --exits LIST  only exits for these reasons (io,cpuid,hlt,...)\n"
    "      --explain     say what each exit reason means when it first "
    "appears\n"
    "  -s, --stats       per-domain exit counts and p50/p99 time in Keel\n"
    "  -j, --json        one JSON object per event (or for --stats)\n"
    "  -t, --time S      stop after S seconds (default: at Ctrl-C)\n"
    "  -b, --buffer N    pages per CPU when tracing is off (default 16)\n"
    "  -i, --interval MS poll the rings every MS ms (default 10)\n"
    "  -o, --output FILE record every event to FILE instead\n"
    "  -r, --replay FILE read a recording instead of Keel's rings\n";

#define DEFAULT_PAGES 16
#define BATCH	      4096
#define KEEL_PAGE     4096

struct trace_opts {
	struct kl_trace_filter filter;
	bool explain, stats, json;
	double seconds; /* 0: until a signal */
	uint32_t pages, interval_ms;
	const char *output, *replay;
};

/* Everything an event passes through on its way out. */
struct trace_sink {
	const struct trace_opts *o;
	struct kl_trace_names names;
	struct kl_trace_stats stats;
	uint64_t tsc_khz, tsc0;
	bool have_tsc0;
	uint32_t explained; /* reasons already explained */
	FILE *rec;	    /* -o */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_args(int argc, char **argv, struct trace_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t n;

		if (kl_is_help(a)) {
			fputs(trace_usage, stdout);
			return 1;
		} else if (!strcmp(a, "--explain")) {
			o->explain = true;
			continue;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--stats")) {
			o->stats = true;
			continue;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			o->json = true;
			continue;
		}
		if (a[0] != '-') {
			fprintf(stderr, "kl trace: unknown argument '%s'\n%s",
				a, trace_usage);
			return 2;
		}
		if (!val) {
			fprintf(stderr, "kl trace: %s needs a value\n%s", a,
				trace_usage);
			return 2;
		}
		i++;
		if (!strcmp(a, "-d") || !strcmp(a, "--domain")) {
			o->filter.domain = val;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--vcpu")) {
			if (kl_parse_u32(val, 0, KEEL_MAX_VCPUS - 1, &n))
				goto bad;
			o->filter.vcpu = n;
		} else if (!strcmp(a, "-e") || !strcmp(a, "--exits")) {
			if (kl_trace_parse_reasons(val, &o->filter.exits))
				goto bad;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--time")) {
			char *end;

			o->seconds = strtod(val, &end);
			if (end == val || *end || !(o->seconds > 0) ||
			    o->seconds > 86400)
				goto bad;
		} else if (!strcmp(a, "-b") || !strcmp(a, "--buffer")) {
			if (kl_parse_u32(val, 1, KEEL_TRACE_MAX_PAGES, &n) ||
			    (n & (n - 1)))
				goto bad;
			o->pages = n;
		} else if (!strcmp(a, "-i") || !strcmp(a, "--interval")) {
			if (kl_parse_u32(val, 1, 10000, &o->interval_ms))
				goto bad;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			o->output = val;
		} else if (!strcmp(a, "-r") || !strcmp(a, "--replay")) {
			o->replay = val;
		} else {
			fprintf(stderr, "kl trace: unknown argument '%s'\n%s",
				a, trace_usage);
			return 2;
		}
		continue;
	bad:
		fprintf(stderr, "kl trace: bad value '%s' for %s\n%s", val, a,
			trace_usage);
		return 2;
	}
	if (o->output && o->replay) {
		fputs("kl trace: -o and -r do not go together\n", stderr);
		return 2;
	}
	return 0;
}

static int record_entry(struct trace_sink *s, uint32_t type, uint32_t arg,
			const void *body, size_t len)
{
	struct kl_trace_entry e = {.type = type, .arg = arg};

	memcpy(&e.rec, body, len);
	return fwrite(&e, sizeof(e), 1, s->rec) == 1 ? 0 : -EIO;
}

static int learn_name(struct trace_sink *s, uint32_t domid, const char *name)
{
	char buf[32] = {0};

	if (kl_trace_names_set(&s->names, domid, name))
		return -ENOMEM;
	if (!s->rec)
		return 0;
	snprintf(buf, sizeof(buf), "%s", name);
	return record_entry(s, KL_TRACE_ENTRY_NAME, domid, buf, sizeof(buf));
}

static int lost(struct trace_sink *s, uint32_t cpu, uint64_t n)
{
	if (!n)
		return 0;
	s->stats.lost += n;
	if (s->rec)
		return record_entry(s, KL_TRACE_ENTRY_LOST, cpu, &n, sizeof(n));
	if (s->o->stats)
		return 0;
	if (s->o->json)
		printf("{\"kind\": \"lost\", \"cpu\": %u, \"count\": %llu}\n",
		       cpu, (unsigned long long)n);
	else
		printf("cpu%u: %llu records lost\n", cpu,
		       (unsigned long long)n);
	return 0;
}

static int event(struct trace_sink *s, const struct kl_trace_event *ev)
{
	char line[256];

	if (s->rec)
		return record_entry(s, KL_TRACE_ENTRY_REC, ev->cpu, &ev->rec,
				    sizeof(ev->rec));
	if (!s->have_tsc0) {
		s->tsc0 = ev->rec.tsc;
		s->have_tsc0 = true;
	}
	if (!kl_trace_match(&s->o->filter, &s->names, &ev->rec))
		return 0;
	if (s->o->stats)
		return kl_trace_stats_add(&s->stats, &ev->rec);
	if (s->o->json) {
		kl_trace_print_json(stdout, ev, s->tsc0, s->tsc_khz, &s->names);
		return 0;
	}
	if (s->o->explain && ev->rec.kind == KEEL_TRACE_EXIT &&
	    ev->rec.reason < 32 && !(s->explained & (1u << ev->rec.reason)) &&
	    kl_trace_exit_explain(ev->rec.reason)) {
		s->explained |= 1u << ev->rec.reason;
		printf("# %s: %s\n", kl_trace_exit_name(ev->rec.reason),
		       kl_trace_exit_explain(ev->rec.reason));
	}
	kl_trace_format(line, sizeof(line), ev, s->tsc0, s->tsc_khz);
	puts(line);
	return 0;
}

/* Names of the domains that exist now (live tracing). */
static int refresh_names(int fd, struct trace_sink *s)
{
	struct keel_domain_info *doms;
	size_t nr;
	int rc = keel_domain_list(fd, &doms, &nr);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < nr && rc >= 0; i++) {
		const char *known =
		    kl_trace_names_get(&s->names, doms[i].domid);
		char name[KEEL_DOMAIN_NAME_LEN + 1];

		snprintf(name, sizeof(name), "%.*s", KEEL_DOMAIN_NAME_LEN,
			 doms[i].name);
		if (!known || strcmp(known, name))
			rc = learn_name(s, doms[i].domid, name);
	}
	free(doms);
	return rc < 0 ? rc : 0;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One pass over every ring: their new records, merged by TSC. */
static int drain(int fd, struct trace_sink *s,
		 const struct keel_ioctl_trace_info *info, const void *rings,
		 uint64_t *pos, struct kl_trace_event *ev,
		 struct keel_trace_rec *batch)
{
	size_t ring_size = (size_t)info->pages_per_cpu * KEEL_PAGE, n = 0;
	bool unknown = false;
	int rc = 0;

	for (uint32_t c = 0; c < info->nr_cpus; c++) {
		const struct keel_trace_ring *r =
		    (const void *)((const char *)rings + c * ring_size);
		uint64_t nlost = 0;
		size_t got;

		if (!(info->cpu_mask & (1ULL << c)))
			continue;
		got = kl_trace_ring_read(r, &pos[c], batch, BATCH, &nlost);
		if (lost(s, c, nlost))
			return -EIO;
		for (size_t i = 0; i < got; i++) {
			ev[n].cpu = c;
			ev[n++].rec = batch[i];
			if (!kl_trace_names_get(&s->names, batch[i].domid))
				unknown = true;
		}
	}
	/* A domain created since: its name, before its records. */
	if (unknown)
		rc = refresh_names(fd, s);
	kl_trace_sort(ev, n);
	for (size_t i = 0; i < n && !rc; i++)
		rc = event(s, &ev[i]);
	return rc;
}

static int trace_live(struct trace_sink *s, double *seconds)
{
	const struct trace_opts *o = s->o;
	struct keel_ioctl_trace_info info;
	struct keel_trace_rec *batch = NULL;
	struct kl_trace_event *ev = NULL;
	uint64_t pos[KEEL_TRACE_MAX_CPUS] = {0}, start, deadline;
	const void *rings = NULL;
	bool enabled = false;
	int fd, rc, status = 1;

	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	rc = keel_trace_info(fd, &info);
	if (rc == 0 && !info.pages_per_cpu) {
		rc = keel_trace_enable(fd, o->pages);
		enabled = rc == 0;
		if (rc == 0)
			rc = keel_trace_info(fd, &info);
	}
	if (rc < 0) {
		kl_device_error("trace", -rc);
		goto out;
	}
	s->tsc_khz = info.tsc_khz;
	if (s->rec && kl_trace_file_write_header(s->rec, s->tsc_khz)) {
		fprintf(stderr, "kl trace: %s: %s\n", o->output,
			strerror(errno));
		goto out;
	}
	rc = keel_trace_map(fd, &info, &rings);
	if (rc < 0) {
		kl_device_error("trace rings", -rc);
		goto out;
	}
	batch = calloc(BATCH, sizeof(*batch));
	ev = calloc((size_t)BATCH * info.nr_cpus, sizeof(*ev));
	if (!batch || !ev || !s->tsc_khz) {
		fputs("kl trace: out of memory\n", stderr);
		goto out;
	}
	/* Only what happens from now on. */
	for (uint32_t c = 0; c < info.nr_cpus; c++)
		if (info.cpu_mask & (1ULL << c))
			pos[c] = __atomic_load_n(
			    &((const struct keel_trace_ring
				   *)((const char *)rings +
				      (size_t)c * info.pages_per_cpu *
					  KEEL_PAGE))
				 ->head,
			    __ATOMIC_ACQUIRE);
	rc = refresh_names(fd, s);
	start = mono_ns();
	deadline = o->seconds ? start + (uint64_t)(o->seconds * 1e9) : 0;
	while (rc == 0) {
		struct timespec ts = {.tv_nsec = (long)o->interval_ms % 1000 *
						 1000000L,
				      .tv_sec = o->interval_ms / 1000};
		bool last = stop || (deadline && mono_ns() >= deadline);

		rc = drain(fd, s, &info, rings, pos, ev, batch);
		if (last)
			break;
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	*seconds = (double)(mono_ns() - start) / 1e9;
	if (rc < 0)
		kl_device_error("trace", -rc);
	else
		status = 0;
out:
	free(ev);
	free(batch);
	if (rings)
		keel_trace_unmap(&info, rings);
	if (enabled) {
		rc = keel_trace_disable(fd);
		if (rc < 0) {
			kl_device_error("trace off", -rc);
			status = 1;
		}
	}
	close(fd);
	return status;
}

static int trace_replay(struct trace_sink *s, double *seconds)
{
	FILE *f = fopen(s->o->replay, "rb");
	struct kl_trace_entry e;
	uint64_t first = 0, last = 0;
	int rc;

	if (!f) {
		fprintf(stderr, "kl trace: %s: %s\n", s->o->replay,
			strerror(errno));
		return 1;
	}
	rc = kl_trace_file_read_header(f, &s->tsc_khz);
	while (rc == 0 && (rc = kl_trace_file_read(f, &e)) == 1) {
		struct kl_trace_event ev = {.cpu = e.arg, .rec = e.rec};

		rc = 0;
		if (e.type == KL_TRACE_ENTRY_NAME) {
			rc = learn_name(s, e.arg, e.name);
		} else if (e.type == KL_TRACE_ENTRY_LOST) {
			rc = lost(s, e.arg, e.lost);
		} else {
			if (!first)
				first = e.rec.tsc;
			last = e.rec.tsc;
			rc = event(s, &ev);
		}
	}
	fclose(f);
	if (rc < 0) {
		fprintf(stderr, "kl trace: %s: not a trace recording, or cut\n",
			s->o->replay);
		return 1;
	}
	*seconds = first ? kl_trace_seconds(last, first, s->tsc_khz) : 0;
	return 0;
}

int kl_cmd_trace(int argc, char **argv)
{
	struct trace_opts o = {
	    .filter.vcpu = -1, .pages = DEFAULT_PAGES, .interval_ms = 10};
	struct trace_sink s = {.o = &o};
	struct sigaction sa = {.sa_handler = on_signal};
	double seconds = 0;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (o.replay) {
		rc = trace_replay(&s, &seconds);
	} else {
		if (o.output) {
			s.rec = fopen(o.output, "wb");
			if (!s.rec) {
				fprintf(stderr, "kl trace: %s: %s\n", o.output,
					strerror(errno));
				return 1;
			}
		}
		rc = trace_live(&s, &seconds);
		if (s.rec && fclose(s.rec)) {
			fprintf(stderr, "kl trace: %s: %s\n", o.output,
				strerror(errno));
			rc = 1;
		}
	}
	if (!rc && o.stats && !o.output) {
		if (o.json)
			kl_trace_stats_print_json(stdout, &s.stats, &s.names,
						  s.tsc_khz, seconds);
		else
			kl_trace_stats_print(stdout, &s.stats, &s.names,
					     s.tsc_khz, seconds);
	}
	if (!rc && o.output)
		fprintf(stderr, "kl trace: %.1f s recorded to %s\n", seconds,
			o.output);
	kl_trace_names_free(&s.names);
	kl_trace_stats_free(&s.stats);
	return rc;
}

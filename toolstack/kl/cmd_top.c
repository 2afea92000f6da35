/* SPDX-License-Identifier: MIT */
/*
 * kl top: Keel's xentop. Samples every domain's counters through
 * /dev/keel, waits an interval, samples again and shows the rates
 * (toolstack/top.c). Batch mode (-b, or stdout not a terminal) prints
 * COUNT reports; on a terminal it redraws until `q`.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <kl/cli.h>
#include <kl/top.h>

#include "kl.h"

static const char top_usage[] =
    "Usage: kl top [-b] [-i SECONDS] [-n COUNT] [-v] [-s id|name|cpu|exits]"
    " [--json]\n"
    "  -b, --batch       print reports instead of redrawing the screen\n"
    "  -i, --interval S  seconds between reports (default 3, 0.1 to 3600)\n"
    "  -n, --iterations N  stop after N reports (default: never)\n"
    "  -v, --vcpus       a line per vCPU\n"
    "  -s, --sort KEY    order by id (default), name, cpu or exits\n"
    "  -j, --json        one JSON object per line per report (implies -b)\n"
    "On a terminal: q quits; c, e, i, n sort by CPU, exits, id, name; v\n"
    "toggles the vCPU lines.\n";

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 0, or a negative errno (the domain list failed). */
static int take_sample(int fd, struct kl_top_sample *s)
{
	struct keel_domain_info *doms;
	size_t nr;
	int rc;

	memset(s, 0, sizeof(*s));
	rc = keel_domain_list(fd, &doms, &nr);
	if (rc < 0)
		return rc;
	s->time_ns = mono_ns();
	s->doms = calloc(nr ? nr : 1, sizeof(*s->doms));
	if (!s->doms) {
		free(doms);
		return -ENOMEM;
	}
	s->nr = nr;
	for (size_t i = 0; i < nr; i++) {
		struct kl_top_dom *d = &s->doms[i];
		uint32_t n = doms[i].nr_vcpus;

		d->info = doms[i];
		if (n > KEEL_MAX_VCPUS)
			n = KEEL_MAX_VCPUS;
		d->vcpus = calloc(n ? n : 1, sizeof(*d->vcpus));
		if (!d->vcpus) {
			free(doms);
			kl_top_sample_free(s);
			return -ENOMEM;
		}
		/* A domain that went away meanwhile keeps the vCPUs read. */
		for (uint32_t v = 0; v < n; v++)
			if (keel_vcpu_info(fd, d->info.domid, v,
					   &d->vcpus[d->nr_vcpus]) == 0)
				d->nr_vcpus++;
	}
	free(doms);
	return 0;
}

struct top_opts {
	bool batch, json, vcpus;
	double interval;
	uint64_t count; /* 0: forever */
	enum kl_top_sort sort;
};

static int report(FILE *out, const struct top_opts *o,
		  const struct kl_top_sample *prev,
		  const struct kl_top_sample *cur, uint64_t seq, bool clear)
{
	struct kl_top_row *rows;
	size_t nr;
	double dt = (double)(cur->time_ns - prev->time_ns) / 1e9;

	if (kl_top_rows(prev, cur, &rows, &nr) < 0) {
		fputs("kl top: out of memory\n", stderr);
		return -1;
	}
	kl_top_sort(rows, nr, o->sort);
	if (clear)
		fputs("\033[H\033[2J", out);
	if (o->json)
		kl_top_print_json(out, rows, nr, dt, seq);
	else
		kl_top_print_text(out, rows, nr, o->vcpus, dt);
	if (clear)
		fputs("\nq quit  c/e/i/n sort by cpu/exits/id/name  v vCPUs\n",
		      out);
	else if (!o->json)
		fputc('\n', out);
	kl_top_rows_free(rows, nr);
	return fflush(out) ? -1 : 0;
}

static struct termios saved_tio;

static void restore_tty(void)
{
	tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

/*
 * Waits until `deadline` for keys on a terminal: 1 to quit, 2 to redraw
 * now (a key changed the view), 0 at the deadline.
 */
static int wait_keys(struct top_opts *o, uint64_t deadline, bool tty)
{
	for (;;) {
		uint64_t now = mono_ns();
		struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
		int ms, rc;
		char c;

		if (now >= deadline)
			return 0;
		ms = (int)((deadline - now + 999999) / 1000000);
		if (!tty) {
			struct timespec ts = {.tv_sec = ms / 1000,
					      .tv_nsec =
						  (ms % 1000) * 1000000L};

			nanosleep(&ts, NULL);
			continue;
		}
		rc = poll(&p, 1, ms);
		if (rc <= 0 || read(STDIN_FILENO, &c, 1) != 1)
			continue;
		switch (c) {
		case 'q':
		case 'Q':
			return 1;
		case 'c':
			o->sort = KL_TOP_SORT_CPU;
			return 2;
		case 'e':
			o->sort = KL_TOP_SORT_EXITS;
			return 2;
		case 'i':
			o->sort = KL_TOP_SORT_ID;
			return 2;
		case 'n':
			o->sort = KL_TOP_SORT_NAME;
			return 2;
		case 'v':
			o->vcpus = !o->vcpus;
			return 2;
		default:
			break;
		}
	}
}

static int parse_args(int argc, char **argv, struct top_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (kl_is_help(a)) {
			fputs(top_usage, stdout);
			return 1;
		} else if (!strcmp(a, "-b") || !strcmp(a, "--batch")) {
			o->batch = true;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			o->json = o->batch = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--vcpus")) {
			o->vcpus = true;
		} else if (!strcmp(a, "-i") || !strcmp(a, "--interval")) {
			char *end;

			if (!val)
				goto missing;
			o->interval = strtod(val, &end);
			if (end == val || *end || !(o->interval >= 0.1) ||
			    o->interval > 3600) {
				fprintf(stderr,
					"kl top: bad interval '%s' (0.1 to "
					"3600 seconds)\n",
					val);
				return 2;
			}
			i++;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--iterations")) {
			uint32_t n;

			if (!val)
				goto missing;
			if (kl_parse_u32(val, 1, UINT32_MAX, &n)) {
				fprintf(stderr, "kl top: bad count '%s'\n",
					val);
				return 2;
			}
			o->count = n;
			i++;
		} else if (!strcmp(a, "-s") || !strcmp(a, "--sort")) {
			if (!val)
				goto missing;
			if (kl_top_sort_parse(val, &o->sort)) {
				fprintf(stderr,
					"kl top: unknown sort key '%s' (id, "
					"name, cpu, exits)\n",
					val);
				return 2;
			}
			i++;
		} else {
			fprintf(stderr, "kl top: unknown argument '%s'\n%s", a,
				top_usage);
			return 2;
		}
		continue;
	missing:
		fprintf(stderr, "kl top: %s needs a value\n%s", a, top_usage);
		return 2;
	}
	return 0;
}

int kl_cmd_top(int argc, char **argv)
{
	struct top_opts o = {.interval = 3, .sort = KL_TOP_SORT_ID};
	struct kl_top_sample prev, cur;
	bool tty, interactive;
	uint64_t seq = 0;
	int fd, rc, status = 0;

	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	interactive = !o.batch && isatty(STDOUT_FILENO);
	tty = interactive && isatty(STDIN_FILENO);
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	rc = take_sample(fd, &prev);
	if (rc < 0) {
		close(fd);
		kl_device_error("domain list", -rc);
		return 1;
	}
	if (tty) {
		struct termios raw;

		tcgetattr(STDIN_FILENO, &saved_tio);
		raw = saved_tio;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		atexit(restore_tty);
	}
	for (uint64_t deadline = prev.time_ns;;) {
		uint64_t step = (uint64_t)(o.interval * 1e9 + 0.5);
		int key;

		deadline += step;
		key = wait_keys(&o, deadline, tty);
		if (key == 1)
			break;
		if (key == 2) /* redraw now; the next one an interval later */
			deadline = mono_ns();
		rc = take_sample(fd, &cur);
		if (rc < 0) {
			kl_device_error("domain list", -rc);
			status = 1;
			break;
		}
		if (cur.time_ns <= prev.time_ns) /* keys pressed too fast */
			cur.time_ns = prev.time_ns + 1;
		if (report(stdout, &o, &prev, &cur, ++seq, interactive) < 0) {
			kl_top_sample_free(&cur);
			status = 1;
			break;
		}
		kl_top_sample_free(&prev);
		prev = cur;
		if (o.count && seq >= o.count)
			break;
	}
	kl_top_sample_free(&prev);
	close(fd);
	return status;
}

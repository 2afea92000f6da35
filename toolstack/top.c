/* SPDX-License-Identifier: MIT */
/* `kl top`'s rates and output (kl/top.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kl/domains.h>
#include <kl/top.h>

void kl_top_dom_totals(const struct kl_top_dom *d, uint64_t *exits,
		       uint64_t *irqs, uint64_t *ioreqs)
{
	*exits = *irqs = *ioreqs = 0;
	for (uint32_t i = 0; i < d->nr_vcpus; i++) {
		*exits += d->vcpus[i].exits;
		*irqs += d->vcpus[i].irqs_injected;
		*ioreqs += d->vcpus[i].ioreqs;
	}
}

double kl_top_rate(uint64_t prev, uint64_t cur, uint64_t dt_ns)
{
	if (!dt_ns || cur < prev)
		return -1;
	return (double)(cur - prev) * 1e9 / (double)dt_ns;
}

static const struct kl_top_dom *find_dom(const struct kl_top_sample *s,
					 uint32_t domid)
{
	for (size_t i = 0; s && i < s->nr; i++)
		if (s->doms[i].info.domid == domid)
			return &s->doms[i];
	return NULL;
}

static const struct keel_vcpu_info *find_vcpu(const struct kl_top_dom *d,
					      uint32_t vcpu)
{
	for (uint32_t i = 0; d && i < d->nr_vcpus; i++)
		if (d->vcpus[i].vcpu == vcpu)
			return &d->vcpus[i];
	return NULL;
}

/* A time rate in % of one CPU, -1 if unknown. */
static double pct(uint64_t prev, uint64_t cur, uint64_t dt_ns)
{
	double r = kl_top_rate(prev, cur, dt_ns);

	return r < 0 ? -1 : r / 1e9 * 100.0;
}

int kl_top_rows(const struct kl_top_sample *prev,
		const struct kl_top_sample *cur, struct kl_top_row **rows,
		size_t *nr)
{
	uint64_t dt = prev && cur->time_ns > prev->time_ns
			  ? cur->time_ns - prev->time_ns
			  : 0;
	struct kl_top_row *out = calloc(cur->nr ? cur->nr : 1, sizeof(*out));

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < cur->nr; i++) {
		const struct kl_top_dom *d = &cur->doms[i];
		const struct kl_top_dom *p = find_dom(prev, d->info.domid);
		struct kl_top_row *r = &out[i];
		uint64_t pe = 0, pi = 0, pio = 0;

		r->domid = d->info.domid;
		memcpy(r->name, d->info.name, KEEL_DOMAIN_NAME_LEN);
		r->name[KEEL_DOMAIN_NAME_LEN] = '\0';
		r->state = d->info.state;
		kl_domain_state_letters(&d->info, r->state_letters);
		r->memory_bytes = d->info.ram_bytes;
		r->nr_vcpus = d->info.nr_vcpus;
		r->nr_vcpus_up = d->info.nr_vcpus_up;
		r->weight = d->info.weight;
		r->cap = d->info.cap;
		r->cpu_time_ns = d->info.cpu_time_ns;
		kl_top_dom_totals(d, &r->exits, &r->irqs, &r->ioreqs);
		/* A new domain under an old id has another name: unknown. */
		if (p &&
		    strncmp(p->info.name, d->info.name, KEEL_DOMAIN_NAME_LEN))
			p = NULL;
		if (p) {
			kl_top_dom_totals(p, &pe, &pi, &pio);
			r->cpu_pct =
			    pct(p->info.cpu_time_ns, d->info.cpu_time_ns, dt);
			r->exits_s = kl_top_rate(pe, r->exits, dt);
			r->irqs_s = kl_top_rate(pi, r->irqs, dt);
			r->ioreqs_s = kl_top_rate(pio, r->ioreqs, dt);
		} else {
			r->cpu_pct = r->exits_s = r->irqs_s = r->ioreqs_s = -1;
		}
		r->nr_vcpu_rows = d->nr_vcpus;
		r->vcpus =
		    calloc(d->nr_vcpus ? d->nr_vcpus : 1, sizeof(*r->vcpus));
		if (!r->vcpus) {
			kl_top_rows_free(out, i);
			return -ENOMEM;
		}
		for (uint32_t v = 0; v < d->nr_vcpus; v++) {
			const struct keel_vcpu_info *c = &d->vcpus[v];
			const struct keel_vcpu_info *pv =
			    p ? find_vcpu(p, c->vcpu) : NULL;
			struct kl_top_vcpu_row *vr = &r->vcpus[v];

			vr->vcpu = c->vcpu;
			vr->state = c->state;
			vr->pcpu = c->pcpu;
			vr->cpu_pct =
			    pv ? pct(pv->cpu_time_ns, c->cpu_time_ns, dt) : -1;
			vr->exits_s =
			    pv ? kl_top_rate(pv->exits, c->exits, dt) : -1;
		}
	}
	*rows = out;
	*nr = cur->nr;
	return 0;
}

void kl_top_rows_free(struct kl_top_row *rows, size_t nr)
{
	for (size_t i = 0; rows && i < nr; i++)
		free(rows[i].vcpus);
	free(rows);
}

static enum kl_top_sort sort_key;

static int cmp_rows(const void *a, const void *b)
{
	const struct kl_top_row *x = a, *y = b;
	double dx = 0, dy = 0;
	int c;

	switch (sort_key) {
	case KL_TOP_SORT_NAME:
		c = strcmp(x->name, y->name);
		if (c)
			return c;
		break;
	case KL_TOP_SORT_CPU:
		dx = x->cpu_pct, dy = y->cpu_pct;
		break;
	case KL_TOP_SORT_EXITS:
		dx = x->exits_s, dy = y->exits_s;
		break;
	case KL_TOP_SORT_ID:
		break;
	}
	if (dx != dy)
		return dx > dy ? -1 : 1;
	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

void kl_top_sort(struct kl_top_row *rows, size_t nr, enum kl_top_sort key)
{
	sort_key = key;
	if (nr)
		qsort(rows, nr, sizeof(*rows), cmp_rows);
}

int kl_top_sort_parse(const char *s, enum kl_top_sort *key)
{
	static const char *const names[] = {"id", "name", "cpu", "exits"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*key = (enum kl_top_sort)i;
			return 0;
		}
	return -EINVAL;
}

/* A rate in a column of `width`, "-" when unknown. */
static void rate_col(FILE *out, double v, int width, int prec)
{
	if (v < 0)
		fprintf(out, " %*s", width, "-");
	else
		fprintf(out, " %*.*f", width, prec, v);
}

void kl_top_print_text(FILE *out, const struct kl_top_row *rows, size_t nr,
		       bool vcpus, double interval_s)
{
	size_t running = 0;

	for (size_t i = 0; i < nr; i++)
		running += rows[i].state == KEEL_DOMSTATE_RUNNING;
	fprintf(out, "kl top - %zu domains, %zu running, interval %.1fs\n", nr,
		running, interval_s);
	fprintf(out, "%-20s %5s %6s %12s %6s %10s %5s %10s %9s %9s\n", "NAME",
		"ID", "STATE", "CPU(sec)", "CPU(%)", "MEM(k)", "VCPUS",
		"EXITS/s", "IRQS/s", "IOREQS/s");
	for (size_t i = 0; i < nr; i++) {
		const struct kl_top_row *r = &rows[i];

		fprintf(out, "%-20.20s %5" PRIu32 " %6s %12" PRIu64, r->name,
			r->domid, r->state_letters,
			r->cpu_time_ns / 1000000000);
		rate_col(out, r->cpu_pct, 6, 1);
		fprintf(out, " %10" PRIu64 " %5" PRIu32, r->memory_bytes >> 10,
			r->nr_vcpus);
		rate_col(out, r->exits_s, 10, 0);
		rate_col(out, r->irqs_s, 9, 0);
		rate_col(out, r->ioreqs_s, 9, 0);
		fputc('\n', out);
		if (!vcpus)
			continue;
		for (size_t v = 0; v < r->nr_vcpu_rows; v++) {
			const struct kl_top_vcpu_row *c = &r->vcpus[v];
			char pcpu[12] = "-";

			if (c->pcpu >= 0)
				snprintf(pcpu, sizeof(pcpu), "%" PRId32,
					 c->pcpu);
			fprintf(out, "    VCPU %3" PRIu32 "  CPU %3s  %-8s",
				c->vcpu, pcpu, kl_vcpu_state_name(c->state));
			fputs(" CPU(%)", out);
			rate_col(out, c->cpu_pct, 6, 1);
			fputs("  EXITS/s", out);
			rate_col(out, c->exits_s, 10, 0);
			fputc('\n', out);
		}
	}
}

/* A JSON number, or null when unknown. */
static void json_rate(FILE *out, const char *key, double v, int prec)
{
	if (v < 0 || !isfinite(v))
		fprintf(out, ", \"%s\": null", key);
	else
		fprintf(out, ", \"%s\": %.*f", key, prec, v);
}

void kl_top_print_json(FILE *out, const struct kl_top_row *rows, size_t nr,
		       double interval_s, uint64_t seq)
{
	fprintf(out, "{\"report\": %" PRIu64 ", \"interval_s\": %.3f", seq,
		interval_s);
	fputs(", \"domains\": [", out);
	for (size_t i = 0; i < nr; i++) {
		const struct kl_top_row *r = &rows[i];

		fprintf(out,
			"%s{\"domid\": %" PRIu32 ", \"name\": ", i ? ", " : "",
			r->domid);
		kl_json_string(out, r->name);
		fprintf(out,
			", \"state\": \"%s\", \"memory_bytes\": %" PRIu64
			", \"vcpus\": %" PRIu32 ", \"vcpus_up\": %" PRIu32
			", \"weight\": %" PRIu32 ", \"cap\": %" PRIu32
			", \"cpu_time_ns\": %" PRIu64 ", \"exits\": %" PRIu64
			", \"irqs\": %" PRIu64 ", \"ioreqs\": %" PRIu64,
			kl_domain_state_name(r->state), r->memory_bytes,
			r->nr_vcpus, r->nr_vcpus_up, r->weight, r->cap,
			r->cpu_time_ns, r->exits, r->irqs, r->ioreqs);
		json_rate(out, "cpu_percent", r->cpu_pct, 2);
		json_rate(out, "exits_per_s", r->exits_s, 1);
		json_rate(out, "irqs_per_s", r->irqs_s, 1);
		json_rate(out, "ioreqs_per_s", r->ioreqs_s, 1);
		fputs(", \"vcpu_list\": [", out);
		for (size_t v = 0; v < r->nr_vcpu_rows; v++) {
			const struct kl_top_vcpu_row *c = &r->vcpus[v];

			fprintf(out,
				"%s{\"vcpu\": %" PRIu32 ", \"pcpu\": %" PRId32
				", \"state\": \"%s\"",
				v ? ", " : "", c->vcpu, c->pcpu,
				kl_vcpu_state_name(c->state));
			json_rate(out, "cpu_percent", c->cpu_pct, 2);
			json_rate(out, "exits_per_s", c->exits_s, 1);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

void kl_top_sample_free(struct kl_top_sample *s)
{
	for (size_t i = 0; i < s->nr; i++)
		free(s->doms[i].vcpus);
	free(s->doms);
	s->doms = NULL;
	s->nr = 0;
}

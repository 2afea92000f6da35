/* SPDX-License-Identifier: MIT */
/*
 * `kl top` (xentop): two samples of every domain's counters, and the
 * per-second rates between them, as a table or as JSON. Sampling goes
 * through /dev/keel (kl_top_sample); the rest is pure and unit-tested.
 */
#ifndef KL_TOP_H
#define KL_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <public/keel.h>

/* One domain at one moment: Keel's totals (counters only grow). */
struct kl_top_dom {
	struct keel_domain_info info;
	uint32_t nr_vcpus; /* entries of vcpus that Keel answered for */
	struct keel_vcpu_info *vcpus;
};

struct kl_top_sample {
	uint64_t time_ns; /* CLOCK_MONOTONIC when it was taken */
	size_t nr;
	struct kl_top_dom *doms;
};

/* A rate is negative when it cannot be known: the domain (or vCPU) is
 * new since the first sample, or a counter went backwards (a reused id). */
struct kl_top_vcpu_row {
	uint32_t vcpu;
	uint32_t state; /* enum keel_vcpu_state */
	int32_t pcpu;
	double cpu_pct; /* of one physical CPU */
	double exits_s;
};

struct kl_top_row {
	uint32_t domid;
	char name[KEEL_DOMAIN_NAME_LEN + 1];
	uint32_t state; /* enum keel_domain_state */
	char state_letters[7];
	uint64_t memory_bytes;
	uint32_t nr_vcpus, nr_vcpus_up, weight, cap;
	uint64_t cpu_time_ns, exits, irqs, ioreqs; /* totals */
	double cpu_pct; /* of one physical CPU, like xentop: may pass 100 */
	double exits_s, irqs_s, ioreqs_s;
	size_t nr_vcpu_rows;
	struct kl_top_vcpu_row *vcpus;
};

enum kl_top_sort {
	KL_TOP_SORT_ID,
	KL_TOP_SORT_NAME,
	KL_TOP_SORT_CPU,  /* highest first */
	KL_TOP_SORT_EXITS /* highest first */
};

/* Sums over vCPUs of d (missing counters count as zero). */
void kl_top_dom_totals(const struct kl_top_dom *d, uint64_t *exits,
		       uint64_t *irqs, uint64_t *ioreqs);
/* (cur - prev) per second over dt_ns; -1 if unknown (see above). */
double kl_top_rate(uint64_t prev, uint64_t cur, uint64_t dt_ns);

/*
 * One row per domain of cur, rates against prev (NULL: all unknown).
 * 0 or -ENOMEM; free with kl_top_rows_free.
 */
int kl_top_rows(const struct kl_top_sample *prev,
		const struct kl_top_sample *cur, struct kl_top_row **rows,
		size_t *nr);
void kl_top_rows_free(struct kl_top_row *rows, size_t nr);
void kl_top_sort(struct kl_top_row *rows, size_t nr, enum kl_top_sort key);
/* "id", "name", "cpu", "exits" -> 0, else -EINVAL. */
int kl_top_sort_parse(const char *s, enum kl_top_sort *key);

/* The table; with vcpus, a line per vCPU under each domain. */
void kl_top_print_text(FILE *out, const struct kl_top_row *rows, size_t nr,
		       bool vcpus, double interval_s);
/* One JSON object on one line (kl(1) documents it). */
void kl_top_print_json(FILE *out, const struct kl_top_row *rows, size_t nr,
		       double interval_s, uint64_t seq);

void kl_top_sample_free(struct kl_top_sample *s);

#endif

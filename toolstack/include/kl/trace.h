/* SPDX-License-Identifier: MIT */
/*
 * `kl trace`: Keel's trace records (public/keel.h) read from the rings
 * keel.ko maps, or from a file `kl trace -o` wrote; filtered, printed as
 * lines or JSON, or summed into per-domain exit statistics. Everything
 * here is pure (memory in, text out) and unit-tested; the command is
 * toolstack/kl/cmd_trace.c.
 */
#ifndef KL_TRACE_H
#define KL_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <public/keel.h>

struct kl_trace_event {
	uint32_t cpu;
	struct keel_trace_rec rec;
};

/*
 * Copies the records of ring r from *pos on (at most max) into out and
 * moves *pos past them. Records Keel overwrote before they were copied
 * (the reader fell more than the ring behind) are skipped and added to
 * *lost. Returns how many were copied.
 */
size_t kl_trace_ring_read(const struct keel_trace_ring *r, uint64_t *pos,
			  struct keel_trace_rec *out, size_t max,
			  uint64_t *lost);

/* Sorts by TSC, oldest first (the rings of several CPUs, merged). */
void kl_trace_sort(struct kl_trace_event *ev, size_t n);

/* "io", "cpuid", ...; NULL for a reason Keel does not define. */
const char *kl_trace_exit_name(unsigned reason);
/* A sentence or three: what the guest did, why the CPU exited (SVM and
 * VMX), what Keel did about it. */
const char *kl_trace_exit_explain(unsigned reason);
/* "io,cpuid,hlt" into a mask of 1u << reason: 0 or -EINVAL. */
int kl_trace_parse_reasons(const char *s, uint32_t *mask);

/* Domain names by domid, learned from the live list or a recording. */
struct kl_trace_names {
	size_t nr;
	struct {
		uint32_t domid;
		char name[KEEL_DOMAIN_NAME_LEN + 1];
	} * e;
};
/* 0 or -ENOMEM; a known domid gets the new name. */
int kl_trace_names_set(struct kl_trace_names *n, uint32_t domid,
		       const char *name);
const char *kl_trace_names_get(const struct kl_trace_names *n, uint32_t domid);
void kl_trace_names_free(struct kl_trace_names *n);

struct kl_trace_filter {
	const char *domain; /* a domid or a name; NULL: every domain */
	int64_t vcpu;	    /* -1: every vCPU */
	uint32_t exits;	    /* reasons (1u << reason); 0: every event */
};
bool kl_trace_match(const struct kl_trace_filter *f,
		    const struct kl_trace_names *names,
		    const struct keel_trace_rec *rec);

/* Seconds since tsc0; microseconds of cycles. tsc_khz must not be 0. */
double kl_trace_seconds(uint64_t tsc, uint64_t tsc0, uint64_t tsc_khz);
double kl_trace_us(uint64_t cycles, uint64_t tsc_khz);

/* One line, no newline:
 * "12.004512 d3v1 exit io out 0x3f8 len 1 -> vuart 0.8us". */
void kl_trace_format(char *buf, size_t len, const struct kl_trace_event *ev,
		     uint64_t tsc0, uint64_t tsc_khz);
/* The same as one JSON object and a newline. */
void kl_trace_print_json(FILE *out, const struct kl_trace_event *ev,
			 uint64_t tsc0, uint64_t tsc_khz,
			 const struct kl_trace_names *names);

/* Exits per domain and reason, with every exit's time in Keel kept for
 * the percentiles. */
struct kl_trace_stats {
	size_t nr;
	struct kl_trace_dom_stats {
		uint32_t domid;
		uint64_t count[KEEL_TRACE_EXIT_NR];
		size_t cap[KEEL_TRACE_EXIT_NR];
		uint32_t *cycles[KEEL_TRACE_EXIT_NR];
	} * doms;
	uint64_t lost;
};
/* Counts an exit record (others are ignored): 0 or -ENOMEM. */
int kl_trace_stats_add(struct kl_trace_stats *s,
		       const struct keel_trace_rec *rec);
/* The p-th percentile (0-100, nearest rank) of a domain's cycles for a
 * reason; sorts them. 0 when there are none. */
uint32_t kl_trace_percentile(struct kl_trace_dom_stats *d, unsigned reason,
			     double p);
void kl_trace_stats_print(FILE *out, struct kl_trace_stats *s,
			  const struct kl_trace_names *names, uint64_t tsc_khz,
			  double seconds);
void kl_trace_stats_print_json(FILE *out, struct kl_trace_stats *s,
			       const struct kl_trace_names *names,
			       uint64_t tsc_khz, double seconds);
void kl_trace_stats_free(struct kl_trace_stats *s);

/*
 * `kl trace -o` files: "KLTRACE1", the TSC frequency (u64), then 40-byte
 * entries in the host's byte order: a type, a u32 (the CPU for records
 * and lost counts, the domid for names) and 32 bytes (a record, a name,
 * or a u64 count).
 */
#define KL_TRACE_FILE_MAGIC "KLTRACE1"
enum kl_trace_entry_type {
	KL_TRACE_ENTRY_REC = 1,
	KL_TRACE_ENTRY_NAME = 2,
	KL_TRACE_ENTRY_LOST = 3,
};
struct kl_trace_entry {
	uint32_t type;
	uint32_t arg;
	union {
		struct keel_trace_rec rec;
		char name[32];
		uint64_t lost;
	};
};
_Static_assert(sizeof(struct kl_trace_entry) == 40, "file layout");

int kl_trace_file_write_header(FILE *f, uint64_t tsc_khz);
/* 0, or -EINVAL when f is not a trace file. */
int kl_trace_file_read_header(FILE *f, uint64_t *tsc_khz);
/* 1 for an entry, 0 at the end, -EINVAL for a bad or cut entry. */
int kl_trace_file_read(FILE *f, struct kl_trace_entry *e);

#endif

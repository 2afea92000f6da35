/* SPDX-License-Identifier: MIT */
/*
 * `kl`'s argument parsing where it is more than a flag: create's options
 * and overrides, numbers with limits, and CPU lists for vcpu-pin.
 */
#ifndef KL_CLI_H
#define KL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* `kl create [-c] [-p] [-q] FILE [KEY=VALUE...]`. */
struct kl_create_args {
	bool console; /* -c: attach the console once it runs */
	bool paused;  /* -p: leave it paused */
	bool quiet;   /* -q: no "Parsing config" line */
	bool timing;  /* -t: the time of each build phase on stderr */
	const char *file;
	const char *const *overrides; /* points into argv */
	size_t nr_overrides;
};

/*
 * Parses argv[1..argc) (argv[0] is "create"). 0, 1 for --help, or -EINVAL
 * with why (a full sentence) in err.
 */
int kl_create_args_parse(int argc, char *const *argv, struct kl_create_args *a,
			 char *err, size_t errlen);

/* A decimal number in [min, max]: 0 or -EINVAL. */
int kl_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * A CPU list as xl vcpu-pin takes it ("all", "3", "0-3,^1", "1,4") into
 * a mask of CPUs 0-63 (Keel's affinity is 64 bits): 0 or -EINVAL (also
 * for a CPU above 63 or an empty set).
 */
int kl_parse_cpumask64(const char *s, uint64_t *mask);

#endif

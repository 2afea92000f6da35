/* SPDX-License-Identifier: MIT */
/* `kl` argument parsing (kl/cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kl/cli.h>
#include <kl/xlcfg.h>

int kl_create_args_parse(int argc, char *const *argv, struct kl_create_args *a,
			 char *err, size_t errlen)
{
	int i = 1;

	memset(a, 0, sizeof(*a));
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "--")) {
			i++;
			break;
		}
		if (!strcmp(opt, "--help") || !strcmp(opt, "-h"))
			return 1;
		if (opt[1] == '-') {
			snprintf(err, errlen, "unknown option '%s'", opt);
			return -EINVAL;
		}
		/* Short flags may be grouped, as in xl: -cp. */
		for (const char *f = opt + 1; *f; f++) {
			if (*f == 'c') {
				a->console = true;
			} else if (*f == 'p') {
				a->paused = true;
			} else if (*f == 'q') {
				a->quiet = true;
			} else if (*f == 't') {
				a->timing = true;
			} else {
				snprintf(err, errlen, "unknown option '-%c'",
					 *f);
				return -EINVAL;
			}
		}
	}
	if (i >= argc) {
		snprintf(err, errlen, "no configuration file given");
		return -EINVAL;
	}
	if (strchr(argv[i], '=')) {
		snprintf(err, errlen,
			 "'%s' looks like a KEY=VALUE override: the "
			 "configuration file comes first",
			 argv[i]);
		return -EINVAL;
	}
	a->file = argv[i++];
	for (int j = i; j < argc; j++) {
		if (!strchr(argv[j], '=')) {
			snprintf(err, errlen,
				 "'%s' is not a KEY=VALUE override (one "
				 "configuration file only)",
				 argv[j]);
			return -EINVAL;
		}
	}
	a->overrides = (const char *const *)argv + i;
	a->nr_overrides = (size_t)(argc - i);
	return 0;
}

int kl_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int kl_parse_cpumask64(const char *s, uint64_t *mask)
{
	struct kl_cpumap map;
	size_t bad;

	if (!strcmp(s, "all")) {
		*mask = UINT64_MAX;
		return 0;
	}
	if (kl_cpumap_parse(s, &map, &bad))
		return -EINVAL;
	for (size_t w = 1; w < sizeof(map.bits) / sizeof(map.bits[0]); w++)
		if (map.bits[w])
			return -EINVAL;
	if (!map.bits[0])
		return -EINVAL;
	*mask = map.bits[0];
	return 0;
}

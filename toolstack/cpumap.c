/* SPDX-License-Identifier: MIT */
/*
 * xl.cfg(5) CPU lists: "all", "N", "N-M", comma-separated, with "^N" or
 * "^N-M" taking CPUs out again. Exclusions apply after every inclusion,
 * so their place in the list does not matter, and a list of exclusions
 * alone ("^0") starts from all CPUs: a reader takes it to mean "not 0".
 */
#include <errno.h>
#include <string.h>

#include <kl/xlcfg.h>

static void set_range(struct kl_cpumap *m, unsigned lo, unsigned hi, bool on)
{
	for (unsigned c = lo; c <= hi; c++) {
		if (on)
			m->bits[c / 64] |= 1ULL << (c % 64);
		else
			m->bits[c / 64] &= ~(1ULL << (c % 64));
	}
}

static bool parse_cpu(const char **p, unsigned *cpu)
{
	unsigned long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v >= KL_MAX_PCPUS)
			return false;
		s++;
	}
	*p = s;
	*cpu = (unsigned)v;
	return true;
}

int kl_cpumap_parse(const char *s, struct kl_cpumap *map, size_t *bad)
{
	struct kl_cpumap minus;
	const char *p = s;
	bool any = false;

	memset(map, 0, sizeof(*map));
	memset(&minus, 0, sizeof(minus));
	if (!strcmp(s, "all")) {
		memset(map, 0xff, sizeof(*map));
		return 0;
	}
	for (;;) {
		const char *item = p;
		bool neg = false;
		unsigned lo, hi;

		while (*p == ' ')
			p++;
		if (*p == '^') {
			neg = true;
			p++;
		}
		if (!parse_cpu(&p, &lo))
			goto fail;
		hi = lo;
		if (*p == '-') {
			p++;
			if (!parse_cpu(&p, &hi) || hi < lo)
				goto fail;
		}
		while (*p == ' ')
			p++;
		set_range(neg ? &minus : map, lo, hi, true);
		any |= !neg;
		if (*p == '\0')
			break;
		if (*p != ',')
			goto fail;
		p++;
		continue;
	fail:
		*bad = (size_t)((*p ? p : item) - s);
		return -EINVAL;
	}
	if (!any)
		memset(map, 0xff, sizeof(*map));
	any = false;
	for (size_t i = 0; i < KL_MAX_PCPUS / 64; i++) {
		map->bits[i] &= ~minus.bits[i];
		any |= map->bits[i] != 0;
	}
	if (!any) {
		*bad = 0; /* the list as a whole selects nothing */
		return -EINVAL;
	}
	return 0;
}

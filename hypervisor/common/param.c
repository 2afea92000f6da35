/* SPDX-License-Identifier: MIT */
/* Keel's command line, read once against the options of param.h. */
#include <keel/param.h>

/* Bounds of the keel_params section (keel.ld). */
extern const struct kparam __start_keel_params[], __stop_keel_params[];

static const struct kparam *find_param(const char *name, size_t len)
{
	for (const struct kparam *p = __start_keel_params;
	     p < __stop_keel_params; p++)
		if (!strncmp(p->name, name, len) && p->name[len] == '\0')
			return p;
	return NULL;
}

static int set_param(const struct kparam *p, const char *val, size_t len)
{
	const char *end;
	uint64_t n;

	switch (p->type) {
	case KPARAM_UINT:
		n = parse_size(val, &end);
		if (end != val + len || !len)
			return -1;
		if (p->size == sizeof(uint64_t))
			*(uint64_t *)p->var = n;
		else
			*(unsigned *)p->var = (unsigned)n;
		return 0;
	case KPARAM_STRING:
		len = MIN(len, p->size - 1);
		memcpy(p->var, val, len);
		((char *)p->var)[len] = '\0';
		return 0;
	case KPARAM_CUSTOM:
		return p->handler(val);
	}
	return -1;
}

/* Keel's printk has no precision: words are copied out to be printed. */
static const char *word_copy(char *buf, size_t size, const char *s, size_t len)
{
	len = MIN(len, size - 1);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return buf;
}

void param_parse(const char *cmdline)
{
	const char *s = cmdline;

	while (*s) {
		const char *word, *eq;
		const struct kparam *p;
		size_t name_len;
		char buf[64];

		while (*s == ' ')
			s++;
		word = s;
		while (*s && *s != ' ')
			s++;
		if (s == word)
			break;
		for (eq = word; eq < s && *eq != '='; eq++)
			;
		name_len = (size_t)(eq - word);
		p = find_param(word, name_len);
		if (!p)
			printk("unknown option %s%s ignored\n",
			       word_copy(buf, sizeof(buf), word, name_len),
			       eq < s ? "=" : "");
		else if (eq == s)
			printk("option %s needs a value; ignored\n", p->name);
		else if (set_param(p, eq + 1, (size_t)(s - eq - 1)))
			printk("option %s: bad value; ignored\n",
			       word_copy(buf, sizeof(buf), word,
					 (size_t)(s - word)));
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * xl.cfg settings to a struct kl_domain_config: the PVH subset of
 * xl.cfg(5), with xl's defaults and precedence (the last setting of a key
 * wins; cmdline= beats root= and extra=) and Keel's limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cfgfile.h"

/* The origin given to command-line overrides in messages. */
#define OVERRIDE_ORIGIN "<command line>"

/* Largest xl.cfg read: a real one is a few KiB. */
#define MAX_CFG_BYTES (1u << 20)

struct build {
	const char *file; /* the configuration file, for what it lacks */
	struct kl_cfg_result *res;
	const struct cfg_file *cf;
	struct kl_domain_config *c;
};

static const char *const known_keys[] = {
    "name",	 "type",     "kernel",	   "ramdisk", "cmdline",
    "extra",	 "root",     "memory",	   "maxmem",  "vcpus",
    "maxvcpus",	 "cpus",     "cpu_weight", "cap",     "on_poweroff",
    "on_reboot", "on_crash", "disk",	   "vif",
};

/* xl.cfg keys a reader may carry over from Xen that mean nothing here. */
static const char *const xl_only_keys[] = {
    "builder",
    "bootloader",
    "bootloader_args",
    "pci",
    "vfb",
    "vkb",
    "vnc",
    "sdl",
    "serial",
    "usb",
    "usbdevice",
    "channel",
    "p9",
    "uuid",
    "pool",
    "seclabel",
    "on_watchdog",
    "on_soft_reset",
    "acpi",
    "apic",
    "pae",
    "hap",
    "nestedhvm",
    "viridian",
    "device_model_version",
    "device_model_override",
    "vtpm",
    "dtdev",
    "iomem",
    "ioports",
    "irqs",
    "cpus_soft",
    "localtime",
    "rtc_timeoffset",
    "tsc_mode",
    "max_grant_frames",
    "max_maptrack_frames",
    "driver_domain",
    "e820_host",
    "videoram",
};

static bool in_list(const char *key, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *kind_name(enum cfg_kind k)
{
	return k == CFG_LIST	 ? "a list"
	       : k == CFG_NUMBER ? "a number"
				 : "a string";
}

static int value_error(struct build *b, const struct cfg_setting *s,
		       const char *fmt, const char *arg)
{
	return cfg_diag(b->res, KL_DIAG_ERROR, s->file, s->value.line,
			s->value.col, s->key, fmt, arg);
}

/* A string value, copied into *out (replacing what was there). */
static int get_string(struct build *b, const char *key, char **out)
{
	const struct cfg_setting *s = cfg_find(b->cf, key);
	char *copy;

	if (!s)
		return 0;
	if (s->value.kind != CFG_STRING)
		return value_error(b, s, "expected a quoted string, found %s",
				   kind_name(s->value.kind));
	copy = strdup(s->value.atom.text);
	if (!copy)
		return -ENOMEM;
	free(*out);
	*out = copy;
	return 0;
}

/*
 * An unsigned integer: decimal, or hex with 0x. Like xl, a quoted number
 * is a number too. A leading zero is refused: xl would read "010" as
 * octal, which no one writing a memory size means.
 */
static int atom_uint(const char *t, uint64_t *v)
{
	int base = 10;
	uint64_t n = 0;

	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	} else if (t[0] == '0' && t[1]) {
		return -EINVAL;
	}
	if (!*t)
		return -EINVAL;
	for (; *t; t++) {
		int d;

		if (*t >= '0' && *t <= '9')
			d = *t - '0';
		else if (base == 16 && *t >= 'a' && *t <= 'f')
			d = *t - 'a' + 10;
		else if (base == 16 && *t >= 'A' && *t <= 'F')
			d = *t - 'A' + 10;
		else
			return -EINVAL;
		if (n > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			return -ERANGE;
		n = n * (uint64_t)base + (uint64_t)d;
	}
	*v = n;
	return 0;
}

static int get_uint(struct build *b, const char *key, uint64_t min,
		    uint64_t max, const char *unit, uint64_t *out)
{
	const struct cfg_setting *s = cfg_find(b->cf, key);
	uint64_t v = 0;
	int rc;

	if (!s)
		return 0;
	if (s->value.kind == CFG_LIST)
		return value_error(b, s, "expected a number, found %s",
				   "a list");
	rc = atom_uint(s->value.atom.text, &v);
	if (rc == -EINVAL)
		return value_error(
		    b, s, "'%s' is not a number (decimal, or hex with 0x)",
		    s->value.atom.text);
	if (rc || v < min || v > max)
		return cfg_diag(
		    b->res, KL_DIAG_ERROR, s->file, s->value.line, s->value.col,
		    s->key, "%s is out of range: %llu to %llu%s%s",
		    s->value.atom.text, (unsigned long long)min,
		    (unsigned long long)max, *unit ? " " : "", unit);
	*out = v;
	return 0;
}

static int get_action(struct build *b, const char *key, enum kl_action *out)
{
	const struct cfg_setting *s = cfg_find(b->cf, key);
	const char *v;

	if (!s)
		return 0;
	if (s->value.kind != CFG_STRING)
		return value_error(b, s, "expected a quoted string, found %s",
				   kind_name(s->value.kind));
	v = s->value.atom.text;
	if (!strcmp(v, "destroy"))
		*out = KL_ACTION_DESTROY;
	else if (!strcmp(v, "restart"))
		*out = KL_ACTION_RESTART;
	else if (!strcmp(v, "preserve"))
		*out = KL_ACTION_PRESERVE;
	else if (!strcmp(v, "rename-restart") || !strncmp(v, "coredump-", 9) ||
		 !strcmp(v, "soft-reset"))
		return value_error(b, s,
				   "'%s' is not supported by Keel: use "
				   "destroy, restart or preserve",
				   v);
	else
		return value_error(b, s,
				   "unknown action '%s': use destroy, restart "
				   "or preserve",
				   v);
	return 0;
}

/*
 * The name becomes part of device-model process and TAP names and is typed
 * on `kl` command lines, where a name made of digits would read as a domid.
 */
static int check_name(struct build *b)
{
	const struct cfg_setting *s = cfg_find(b->cf, "name");
	const char *n = b->c->name;
	bool digits = true;

	if (!s)
		return cfg_diag(b->res, KL_DIAG_ERROR, b->file, 1, 0, "name",
				"no name= given");
	if (!*n || strlen(n) > 64 || n[0] == '-' || n[0] == '.')
		return value_error(b, s,
				   "bad name '%s': 1 to 64 characters, not "
				   "starting with '-' or '.'",
				   n);
	for (const char *p = n; *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') ||
			  (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
			  *p == '.';

		if (!ok)
			return value_error(b, s,
					   "bad name '%s': letters, digits, "
					   "'-', '_' and '.' only",
					   n);
		digits &= *p >= '0' && *p <= '9';
	}
	if (digits)
		return value_error(b, s,
				   "bad name '%s': a name of digits only would "
				   "read as a domain id",
				   n);
	return 0;
}

static int parse_kernel_and_cmdline(struct build *b)
{
	struct kl_domain_config *c = b->c;
	const struct cfg_setting *type = cfg_find(b->cf, "type");
	const struct cfg_setting *cmdline = cfg_find(b->cf, "cmdline");
	char *root = NULL, *extra = NULL;
	int rc;

	if (type && (type->value.kind != CFG_STRING ||
		     strcmp(type->value.atom.text, "pvh")))
		return value_error(b, type,
				   "'%s' is not supported: Keel runs "
				   "type = \"pvh\" guests only",
				   type->value.kind == CFG_LIST
				       ? "[...]"
				       : type->value.atom.text);
	rc = get_string(b, "kernel", &c->kernel);
	if (!rc && (!c->kernel || !*c->kernel))
		rc = cfg_diag(b->res, KL_DIAG_ERROR, b->file, 1, 0, "kernel",
			      "a PVH guest needs kernel= (its bzImage)");
	if (!rc)
		rc = get_string(b, "ramdisk", &c->ramdisk);
	if (!rc)
		rc = get_string(b, "cmdline", &c->cmdline);
	if (!rc)
		rc = get_string(b, "root", &root);
	if (!rc)
		rc = get_string(b, "extra", &extra);
	if (rc)
		goto out;
	/* xl's own composition (tools/xl/xl_parse.c). */
	if (cmdline && (root || extra)) {
		rc =
		    cfg_diag(b->res, KL_DIAG_WARNING, cmdline->file,
			     cmdline->line, 0, "cmdline",
			     "ignoring root= and extra= in favour of cmdline=");
	} else if (!cmdline) {
		int n;

		if (root && extra)
			n = asprintf(&c->cmdline, "root=%s %s", root, extra);
		else if (root)
			n = asprintf(&c->cmdline, "root=%s", root);
		else
			n = asprintf(&c->cmdline, "%s", extra ? extra : "");
		if (n < 0) {
			c->cmdline = NULL;
			rc = -ENOMEM;
		}
	}
out:
	free(root);
	free(extra);
	return rc;
}

static int parse_sizes(struct build *b)
{
	struct kl_domain_config *c = b->c;
	const struct cfg_setting *s;
	uint64_t v;
	int rc;

	c->memory_mib = KL_DEFAULT_MEMORY_MIB;
	rc = get_uint(b, "memory", KL_MIN_MEMORY_MIB, KL_MAX_MEMORY_MIB, "MiB",
		      &c->memory_mib);
	c->maxmem_mib = c->memory_mib;
	if (!rc)
		rc = get_uint(b, "maxmem", KL_MIN_MEMORY_MIB, KL_MAX_MEMORY_MIB,
			      "MiB", &c->maxmem_mib);
	s = cfg_find(b->cf, "maxmem");
	if (!rc && c->maxmem_mib < c->memory_mib)
		rc = cfg_diag(b->res, KL_DIAG_ERROR, s->file, s->value.line,
			      s->value.col, s->key,
			      "maxmem (%llu MiB) is below memory (%llu MiB)",
			      (unsigned long long)c->maxmem_mib,
			      (unsigned long long)c->memory_mib);
	v = 1;
	if (!rc)
		rc = get_uint(b, "vcpus", 1, KL_MAX_VCPUS, "", &v);
	c->vcpus = (unsigned)v;
	if (!rc)
		rc = get_uint(b, "maxvcpus", 1, KL_MAX_VCPUS, "", &v);
	c->maxvcpus = (unsigned)v;
	s = cfg_find(b->cf, "maxvcpus");
	if (!rc && c->maxvcpus < c->vcpus)
		rc = cfg_diag(b->res, KL_DIAG_ERROR, s->file, s->value.line,
			      s->value.col, s->key,
			      "maxvcpus (%u) is below vcpus (%u)", c->maxvcpus,
			      c->vcpus);
	v = KL_DEFAULT_CPU_WEIGHT;
	if (!rc)
		rc = get_uint(b, "cpu_weight", 1, KL_MAX_CPU_WEIGHT, "", &v);
	c->cpu_weight = (unsigned)v;
	v = 0;
	if (!rc)
		rc = get_uint(b, "cap", 0, KL_MAX_CAP, "percent", &v);
	c->cap = (unsigned)v;
	return rc;
}

static int cpus_item(struct build *b, const struct cfg_setting *s,
		     const struct cfg_atom *a, struct kl_cpumap *map)
{
	size_t bad = 0;

	if (!strncmp(a->text, "nodes:", 6))
		return cfg_diag_atom(b->res, KL_DIAG_ERROR, s, a, 0,
				     "NUMA node affinity (nodes:) is not "
				     "supported");
	if (kl_cpumap_parse(a->text, map, &bad))
		return cfg_diag_atom(b->res, KL_DIAG_ERROR, s, a, bad,
				     "bad CPU list '%s': want \"all\", "
				     "\"N\", \"N-M\", \"^N\" items below %d "
				     "selecting at least one CPU",
				     a->text, KL_MAX_PCPUS);
	return 0;
}

static int parse_cpus(struct build *b)
{
	const struct cfg_setting *s = cfg_find(b->cf, "cpus");
	struct kl_domain_config *c = b->c;
	int rc;

	if (!s)
		return 0;
	c->affinity = calloc(c->maxvcpus, sizeof(*c->affinity));
	if (!c->affinity)
		return -ENOMEM;
	if (s->value.kind != CFG_LIST) {
		rc = cpus_item(b, s, &s->value.atom, &c->affinity[0]);
		for (unsigned i = 1; !rc && i < c->maxvcpus; i++)
			c->affinity[i] = c->affinity[0];
		return rc;
	}
	if (s->value.nr_items > c->maxvcpus)
		return cfg_diag_atom(
		    b->res, KL_DIAG_ERROR, s, &s->value.items[c->maxvcpus],
		    CFG_WHOLE_ATOM, "%zu CPU lists for %u vCPUs",
		    s->value.nr_items, c->maxvcpus);
	for (unsigned i = 0; i < c->maxvcpus; i++) {
		if (i >= s->value.nr_items) {
			memset(&c->affinity[i], 0xff, sizeof(c->affinity[i]));
			continue;
		}
		rc = cpus_item(b, s, &s->value.items[i], &c->affinity[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* A list of strings, as disk= and vif= take. */
static int string_list(struct build *b, const struct cfg_setting *s)
{
	if (s->value.kind != CFG_LIST)
		return value_error(
		    b, s, "expected a list of strings: %s = [ '...' ]", s->key);
	for (size_t i = 0; i < s->value.nr_items; i++)
		if (s->value.items[i].kind != CFG_STRING)
			return cfg_diag_atom(b->res, KL_DIAG_ERROR, s,
					     &s->value.items[i], CFG_WHOLE_ATOM,
					     "expected a quoted string");
	return 0;
}

static int parse_disks(struct build *b)
{
	const struct cfg_setting *s = cfg_find(b->cf, "disk");
	struct kl_domain_config *c = b->c;
	int rc;

	if (!s)
		return 0;
	rc = string_list(b, s);
	if (rc)
		return rc;
	c->disks = calloc(s->value.nr_items + 1, sizeof(*c->disks));
	if (!c->disks)
		return -ENOMEM;
	for (size_t i = 0; i < s->value.nr_items; i++) {
		struct kl_disk *d = &c->disks[i];

		rc = devspec_parse_disk(b->res, s, &s->value.items[i], d);
		c->nr_disks = i + 1; /* freed with the config even on error */
		if (rc)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (c->disks[j].index == d->index)
				return cfg_diag_atom(b->res, KL_DIAG_ERROR, s,
						     &s->value.items[i],
						     CFG_WHOLE_ATOM,
						     "vdev %s is the same disk "
						     "as %s",
						     d->vdev, c->disks[j].vdev);
	}
	return 0;
}

static int parse_vifs(struct build *b)
{
	const struct cfg_setting *s = cfg_find(b->cf, "vif");
	struct kl_domain_config *c = b->c;
	int rc;

	if (!s)
		return 0;
	rc = string_list(b, s);
	if (rc)
		return rc;
	c->vifs = calloc(s->value.nr_items + 1, sizeof(*c->vifs));
	if (!c->vifs)
		return -ENOMEM;
	for (size_t i = 0; i < s->value.nr_items; i++) {
		struct kl_vif *v = &c->vifs[i];

		rc = devspec_parse_vif(b->res, s, &s->value.items[i], v);
		c->nr_vifs = i + 1;
		if (rc)
			return rc;
		for (size_t j = 0; j < i && v->has_mac; j++)
			if (c->vifs[j].has_mac &&
			    !memcmp(c->vifs[j].mac, v->mac, 6))
				return cfg_diag_atom(
				    b->res, KL_DIAG_ERROR, s,
				    &s->value.items[i], CFG_WHOLE_ATOM,
				    "mac repeats vif %zu's", j);
	}
	return 0;
}

static int warn_unknown_keys(struct build *b)
{
	for (size_t i = 0; i < b->cf->nr; i++) {
		const struct cfg_setting *s = &b->cf->settings[i];
		int rc = 0;

		if (in_list(s->key, known_keys, ARRAY_LEN(known_keys)))
			continue;
		if (in_list(s->key, xl_only_keys, ARRAY_LEN(xl_only_keys)))
			rc = cfg_diag(b->res, KL_DIAG_WARNING, s->file, s->line,
				      0, s->key,
				      "an xl.cfg key Keel does not support; "
				      "ignored");
		else
			rc = cfg_diag(b->res, KL_DIAG_WARNING, s->file, s->line,
				      0, s->key, "unknown key; ignored");
		if (rc)
			return rc;
	}
	return 0;
}

static int build_config(struct build *b)
{
	int rc;

	b->c->on_poweroff = KL_ACTION_DESTROY;
	b->c->on_reboot = KL_ACTION_RESTART;
	b->c->on_crash = KL_ACTION_DESTROY;
	rc = warn_unknown_keys(b);
	if (!rc)
		rc = get_string(b, "name", &b->c->name);
	if (!rc)
		rc = check_name(b);
	if (!rc)
		rc = parse_kernel_and_cmdline(b);
	if (!rc)
		rc = parse_sizes(b);
	if (!rc)
		rc = parse_cpus(b);
	if (!rc)
		rc = get_action(b, "on_poweroff", &b->c->on_poweroff);
	if (!rc)
		rc = get_action(b, "on_reboot", &b->c->on_reboot);
	if (!rc)
		rc = get_action(b, "on_crash", &b->c->on_crash);
	if (!rc)
		rc = parse_disks(b);
	if (!rc)
		rc = parse_vifs(b);
	return rc;
}

int kl_cfg_parse(const char *file, const char *text, size_t len,
		 const char *const *overrides, size_t nr_overrides,
		 struct kl_cfg_result *out)
{
	struct cfg_file cf = {NULL, 0};
	struct build b = {.file = file, .res = out, .cf = &cf, .c = &out->cfg};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cfg_parse_text(&cf, file, 1, text, len, out);
	/* Override i is "line" i of the command line, counting from 1. */
	for (size_t i = 0; !rc && i < nr_overrides; i++)
		rc = cfg_parse_text(&cf, OVERRIDE_ORIGIN, (unsigned)i + 1,
				    overrides[i], strlen(overrides[i]), out);
	if (!rc && cf.nr == 0)
		rc = cfg_diag(out, KL_DIAG_ERROR, file, 1, 0, NULL,
			      "no settings (a PVH guest needs at least name= "
			      "and kernel=)");
	if (!rc)
		rc = build_config(&b);
	cfg_file_free(&cf);
	return rc;
}

static int read_error(struct kl_cfg_result *out, const char *path, int rc,
		      const char *why)
{
	int drc = cfg_diag(out, KL_DIAG_ERROR, path, 0, 0, NULL,
			   "cannot read: %s", why ? why : strerror(-rc));

	return drc == -ENOMEM ? drc : rc;
}

int kl_cfg_load(const char *path, const char *const *overrides,
		size_t nr_overrides, struct kl_cfg_result *out)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, rc;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return read_error(out, path, -errno, NULL);
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return read_error(out, path, rc, NULL);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > MAX_CFG_BYTES) {
		close(fd);
		return read_error(out, path, -EINVAL,
				  S_ISREG(st.st_mode) ? "larger than 1 MiB"
						      : "not a regular file");
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, text, (size_t)st.st_size);
	rc = n < 0 ? -errno : n != st.st_size ? -EIO : 0;
	close(fd);
	if (!rc)
		rc = kl_cfg_parse(path, text, (size_t)n, overrides,
				  nr_overrides, out);
	else
		rc = read_error(out, path, rc, NULL);
	free(text);
	return rc;
}

static void free_config(struct kl_domain_config *c)
{
	free(c->name);
	free(c->kernel);
	free(c->ramdisk);
	free(c->cmdline);
	free(c->affinity);
	for (size_t i = 0; i < c->nr_disks; i++) {
		free(c->disks[i].target);
		free(c->disks[i].vdev);
	}
	free(c->disks);
	for (size_t i = 0; i < c->nr_vifs; i++) {
		free(c->vifs[i].bridge);
		free(c->vifs[i].vifname);
	}
	free(c->vifs);
	memset(c, 0, sizeof(*c));
}

void kl_cfg_result_free(struct kl_cfg_result *out)
{
	free_config(&out->cfg);
	for (size_t i = 0; i < out->nr_diags; i++) {
		free(out->diags[i].file);
		free(out->diags[i].key);
		free(out->diags[i].message);
		free(out->diags[i].text);
	}
	free(out->diags);
	out->diags = NULL;
	out->nr_diags = 0;
}

const struct kl_diag *kl_cfg_error(const struct kl_cfg_result *out)
{
	for (size_t i = 0; i < out->nr_diags; i++)
		if (out->diags[i].level == KL_DIAG_ERROR)
			return &out->diags[i];
	return NULL;
}

const char *kl_action_name(enum kl_action a)
{
	switch (a) {
	case KL_ACTION_DESTROY:
		return "destroy";
	case KL_ACTION_RESTART:
		return "restart";
	case KL_ACTION_PRESERVE:
		return "preserve";
	}
	return "?";
}

/* SPDX-License-Identifier: MIT */
/*
 * disk= and vif= entries: xl-disk-configuration(5) and
 * xl-network-configuration(5), limited to what Keel's virtio-blk and
 * virtio-net back ends can honour. Anything they cannot is refused by
 * name rather than silently dropped, except vif keys that only tune Xen's
 * netback, which warn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"

/* One comma-separated field of a spec: [start, end) of the atom's text. */
struct field {
	size_t start, end;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits off the next field at *pos, trimmed of blanks. */
static struct field next_field(const char *t, size_t *pos)
{
	struct field f;
	size_t p = *pos;

	while (t[p] && is_space(t[p]))
		p++;
	f.start = p;
	while (t[p] && t[p] != ',')
		p++;
	f.end = p;
	while (f.end > f.start && is_space(t[f.end - 1]))
		f.end--;
	*pos = t[p] == ',' ? p + 1 : p;
	return f;
}

static bool field_is(const char *t, struct field f, const char *word)
{
	size_t n = strlen(word);

	return f.end - f.start == n && !strncmp(t + f.start, word, n);
}

static char *field_dup(const char *t, struct field f)
{
	return strndup(t + f.start, f.end - f.start);
}

/* The '=' inside a field, or 0 if none. */
static size_t field_eq(const char *t, struct field f)
{
	for (size_t i = f.start; i < f.end; i++)
		if (t[i] == '=')
			return i;
	return 0;
}

/*
 * Linux's xen-blkfront naming, which xl's vdev follows: xvd, sd or hd and
 * a base-26 letter number (a..z, aa..zz, ...). Keel's disks are whole
 * virtio-blk devices, so partition suffixes are refused.
 */
static int vdev_index(const char *v, unsigned *index)
{
	static const char *const prefixes[] = {"xvd", "sd", "hd"};
	const char *p = NULL;
	unsigned long n = 0;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t len = strlen(prefixes[i]);

		if (!strncmp(v, prefixes[i], len)) {
			p = v + len;
			break;
		}
	}
	if (!p || !*p)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < 'a' || *p > 'z')
			return -EINVAL;
		n = n * 26 + (unsigned long)(*p - 'a' + 1);
		if (n > 26 * 26 + 26)
			return -EINVAL; /* xvdzz is the last blkfront name */
	}
	*index = (unsigned)(n - 1);
	return 0;
}

enum disk_slot { SLOT_TARGET, SLOT_FORMAT, SLOT_VDEV, SLOT_ACCESS, NR_SLOTS };

static const char *const slot_names[NR_SLOTS] = {
    "target",
    "format",
    "vdev",
    "access",
};

struct disk_parse {
	struct kl_cfg_result *res;
	const struct cfg_setting *s;
	const struct cfg_atom *a;
	struct kl_disk *out;
	bool have[NR_SLOTS];
};

#define disk_error(dp, off, ...)                                               \
	cfg_diag_atom((dp)->res, KL_DIAG_ERROR, (dp)->s, (dp)->a, off,         \
		      __VA_ARGS__)

static int set_format(struct disk_parse *dp, const char *v, size_t off)
{
	if (!strcmp(v, "raw"))
		dp->out->format = KL_DISK_RAW;
	else if (!strcmp(v, "qcow2"))
		dp->out->format = KL_DISK_QCOW2;
	else if (!strcmp(v, "qcow") || !strcmp(v, "vhd") || !strcmp(v, "qed"))
		return disk_error(
		    dp, off, "disk format '%s' is not supported (raw or qcow2)",
		    v);
	else
		return disk_error(dp, off,
				  "unknown disk format '%s' (raw or qcow2)", v);
	return 0;
}

static int set_slot(struct disk_parse *dp, enum disk_slot slot, const char *v,
		    size_t off)
{
	const char *colon;

	if (dp->have[slot])
		return disk_error(dp, off, "%s is given twice",
				  slot_names[slot]);
	dp->have[slot] = true;
	switch (slot) {
	case SLOT_TARGET:
		if (!*v)
			return disk_error(dp, off, "empty target");
		dp->out->target = strdup(v);
		return dp->out->target ? 0 : -ENOMEM;
	case SLOT_FORMAT:
		return *v ? set_format(dp, v, off) : 0;
	case SLOT_VDEV:
		/* The deprecated "hdc:cdrom" form of devtype. */
		colon = strchr(v, ':');
		if (colon && !strcmp(colon, ":cdrom"))
			return disk_error(
			    dp, off,
			    "CD-ROM disks are not supported "
			    "(virtio-blk has no removable media)");
		if (vdev_index(v, &dp->out->index))
			return disk_error(
			    dp, off,
			    "bad vdev '%s': want xvdX, sdX or hdX "
			    "(a whole disk)",
			    v);
		dp->out->vdev = strdup(v);
		return dp->out->vdev ? 0 : -ENOMEM;
	case SLOT_ACCESS:
		if (!strcmp(v, "r") || !strcmp(v, "ro"))
			dp->out->readonly = true;
		else if (!strcmp(v, "w") || !strcmp(v, "rw") || !*v)
			dp->out->readonly = false;
		else
			return disk_error(
			    dp, off, "bad access '%s': want ro, r, rw or w", v);
		return 0;
	case NR_SLOTS:
		break;
	}
	return -EINVAL;
}

/*
 * The deprecated "raw:/path" and "phy:/dev/x" prefixes name the format (or
 * an old back-end type, meaning raw) and make the format slot implicit,
 * so "phy:/dev/vg/lv,xvda,w" is target, vdev, access.
 */
static size_t deprecated_prefix(struct disk_parse *dp, const char *v)
{
	static const struct {
		const char *prefix;
		enum kl_disk_format format;
	} prefixes[] = {
	    {"raw:", KL_DISK_RAW},	{"qcow2:", KL_DISK_QCOW2},
	    {"phy:", KL_DISK_RAW},	{"file:", KL_DISK_RAW},
	    {"aio:", KL_DISK_RAW},	{"tap:aio:", KL_DISK_RAW},
	    {"tap2:aio:", KL_DISK_RAW},
	};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i].prefix);

		if (!strncmp(v, prefixes[i].prefix, n)) {
			dp->out->format = prefixes[i].format;
			dp->have[SLOT_FORMAT] = true;
			return n;
		}
	}
	return 0;
}

int devspec_parse_disk(struct kl_cfg_result *res, const struct cfg_setting *s,
		       const struct cfg_atom *a, struct kl_disk *out)
{
	struct disk_parse dp = {.res = res, .s = s, .a = a, .out = out};
	const char *t = a->text;
	unsigned next_slot = SLOT_TARGET;
	size_t pos = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->format = KL_DISK_RAW;
	while (!rc && t[pos]) {
		struct field f;
		size_t eq;
		char *v;

		/* target= takes the rest, commas included (it must be last). */
		while (is_space(t[pos]))
			pos++;
		if (!strncmp(t + pos, "target=", 7)) {
			rc = set_slot(&dp, SLOT_TARGET, t + pos + 7, pos + 7);
			break;
		}
		f = next_field(t, &pos);
		eq = field_eq(t, f);
		if (eq) {
			struct field k = {f.start, eq}, val = {eq + 1, f.end};
			enum disk_slot slot = NR_SLOTS;

			for (unsigned i = SLOT_FORMAT; i < NR_SLOTS; i++)
				if (field_is(t, k, slot_names[i]))
					slot = i;
			if (field_is(t, k, "devtype")) {
				if (!field_is(t, val, "disk"))
					rc = disk_error(
					    &dp, val.start,
					    "devtype must be disk "
					    "(virtio-blk has no CD-ROM)");
				continue;
			}
			if (slot == NR_SLOTS) {
				v = field_dup(t, k);
				rc = v ? disk_error(
					     &dp, f.start,
					     "unknown disk parameter '%s'", v)
				       : -ENOMEM;
				free(v);
				continue;
			}
			v = field_dup(t, val);
			rc = v ? set_slot(&dp, slot, v, val.start) : -ENOMEM;
			free(v);
			continue;
		}
		if (field_is(t, f, "cdrom")) {
			rc = disk_error(&dp, f.start,
					"CD-ROM disks are not supported "
					"(virtio-blk has no removable media)");
			continue;
		}
		/* A positional parameter fills the next unspecified slot. */
		while (next_slot < NR_SLOTS && dp.have[next_slot])
			next_slot++;
		if (next_slot == NR_SLOTS) {
			rc = disk_error(&dp, f.start,
					"too many positional parameters");
			continue;
		}
		v = field_dup(t, f);
		if (!v)
			return -ENOMEM;
		if (next_slot == SLOT_TARGET) {
			size_t skip = deprecated_prefix(&dp, v);

			rc = set_slot(&dp, SLOT_TARGET, v + skip,
				      f.start + skip);
		} else if (f.start == f.end) {
			dp.have[next_slot] = true; /* ",," keeps the default */
		} else {
			rc = set_slot(&dp, next_slot, v, f.start);
		}
		free(v);
		next_slot++;
	}
	if (rc)
		return rc;
	if (!out->target)
		return disk_error(&dp, CFG_WHOLE_ATOM,
				  "no target (file or block device)");
	if (!out->vdev)
		return disk_error(&dp, CFG_WHOLE_ATOM,
				  "no vdev (e.g. vdev=xvda)");
	return 0;
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Six colon-separated pairs of hex digits; a unicast address. */
static bool parse_mac(const char *v, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = hex_nibble(v[0]), lo = hi < 0 ? -1 : hex_nibble(v[1]);

		if (hi < 0 || lo < 0)
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
		v += 2;
		if (i < 5 && *v++ != ':')
			return false;
	}
	return *v == '\0' && !(mac[0] & 1);
}

/* Keys xl-network-configuration(5) defines that only Xen's netback uses. */
static const char *const vif_xen_only[] = {
    "ip",	  "script", "backend", "rate",
    "gatewaydev", "accel",  "devid",   "forwarddev",
};

int devspec_parse_vif(struct kl_cfg_result *res, const struct cfg_setting *s,
		      const struct cfg_atom *a, struct kl_vif *out)
{
	const char *t = a->text;
	size_t pos = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	while (!rc && t[pos]) {
		struct field f = next_field(t, &pos), k, val;
		size_t eq = field_eq(t, f);
		char *key, *v;

		if (f.start == f.end)
			continue; /* vif = [ '' ] means all defaults */
		if (!eq) {
			v = field_dup(t, f);
			rc =
			    v ? cfg_diag_atom(res, KL_DIAG_ERROR, s, a, f.start,
					      "'%s' is not KEY=VALUE", v)
			      : -ENOMEM;
			free(v);
			break;
		}
		k = (struct field){f.start, eq};
		val = (struct field){eq + 1, f.end};
		key = field_dup(t, k);
		v = field_dup(t, val);
		if (!key || !v) {
			rc = -ENOMEM;
		} else if (!strcmp(key, "mac")) {
			if (!parse_mac(v, out->mac))
				rc = cfg_diag_atom(
				    res, KL_DIAG_ERROR, s, a, val.start,
				    "bad mac '%s': want six hex "
				    "pairs like 00:16:3e:00:00:01, "
				    "unicast",
				    v);
			out->has_mac = true;
		} else if (!strcmp(key, "bridge")) {
			if (!*v || strlen(v) > KL_MAX_IFNAME)
				rc = cfg_diag_atom(res, KL_DIAG_ERROR, s, a,
						   val.start,
						   "bad bridge name '%s'", v);
			free(out->bridge);
			out->bridge = v;
			v = NULL;
		} else if (!strcmp(key, "vifname")) {
			if (!*v || strlen(v) > KL_MAX_IFNAME ||
			    strpbrk(v, "/: "))
				rc = cfg_diag_atom(
				    res, KL_DIAG_ERROR, s, a, val.start,
				    "bad vifname '%s': at most %d "
				    "characters, no '/', ':' or ' '",
				    v, KL_MAX_IFNAME);
			free(out->vifname);
			out->vifname = v;
			v = NULL;
		} else if (!strcmp(key, "model")) {
			if (strcmp(v, "virtio") && strcmp(v, "virtio-net"))
				rc = cfg_diag_atom(
				    res, KL_DIAG_ERROR, s, a, val.start,
				    "model '%s' is not supported: "
				    "Keel's network devices are "
				    "virtio-net",
				    v);
		} else if (!strcmp(key, "type")) {
			if (strcmp(v, "vif"))
				rc = cfg_diag_atom(res, KL_DIAG_ERROR, s, a,
						   val.start,
						   "type '%s' is not supported "
						   "(only vif)",
						   v);
		} else if (!strcmp(key, "mtu")) {
			char *end;
			unsigned long mtu = strtoul(v, &end, 10);

			/* RFC 791's minimum datagram to a 64 KiB frame. */
			if (!*v || *end || mtu < 68 || mtu > 65535)
				rc = cfg_diag_atom(
				    res, KL_DIAG_ERROR, s, a, val.start,
				    "bad mtu '%s': want 68 to 65535", v);
			out->mtu = (unsigned)mtu;
		} else {
			bool xen_only = false;

			for (size_t i = 0;
			     i < sizeof(vif_xen_only) / sizeof(vif_xen_only[0]);
			     i++)
				xen_only |= !strcmp(key, vif_xen_only[i]);
			rc = cfg_diag_atom(
			    res, xen_only ? KL_DIAG_WARNING : KL_DIAG_ERROR, s,
			    a, k.start,
			    xen_only ? "'%s' only applies to Xen's "
				       "netback; ignored"
				     : "unknown vif parameter '%s'",
			    key);
		}
		free(key);
		free(v);
	}
	if (!rc && !out->bridge) {
		out->bridge = strdup(KL_DEFAULT_BRIDGE);
		if (!out->bridge)
			rc = -ENOMEM;
	}
	return rc;
}

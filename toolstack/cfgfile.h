/* SPDX-License-Identifier: MIT */
/*
 * The syntax layer of xl.cfg: text to a list of settings, with positions,
 * before any key is interpreted (xlcfg.c does that). Internal to libkl.
 */
#ifndef KL_CFGFILE_H
#define KL_CFGFILE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <kl/xlcfg.h>

enum cfg_kind { CFG_STRING, CFG_NUMBER, CFG_LIST };

/* A string or number as written (strings with their escapes decoded). */
struct cfg_atom {
	enum cfg_kind kind; /* CFG_STRING or CFG_NUMBER */
	char *text;
	const char *file;   /* its own: KEY += may append to another file's */
	unsigned line, col; /* of the opening quote or first digit */
	bool plain;	    /* no escapes: text[i] sits at col + 1 + i */
};

struct cfg_value {
	enum cfg_kind kind;
	struct cfg_atom atom;	/* CFG_STRING, CFG_NUMBER */
	struct cfg_atom *items; /* CFG_LIST */
	size_t nr_items;
	unsigned line, col;
};

struct cfg_setting {
	char *key;
	const char *file; /* borrowed from the caller of cfg_parse_text() */
	unsigned line, col;
	struct cfg_value value;
};

struct cfg_file {
	struct cfg_setting *settings;
	size_t nr;
};

/*
 * Parses text (len bytes, NULs refused) and appends its settings to cf.
 * Positions count lines from first_line. 0, -EINVAL after adding an error
 * to res, -ENOMEM.
 */
int cfg_parse_text(struct cfg_file *cf, const char *file, unsigned first_line,
		   const char *text, size_t len, struct kl_cfg_result *res);

/* The last setting of key, or NULL. */
const struct cfg_setting *cfg_find(const struct cfg_file *cf, const char *key);

void cfg_file_free(struct cfg_file *cf);

/*
 * Appends a diagnostic to res. Returns -EINVAL for an error, 0 for a
 * warning, -ENOMEM if it could not be recorded.
 */
int cfg_diag(struct kl_cfg_result *res, enum kl_diag_level level,
	     const char *file, unsigned line, unsigned col, const char *key,
	     const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * cfg_diag() at byte off of atom's text (its own position when escapes
 * make columns unknowable, or off is CFG_WHOLE_ATOM), naming setting s.
 */
#define CFG_WHOLE_ATOM ((size_t)-1)
int cfg_diag_atom(struct kl_cfg_result *res, enum kl_diag_level level,
		  const struct cfg_setting *s, const struct cfg_atom *a,
		  size_t off, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* disk= and vif= entries (devspec.c): 0, -EINVAL with an error, -ENOMEM. */
int devspec_parse_disk(struct kl_cfg_result *res, const struct cfg_setting *s,
		       const struct cfg_atom *a, struct kl_disk *out);
int devspec_parse_vif(struct kl_cfg_result *res, const struct cfg_setting *s,
		      const struct cfg_atom *a, struct kl_vif *out);

#endif

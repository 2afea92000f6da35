/* SPDX-License-Identifier: MIT */
/*
 * xl.cfg syntax, as Xen's libxlu reads it (tools/libs/util/libxlu_cfg_y.y
 * and libxlu_cfg_l.l): settings "KEY = VALUE" or "KEY += VALUE" ended by a
 * newline, ';' or the end of the text; values are strings, numbers or one
 * level of [ ... ] lists whose elements may be spread over lines and
 * followed by a trailing comma; '#' starts a comment. A hand-written lexer
 * keeps positions exact for messages and needs no generated code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"

enum tok_type {
	TOK_EOF,
	TOK_NL,
	TOK_SEMI,
	TOK_EQ,
	TOK_PLUSEQ,
	TOK_LBRACKET,
	TOK_RBRACKET,
	TOK_COMMA,
	TOK_IDENT,
	TOK_STRING,
	TOK_NUMBER,
};

struct tok {
	enum tok_type type;
	unsigned line, col;
	char *text; /* owned: IDENT, STRING (decoded), NUMBER */
	bool plain;
};

struct lexer {
	const char *p, *end;
	unsigned line, col;
	const char *file;
	struct kl_cfg_result *res;
};

static const char *tok_name(enum tok_type t)
{
	switch (t) {
	case TOK_EOF:
		return "end of input";
	case TOK_NL:
		return "end of line";
	case TOK_SEMI:
		return "';'";
	case TOK_EQ:
		return "'='";
	case TOK_PLUSEQ:
		return "'+='";
	case TOK_LBRACKET:
		return "'['";
	case TOK_RBRACKET:
		return "']'";
	case TOK_COMMA:
		return "','";
	case TOK_IDENT:
		return "a name";
	case TOK_STRING:
		return "a string";
	case TOK_NUMBER:
		return "a number";
	}
	return "?";
}

int cfg_diag(struct kl_cfg_result *res, enum kl_diag_level level,
	     const char *file, unsigned line, unsigned col, const char *key,
	     const char *fmt, ...)
{
	struct kl_diag *d, *grown;
	char loc[64];
	va_list ap;
	int n;

	grown = realloc(res->diags, (res->nr_diags + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	res->diags = grown;
	d = &res->diags[res->nr_diags];
	memset(d, 0, sizeof(*d));
	d->level = level;
	d->line = line;
	d->col = col;
	d->file = strdup(file);
	d->key = key ? strdup(key) : NULL;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	d->message = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (d->message) {
		va_start(ap, fmt);
		vsnprintf(d->message, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	if (col)
		snprintf(loc, sizeof(loc), ":%u:%u", line, col);
	else
		snprintf(loc, sizeof(loc), ":%u", line);
	if (d->file && d->message) {
		n = snprintf(NULL, 0, "%s%s: %s: %s%s%s", d->file, loc,
			     level == KL_DIAG_ERROR ? "error" : "warning",
			     key ? key : "", key ? ": " : "", d->message);
		d->text = malloc((size_t)n + 1);
		if (d->text)
			snprintf(d->text, (size_t)n + 1, "%s%s: %s: %s%s%s",
				 d->file, loc,
				 level == KL_DIAG_ERROR ? "error" : "warning",
				 key ? key : "", key ? ": " : "", d->message);
	}
	res->nr_diags++;
	if (!d->file || !d->message || !d->text || (key && !d->key))
		return -ENOMEM;
	return level == KL_DIAG_ERROR ? -EINVAL : 0;
}

#define lex_error(lx, line, col, ...)                                          \
	cfg_diag((lx)->res, KL_DIAG_ERROR, (lx)->file, line, col, NULL,        \
		 __VA_ARGS__)

static void advance(struct lexer *lx)
{
	if (*lx->p == '\n') {
		lx->line++;
		lx->col = 1;
	} else {
		lx->col++;
	}
	lx->p++;
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_word(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A quoted string; the C escapes libxlu's dequoting understands. */
static int lex_string(struct lexer *lx, struct tok *t)
{
	char quote = *lx->p, *out;
	size_t n = 0;

	out = malloc((size_t)(lx->end - lx->p));
	if (!out)
		return -ENOMEM;
	t->plain = true;
	advance(lx);
	for (;;) {
		char c;

		if (lx->p == lx->end || *lx->p == '\n') {
			free(out);
			return lex_error(lx, t->line, t->col,
					 "unterminated string");
		}
		c = *lx->p;
		if (c == '\0') {
			free(out);
			return lex_error(lx, lx->line, lx->col,
					 "NUL byte in string");
		}
		if (c == quote) {
			advance(lx);
			break;
		}
		if (c == '\\') {
			unsigned ecol = lx->col, eline = lx->line;
			int hi, lo;

			t->plain = false;
			advance(lx);
			c = lx->p < lx->end ? *lx->p : '\0';
			switch (c) {
			case '\\':
			case '"':
			case '\'':
				break;
			case 'n':
				c = '\n';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'x':
				hi = lx->p + 1 < lx->end ? hex_digit(lx->p[1])
							 : -1;
				lo = lx->p + 2 < lx->end ? hex_digit(lx->p[2])
							 : -1;
				if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
					free(out);
					return lex_error(
					    lx, eline, ecol,
					    "bad \\x escape: want two hex "
					    "digits, not 00");
				}
				advance(lx);
				advance(lx);
				c = (char)(hi << 4 | lo);
				break;
			default:
				free(out);
				return lex_error(
				    lx, eline, ecol,
				    "unknown escape sequence in string");
			}
		}
		out[n++] = c;
		advance(lx);
	}
	out[n] = '\0';
	t->type = TOK_STRING;
	t->text = out;
	return 0;
}

static int lex_word(struct lexer *lx, struct tok *t, enum tok_type type)
{
	const char *start = lx->p;

	while (lx->p < lx->end && is_word(*lx->p))
		advance(lx);
	t->type = type;
	t->text = strndup(start, (size_t)(lx->p - start));
	t->plain = true;
	return t->text ? 0 : -ENOMEM;
}

static int lex_next(struct lexer *lx, struct tok *t)
{
	char c;

	memset(t, 0, sizeof(*t));
	while (lx->p < lx->end &&
	       (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
		advance(lx);
	if (lx->p < lx->end && *lx->p == '#') {
		while (lx->p < lx->end && *lx->p != '\n')
			advance(lx);
	}
	t->line = lx->line;
	t->col = lx->col;
	if (lx->p == lx->end) {
		t->type = TOK_EOF;
		return 0;
	}
	c = *lx->p;
	switch (c) {
	case '\n':
		t->type = TOK_NL;
		break;
	case ';':
		t->type = TOK_SEMI;
		break;
	case '=':
		t->type = TOK_EQ;
		break;
	case '[':
		t->type = TOK_LBRACKET;
		break;
	case ']':
		t->type = TOK_RBRACKET;
		break;
	case ',':
		t->type = TOK_COMMA;
		break;
	case '+':
		if (lx->p + 1 < lx->end && lx->p[1] == '=') {
			advance(lx);
			t->type = TOK_PLUSEQ;
			break;
		}
		return lex_error(lx, t->line, t->col,
				 "unexpected '+' (numbers take no sign)");
	case '"':
	case '\'':
		return lex_string(lx, t);
	case '\0':
		return lex_error(lx, t->line, t->col,
				 "NUL byte in configuration");
	default:
		if (c >= '0' && c <= '9')
			return lex_word(lx, t, TOK_NUMBER);
		if (is_ident_start(c))
			return lex_word(lx, t, TOK_IDENT);
		{
			char what[32];

			if (c > ' ' && c < 0x7f)
				snprintf(what, sizeof(what), "'%c'", c);
			else
				snprintf(what, sizeof(what), "byte 0x%02x",
					 (unsigned char)c);
			return lex_error(lx, t->line, t->col,
					 "unexpected %s (strings need quotes)",
					 what);
		}
	}
	advance(lx);
	return 0;
}

static void atom_free(struct cfg_atom *a)
{
	free(a->text);
	a->text = NULL;
}

static void value_free(struct cfg_value *v)
{
	atom_free(&v->atom);
	for (size_t i = 0; i < v->nr_items; i++)
		atom_free(&v->items[i]);
	free(v->items);
	v->items = NULL;
	v->nr_items = 0;
}

/* Takes the token's text into an atom. */
static void atom_from_tok(struct lexer *lx, struct cfg_atom *a, struct tok *t)
{
	a->kind = t->type == TOK_STRING ? CFG_STRING : CFG_NUMBER;
	a->text = t->text;
	a->line = t->line;
	a->col = t->col;
	a->file = lx->file;
	a->plain = t->plain;
	t->text = NULL;
}

static int unexpected(struct lexer *lx, const struct tok *t, const char *want,
		      const char *key)
{
	if (t->type == TOK_IDENT)
		return cfg_diag(lx->res, KL_DIAG_ERROR, lx->file, t->line,
				t->col, key,
				"unquoted string '%s' where %s was expected "
				"(write \"%s\")",
				t->text, want, t->text);
	return cfg_diag(lx->res, KL_DIAG_ERROR, lx->file, t->line, t->col, key,
			"expected %s, found %s", want, tok_name(t->type));
}

/* After '[': atoms separated by commas, newlines anywhere, a trailing comma. */
static int parse_list(struct lexer *lx, struct cfg_value *v, const char *key)
{
	bool want_item = true;
	struct tok t;
	int rc;

	for (;;) {
		rc = lex_next(lx, &t);
		if (rc)
			return rc;
		if (t.type == TOK_NL)
			continue;
		if (t.type == TOK_RBRACKET)
			return 0;
		if (want_item &&
		    (t.type == TOK_STRING || t.type == TOK_NUMBER)) {
			struct cfg_atom *grown = realloc(
			    v->items, (v->nr_items + 1) * sizeof(*grown));

			if (!grown) {
				free(t.text);
				return -ENOMEM;
			}
			v->items = grown;
			atom_from_tok(lx, &v->items[v->nr_items++], &t);
			want_item = false;
			continue;
		}
		if (!want_item && t.type == TOK_COMMA) {
			want_item = true;
			continue;
		}
		if (t.type == TOK_LBRACKET)
			rc = cfg_diag(lx->res, KL_DIAG_ERROR, lx->file, t.line,
				      t.col, key, "lists cannot be nested");
		else if (t.type == TOK_EOF)
			rc = cfg_diag(lx->res, KL_DIAG_ERROR, lx->file, v->line,
				      v->col, key,
				      "list is not closed with ']'");
		else
			rc = unexpected(lx, &t,
					want_item ? "a string, a number or ']'"
						  : "',' or ']'",
					key);
		free(t.text);
		return rc;
	}
}

static int parse_value(struct lexer *lx, struct cfg_value *v, const char *key)
{
	struct tok t;
	int rc = lex_next(lx, &t);

	if (rc)
		return rc;
	v->line = t.line;
	v->col = t.col;
	if (t.type == TOK_STRING || t.type == TOK_NUMBER) {
		v->kind = t.type == TOK_STRING ? CFG_STRING : CFG_NUMBER;
		atom_from_tok(lx, &v->atom, &t);
		return 0;
	}
	if (t.type == TOK_LBRACKET) {
		v->kind = CFG_LIST;
		return parse_list(lx, v, key);
	}
	rc = unexpected(lx, &t, "a value", key);
	free(t.text);
	return rc;
}

const struct cfg_setting *cfg_find(const struct cfg_file *cf, const char *key)
{
	for (size_t i = cf->nr; i-- > 0;)
		if (!strcmp(cf->settings[i].key, key))
			return &cf->settings[i];
	return NULL;
}

/* KEY += [list]: the list grows the last setting of KEY, if it is a list. */
static int append_setting(struct lexer *lx, struct cfg_file *cf,
			  struct cfg_setting *s)
{
	struct cfg_setting *old = (struct cfg_setting *)cfg_find(cf, s->key);
	struct cfg_atom *grown;
	size_t total;

	if (s->value.kind != CFG_LIST)
		return cfg_diag(lx->res, KL_DIAG_ERROR, lx->file, s->value.line,
				s->value.col, s->key,
				"'+=' appends to lists only: write [ ... ]");
	if (!old)
		return 1; /* nothing to append to: a plain '=' */
	if (old->value.kind != CFG_LIST)
		return cfg_diag(
		    lx->res, KL_DIAG_ERROR, lx->file, s->line, s->col, s->key,
		    "'+=' needs a list, but %s:%u sets a single value",
		    old->file, old->line);
	total = old->value.nr_items + s->value.nr_items;
	if (s->value.nr_items == 0)
		return 0;
	grown = realloc(old->value.items, total * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	old->value.items = grown;
	memcpy(grown + old->value.nr_items, s->value.items,
	       s->value.nr_items * sizeof(*grown));
	old->value.nr_items = total;
	free(s->value.items);
	s->value.items = NULL;
	s->value.nr_items = 0;
	return 0;
}

static int add_setting(struct lexer *lx, struct cfg_file *cf,
		       struct cfg_setting *s, bool append)
{
	struct cfg_setting *grown;
	int rc;

	if (append) {
		rc = append_setting(lx, cf, s);
		if (rc == 0) { /* merged: what is left of s is spent */
			free(s->key);
			value_free(&s->value);
			memset(s, 0, sizeof(*s));
		}
		if (rc <= 0)
			return rc;
	}
	grown = realloc(cf->settings, (cf->nr + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	cf->settings = grown;
	cf->settings[cf->nr++] = *s;
	memset(s, 0, sizeof(*s));
	return 0;
}

int cfg_parse_text(struct cfg_file *cf, const char *file, unsigned first_line,
		   const char *text, size_t len, struct kl_cfg_result *res)
{
	struct lexer lx = {
	    .p = text,
	    .end = text + len,
	    .line = first_line,
	    .col = 1,
	    .file = file,
	    .res = res,
	};
	int rc = 0;

	for (;;) {
		struct cfg_setting s;
		struct tok t, op, sep;
		bool append;

		rc = lex_next(&lx, &t);
		if (rc)
			break;
		if (t.type == TOK_EOF)
			break;
		if (t.type == TOK_NL || t.type == TOK_SEMI)
			continue;
		if (t.type != TOK_IDENT) {
			rc = cfg_diag(res, KL_DIAG_ERROR, file, t.line, t.col,
				      NULL, "expected a setting name, found %s",
				      tok_name(t.type));
			free(t.text);
			break;
		}
		memset(&s, 0, sizeof(s));
		s.key = t.text;
		s.file = file;
		s.line = t.line;
		s.col = t.col;
		rc = lex_next(&lx, &op);
		if (!rc && op.type != TOK_EQ && op.type != TOK_PLUSEQ) {
			rc = cfg_diag(res, KL_DIAG_ERROR, file, op.line, op.col,
				      s.key,
				      "expected '=' after the name, found %s",
				      tok_name(op.type));
			free(op.text);
		}
		append = op.type == TOK_PLUSEQ;
		if (!rc)
			rc = parse_value(&lx, &s.value, s.key);
		if (!rc) {
			rc = lex_next(&lx, &sep);
			if (!rc && sep.type != TOK_NL && sep.type != TOK_SEMI &&
			    sep.type != TOK_EOF) {
				rc = unexpected(
				    &lx, &sep,
				    "a new line or ';' after the value", s.key);
				free(sep.text);
			}
		}
		if (!rc)
			rc = add_setting(&lx, cf, &s, append);
		if (rc) {
			free(s.key);
			value_free(&s.value);
			break;
		}
		if (sep.type == TOK_EOF)
			break;
	}
	return rc;
}

void cfg_file_free(struct cfg_file *cf)
{
	for (size_t i = 0; i < cf->nr; i++) {
		free(cf->settings[i].key);
		value_free(&cf->settings[i].value);
	}
	free(cf->settings);
	cf->settings = NULL;
	cf->nr = 0;
}

int cfg_diag_atom(struct kl_cfg_result *res, enum kl_diag_level level,
		  const struct cfg_setting *s, const struct cfg_atom *a,
		  size_t off, const char *fmt, ...)
{
	char msg[512];
	unsigned col = a->col;
	va_list ap;

	/* A string's text starts one column after its opening quote. */
	if (a->plain && off != CFG_WHOLE_ATOM)
		col += (unsigned)off + (a->kind == CFG_STRING);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cfg_diag(res, level, a->file, a->line, col, s->key, "%s", msg);
}

/* SPDX-License-Identifier: MIT */
/*
 * Keel's command-line options, each declared next to the variable it sets
 * (after Xen's include/xen/param.h): the macros place a struct kparam in
 * the keel_params section, and param_parse() reads the command line once,
 * early at boot, naming every word no option claims. Every option is
 * NAME=VALUE; a later occurrence overrides an earlier one, except for
 * custom options, whose handler sees each.
 */
#ifndef KEEL_PARAM_H
#define KEEL_PARAM_H

#include <keel/lib.h>

enum kparam_type {
	KPARAM_UINT,   /* unsigned or uint64_t; K/M/G suffixes, 0x for hex */
	KPARAM_STRING, /* a char array, truncated to fit */
	KPARAM_CUSTOM, /* handler(value); the value ends at a space */
};

struct kparam {
	const char *name;
	enum kparam_type type;
	void *var;
	size_t size;			 /* of *var */
	int (*handler)(const char *val); /* 0, or the value is refused */
};

#define KPARAM_DEFINE(id, name_, type_, var_, size_, handler_)                 \
	static const struct kparam __kparam_##id                               \
	    __attribute__((used, section("keel_params"), aligned(8))) = {      \
		name_, type_, var_, size_, handler_}

#define integer_param(name, var)                                               \
	KPARAM_DEFINE(var, name, KPARAM_UINT, &(var), sizeof(var), NULL)
#define string_param(name, var)                                                \
	KPARAM_DEFINE(var, name, KPARAM_STRING, (var), sizeof(var), NULL)
#define custom_param(name, fn)                                                 \
	KPARAM_DEFINE(fn, name, KPARAM_CUSTOM, NULL, 0, fn)

/* Sets every declared option the command line names; warns about others. */
void param_parse(const char *cmdline);

#endif

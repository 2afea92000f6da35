/* SPDX-License-Identifier: MIT */
/*
 * What the hypervisor sources the toolstack shares (e820.c, bzimage.c)
 * expect from their runtime (keel/lib.h). Only printk is called, on an
 * e820 map overflow that the DomU builder's few entries cannot reach;
 * it goes to stderr like any diagnostic of a command-line tool.
 */
#include <stdarg.h>
#include <stdio.h>

#include <keel/lib.h>

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kl: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

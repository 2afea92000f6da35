/* SPDX-License-Identifier: MIT */
/* Host implementations of the hypervisor runtime for unit tests (shim.h). */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include <keel/lib.h>
#include <keel/mm.h>
#include "shim.h"

jmp_buf *shim_panic_target;
char shim_last_panic[256];
char shim_last_printk[256];

void vprintk(const char *fmt, va_list ap)
{
	va_list copy;

	va_copy(copy, ap);
	vsnprintf(shim_last_printk, sizeof(shim_last_printk), fmt, copy);
	va_end(copy);
	vfprintf(stderr, fmt, ap);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(shim_last_panic, sizeof(shim_last_panic), fmt, ap);
	va_end(ap);
	if (shim_panic_target)
		longjmp(*shim_panic_target, 1);
	fprintf(stderr, "panic: %s\n", shim_last_panic);
	fail_msg("unexpected panic: %s", shim_last_panic);
	abort();
}

/* Windows above this size come from mmap so untouched pages cost nothing. */
#define SHIM_LAZY_WINDOW MiB(16)
#define SHIM_MAX_WINDOWS 64

static struct shim_window {
	uint64_t pa;
	uint64_t size;
	uint8_t *host;
	bool mmapped;
} windows[SHIM_MAX_WINDOWS];
static unsigned nr_windows;

void *shim_map_phys(uint64_t pa, uint64_t size)
{
	struct shim_window *w;

	assert_true(size > 0 && IS_ALIGNED(pa, PAGE_SIZE) &&
		    IS_ALIGNED(size, PAGE_SIZE) && pa + size > pa);
	assert_true(nr_windows < SHIM_MAX_WINDOWS);
	for (unsigned i = 0; i < nr_windows; i++)
		assert_true(pa + size <= windows[i].pa ||
			    pa >= windows[i].pa + windows[i].size);
	w = &windows[nr_windows++];
	w->pa = pa;
	w->size = size;
	w->mmapped = size > SHIM_LAZY_WINDOW;
	if (w->mmapped) {
		w->host =
		    mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		assert_true(w->host != MAP_FAILED);
	} else {
		/* Heap memory: AddressSanitizer catches reads past the end. */
		w->host = aligned_alloc(PAGE_SIZE, size);
		assert_non_null(w->host);
		memset(w->host, 0, size);
	}
	return w->host;
}

void shim_unmap_all(void)
{
	for (unsigned i = 0; i < nr_windows; i++) {
		if (windows[i].mmapped)
			munmap(windows[i].host, windows[i].size);
		else
			free(windows[i].host);
	}
	nr_windows = 0;
}

void *phys_to_virt(uint64_t pa)
{
	for (unsigned i = 0; i < nr_windows; i++)
		if (pa >= windows[i].pa && pa - windows[i].pa < windows[i].size)
			return windows[i].host + (pa - windows[i].pa);
	fail_msg("phys_to_virt(%#llx): address outside every test window",
		 (unsigned long long)pa);
	abort();
}

uint64_t virt_to_phys(const void *p)
{
	const uint8_t *b = p;

	for (unsigned i = 0; i < nr_windows; i++)
		if (b >= windows[i].host &&
		    b < windows[i].host + windows[i].size)
			return windows[i].pa + (uint64_t)(b - windows[i].host);
	fail_msg("virt_to_phys(%p): pointer outside every test window", p);
	abort();
}

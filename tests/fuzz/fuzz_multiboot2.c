/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 information parsing (hypervisor/arch/x86/boot/multiboot2.c). The
 * boot loader writes the information; a broken or hostile one must not make
 * Keel read outside it.
 *
 * Input: the information structure itself. Its total_size field is kept
 * when it fits the input and cut to the input's length otherwise (the
 * parser may trust total_size: it is the boot loader's promise of how much
 * memory is there). The copy is a heap block of exactly the input's length,
 * 8-byte aligned as the specification requires, so AddressSanitizer sees
 * any read past it.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/bootinfo.h>
#include <keel/errno.h>
#include <keel/lib.h>

FUZZ_SHIM_INIT()

static void check_string(const char *s, size_t size)
{
	FUZZ_CHECK(memchr(s, '\0', size) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	uint32_t total;
	uint8_t *mbi;
	int rc;

	if (size < 8)
		return 0;
	mbi = malloc(size);
	FUZZ_CHECK(mbi);
	memcpy(mbi, data, size);
	memcpy(&total, mbi, 4);
	if (total > size) {
		total = (uint32_t)size;
		memcpy(mbi, &total, 4);
	}
	rc = mb2_parse(mbi, &bi);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL);
	if (rc == 0) {
		FUZZ_CHECK(bi.nr_modules <= BOOT_MAX_MODULES);
		FUZZ_CHECK(bi.nr_mmap <= BOOT_MAX_MMAP);
		check_string(bi.cmdline, sizeof(bi.cmdline));
		for (unsigned i = 0; i < bi.nr_modules; i++) {
			FUZZ_CHECK(bi.modules[i].start <= bi.modules[i].end);
			check_string(bi.modules[i].cmdline,
				     sizeof(bi.modules[i].cmdline));
		}
	}
	free(mbi);
	return 0;
}

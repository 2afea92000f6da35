/* SPDX-License-Identifier: MIT */
/*
 * Host stand-ins for what the hypervisor gets from its runtime: printk and
 * panic write to stderr, and "physical memory" is a set of host buffers
 * mapped at chosen physical addresses, reached through phys_to_virt() the
 * same way the hypervisor reaches RAM.
 *
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h> and <cmocka.h>.
 */
#ifndef KEEL_TEST_SHIM_H
#define KEEL_TEST_SHIM_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Backs physical range [pa, pa + size) with zeroed host memory and returns
 * it. Windows must not overlap; pa and size must be page aligned. Large
 * windows are reserved lazily, so a test may map gigabytes it barely touches.
 */
void *shim_map_phys(uint64_t pa, uint64_t size);

/* Releases every window (call from each test's teardown). */
void shim_unmap_all(void);

/* Set by shim_expect_panic() while the statement under test runs. */
extern jmp_buf *shim_panic_target;
/* The message of the last panic, for tests to check. */
extern char shim_last_panic[256];
/* The last printk() message. */
extern char shim_last_printk[256];

/*
 * Runs stmt and fails the test unless it calls panic(). A panic anywhere
 * else fails the running test with the panic message.
 */
#define shim_expect_panic(stmt)                                                \
	do {                                                                   \
		jmp_buf shim_jb_;                                              \
		shim_panic_target = &shim_jb_;                                 \
		if (setjmp(shim_jb_) == 0) {                                   \
			stmt;                                                  \
			shim_panic_target = NULL;                              \
			fail_msg("expected a panic from: %s", #stmt);          \
		}                                                              \
		shim_panic_target = NULL;                                      \
	} while (0)

#endif

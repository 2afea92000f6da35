/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer harness in tests/fuzz/ shares: a reader that turns
 * the fuzzer's bytes into values (reading past the end yields zeros, so
 * every input is valid), and the setup that makes a failed check in
 * tests/unit/shim.c (a panic, an address outside every test window) abort
 * with a stack trace instead of exiting quietly.
 */
#ifndef KEEL_FUZZ_H
#define KEEL_FUZZ_H

/* setenv(); include this header before any other. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>

struct fuzz_input {
	const uint8_t *p;
	size_t left;
};

static inline struct fuzz_input fuzz_input(const uint8_t *data, size_t size)
{
	return (struct fuzz_input){data, size};
}

static inline size_t fuzz_bytes(struct fuzz_input *in, void *buf, size_t n)
{
	size_t got = n < in->left ? n : in->left;

	memcpy(buf, in->p, got);
	memset((uint8_t *)buf + got, 0, n - got);
	in->p += got;
	in->left -= got;
	return got;
}

static inline uint8_t fuzz_u8(struct fuzz_input *in)
{
	uint8_t v;

	fuzz_bytes(in, &v, 1);
	return v;
}

static inline uint16_t fuzz_u16(struct fuzz_input *in)
{
	uint16_t v;

	fuzz_bytes(in, &v, 2);
	return v;
}

static inline uint32_t fuzz_u32(struct fuzz_input *in)
{
	uint32_t v;

	fuzz_bytes(in, &v, 4);
	return v;
}

static inline uint64_t fuzz_u64(struct fuzz_input *in)
{
	uint64_t v;

	fuzz_bytes(in, &v, 8);
	return v;
}

/*
 * cmocka's fail_msg() outside a running test calls exit(); with
 * CMOCKA_TEST_ABORT=1 it aborts, which libFuzzer reports as a crash with a
 * stack trace and saves the input.
 */
#define FUZZ_SHIM_INIT()                                                       \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                      \
	{                                                                      \
		(void)argc;                                                    \
		(void)argv;                                                    \
		setenv("CMOCKA_TEST_ABORT", "1", 1);                           \
		return 0;                                                      \
	}

/*
 * A harness's own invariant, reported like any other crash. The message
 * goes through the sanitizer's report channel too: `make fuzz` closes
 * the harness's stderr (-close_fd_mask=2) to drop the hypervisor's printk.
 */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_check_failed(__FILE__, __LINE__, #cond);          \
	} while (0)

static inline __attribute__((noreturn)) void
fuzz_check_failed(const char *file, int line, const char *cond)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s:%d: check failed: %s", file, line, cond);
	fprintf(stderr, "%s\n", msg);
	__sanitizer_report_error_summary(msg);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif

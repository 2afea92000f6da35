/* SPDX-License-Identifier: MIT */
/*
 * Keel's tiny freestanding runtime: the only "libc" the hypervisor has.
 * Every helper lives in hypervisor/lib/. Host unit tests link these same
 * declarations against the host C library, so keep the signatures standard.
 */
#ifndef KEEL_LIB_H
#define KEEL_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)	 (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)	 (((x) + ((a)-1)) & ~((__typeof__(x))(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b)	 ((a) < (b) ? (a) : (b))
#define MAX(a, b)	 ((a) > (b) ? (a) : (b))
#define BIT(n)		 (1ULL << (n))
#define KiB(x)		 ((uint64_t)(x) << 10)
#define MiB(x)		 ((uint64_t)(x) << 20)
#define GiB(x)		 ((uint64_t)(x) << 30)

#define PAGE_SHIFT	12
#define PAGE_SIZE	((uint64_t)4096)
#define LARGE_PAGE_SIZE MiB(2)

#define __packed       __attribute__((packed))
#define __aligned(x)   __attribute__((aligned(x)))
#define __noreturn     __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)

#define container_of(ptr, type, member)                                        \
	((type *)((char *)(ptr)-offsetof(type, member)))

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Parses an unsigned number with optional 0x prefix and K/M/G suffix. */
uint64_t parse_size(const char *s, const char **end);

/* Logging: goes to the console ring and the serial port. */
void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);
__noreturn void panic(const char *fmt, ...) __printf(1, 2);

#define ASSERT(cond)                                                           \
	do {                                                                   \
		if (unlikely(!(cond)))                                         \
			panic("assertion failed: %s at %s:%d", #cond,          \
			      __FILE__, __LINE__);                             \
	} while (0)

#endif

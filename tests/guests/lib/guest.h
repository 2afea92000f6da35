/* SPDX-License-Identifier: MIT */
/*
 * Runtime of the freestanding test guests.
 *
 * Each guest defines `test_name` and `test_main()`. The runtime boots it
 * (head.S), installs the IDT, copies boot_params and the command line, and
 * calls test_main(). A guest reports exactly one result line,
 *
 *     TEST <name>: PASS
 *     TEST <name>: FAIL <reason>
 *
 * through test_finish(), test_pass() or test_fail(), and then stops the CPU
 * with `cli; hlt` forever. An unexpected exception or interrupt reports a
 * FAIL line too.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot_params.h"
#include "layout.h"
#include "x86.h"

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define __noreturn     __attribute__((noreturn))
#define __printf(a, b) __attribute__((format(printf, a, b)))

/* Provided by each guest. */
extern const char test_name[];
void test_main(void);

/* Results. */
__noreturn void test_pass(void);
__noreturn void test_fail(const char *fmt, ...) __printf(1, 2);
/* Prints "<name>: ok: <what>" or "<name>: FAILED: <what>" and remembers the
 * first failure; returns cond. */
bool check(bool cond, const char *fmt, ...) __printf(2, 3);
/* PASS if no check() failed, else FAIL with the first failed check. */
__noreturn void test_finish(void);
__noreturn void halt_forever(void);

/* Serial console (COM1). */
void console_write(const char *s, size_t len);
int printf(const char *fmt, ...) __printf(1, 2);
int vprintf(const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Strings (the compiler may also emit calls to these). */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* How the guest was entered: filled in by head.S before .bss is cleared. */
extern uint64_t boot_params_phys;  /* boot_params as the loader passed it */
extern uint64_t boot_load_address; /* where the loader put the image */
extern uint64_t boot_entry_flags;  /* RFLAGS at entry */
extern uint16_t boot_entry_cs, boot_entry_ds;
extern uint32_t boot_entry_mode; /* 32 or 64: which entry point ran */
extern char _start[], _end[];

/* The runtime's copy of boot_params and of the command line. */
extern struct boot_params boot_params;
const char *cmdline(void);
/* Finds "key=value" in the command line; *value points into it and ends at
 * the next space or the end. */
bool cmdline_find(const char *key, const char **value, size_t *len);
/* Parses key=<number> (decimal or 0x hex); false if absent or malformed. */
bool cmdline_u64(const char *key, uint64_t *out);

/* Interrupts and exceptions. */
typedef void (*irq_handler_t)(uint8_t vector);
void irq_set_handler(uint8_t vector, irq_handler_t handler);
/* Masks both legacy 8259 PICs: firmware leaves IRQ0 (the PIT) routed to
 * vector 8, which would look like a #DF once interrupts are enabled. */
void legacy_pic_mask_all(void);
/* Loads an IDT limit of 0 so any exception or interrupt triple-faults. */
void idt_load_empty(void);

#endif

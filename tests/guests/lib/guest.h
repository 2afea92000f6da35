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
 * FAIL line too. With several CPUs running, the first result line wins:
 * later calls only stop their CPU. printf() and check() may be called from
 * any CPU; each line goes out whole.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apic.h"
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
/* How many check() calls failed so far. */
unsigned int checks_failed(void);
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
extern volatile uint64_t irq_if_clear_count;
/* Masks both legacy 8259 PICs: firmware leaves IRQ0 (the PIT) routed to
 * vector 8, which would look like a #DF once interrupts are enabled. A
 * machine without them (Keel's boot-time DomUs: the ports fault) needs
 * nothing masked. */
void legacy_pic_mask_all(void);
/* Loads an IDT limit of 0 so any exception or interrupt triple-faults. */
void idt_load_empty(void);
/* Handler for NMIs (vector 2) on every CPU; without one an NMI fails the
 * test like any unexpected exception. No EOI is due for an NMI. */
void nmi_set_handler(irq_handler_t handler);

/*
 * Time. The TSC and LAPIC timer frequencies in kHz come from Keel's CPUID
 * leaf 0x40000010 (EAX, EBX) when Keel's signature is at 0x40000000, else
 * from tsc_khz= and lapic_khz= on the command line, else they are 0.
 */
bool keel_timing_leaf_present(void);
uint32_t platform_tsc_khz(void);
uint32_t platform_lapic_khz(void);
/* Spins for `us` microseconds of TSC time (needs platform_tsc_khz()). */
void delay_us(uint64_t us);
uint64_t tsc_to_us(uint64_t ticks);
uint64_t us_to_tsc(uint64_t us);

/*
 * SMP. The CPUs are the enabled processors of the ACPI MADT (found through
 * boot_params.acpi_rsdp_addr, else the BIOS areas an OS searches), or, when
 * there is no MADT (Keel's boot-time DomUs get no ACPI tables), the
 * `cpus=N` command-line parameter with APIC IDs 0..N-1, or else the boot
 * CPU alone. CPU 0 is always the boot CPU; at most GUEST_MAX_CPUS.
 *
 * smp_start_aps() starts every other CPU the way an OS does: it copies a
 * real-mode trampoline (trampoline.S) to the lowest 4 KiB page between
 * 4 KiB and 1 MiB that the e820 map calls RAM, then, one CPU at a time,
 * sends INIT, waits 10 ms, and sends up to two STARTUP IPIs 200 us apart
 * (Intel SDM vol. 3A §8.4.4.1) through the boot CPU's APIC in its current
 * mode. The AP enters long mode on the boot CPU's page tables, loads the
 * shared IDT and its own 16 KiB stack, marks itself online and calls
 * ap_main(cpu) with interrupts disabled and its APIC in xAPIC mode as reset
 * left it (software-disabled: call apic_software_enable() before taking
 * interrupts). An AP whose ap_main() returns halts. Each AP gets 2 s to
 * come online; a CPU that does not stops the start-up of the rest.
 * Returns the number of CPUs online, the boot CPU included, and prints
 * what it did. Needs platform_tsc_khz() for its delays.
 */
typedef void (*ap_main_t)(unsigned int cpu);

struct cpu {
	struct cpu *self;   /* at %gs:0, see this_cpu() */
	unsigned int index; /* 0 = boot CPU */
	uint32_t apic_id;
	enum apic_mode apic_mode; /* how apic_read/apic_write reach it */
	volatile bool online;
	ap_main_t ap_main;
};

/* The calling CPU: IA32_GS_BASE points at its struct cpu. */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline unsigned int cpu_index(void)
{
	return this_cpu()->index;
}

unsigned int cpu_count(void);
uint32_t cpu_apic_id(unsigned int cpu);
bool cpu_online(unsigned int cpu);
unsigned int smp_start_aps(ap_main_t ap_main);

#endif

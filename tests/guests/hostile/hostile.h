/* SPDX-License-Identifier: MIT */
/*
 * The hostile guests: each case attacks one surface of Keel from a DomU
 * and checks that it gets the architectural answer (#GP, #UD, an ignored
 * write, its own state and nobody else's). Keel surviving, and its
 * neighbours keeping their share of the CPU, is judged from outside
 * (tests/system/test_hostile.py).
 */
#ifndef HOSTILE_H
#define HOSTILE_H

#include "guest.h"

#define X86_EXC_DB 1
#define X86_EXC_AC 17

/* Runs fn at CPL3 (IOPL 3, interrupts off) on its own stack until fn
 * executes `int $USER_EXIT_VECTOR`; returns at CPL0 then. */
#define USER_EXIT_VECTOR 0x81
void user_mode_init(void);
void run_user(void (*fn)(void));

/* VMMCALL on AMD, VMCALL on Intel: Keel's hypercall instruction. */
bool cpu_is_amd(void);

/* Seconds an attack lasts (`seconds=` on the command line, default 4). */
uint64_t attack_seconds(void);
/* Spins with PAUSE for us microseconds. */
void spin_us(uint64_t us);
/* The first byte past the domain's highest RAM (its e820 map). */
uint64_t ram_end(void);
/* Runs one instruction (len bytes, a RET follows it) with RAX = *rax,
 * which gets RAX after it; returns the exinfo of its fault, 0 if none. */
uint32_t run_insn(const uint8_t *bytes, size_t len, uint64_t *rax);
/* A case that must stop the domain: only reached if Keel let it run. */
__noreturn void expect_stopped(const char *what);

void case_exceptions(void);
void case_triple(void);
void case_drwrite(void);
void case_drread(void);
void case_auxwrite(void);
void case_auxread(void);
void case_nmi(void);
void case_nmistorm(void);
void case_ctlregs(void);
void case_virtinsns(void);
void case_lock(void);
void case_timer_period(void);
void case_timer_divide(void);
void case_deadline_max(void);
void case_deadline_past(void);
void case_hypercall(void);
void case_hypercall_user(void);
void case_msr(void);
void case_cpuid(void);
void case_ports(void);
void case_initsipi(void);
void case_icr(void);
void case_selfipi(void);
void case_eoi(void);
void case_lapicregs(void);
void case_x2apic(void);
void case_ioapic(void);
void case_prefixes(void);
void case_insn15(void);
void case_insn16(void);
void case_fetchcross(void);
void case_fetchend(void);
void case_mmio_movs(void);
void case_mmio_stos(void);
void case_mmio_unknown(void);
void case_kvmclock_pagecross(void);
void case_kvmclock_lowmem(void);
void case_kvmclock_tscwrite(void);
void case_wallclock(void);
void case_kvmclock_mmio(void);
void case_kvmclock_beyond(void);
void case_kvmclock_ramend(void);
void case_mmiodrain(void);

#endif

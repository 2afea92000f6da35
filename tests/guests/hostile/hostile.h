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

void case_exceptions(void);
void case_drwrite(void);
void case_drread(void);
void case_nmi(void);
void case_insns(void);
void case_timer(void);
void case_hypercall(void);
void case_msr(void);
void case_cpuid(void);
void case_ports(void);
void case_initsipi(void);
void case_lapic(void);

#endif

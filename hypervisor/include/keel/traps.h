/* SPDX-License-Identifier: MIT */
#ifndef KEEL_TRAPS_H
#define KEEL_TRAPS_H

#include <keel/lib.h>

/* Register frame built by entry.S; layout shared with the assembly. */
struct cpu_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_t)(struct cpu_regs *regs);

void traps_init(void); /* build the IDT once */
void traps_load(void); /* load it on this CPU */
void irq_set_handler(uint8_t vector, irq_handler_t fn);
void dump_regs(const struct cpu_regs *r);
void print_backtrace(uint64_t rbp);

#endif

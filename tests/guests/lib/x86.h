/* SPDX-License-Identifier: MIT */
/*
 * Instruction wrappers for test guests: CPUID, MSRs, port I/O, TSC, and
 * fault-tolerant variants that use the exception fixup table.
 */
#ifndef GUEST_X86_H
#define GUEST_X86_H

#include <stdbool.h>
#include <stdint.h>

/* Exception vectors (Intel SDM vol. 3A §6.3.1). */
#define X86_EXC_DE  0
#define X86_EXC_NMI 2
#define X86_EXC_BP  3
#define X86_EXC_UD  6
#define X86_EXC_DF  8
#define X86_EXC_GP  13
#define X86_EXC_PF  14

#define X86_EFLAGS_TF (1u << 8)
#define X86_EFLAGS_IF (1u << 9)

/*
 * Exception fixup, in the spirit of Xen's XTF `extable`: an instruction
 * that is expected to fault is listed with the address to resume at. When
 * it faults, the trap handler resumes at the fixup address and stores an
 * "exinfo" value in RDI describing the fault; asm statements using
 * EXTABLE_ENTRY bind RDI as an in/out operand initialised to 0.
 */
#define EXTABLE_ENTRY(fault, fixup)                                            \
	".pushsection .extable, \"a\"\n\t.balign 8\n\t.quad " #fault           \
	", " #fixup "\n\t.popsection\n\t"

/* exinfo: bit 31 = a fault happened, bits 23:16 = vector, 15:0 = error code. */
#define EXINFO_VALID (1u << 31)
static inline bool exinfo_faulted(uint32_t exinfo)
{
	return (exinfo & EXINFO_VALID) != 0;
}
static inline unsigned int exinfo_vector(uint32_t exinfo)
{
	return (exinfo >> 16) & 0xff;
}
static inline unsigned int exinfo_error_code(uint32_t exinfo)
{
	return exinfo & 0xffff;
}

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

static inline struct cpuid_regs cpuid(uint32_t leaf)
{
	return cpuid_count(leaf, 0);
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t value)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)value),
			 "d"((uint32_t)(value >> 32))
			 : "memory");
}

/* Returns 0 or the exinfo of the fault RDMSR raised; *value is then 0. */
static inline uint32_t rdmsr_safe(uint32_t msr, uint64_t *value)
{
	uint32_t lo = 0, hi = 0;
	uint64_t exinfo = 0;

	__asm__ volatile("1: rdmsr\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+a"(lo), "+d"(hi), "+D"(exinfo)
			 : "c"(msr));
	*value = exinfo ? 0 : ((uint64_t)hi << 32) | lo;
	return (uint32_t)exinfo;
}

/* Returns 0 or the exinfo of the fault WRMSR raised. */
static inline uint32_t wrmsr_safe(uint32_t msr, uint64_t value)
{
	uint64_t exinfo = 0;

	__asm__ volatile("1: wrmsr\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+D"(exinfo)
			 : "c"(msr), "a"((uint32_t)value),
			   "d"((uint32_t)(value >> 32))
			 : "memory");
	return (uint32_t)exinfo;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	/* LFENCE keeps the read from being hoisted above earlier work
	 * (Intel SDM vol. 2B, RDTSC). */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline void outb(uint16_t port, uint8_t value)
{
	__asm__ volatile("outb %0, %1" ::"a"(value), "Nd"(port));
}

/* Returns 0 or the exinfo of the fault OUT raised: under a hypervisor a
 * port that nothing decodes may fault. */
static inline uint32_t outb_safe(uint16_t port, uint8_t value)
{
	uint64_t exinfo = 0;

	__asm__ volatile("1: outb %b1, %w2\n2:\n\t" EXTABLE_ENTRY(1b, 2b)
			 : "+D"(exinfo)
			 : "a"(value), "Nd"(port));
	return (uint32_t)exinfo;
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t value;

	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline uint64_t read_cr2(void)
{
	uint64_t value;

	__asm__ volatile("mov %%cr2, %0" : "=r"(value));
	return value;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/*
 * Let pending interrupts in for one instruction slot and close again. STI
 * delays recognition by one instruction (SDM vol. 2B, STI), so the NOP
 * gives the window.
 */
static inline void irq_window(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

/* Sleep until an interrupt arrives. The STI shadow covers HLT, so an
 * interrupt that is already pending wakes it instead of being lost. */
static inline void irq_wait(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

#endif

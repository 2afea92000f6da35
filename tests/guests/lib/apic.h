/* SPDX-License-Identifier: MIT */
/*
 * Local APIC access in xAPIC (MMIO) or x2APIC (MSR) mode.
 * Register layout: Intel SDM vol. 3A §11.4.1 (table 11-1) and §11.12.1
 * (table 11-6: x2APIC MSR = 0x800 + xAPIC offset / 16).
 */
#ifndef GUEST_APIC_H
#define GUEST_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_IA32_APIC_BASE  0x1b
#define APIC_BASE_BSP	    (1u << 8)
#define APIC_BASE_EXTD	    (1u << 10) /* x2APIC mode */
#define APIC_BASE_EN	    (1u << 11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL
#define XAPIC_DEFAULT_BASE  0xfee00000ULL

#define MSR_IA32_TSC_DEADLINE 0x6e0
#define X2APIC_MSR_BASE	      0x800

/* Register offsets in the xAPIC page. */
#define APIC_ID			 0x020
#define APIC_VERSION		 0x030
#define APIC_TPR		 0x080
#define APIC_EOI		 0x0b0
#define APIC_LDR		 0x0d0
#define APIC_DFR		 0x0e0
#define APIC_SVR		 0x0f0
#define APIC_ESR		 0x280
#define APIC_ICR		 0x300
#define APIC_ICR_HIGH		 0x310
#define APIC_LVT_TIMER		 0x320
#define APIC_TIMER_INITIAL_COUNT 0x380
#define APIC_TIMER_CURRENT_COUNT 0x390
#define APIC_TIMER_DIVIDE	 0x3e0

#define APIC_SVR_ENABLE (1u << 8)
#define APIC_LVT_MASKED (1u << 16)
/* LVT timer mode, bits 18:17 (SDM §11.5.4.1). */
#define APIC_LVT_TIMER_ONESHOT	    (0u << 17)
#define APIC_LVT_TIMER_PERIODIC	    (1u << 17)
#define APIC_LVT_TIMER_TSC_DEADLINE (2u << 17)
/* Divide configuration value for "divide by 1" (SDM figure 11-10). */
#define APIC_TIMER_DIVIDE_BY_1 0xb

/* Interrupt command register, low word (SDM §11.6.1, figure 11-12). */
#define APIC_ICR_FIXED	       (0u << 8)
#define APIC_ICR_NMI	       (4u << 8)
#define APIC_ICR_INIT	       (5u << 8)
#define APIC_ICR_STARTUP       (6u << 8)
#define APIC_ICR_LOGICAL       (1u << 11)
#define APIC_ICR_BUSY	       (1u << 12) /* delivery status, xAPIC only */
#define APIC_ICR_LEVEL_ASSERT  (1u << 14)
#define APIC_ICR_LEVEL_TRIGGER (1u << 15)
/* Flat model in the xAPIC destination format register (SDM §11.6.2.2). */
#define APIC_DFR_FLAT 0xffffffffu

enum apic_mode {
	APIC_MODE_XAPIC,
	APIC_MODE_X2APIC,
};

/* Selects how apic_read/apic_write reach the registers of the calling
 * CPU's APIC. Each CPU has its own mode; every CPU starts in xAPIC mode. */
void apic_use_mode(enum apic_mode mode);
enum apic_mode apic_current_mode(void);

uint32_t apic_read(unsigned int reg);
void apic_write(unsigned int reg, uint32_t value);
/* The APIC ID: bits 31:24 of the register in xAPIC mode, all 32 in x2APIC. */
uint32_t apic_id(void);
void apic_eoi(void);
/* Sets TPR to 0 and software-enables the APIC with this spurious vector. */
void apic_software_enable(uint8_t spurious_vector);
/* Sets EN and EXTD in IA32_APIC_BASE; returns 0 or the exinfo of a fault. */
uint32_t apic_enable_x2apic(void);
/*
 * Sends an IPI: `icr_low` is the ICR's low word (vector, delivery mode,
 * destination mode, level, trigger), `dest` the destination field: an 8-bit
 * APIC ID or logical mask in xAPIC mode, 32 bits in x2APIC mode. In xAPIC
 * mode it waits for the previous IPI to leave (delivery status) and writes
 * ICR high, then ICR low; in x2APIC mode it is one WRMSR (SDM §11.12.9).
 */
void apic_send_ipi(uint32_t dest, uint32_t icr_low);

#endif

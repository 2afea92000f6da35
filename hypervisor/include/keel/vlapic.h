/* SPDX-License-Identifier: MIT */
/*
 * Virtual local APIC: one per vCPU, reachable both as the xAPIC MMIO page and
 * as the x2APIC MSRs (Intel SDM vol. 3A ch. 11). The object knows nothing of
 * vCPUs or domains: time, IPIs, level EOIs and wake-ups go through
 * struct vlapic_env, so the same code runs in the hypervisor and in host
 * unit tests.
 *
 * Locking: none inside. The integrator serialises every call on one vlapic
 * (its vCPU's exits and other CPUs' vlapic_accept_irq) with one lock.
 * Callbacks run synchronously inside vlapic calls, after the state change
 * that caused them, so a callback may call back into the same vlapic (for
 * instance eoi_level -> vioapic_eoi -> vlapic_accept_irq) provided the
 * integrator's lock allows it.
 */
#ifndef KEEL_VLAPIC_H
#define KEEL_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

/* MSRs the vLAPIC answers (SDM vol. 3A §11.4.4, §11.5.4.1, §11.12.1.2). */
#define VLAPIC_MSR_APIC_BASE	0x1Bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6E0u
#define VLAPIC_MSR_X2APIC_FIRST 0x800u
#define VLAPIC_MSR_X2APIC_LAST	0x8FFu

/* Power-up APIC base (SDM vol. 3A §11.4.1). */
#define VLAPIC_DEFAULT_BASE 0xFEE00000ull

/* The ICR's low word as passed to send_ipi (SDM vol. 3A §11.6.1). */
#define VLAPIC_ICR_VECTOR(icr)	      ((icr)&0xFFu)
#define VLAPIC_ICR_DELIVERY_MODE(icr) (((icr) >> 8) & 7u)
#define VLAPIC_ICR_LOGICAL	      (1u << 11)
#define VLAPIC_ICR_LEVEL_ASSERT	      (1u << 14)
#define VLAPIC_ICR_LEVEL_TRIGGER      (1u << 15)
#define VLAPIC_ICR_SHORTHAND(icr)     (((icr) >> 18) & 3u)

#define VLAPIC_DM_FIXED	  0u
#define VLAPIC_DM_LOWEST  1u
#define VLAPIC_DM_SMI	  2u
#define VLAPIC_DM_NMI	  4u
#define VLAPIC_DM_INIT	  5u
#define VLAPIC_DM_STARTUP 6u
#define VLAPIC_DM_EXTINT  7u

#define VLAPIC_SHORTHAND_NONE	      0u
#define VLAPIC_SHORTHAND_SELF	      1u
#define VLAPIC_SHORTHAND_ALL	      2u
#define VLAPIC_SHORTHAND_ALL_BUT_SELF 3u

/* Broadcast destinations (SDM vol. 3A §11.6.2, §11.12.9). */
#define VLAPIC_XAPIC_BROADCAST	0xFFu
#define VLAPIC_X2APIC_BROADCAST 0xFFFFFFFFu

/* Local vector table slots, in register order (SDM vol. 3A §11.5.1). */
enum vlapic_lvt {
	VLAPIC_LVT_TIMER,
	VLAPIC_LVT_THERMAL,
	VLAPIC_LVT_PERF,
	VLAPIC_LVT_LINT0,
	VLAPIC_LVT_LINT1,
	VLAPIC_LVT_ERROR,
	VLAPIC_NR_LVT,
};

/* Supplied by the hypervisor; every callback gets the ctx given to init. */
struct vlapic_env {
	/* The guest's TSC now. */
	uint64_t (*now_tsc)(void *ctx);
	/*
	 * A write to the ICR: route the IPI. dest is the 8-bit xAPIC
	 * destination (ICR bits 63:56) or the 32-bit x2APIC one (bits 63:32);
	 * x2apic_dest says which. Delivery mode, vector, destination mode,
	 * level, trigger and shorthand are in icr_low (VLAPIC_ICR_*). Reserved
	 * delivery modes and INIT level de-assert never reach this callback.
	 */
	void (*send_ipi)(void *ctx, uint32_t dest, bool x2apic_dest,
			 uint32_t icr_low);
	/* EOI of a level-triggered vector (its TMR bit was set). */
	void (*eoi_level)(void *ctx, uint8_t vector);
	/* An interrupt became pending in the IRR: wake or notify the vCPU. */
	void (*kick)(void *ctx);
};

struct vlapic {
	/* Set by vlapic_init, constant afterwards. */
	const struct vlapic_env *env;
	void *ctx;
	uint64_t tsc_khz; /* guest TSC frequency */
	uint64_t bus_khz; /* the clock the APIC timer divides */
	uint32_t id;	  /* x2APIC ID; the xAPIC ID is its low byte */

	/* Architectural state, guarded by the integrator's lock. */
	uint64_t apic_base; /* IA32_APIC_BASE: base | EN | EXTD | BSP */
	uint32_t tpr;
	uint32_t ldr; /* xAPIC only; derived from id in x2APIC mode */
	uint32_t dfr;
	uint32_t svr;
	uint32_t isr[8], tmr[8], irr[8];
	uint32_t esr;	      /* visible ESR, latched by an ESR write */
	uint32_t esr_pending; /* errors seen since the last ESR write */
	uint32_t icr_low, icr_high;
	uint32_t lvt[VLAPIC_NR_LVT];
	uint32_t timer_initial; /* initial-count register */
	uint32_t timer_divide;	/* divide-configuration register */
	uint64_t tsc_deadline;	/* IA32_TSC_DEADLINE, 0 = disarmed */

	/*
	 * The count-down is computed from the guest TSC rather than ticked:
	 * it held count_value at guest TSC count_start. timer_expiry is the
	 * guest TSC of the next expiry (count reaching zero, or the TSC
	 * deadline), 0 when the timer is idle.
	 */
	uint64_t count_start;
	uint64_t count_value;
	uint64_t timer_expiry;
};

/*
 * Power-up state: xAPIC mode at VLAPIC_DEFAULT_BASE, software disabled.
 * tsc_khz and bus_khz must be non-zero and below 2^32.
 */
void vlapic_init(struct vlapic *l, uint32_t apic_id, bool bsp, uint64_t tsc_khz,
		 uint64_t bus_khz, const struct vlapic_env *env, void *ctx);

/*
 * INIT: the architectural reset of the registers (SDM vol. 3A §11.4.7.1).
 * Keeps the ID, IA32_APIC_BASE (mode, base, BSP) and, in x2APIC mode, the
 * derived LDR (§11.12.5.1).
 */
void vlapic_reset(struct vlapic *l);

/*
 * MSR access for IA32_APIC_BASE, IA32_TSC_DEADLINE and the x2APIC range.
 * -EINVAL means the access faults: the caller injects #GP(0).
 */
int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val);
int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val);
bool vlapic_msr_is_ours(uint32_t msr);

/*
 * An access at offset (0..4095) into the APIC page. In xAPIC mode only
 * aligned 4-byte accesses to defined registers are valid; anything else is
 * -EINVAL. When the APIC is in x2APIC mode or globally disabled the page is
 * not decoded (§11.4.3, §11.12.1.2): reads return all ones, writes are
 * dropped, and both succeed.
 */
int vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned size,
		     uint64_t *val);
int vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned size,
		      uint64_t val);

/* Physical address of the APIC page, from IA32_APIC_BASE. */
uint64_t vlapic_base(const struct vlapic *l);
/* Globally enabled (IA32_APIC_BASE.EN). */
bool vlapic_enabled(const struct vlapic *l);
bool vlapic_x2apic_mode(const struct vlapic *l);

/*
 * Whether a message with this destination reaches this APIC: physical or
 * logical (flat and cluster in xAPIC mode, cluster in x2APIC mode),
 * broadcast included. x2apic_dest says whether dest is a 32-bit x2APIC
 * destination or an 8-bit xAPIC/IOAPIC one (SDM vol. 3A §11.6.2.2,
 * §11.12.9). Shorthands are the integrator's.
 */
bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical,
		       bool x2apic_dest);

/*
 * A fixed interrupt arrives: set its IRR bit, and its TMR bit when level
 * triggered (clear it when edge). Vectors 0-15 are refused with ESR
 * "receive illegal vector". A globally or software-disabled APIC accepts
 * nothing (§11.4.7.2).
 */
void vlapic_accept_irq(struct vlapic *l, uint8_t vector, bool level);

/* Highest IRR vector whose priority class is above the PPR's, or -1. */
int vlapic_pending_irq(struct vlapic *l);

/* The vCPU took vector: move it from the IRR to the ISR. */
void vlapic_irq_injected(struct vlapic *l, uint8_t vector);
/* The vCPU did not take an injected vector after all: back to the IRR. */
void vlapic_irq_requeue(struct vlapic *l, uint8_t vector);
/* Debug key 'd': TPR, PPR and the highest ISR and IRR vectors. */
void vlapic_dump(const struct vlapic *l);

/*
 * Guest TSC at which vlapic_timer_expire should next be called, 0 when no
 * expiry would deliver anything (timer idle or its LVT entry masked).
 */
uint64_t vlapic_timer_deadline(const struct vlapic *l);

/*
 * The timer is due at now_tsc (or earlier): deliver the LVT timer vector
 * unless masked, reload a periodic count, disarm one-shot and TSC-deadline.
 * Several missed periods coalesce into one interrupt. Early calls are
 * harmless.
 */
void vlapic_timer_expire(struct vlapic *l, uint64_t now_tsc);

#endif

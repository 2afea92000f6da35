/* SPDX-License-Identifier: MIT */
/* Keel's ownership of the physical interrupt controllers and timers. */
#ifndef KEEL_IRQ_H
#define KEEL_IRQ_H

#include <keel/acpi.h>
#include <keel/lib.h>

struct domain;

/* Vector map. Device GSIs get vectors GSI_VECTOR_BASE + gsi. */
#define GSI_VECTOR_BASE	      0x30
#define MAX_GSIS	      96
#define TIMER_VECTOR	      0xF0
#define IPI_KICK_VECTOR	      0xF1
#define IPI_PANIC_VECTOR      0xF2
#define IPI_VMCS_CLEAR_VECTOR 0xF3 /* VMX: release a VMCS another CPU needs */
#define ERROR_VECTOR	      0xFE
#define SPURIOUS_VECTOR	      0xFF

/* Physical local APIC (xAPIC MMIO, or x2APIC MSRs when the CPU has it). */
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);
bool lapic_x2apic(void);
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);
void lapic_send_init_sipi(uint32_t apic_id, uint8_t sipi_page);
/* Arms this CPU's one-shot timer to fire at TSC value `deadline`. */
void lapic_timer_arm(uint64_t deadline);
void lapic_timer_calibrate(void);
/* Kick and stop IPIs between physical CPUs. */
void smp_init_ipis(void);
/* Starts other CPUs of the MADT up to max_cpus in all; returns the
 * number online. */
unsigned smp_boot_aps(unsigned max_cpus);
const char *lapic_timer_mode(void);

/* The firmware's interrupt topology, parsed once at boot. */
extern struct acpi_madt_info madt_info;

/* Physical IOAPICs. */
void ioapic_init(void);
int ioapic_route(uint32_t gsi, uint8_t vector, bool level, bool active_low,
		 uint32_t dest_apic);
void ioapic_mask(uint32_t gsi, bool masked);
uint32_t ioapic_nr_gsis(void);

/*
 * Physical GSIs are routed 1:1 to Dom0's virtual IOAPIC pins. Level lines
 * stay masked from delivery until Dom0 EOIs the virtual interrupt.
 */
void gsi_route_to_dom0(struct domain *dom0, uint32_t skip_gsi);
void gsi_guest_eoi(unsigned gsi);
uint64_t gsi_interrupt_count(unsigned gsi);

/* Time: TSC calibrated against the ACPI PM timer or the PIT. */
void time_init(void);
uint64_t tsc_khz(void);
uint64_t now_ns(void);
uint64_t ns_to_tsc(uint64_t ns);
const char *time_source(void);
void udelay(uint64_t us);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables of a DomU: RSDP, XSDT, a hardware-reduced FADT with
 * reset and sleep registers on ports Keel emulates, a MADT, and a DSDT
 * with \_S5, COM1, a power button and one LNRO0005 device per virtio-mmio
 * window. Built in user space into a caller's buffer that the guest will
 * see at a given guest-physical address.
 */
#ifndef KL_ACPI_DOMU_H
#define KL_ACPI_DOMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The vCPU count the MADT can describe; xAPIC entries serve IDs 0-254. */
#define KL_ACPI_MAX_VCPUS  4096
#define KL_ACPI_MAX_VIRTIO 256 /* \_SB.VR00 .. \_SB.VRFF */

/*
 * The SLP_TYPx value \_S5 carries. In hardware-reduced ACPI the OSPM
 * writes SLP_EN | SLP_TYP << 2 to the sleep control register (ACPI 6.5
 * 4.8.3.7), so Keel's emulation of that port sees 0x34 for soft-off.
 */
#define KL_ACPI_S5_SLP_TYP 5

/* The fixed platform of a DomU: xAPIC base and one IOAPIC. */
#define KL_ACPI_LAPIC_ADDR  0xFEE00000u
#define KL_ACPI_IOAPIC_ADDR 0xFEC00000u

/* One virtio-mmio transport (virtio 1.x section 4.2). */
struct kl_acpi_virtio {
	uint64_t base; /* below 4 GiB: it is described by Memory32Fixed */
	uint32_t size;
	uint32_t gsi;
	bool edge; /* else level-triggered; always active-high */
};

struct kl_acpi_domu {
	uint32_t nr_vcpus;  /* enabled at boot, APIC IDs 0..nr_vcpus-1 */
	uint32_t max_vcpus; /* >= nr_vcpus; the rest online-capable */
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint32_t ioapic_gsi_base;
	uint32_t ioapic_pins;
	/* FADT: RESET_REG, SLEEP_CONTROL_REG, SLEEP_STATUS_REG (8-bit ports).
	 */
	uint16_t reset_port;
	uint8_t reset_value;
	uint16_t sleep_control_port;
	uint16_t sleep_status_port;
	bool com1; /* \_SB.COM1: PNP0501 at 0x3F8, IRQ 4 */
	/* \_SB.PWRB (PNP0C0C) pressed by an edge on power_button_gsi,
	 * through \_SB.GED0 (ACPI0013). */
	bool power_button;
	uint32_t power_button_gsi;
	const struct kl_acpi_virtio *virtio;
	size_t nr_virtio;
};

/* Where each table landed, as offsets into the caller's buffer. */
struct kl_acpi_layout {
	uint64_t rsdp_gpa; /* for boot_params.acpi_rsdp_addr */
	size_t size;	   /* bytes used from the start of the buffer */
	size_t rsdp, xsdt, fadt, madt, dsdt;
};

/*
 * Builds the tables into buf (size bytes, seen by the guest at base_gpa,
 * which must be 16-byte aligned). The caller marks
 * [base_gpa, base_gpa + layout.size) as ACPI reclaimable in the e820.
 * Returns 0, -EINVAL for bad parameters, -ENOSPC if buf is too small.
 */
int kl_acpi_domu_build(const struct kl_acpi_domu *p, void *buf, size_t size,
		       uint64_t base_gpa, struct kl_acpi_layout *layout);

#endif

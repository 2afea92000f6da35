/* SPDX-License-Identifier: MIT */
/*
 * The ACPI tables the runtime reads: the RSDP, the RSDT or XSDT, and the
 * MADT's processor entries (ACPI 6.5 §5.2.5, §5.2.7, §5.2.8, §5.2.12).
 */
#ifndef GUEST_ACPI_H
#define GUEST_ACPI_H

#include <stdint.h>

/*
 * Stores the APIC IDs of the MADT's enabled processors (Processor Local
 * APIC and Processor Local x2APIC entries), in table order, up to `max`;
 * returns how many the MADT lists (possibly more than `max`), or -1 when
 * there is no valid RSDP or MADT. `rsdp_source` says where the RSDP was.
 */
int acpi_madt_apic_ids(uint32_t *ids, unsigned int max,
		       const char **rsdp_source);

#endif

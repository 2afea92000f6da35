/* SPDX-License-Identifier: MIT */
/*
 * Keel's notification line to Dom0 (DESIGN section 5): pin 0 of a second
 * virtual IOAPIC that only Dom0 has, listed in Dom0's MADT above the
 * machine's GSIs and named as the interrupt of the KEEL0001 device in an
 * SSDT Keel adds to Dom0's ACPI. keel.ko binds to that device. A
 * notification carries nothing: it means "look at the rings and states of
 * your domains again". Whoever makes news for Dom0 publishes it first and
 * notifies after, so a handler that looks after the interrupt sees it.
 */
#ifndef KEEL_NOTIFY_H
#define KEEL_NOTIFY_H

#include <keel/acpi.h>
#include <keel/domain.h>

/* Sets up the line in Dom0 (once, while building it); *out says where it
 * is, for Dom0's ACPI tables. */
int dom0_notify_init(struct domain *dom0, struct acpi_notify_line *out);

/*
 * An edge on the line. Any CPU, any context; takes Dom0's lock, so the
 * caller may hold another domain's lock but not Dom0's.
 */
void dom0_notify(void);

/* Edges raised so far (the 't' debug key). */
uint64_t dom0_notify_count(void);

#endif

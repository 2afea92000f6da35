/* SPDX-License-Identifier: MIT */
/*
 * A domain's serial console through a ring in Dom0 RAM (struct
 * keel_console_ring, public/keel.h) instead of Keel's own console.
 * All of these are called with the domain's lock held.
 */
#ifndef KEEL_DOM_CONSOLE_H
#define KEEL_DOM_CONSOLE_H

#include <keel/domain.h>

/* Starts using the ring of `size` bytes at host-physical hpa (checked by
 * the caller: Dom0 RAM, page aligned, a power of two of 4-64 KiB). */
void dom_console_attach(struct domain *d, uint64_t hpa, uint32_t size);
/* A byte the guest wrote to its COM1: into `out`, never waiting. */
void dom_console_put(struct domain *d, uint8_t byte);
/* Moves bytes Dom0 put in `in` to the vUART's receiver while it has room. */
void dom_console_pull(struct domain *d);

#endif

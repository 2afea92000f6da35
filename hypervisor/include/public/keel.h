/* SPDX-License-Identifier: MIT */
/*
 * Keel's hypercall ABI, defined here only. The hypervisor includes it; the
 * Dom0 kernel module and the toolstack will (neither exists yet).
 *
 * A hypercall is VMMCALL (AMD) or VMCALL (Intel) from guest CPL 0 with the
 * number in RAX and arguments in RDI, RSI, RDX, R10, R8; the result comes
 * back in RAX, negative errno on failure. Numbers live in their own range
 * so they never collide with KVM's small hypercall numbers.
 */
#ifndef KEEL_PUBLIC_KEEL_H
#define KEEL_PUBLIC_KEEL_H

#define KEEL_HC_BASE 0x4B450000UL /* "KE" */
#define KEEL_HC_VERSION (KEEL_HC_BASE + 0)

#define KEEL_VERSION_MAJOR 0
#define KEEL_VERSION_MINOR 1
#define KEEL_VERSION_CODE ((KEEL_VERSION_MAJOR << 16) | KEEL_VERSION_MINOR)

#endif

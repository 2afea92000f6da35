/* SPDX-License-Identifier: MIT */
/*
 * Keel's hypercall ABI, defined here only. The hypervisor, the Dom0 kernel
 * module (dom0-rootfs/kmod/keel.ko) and the toolstack (`kl`) all include
 * this file; none of them redefines its structures. It is plain C with
 * explicit-width types so that all three compile it unchanged.
 *
 * A hypercall is VMMCALL (AMD) or VMCALL (Intel) from guest CPL 0 with the
 * number in RAX and arguments in RDI, RSI, RDX, R10, R8; the result comes
 * back in RAX, negative errno on failure. Numbers live in their own range
 * so they never collide with KVM's small hypercall numbers.
 *
 * Bigger arguments travel as the caller's guest-physical address of a
 * buffer in its own RAM (keel.ko uses a kmalloc'd buffer, which is
 * physically contiguous) plus the buffer's size. Keel checks that the
 * buffer lies in the caller's RAM (-EFAULT otherwise) and is big enough
 * for what it writes (-EINVAL otherwise).
 *
 * Who may call: KEEL_HC_VERSION is open to every domain. Everything else,
 * KEEL_HC_PLATFORM_INFO included, is privileged (Dom0 only, -EPERM for
 * others): the host's CPU count and memory are the management domain's
 * business, and a DomU has no use for them.
 */
#ifndef KEEL_PUBLIC_KEEL_H
#define KEEL_PUBLIC_KEEL_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

#define KEEL_HC_BASE 0x4B450000UL /* "KE" */
/* () -> KEEL_VERSION_CODE of the running Keel. */
#define KEEL_HC_VERSION (KEEL_HC_BASE + 0)
/*
 * (RDI: guest-physical address of a struct keel_platform_info,
 *  RSI: the buffer's size in bytes) -> 0, and the buffer filled in.
 * -EINVAL if the size is below sizeof(struct keel_platform_info), -EFAULT
 * if the buffer is not the caller's RAM, -EPERM for an unprivileged caller.
 */
#define KEEL_HC_PLATFORM_INFO (KEEL_HC_BASE + 1)

#define KEEL_VERSION_MAJOR 0
#define KEEL_VERSION_MINOR 1
#define KEEL_VERSION_CODE  ((KEEL_VERSION_MAJOR << 16) | KEEL_VERSION_MINOR)

/* Host CPUID leaf 0x40000000 under Keel: EBX, ECX, EDX spell this. */
#define KEEL_CPUID_SIGNATURE "KeelKeelKeel"

#define KEEL_SCHED_NAME_LEN 16

/*
 * What KEEL_HC_PLATFORM_INFO writes. The layout is fixed (no implicit
 * padding); later versions only append fields, and `size` says how many
 * bytes this Keel wrote, so a caller can tell which fields are present.
 */
struct keel_platform_info {
	uint32_t size;	     /* sizeof(struct keel_platform_info) in Keel */
	uint32_t version;    /* KEEL_VERSION_CODE */
	uint32_t nr_cpus;    /* physical CPUs online under Keel */
	uint32_t nr_domains; /* domains that exist, Dom0 included */
	uint64_t tsc_khz;    /* TSC frequency Keel calibrated */
	uint64_t total_ram;  /* bytes of RAM in the firmware's memory map */
	uint64_t free_ram;   /* bytes free in Keel's frame allocator */
	char sched_name[KEEL_SCHED_NAME_LEN]; /* e.g. "credit", NUL-ended */
};
_Static_assert(sizeof(struct keel_platform_info) == 56,
	       "struct keel_platform_info has a fixed layout");

#endif

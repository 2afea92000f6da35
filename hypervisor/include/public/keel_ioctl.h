/* SPDX-License-Identifier: MIT */
/*
 * /dev/keel: the ioctls keel.ko (dom0-rootfs/kmod/) offers Dom0's user
 * space (the toolstack, `kl`). Typed requests only: keel.ko never passes a
 * raw hypercall through. The structures Keel itself fills in come from
 * keel.h; this file adds only what is between keel.ko and user space.
 *
 * The device is root's: open() and every ioctl need CAP_SYS_ADMIN (EPERM).
 */
#ifndef KEEL_PUBLIC_KEEL_IOCTL_H
#define KEEL_PUBLIC_KEEL_IOCTL_H

#include "keel.h"

#ifdef __KERNEL__
#include <linux/ioctl.h>
#else
#include <sys/ioctl.h>
#endif

#define KEEL_DEVICE	 "/dev/keel"
#define KEEL_IOCTL_MAGIC 0xB7

struct keel_ioctl_version {
	uint32_t hypervisor; /* KEEL_HC_VERSION's answer (KEEL_VERSION_CODE) */
	uint32_t module;     /* KEEL_VERSION_CODE keel.ko was built with */
};

/* Both versions; fails only if the device is refused. */
#define KEEL_IOCTL_VERSION                                                     \
	_IOR(KEEL_IOCTL_MAGIC, 0x00, struct keel_ioctl_version)
/* KEEL_HC_PLATFORM_INFO's answer; a negative hypercall result becomes the
 * ioctl's errno. */
#define KEEL_IOCTL_PLATFORM_INFO                                               \
	_IOR(KEEL_IOCTL_MAGIC, 0x01, struct keel_platform_info)

#endif

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

/*
 * The global fd (open /dev/keel): every domain, by domid. A negative
 * hypercall result becomes the ioctl's errno.
 */
struct keel_ioctl_domain_info {
	uint32_t first_domid; /* in: the lowest domid to consider */
	uint32_t pad;
	struct keel_domain_info info; /* out: the lowest existing >= it */
};
#define KEEL_IOCTL_DOMAIN_INFO                                                 \
	_IOWR(KEEL_IOCTL_MAGIC, 0x02, struct keel_ioctl_domain_info)
/* A domid (__u32). Destroying a domain another fd created ends that fd's
 * domain too (its memory is unpinned, its console fd reads EOF). */
#define KEEL_IOCTL_DOMAIN_PAUSE	  _IOW(KEEL_IOCTL_MAGIC, 0x03, uint32_t)
#define KEEL_IOCTL_DOMAIN_UNPAUSE _IOW(KEEL_IOCTL_MAGIC, 0x04, uint32_t)
#define KEEL_IOCTL_DOMAIN_DESTROY _IOW(KEEL_IOCTL_MAGIC, 0x05, uint32_t)

struct keel_ioctl_vcpu {
	uint32_t domid;
	uint32_t vcpu;
	uint64_t cpumask;	    /* VCPU_PIN: in */
	struct keel_vcpu_info info; /* VCPU_INFO: out */
};
#define KEEL_IOCTL_VCPU_PIN _IOW(KEEL_IOCTL_MAGIC, 0x06, struct keel_ioctl_vcpu)
#define KEEL_IOCTL_VCPU_INFO                                                   \
	_IOWR(KEEL_IOCTL_MAGIC, 0x07, struct keel_ioctl_vcpu)

struct keel_ioctl_sched {
	uint32_t domid;
	uint32_t weight;
	uint32_t cap;
	uint32_t pad;
};
#define KEEL_IOCTL_SCHED_SET                                                   \
	_IOW(KEEL_IOCTL_MAGIC, 0x08, struct keel_ioctl_sched)

struct keel_ioctl_dmesg {
	uint64_t buf;	/* user pointer */
	uint32_t size;	/* its size, at most 1 MiB */
	uint32_t flags; /* KEEL_DMESG_* */
};
/* Returns the bytes written to buf. */
#define KEEL_IOCTL_DMESG _IOW(KEEL_IOCTL_MAGIC, 0x09, struct keel_ioctl_dmesg)

/*
 * Creates a domain (state BUILDING) and returns a new fd for it, the
 * per-domain fd (O_CLOEXEC); the domid is written back. Closing that fd,
 * for any reason (exit, SIGKILL), destroys the domain, and keel.ko
 * unpins its memory only after Keel has unmapped it: no domain outlives
 * its creator.
 */
struct keel_ioctl_create {
	struct keel_domain_create create; /* in */
	uint32_t domid;			  /* out */
	uint32_t pad;
};
#define KEEL_IOCTL_CREATE                                                      \
	_IOWR(KEEL_IOCTL_MAGIC, 0x0A, struct keel_ioctl_create)

/*
 * Opens domid's console: a new fd (O_CLOEXEC) whose read() returns the
 * domain's serial output (what is still in the ring, then new output;
 * poll() for POLLIN), whose write() feeds its serial input. read()
 * returns 0 once the domain is destroyed. One console fd per domain at a
 * time (EBUSY).
 */
#define KEEL_IOCTL_CONSOLE_OPEN _IOW(KEEL_IOCTL_MAGIC, 0x0B, uint32_t)

/*
 * Tracing (keel.h, KEEL_HC_TRACE). TRACE_ENABLE takes the pages per CPU
 * (a power of two up to KEEL_TRACE_MAX_PAGES). TRACE_INFO says how the
 * rings are laid out; mmap() of the global fd at offset 0, read-only and
 * nr_cpus * pages_per_cpu pages long, shows CPU i's ring (struct
 * keel_trace_ring, then its records) at i * pages_per_cpu pages, for each
 * CPU in cpu_mask (EACCES for a writable mapping, EINVAL for another
 * length, ENODATA while tracing is off). TRACE_DISABLE fails with EBUSY
 * while any process maps the rings.
 */
struct keel_ioctl_trace_info {
	uint32_t pages_per_cpu; /* 0: tracing is off */
	uint32_t nr_cpus;
	uint64_t tsc_khz;
	uint64_t cpu_mask; /* CPUs with a ring */
};
#define KEEL_IOCTL_TRACE_ENABLE	 _IOW(KEEL_IOCTL_MAGIC, 0x20, uint32_t)
#define KEEL_IOCTL_TRACE_DISABLE _IO(KEEL_IOCTL_MAGIC, 0x21)
#define KEEL_IOCTL_TRACE_INFO                                                  \
	_IOR(KEEL_IOCTL_MAGIC, 0x22, struct keel_ioctl_trace_info)

/* The per-domain fd (from KEEL_IOCTL_CREATE). */

/*
 * Pins [uaddr, uaddr + len) of the caller's memory (a shared mapping of a
 * memfd, prefaulted; page aligned) for as long as the domain lives and
 * maps it at guest-physical gpa. Only before START.
 */
struct keel_ioctl_map_ram {
	uint64_t uaddr;
	uint64_t gpa;
	uint64_t len;
};
#define KEEL_IOCTL_MAP_RAM                                                     \
	_IOW(KEEL_IOCTL_MAGIC, 0x10, struct keel_ioctl_map_ram)

struct keel_ioctl_vcpu_boot {
	uint32_t vcpu;
	uint32_t pad;
	struct keel_vcpu_boot_state state;
};
#define KEEL_IOCTL_VCPU_BOOT                                                   \
	_IOW(KEEL_IOCTL_MAGIC, 0x11, struct keel_ioctl_vcpu_boot)
/* Sets up the console ring (keel.ko's) and starts the domain. */
#define KEEL_IOCTL_START _IO(KEEL_IOCTL_MAGIC, 0x12)

/*
 * The device model's side of I/O requests (keel.h, KEEL_HC_IOREQ_*).
 *
 * IOREQ_SETUP: keel.ko allocates a zeroed page and registers it as the
 * domain's ioreq page; before START only (EBUSY after, or if done twice).
 * The page is then mmap()ed from the per-domain fd: offset 0, length
 * KEEL_IOREQ_PAGE_SIZE, MAP_SHARED, read and write (EINVAL otherwise; ENXIO
 * before IOREQ_SETUP). The mapping stays valid after the domain is gone;
 * the page is freed when it is unmapped and the domain destroyed.
 *
 * poll() on the per-domain fd: POLLIN when a slot of one of the domain's
 * vCPUs is PENDING or doorbell_pending is nonzero, POLLHUP once the
 * domain is destroyed. keel.ko wakes pollers on Keel's notification
 * interrupt; a poller re-reads the page at every wake-up.
 */
#define KEEL_IOCTL_IOREQ_SETUP _IO(KEEL_IOCTL_MAGIC, 0x13)

struct keel_ioctl_ioreq_range {
	uint64_t start;
	uint64_t len;
	uint32_t flags; /* KEEL_IOREQ_F_* */
	uint32_t op;	/* KEEL_IOREQ_RANGE_ADD or _REMOVE */
};
/* Returns the range's id (ADD) or 0 (REMOVE). */
#define KEEL_IOCTL_IOREQ_RANGE                                                 \
	_IOW(KEEL_IOCTL_MAGIC, 0x14, struct keel_ioctl_ioreq_range)
/* A vCPU index (__u32): its slot is DONE. */
#define KEEL_IOCTL_IOREQ_DONE _IOW(KEEL_IOCTL_MAGIC, 0x15, uint32_t)

struct keel_ioctl_irq_line {
	uint32_t gsi; /* a pin of the DomU's vIOAPIC */
	uint32_t op;  /* KEEL_IRQ_* */
};
#define KEEL_IOCTL_IRQ_LINE                                                    \
	_IOW(KEEL_IOCTL_MAGIC, 0x16, struct keel_ioctl_irq_line)

#endif

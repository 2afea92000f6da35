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

/*
 * Domain control. All privileged; `domid` is always RDI. Destructive calls
 * refuse domain 0 (-EPERM); an unknown domain is -ESRCH.
 *
 * A domain's life: CREATE (state BUILDING, no memory, vCPUs down) ->
 * MEMORY_MAP and VCPU_BOOT_STATE for vCPU 0 (and CONSOLE_SETUP) -> START
 * (RUNNING; once only: -EBUSY after, -EINVAL without memory or a boot
 * vCPU) -> PAUSE / UNPAUSE -> SHUTDOWN or CRASHED (the guest powered off,
 * rebooted or failed: its vCPUs are stopped, its memory still mapped) ->
 * DESTROY. DESTROY works in every state; when it returns no CPU can touch
 * the domain's memory any more (nested page tables gone, every CPU
 * flushed), so Dom0 may reuse the pages.
 */
/* (RDI: gpa of struct keel_domain_create, RSI: its size) -> new domid. */
#define KEEL_HC_DOMAIN_CREATE (KEEL_HC_BASE + 2)
/* (RDI: domid) -> 0. */
#define KEEL_HC_DOMAIN_DESTROY (KEEL_HC_BASE + 3)
/* (RDI: domid) -> 0; -EINVAL unless RUNNING (pause) or PAUSED (unpause).
 * Pause returns once no CPU runs the domain. Pause of a BUILDING domain
 * (once) makes DOMAIN_START leave it PAUSED: no guest instruction runs
 * before its unpause. */
#define KEEL_HC_DOMAIN_PAUSE   (KEEL_HC_BASE + 4)
#define KEEL_HC_DOMAIN_UNPAUSE (KEEL_HC_BASE + 5)
/* (RDI: domid) -> 0: first run of a BUILDING domain (or PAUSED, above). */
#define KEEL_HC_DOMAIN_START (KEEL_HC_BASE + 6)
/*
 * (RDI: first domid to consider, RSI: gpa of struct keel_domain_info,
 *  RDX: its size) -> the domid of the lowest existing domain >= RDI, its
 * info written; -ESRCH if there is none. `kl list` walks with RDI = last
 * answer + 1.
 */
#define KEEL_HC_DOMAIN_INFO (KEEL_HC_BASE + 7)
/*
 * (RDI: domid, RSI: gpa of an array of struct keel_mem_extent, RDX: how
 * many, at most KEEL_MAX_EXTENTS_PER_CALL) -> 0. All or nothing. Each
 * extent gives `len` bytes of the caller's (Dom0's) RAM at `dom0_gpa` to
 * the domain at guest-physical `gpa`. Refused (-EINVAL) unless every
 * gpa, dom0_gpa and len is page aligned and nonzero, without overflow,
 * gpa below KEEL_MAX_GPA, the Dom0 range is Dom0's RAM (not Keel's, not an
 * MMIO window), it overlaps no other extent of any domain or of the same
 * call, and the guest range overlaps nothing already mapped in the domain.
 * Only while BUILDING (-EBUSY otherwise).
 */
#define KEEL_HC_MEMORY_MAP (KEEL_HC_BASE + 8)
/*
 * (RDI: domid, RSI: vCPU index, RDX: gpa of struct keel_vcpu_boot_state,
 *  R10: its size) -> 0. Only while BUILDING. Keel builds flat segments
 * itself and refuses (-EINVAL) an unknown mode, CR0 without PE|PG|ET or
 * with CD/NW, CR4 without PAE or with bits the vCPU does not have, EFER
 * other than LME|LMA[|NXE|SCE], a non-canonical RIP/RSP/GDT base, or a
 * null or misaligned selector. vCPU 0 only (-EINVAL for others): the
 * other vCPUs wait for the guest's INIT/SIPI, as on a PC.
 */
#define KEEL_HC_VCPU_BOOT_STATE (KEEL_HC_BASE + 9)
/* (RDI: domid, RSI: vCPU, RDX: cpumask of allowed physical CPUs) -> 0. */
#define KEEL_HC_VCPU_AFFINITY (KEEL_HC_BASE + 10)
/* (RDI: domid, RSI: vCPU, RDX: gpa of struct keel_vcpu_info, R10: size). */
#define KEEL_HC_VCPU_INFO (KEEL_HC_BASE + 11)
/* (RDI: domid, RSI: weight 1-65535, RDX: cap in % of a CPU, 0 = none). */
#define KEEL_HC_SCHED_SET (KEEL_HC_BASE + 12)
/*
 * (RDI: domid, RSI: Dom0 gpa of a struct keel_console_ring, RDX: its size:
 *  a power of two from 4 KiB to 64 KiB, the ring page-aligned) -> 0. From
 * then on the domain's COM1 output goes to the ring's `out` (the oldest
 * bytes are overwritten when Dom0 does not keep up) and not to Keel's
 * console. Only while BUILDING.
 */
#define KEEL_HC_CONSOLE_SETUP (KEEL_HC_BASE + 13)
/* (RDI: domid) -> 0: Dom0 put bytes in the ring's `in`; Keel feeds them to
 * the domain's COM1 receiver as it has room. */
#define KEEL_HC_CONSOLE_KICK (KEEL_HC_BASE + 14)
/*
 * (RDI: gpa of a buffer, RSI: its size, RDX: KEEL_DMESG_* flags) -> bytes
 * written: the newest lines of Keel's log ring that fit, oldest first.
 */
#define KEEL_HC_DMESG (KEEL_HC_BASE + 15)

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

#define KEEL_DOMAIN_NAME_LEN	  32
#define KEEL_MAX_VCPUS		  64
#define KEEL_MAX_EXTENTS_PER_CALL 512
#define KEEL_MAX_GPA		  (1ULL << 46)

struct keel_domain_create {
	char
	    name[KEEL_DOMAIN_NAME_LEN]; /* NUL-ended, [A-Za-z0-9._-]+, unique */
	uint32_t nr_vcpus;		/* 1..KEEL_MAX_VCPUS */
	uint32_t flags;			/* none yet: must be 0 */
};
_Static_assert(sizeof(struct keel_domain_create) == 40, "fixed layout");

enum keel_domain_state {
	KEEL_DOMSTATE_BUILDING = 0, /* created, not started */
	KEEL_DOMSTATE_RUNNING = 1,
	KEEL_DOMSTATE_PAUSED = 2,
	KEEL_DOMSTATE_SHUTDOWN = 3, /* the guest asked: see shutdown_reason */
	KEEL_DOMSTATE_CRASHED = 4,  /* Keel stopped it: see crash_reason */
};

enum keel_shutdown_reason {
	KEEL_SHUTDOWN_NONE = 0,
	KEEL_SHUTDOWN_POWEROFF = 1, /* ACPI S5 through the sleep register */
	KEEL_SHUTDOWN_REBOOT = 2,   /* the ACPI reset register */
};

#define KEEL_DOMFLAG_PRIVILEGED (1u << 0) /* Dom0 */
#define KEEL_DOMFLAG_BOOT	(1u << 1) /* created by Keel at boot (domu=) */

struct keel_domain_info {
	uint32_t domid;
	uint32_t state;		  /* enum keel_domain_state */
	uint32_t flags;		  /* KEEL_DOMFLAG_* */
	uint32_t shutdown_reason; /* enum keel_shutdown_reason */
	uint32_t nr_vcpus;
	uint32_t nr_vcpus_up; /* started and not stopped */
	uint32_t weight;      /* credit scheduler; 0 if the policy has none */
	uint32_t cap;
	uint64_t ram_bytes;   /* guest RAM mapped */
	uint64_t p2m_bytes;   /* Keel's memory for its nested page tables */
	uint64_t cpu_time_ns; /* all its vCPUs together */
	char name[KEEL_DOMAIN_NAME_LEN];
	char crash_reason[96]; /* NUL-ended, empty unless CRASHED */
};
_Static_assert(sizeof(struct keel_domain_info) == 184, "fixed layout");

struct keel_mem_extent {
	uint64_t gpa;	   /* in the new domain */
	uint64_t dom0_gpa; /* the caller's RAM backing it */
	uint64_t len;
};
_Static_assert(sizeof(struct keel_mem_extent) == 24, "fixed layout");

#define KEEL_VCPU_BOOT_LONG64 1 /* 64-bit mode, paging on, flat segments */

struct keel_vcpu_boot_state {
	uint32_t mode; /* KEEL_VCPU_BOOT_LONG64 */
	uint16_t cs;   /* GDT selectors for the flat code and data segments; */
	uint16_t ds;   /* the GDT itself is the guest's, in its memory */
	uint64_t gdt_base;
	uint64_t gdt_limit;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t rip, rsp, rflags;
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(sizeof(struct keel_vcpu_boot_state) == 200, "fixed layout");

enum keel_vcpu_state {
	KEEL_VCPUSTATE_DOWN = 0, /* waiting for INIT/SIPI, or not started */
	KEEL_VCPUSTATE_RUNNABLE = 1,
	KEEL_VCPUSTATE_BLOCKED = 2, /* HLT */
	KEEL_VCPUSTATE_STOPPED =
	    3, /* its domain is paused, shut down or dead */
};

struct keel_vcpu_info {
	uint32_t vcpu;
	uint32_t state; /* enum keel_vcpu_state */
	int32_t pcpu;	/* physical CPU whose run queue holds it, -1 none */
	uint32_t pad;
	uint64_t affinity; /* cpumask */
	uint64_t cpu_time_ns;
	uint64_t exits; /* VM exits, all reasons */
};
_Static_assert(sizeof(struct keel_vcpu_info) == 40, "fixed layout");

/*
 * A domain's serial console, in Dom0 RAM, shared with Keel (Xen's
 * xencons_interface, remodelled). Indices only grow (mod 2^32); a ring
 * index is the index mod the ring's size, a power of two so that the
 * wrap of the 32-bit indices stays seamless. `out` starts at
 * KEEL_CONSOLE_OUT_OFFSET and is KEEL_CONSOLE_OUT_SIZE(RSI's size) bytes:
 * half the region (the whole rest for 4 KiB). Keel writes `out` then out_prod
 * (release); Dom0 reads out_prod (acquire), the bytes, then moves out_cons.
 * Keel never waits for out_cons: if Dom0 falls more than the ring's size
 * behind, the oldest bytes are lost (out_prod - out_cons > size says so). `in`
 * is the other way round, and Keel never overwrites.
 */
#define KEEL_CONSOLE_IN_SIZE	      1024
#define KEEL_CONSOLE_OUT_OFFSET	      2048
#define KEEL_CONSOLE_OUT_SIZE(region) ((region) / 2)
struct keel_console_ring {
	uint32_t out_prod, out_cons;
	uint32_t in_prod, in_cons;
	uint8_t reserved[1024 - 16];
	char in[KEEL_CONSOLE_IN_SIZE];
	/* char out[]; at KEEL_CONSOLE_OUT_OFFSET */
};
_Static_assert(sizeof(struct keel_console_ring) == KEEL_CONSOLE_OUT_OFFSET,
	       "fixed layout");

#define KEEL_DMESG_CLEAR (1u << 0) /* then forget what was read */

/*
 * The DomU platform's fixed I/O ports, which Keel emulates for every
 * domain it did not build itself and `kl` names in the DomU's FADT.
 * Sleep control: SLP_EN (bit 5) with SLP_TYP (bits 4:2) 5 (\_S5) powers
 * off; the reset register takes KEEL_DOMU_RESET_VALUE. In such a domain,
 * ports nothing claims and guest-physical addresses in the two MMIO holes
 * below that no extent backs read as all-ones and ignore writes, as on a
 * PC; an access anywhere else outside its extents stops the domain
 * (CRASHED).
 */
#define KEEL_DOMU_SLEEP_CONTROL_PORT 0x0600
#define KEEL_DOMU_SLEEP_STATUS_PORT  0x0601
#define KEEL_DOMU_RESET_PORT	     0x0602
#define KEEL_DOMU_RESET_VALUE	     0x01
#define KEEL_DOMU_S5_SLP_TYP	     5
#define KEEL_DOMU_LEGACY_HOLE_START  0xA0000ULL
#define KEEL_DOMU_LEGACY_HOLE_END    0x100000ULL
#define KEEL_DOMU_MMIO_HOLE_START    0xC0000000ULL
#define KEEL_DOMU_MMIO_HOLE_END	     0x100000000ULL

/*
 * Boot timer: a byte written here makes Keel log (kl dmesg) the time since
 * the domain's DOMAIN_START and that of its first guest instruction, e.g.
 * "d1 'debian': boot timer 1: 48210443 us after start (first instruction
 * at 3012 us)". The sample DomU's init writes 1, its shell profile 2;
 * `make bench` reads them. Only the first KEEL_DOMU_BOOT_TIMER_MAX writes
 * of a domain are logged.
 */
#define KEEL_DOMU_BOOT_TIMER_PORT 0x0603
#define KEEL_DOMU_BOOT_TIMER_MAX  16

#endif

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

/*
 * Keel's notification interrupt: Dom0's ACPI has a device with this
 * _HID whose interrupt Keel raises when something a domain's rings or
 * state say changed (keel.ko binds to it; see the console ring's
 * `notify`). A notification carries nothing: look again.
 */
#define KEEL_ACPI_HID "KEEL0001"

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

/*
 * I/O requests (DESIGN section 6): a DomU access to a range Dom0
 * registered becomes a request in the domain's ioreq page (struct
 * keel_ioreq_page, below), and Dom0's device model serves it. All four
 * calls are privileged, refuse domain 0 (-EPERM) and domains Keel built
 * itself (-EPERM), and say -ESRCH for an unknown domain.
 *
 * (RDI: domid, RSI: Dom0 gpa of the page, RDX: its size, KEEL_IOREQ_PAGE_SIZE)
 * -> 0. The page is Dom0 RAM, page aligned, neither a domain's memory nor
 * another domain's console ring or ioreq page (-EINVAL; -EFAULT when it is
 * not Dom0's RAM). Once per domain and only while BUILDING (-EBUSY). Keel
 * zeroes the slots' states and the doorbells. Dom0 frees the page only
 * after DOMAIN_DESTROY returned.
 */
#define KEEL_HC_IOREQ_SETUP (KEEL_HC_BASE + 16)
/*
 * (RDI: domid, RSI: KEEL_IOREQ_RANGE_ADD or _REMOVE, RDX: KEEL_IOREQ_F_*
 *  flags, R10: start, R8: length) -> ADD: the range's id (0 to
 * KEEL_IOREQ_MAX_RANGES - 1: its doorbell word and the `range` of its
 * requests); REMOVE: 0. Any state but dying; the ioreq page first (-EINVAL
 * without one). ADD refuses (-EINVAL) unknown flags, a zero or wrapping
 * length, an MMIO range outside [KEEL_DOMU_MMIO_HOLE_START,
 * KEEL_DOMU_MMIO_HOLE_END) or over the vIOAPIC or vLAPIC page or the
 * domain's RAM, a port range beyond 0xFFFF or over COM1 (0x3F8-0x3FF) or
 * the power and boot timer ports (0x600-0x603); -EEXIST if it overlaps a
 * range already registered; -ENOSPC when the domain has
 * KEEL_IOREQ_MAX_RANGES. REMOVE takes the same flags, start and length
 * (-ENOENT if no such range).
 * Ranges never nest: a virtio-mmio window whose QueueNotify (offset 0x50,
 * 4 bytes) is a doorbell is three ranges, [0, 0x50) and [0x54, end)
 * synchronous around the doorbell.
 */
#define KEEL_HC_IOREQ_RANGE (KEEL_HC_BASE + 17)
/*
 * (RDI: domid, RSI: vCPU) -> 0: Dom0 served the request in the vCPU's slot
 * and set its state to KEEL_IOREQ_DONE (release). For a read, the low
 * `size` bytes of the slot's data go to the destination register; the
 * slot becomes FREE and the vCPU runs on. -EINVAL if the vCPU has no
 * request outstanding (or no such vCPU), -EBUSY if the slot is not DONE.
 */
#define KEEL_HC_IOREQ_DONE (KEEL_HC_BASE + 18)
/*
 * (RDI: domid, RSI: GSI, a pin of the DomU's vIOAPIC, RDX: KEEL_IRQ_*)
 * -> 0. -EINVAL for a pin beyond 23 or an unknown op, -EPERM for a pin
 * Keel drives itself (4: COM1). Takes no lock a vCPU of the domain can
 * hold while it waits for Dom0, so keel.ko may call it from an interrupt.
 */
#define KEEL_HC_IRQ_LINE (KEEL_HC_BASE + 19)
/*
 * Tracing (docs/trace.md): per-physical-CPU rings of struct
 * keel_trace_rec that Keel fills and Dom0 maps read-only. Privileged.
 * (RDI: KEEL_TRACE_OP_ENABLE, RSI: pages per CPU, a power of two from 1
 *  to KEEL_TRACE_MAX_PAGES) -> 0: Keel allocates the rings, maps them
 *  read-only into Dom0 at their own address and starts writing. -EBUSY if
 *  tracing is on, -EINVAL for another size, -ENOMEM.
 * (RDI: KEEL_TRACE_OP_DISABLE) -> 0: Keel stops writing, takes the rings
 *  out of Dom0's memory (every CPU flushed) and frees them; -EINVAL when
 *  off. Dom0 must have unmapped them first: a later access stops Dom0.
 * (RDI: KEEL_TRACE_OP_DESCRIBE, RSI: gpa of a struct keel_trace_desc,
 *  RDX: its size) -> 0, the buffer filled in (pages_per_cpu 0 when off).
 * Any of them: -EBUSY while another is in progress.
 */
#define KEEL_HC_TRACE	       (KEEL_HC_BASE + 20)
#define KEEL_TRACE_OP_ENABLE   1
#define KEEL_TRACE_OP_DISABLE  2
#define KEEL_TRACE_OP_DESCRIBE 3

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
	/* Appended in 0.1 for `kl top`; totals since the vCPU was created,
	 * read without a lock (statistics, not exact snapshots). */
	uint64_t irqs_injected; /* external interrupts delivered to it */
	uint64_t ioreqs;	/* I/O requests it posted to Dom0 */
};
_Static_assert(sizeof(struct keel_vcpu_info) == 56, "fixed layout");

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
 *
 * Dom0 sets bits in `notify` to have Keel raise its notification interrupt
 * (the KEEL0001 device's) when out_prod next moves (NOTIFY_OUT) or in_cons
 * next moves (NOTIFY_IN); Keel clears a bit when it notifies for it. Set
 * the bit, then look at the index again (a full barrier between): Keel
 * moves the index, then looks at the bit.
 */
#define KEEL_CONSOLE_NOTIFY_OUT	      (1u << 0)
#define KEEL_CONSOLE_NOTIFY_IN	      (1u << 1)
#define KEEL_CONSOLE_IN_SIZE	      1024
#define KEEL_CONSOLE_OUT_OFFSET	      2048
#define KEEL_CONSOLE_OUT_SIZE(region) ((region) / 2)
struct keel_console_ring {
	uint32_t out_prod, out_cons;
	uint32_t in_prod, in_cons;
	uint32_t notify; /* KEEL_CONSOLE_NOTIFY_* */
	uint8_t reserved[1024 - 20];
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
 * The ioreq page (KEEL_HC_IOREQ_SETUP): one 4 KiB page of Dom0 RAM that
 * Keel and Dom0's device model share. Keel writes to it; Dom0 may scribble
 * on it at any time, so Keel reads only a slot's `state` and `data`, each
 * once, and keeps what the request was in its own memory.
 *
 * Slot v belongs to vCPU v. A synchronous request: Keel writes addr, data
 * (writes), size, type, dir and range, then state = PENDING (release), and
 * the vCPU waits (it does not run, it does not spin). Dom0 reads state
 * (acquire), serves the access, writes data (reads), sets state = DONE
 * (release) and calls KEEL_HC_IOREQ_DONE; Keel then sets state = FREE.
 *
 * Doorbell ranges (KEEL_IOREQ_F_DOORBELL, e.g. virtio QueueNotify) do not
 * wait: a write sets bit (value % 64) of doorbell[range] (virtio: the
 * queue index) and bit `range` of doorbell_pending, both with atomic ORs
 * (release) before the vCPU runs on. Dom0 takes them with atomic exchanges
 * to 0. A read of a doorbell range reads all-ones.
 *
 * Keel raises Dom0's notification interrupt when a request becomes
 * PENDING and when a doorbell rings. If the domain dies, its slots are
 * left as they are.
 */
#define KEEL_IOREQ_PAGE_SIZE  4096
#define KEEL_IOREQ_MAX_RANGES 32

enum keel_ioreq_state {
	KEEL_IOREQ_FREE = 0,
	KEEL_IOREQ_PENDING = 1,
	KEEL_IOREQ_DONE = 2,
};

#define KEEL_IOREQ_TYPE_MMIO 0
#define KEEL_IOREQ_TYPE_PIO  1
#define KEEL_IOREQ_READ	     0
#define KEEL_IOREQ_WRITE     1

struct keel_ioreq {
	uint64_t addr;	/* guest-physical address, or port */
	uint64_t data;	/* write: the value; read: Dom0's answer */
	uint32_t state; /* enum keel_ioreq_state */
	uint8_t size;	/* 1, 2, 4 or 8 (ports: 1, 2 or 4) */
	uint8_t type;	/* KEEL_IOREQ_TYPE_* */
	uint8_t dir;	/* KEEL_IOREQ_READ or _WRITE */
	uint8_t range;	/* the id KEEL_IOREQ_RANGE_ADD returned */
	uint64_t reserved;
};
_Static_assert(sizeof(struct keel_ioreq) == 32, "fixed layout");

struct keel_ioreq_page {
	struct keel_ioreq slot[KEEL_MAX_VCPUS];
	uint64_t doorbell_pending; /* bit r: doorbell[r] has bits set */
	uint64_t doorbell[KEEL_IOREQ_MAX_RANGES];
	uint8_t reserved[KEEL_IOREQ_PAGE_SIZE - KEEL_MAX_VCPUS * 32 - 8 -
			 KEEL_IOREQ_MAX_RANGES * 8];
};
_Static_assert(sizeof(struct keel_ioreq_page) == KEEL_IOREQ_PAGE_SIZE,
	       "fixed layout");

/* KEEL_HC_IOREQ_RANGE: RSI. */
#define KEEL_IOREQ_RANGE_ADD	1
#define KEEL_IOREQ_RANGE_REMOVE 2
/* KEEL_HC_IOREQ_RANGE: RDX. */
#define KEEL_IOREQ_F_PIO      (1u << 0) /* ports; else MMIO */
#define KEEL_IOREQ_F_DOORBELL (1u << 1) /* writes do not wait */
#define KEEL_IOREQ_F_ALL      (KEEL_IOREQ_F_PIO | KEEL_IOREQ_F_DOORBELL)

/* KEEL_HC_IRQ_LINE: RDX. PULSE asserts and deasserts (an edge). */
#define KEEL_IRQ_ASSERT	  1
#define KEEL_IRQ_DEASSERT 2
#define KEEL_IRQ_PULSE	  3
/* The DomU pin Keel drives itself: COM1's. */
#define KEEL_DOMU_COM1_GSI 4

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

/*
 * Trace rings (KEEL_HC_TRACE). Each physical CPU has one ring of
 * pages_per_cpu pages: a struct keel_trace_ring header, then nr_slots
 * records. Only that CPU writes it, with its interrupts off; Keel never
 * waits for the reader (it cannot see one: the mapping is read-only) and
 * overwrites the oldest record when the ring is full. `head` counts the
 * records ever written; record n lives in slot n % nr_slots and is
 * complete once head > n (Keel writes the record, then head, release). A
 * reader copies the slots it wants, then reads head again: any record
 * below that head - nr_slots may have been overwritten while it copied,
 * and is counted lost.
 */
#define KEEL_TRACE_MAX_PAGES 256 /* 1 MiB per CPU */
#define KEEL_TRACE_MAX_CPUS  64

struct keel_trace_desc {
	uint32_t pages_per_cpu; /* 0: tracing is off */
	uint32_t nr_cpus;	/* rings: one per CPU index below this */
	uint64_t tsc_khz;	/* to turn `tsc` into time */
	/* Dom0-physical address of CPU i's ring, 0 for a CPU not online. */
	uint64_t ring[KEEL_TRACE_MAX_CPUS];
};

struct keel_trace_ring {
	uint64_t head;	   /* records ever written (release) */
	uint32_t nr_slots; /* records the ring holds */
	uint32_t cpu;
	uint64_t pad[6];
};
_Static_assert(sizeof(struct keel_trace_ring) == 64, "fixed layout");

/* struct keel_trace_rec.kind, and what reason and qual mean for it. */
enum keel_trace_kind {
	/* reason: KEEL_TRACE_EXIT_*, cycles: TSC cycles Keel spent on it,
	 * qual: port (IO), MSR index (MSR_*), guest-physical address
	 * (NPF), vector (EXCEPTION); info: KEEL_TRACE_IO_* or _NPF_*. */
	KEEL_TRACE_EXIT = 1,
	/* reason: KEEL_TRACE_INJ_*, qual: the vector. */
	KEEL_TRACE_INJECT = 2,
	/* reason: KEEL_TRACE_SCHED_*, qual: the physical CPU that switches
	 * (IN, OUT), whose run queue holds the vCPU (WAKE, BLOCK), or the one
	 * it leaves << 32 | the one it goes to (MIGRATE). */
	KEEL_TRACE_SCHED = 3,
	/* reason: KEEL_TRACE_DOM_*, vcpu 0, qual: the shutdown reason. */
	KEEL_TRACE_DOMAIN = 4,
};

/* Keel's exit reasons, the same for SVM and VMX. */
enum keel_trace_exit {
	KEEL_TRACE_EXIT_EXTINT = 1,
	KEEL_TRACE_EXIT_NMI,
	KEEL_TRACE_EXIT_INTR_WINDOW,
	KEEL_TRACE_EXIT_CPUID,
	KEEL_TRACE_EXIT_MSR_READ,
	KEEL_TRACE_EXIT_MSR_WRITE,
	KEEL_TRACE_EXIT_IO,
	KEEL_TRACE_EXIT_NPF,
	KEEL_TRACE_EXIT_HLT,
	KEEL_TRACE_EXIT_HYPERCALL,
	KEEL_TRACE_EXIT_SHUTDOWN,
	KEEL_TRACE_EXIT_EXCEPTION,
	KEEL_TRACE_EXIT_INIT,
	KEEL_TRACE_EXIT_DEADLINE,
	KEEL_TRACE_EXIT_XSETBV,
	KEEL_TRACE_EXIT_PAUSE,
	KEEL_TRACE_EXIT_VIRT_INSN,
	KEEL_TRACE_EXIT_ICEBP,
	KEEL_TRACE_EXIT_INVALID,
	KEEL_TRACE_EXIT_UNKNOWN,
	KEEL_TRACE_EXIT_NR
};

/* info of an IO exit: the access size in bytes, and these bits. */
#define KEEL_TRACE_IO_SIZE_MASK 0x7
#define KEEL_TRACE_IO_IN	(1u << 3)
#define KEEL_TRACE_IO_STRING	(1u << 4)
/* info of an NPF exit. */
#define KEEL_TRACE_NPF_WRITE (1u << 0)
#define KEEL_TRACE_NPF_FETCH (1u << 1)
/* info of any exit: the vCPU waits for Dom0 (an I/O request) after it. */
#define KEEL_TRACE_IOREQ (1u << 8)

enum keel_trace_inject {
	KEEL_TRACE_INJ_IRQ = 1, /* an external interrupt from its vLAPIC */
	KEEL_TRACE_INJ_NMI,
};

enum keel_trace_sched {
	KEEL_TRACE_SCHED_IN = 1, /* the CPU starts running the vCPU */
	KEEL_TRACE_SCHED_OUT,	 /* ...and stops: another or none runs */
	KEEL_TRACE_SCHED_WAKE,	 /* made runnable again */
	KEEL_TRACE_SCHED_BLOCK,	 /* HLT with nothing pending */
	KEEL_TRACE_SCHED_MIGRATE,
};

enum keel_trace_domain {
	KEEL_TRACE_DOM_CREATE = 1,
	KEEL_TRACE_DOM_START,
	KEEL_TRACE_DOM_PAUSE,
	KEEL_TRACE_DOM_UNPAUSE,
	KEEL_TRACE_DOM_SHUTDOWN,
	KEEL_TRACE_DOM_CRASH,
	KEEL_TRACE_DOM_DESTROY,
};

struct keel_trace_rec {
	uint64_t tsc; /* host TSC when it happened (at the exit, for exits) */
	uint16_t domid;
	uint16_t vcpu;
	uint8_t kind;	/* enum keel_trace_kind */
	uint8_t reason; /* per kind, above */
	uint16_t info;
	uint64_t qual;
	uint32_t cycles; /* saturates at 2^32 - 1 */
	uint32_t pad;
};
_Static_assert(sizeof(struct keel_trace_rec) == 32, "fixed layout");

#endif

/* SPDX-License-Identifier: MIT */
/* Domains and their virtual CPUs. */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <keel/lib.h>
#include <keel/hvm.h>
#include <keel/hvm_io.h>
#include <keel/ioreq.h>
#include <keel/spinlock.h>
#include <keel/vlapic.h>
#include <keel/vioapic.h>
#include <keel/vuart.h>
#include <public/keel.h>

#define MAX_DOMAINS	64
#define MAX_VCPUS	64
#define DOMAIN_NAME_MAX 32
#define DOM0_ID		0

enum vcpu_state {
	VCPU_DOWN, /* waiting for INIT/SIPI */
	VCPU_RUNNABLE,
	VCPU_BLOCKED, /* HLT with nothing pending */
	VCPU_STOPPED, /* its domain crashed, paused or died */
};

struct vcpu {
	struct domain *dom; /* set at creation, immutable */
	unsigned id;
	enum vcpu_state state;
	uint64_t gpr[NR_GPRS]; /* RAX and RSP mirror the vendor's copy */
	void *arch;	       /* vendor state (VMCB, VMCS), owned by hvm */
	struct vlapic vlapic;
	bool nmi_pending;
	/* The CPU whose run queue holds it (it runs there only), -1 while
	 * the scheduler does not know it; the policy writes it under its
	 * run-queue locks, others read it without a lock. */
	int pcpu;
	uint64_t exits[EXIT_NR];
	uint64_t exit_cycles[EXIT_NR]; /* TSC cycles Keel spent on each */
	uint64_t runtime_ns;
	/* Statistics for KEEL_HC_VCPU_INFO, written by the CPU running it
	 * (under its domain's lock), read racily. */
	uint64_t irqs_injected; /* external interrupts injected */
	uint64_t ioreqs;	/* requests posted to Dom0 (ioreq.c) */
	uint64_t kvmclock_msr;	/* MSR_KVM_SYSTEM_TIME_NEW as written */
	uint64_t tsc_offset;
	uint64_t xcr0;	    /* the guest's XCR0 (see fpu.c) */
	uint64_t spec_ctrl; /* IA32_SPEC_CTRL, loaded only while it runs */
	uint32_t tsc_aux;   /* IA32_TSC_AUX (RDTSCP, RDPID) */
	void *fpu_area;	    /* XSAVE/FXSAVE image, 64-byte aligned */
	void *fpu_alloc;    /* what fpu_area was carved from */
	int fpu_cpu;	    /* CPU whose registers last held its state */
	bool fpu_live;	    /* running there, fpu_area not yet current */
	/* Set while its domain is built (domctl.c), under domlist_lock. */
	bool boot_state_set;	 /* KEEL_HC_VCPU_BOOT_STATE applied */
	uint64_t affinity;	 /* to apply when the domain starts; 0: all */
	struct vcpu_ioreq ioreq; /* under its domain's lock */
};

/* Guest-physical [gpa, gpa + len) backed by host-physical [hpa, ...). */
struct dom_extent {
	uint64_t gpa, hpa, len;
};

/* The ABI's values (public/keel.h), so domctl.c reports them as they are. */
enum domain_state {
	DOM_BUILDING = KEEL_DOMSTATE_BUILDING,
	DOM_RUNNING = KEEL_DOMSTATE_RUNNING,
	DOM_PAUSED = KEEL_DOMSTATE_PAUSED,
	DOM_SHUTDOWN = KEEL_DOMSTATE_SHUTDOWN,
	DOM_CRASHED = KEEL_DOMSTATE_CRASHED,
};

/* A domain's serial console ring in Dom0 RAM (KEEL_HC_CONSOLE_SETUP). */
struct dom_console {
	uint64_t hpa;	   /* of the struct keel_console_ring; 0: none */
	uint32_t out_size; /* bytes of `out`, a power of two */
	uint32_t out_prod; /* Keel's own copies: the ring's are Dom0's to */
	uint32_t in_cons;  /* scribble on, so they are only ever written */
};

struct domain {
	unsigned id;
	char name[DOMAIN_NAME_MAX];
	bool privileged;
	/* KEEL_DOMFLAG_BOOT: built by Keel (domu=), not by the toolstack. */
	uint32_t flags;
	/* Built by the toolstack (KEEL_HC_DOMAIN_CREATE): it gets the DomU
	 * platform's power ports and all-ones for unclaimed I/O. */
	bool toolstack_built;
	/* Destruction began: domctl.c no longer finds it; set under the
	 * domain-list lock (domctl.c). */
	bool dying;
	enum domain_state state;
	uint32_t shutdown_reason; /* enum keel_shutdown_reason */
	/*
	 * Covers the virtual platform shared by the domain's vCPUs on
	 * different CPUs: the vLAPICs, vIOAPIC and vUART (their state and
	 * the callbacks they make), console line buffering, and exit
	 * handling as a whole (vcpu_loop.c takes it around each exit).
	 * Never held while a guest runs.
	 */
	spinlock_t lock;
	unsigned nr_vcpus;
	struct vcpu *vcpus[MAX_VCPUS];
	uint64_t p2m_root; /* host-physical root of the NPT/EPT tree */
	/*
	 * RAM the domain owns, sorted by host address (mem_extent.c). Grows
	 * while the domain is built (and for Dom0 at boot); read without a
	 * lock afterwards, as it no longer changes.
	 */
	struct dom_extent *extents;
	unsigned nr_extents, max_extents;
	/* The extents' memory came from Keel's frame allocator (domu=) and
	 * goes back there on destruction; donated memory stays Dom0's. */
	bool extents_from_keel;
	uint64_t ram_bytes;
	struct vioapic vioapic;
	struct vuart vuart;
	/* Emulated port and MMIO ranges; filled while the domain is built. */
	struct hvm_io_handler io_handlers[HVM_MAX_IO_HANDLERS];
	unsigned nr_io_handlers;
	uint64_t p2m_pages;	 /* page-table pages used */
	uint64_t mmio_p2m_pages; /* of those, added by Dom0's MMIO (mmio.c) */
	char crash_reason[96];
	unsigned msr_refusals; /* MSR accesses answered with #GP (msr.c) */
	char con_buf[160];     /* a partial line of serial output */
	unsigned con_len;
	struct dom_console console; /* under lock once set up */
	unsigned io_refusals;	    /* unclaimed port/MMIO accesses logged */
	struct dom_ioreq ioreq;	    /* under lock once set up */
	/* now_ns() of DOMAIN_START (domctl.c) and of the first VM entry of
	 * any of its vCPUs (vcpu_loop.c), for the boot timer port
	 * (domu_platform.c); boot_timer_writes counts what it logged. */
	uint64_t start_ns, first_entry_ns;
	unsigned boot_timer_writes;
	/* Scheduler parameters to apply when the domain starts (domctl.c);
	 * weight 0: the policy's default. */
	unsigned start_weight, start_cap;
	/* Paused while BUILDING: START leaves it PAUSED, nothing of the
	 * guest runs before UNPAUSE (`kl create -p`). Under domlist_lock. */
	bool start_paused;
};

extern struct domain *domains[MAX_DOMAINS];
/*
 * Covers adding and removing entries of domains[], the dying flags, names,
 * states set by the toolstack and the extents of every domain but Dom0.
 * Taken before a domain's own lock, never after it. Readers that run in a
 * pass of the vCPU loop (timers, debug keys) may read domains[] without
 * it: domain_destroy() waits for their pass to end before freeing.
 */
extern spinlock_t domlist_lock;
/*
 * Takes and drops domlist_lock for a caller that holds no other lock. The
 * wait takes interrupts: the holder may be waiting for this CPU to release
 * a VMCS (an IPI), so spinning with interrupts off could deadlock.
 */
void domlist_acquire(void);
void domlist_release(void);

/* A domain in state BUILDING, listed in domains[id], not yet scheduled:
 * vCPU 0 runnable once it is, the others down until INIT/SIPI. */
struct domain *domain_create(unsigned id, const char *name, bool privileged,
			     unsigned nr_vcpus);
/*
 * Stops and frees d (never Dom0), which the caller has marked dying: when
 * it returns no CPU runs d's vCPUs or holds translations of its memory,
 * and domains[d->id] is free again. Waits for other CPUs, so the caller
 * must hold no lock at all (any other CPU may need it to get there).
 */
void domain_destroy(struct domain *d);
/* Stops every vCPU of d (state STOPPED, off the run queues); d->lock held. */
void domain_stop_vcpus(struct domain *d);
/* The guest asked to power off or reboot: d->lock held. */
void domain_shutdown(struct domain *d, uint32_t reason);
/*
 * Stops every vCPU of d with a log line; Keel goes on. `culprit` is the vCPU
 * whose exit this CPU is handling (NULL if none): only its registers are
 * dumped, as reading another vCPU's may need the CPU that last ran it (a
 * VMCS), and that CPU may be waiting for the domain lock held here.
 */
void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
    __printf(3, 4);
/* Prints v's registers as of its last exit (a crash, the debug key 'd'). */
void vcpu_dump_registers(struct vcpu *v);
/* Whether host-physical [pa, pa + len) lies in one of d's extents. */
bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len);
/* Records an extent of d (no mapping); -ENOMEM. */
int domain_add_extent(struct domain *d, uint64_t gpa, uint64_t hpa,
		      uint64_t len);

/* Guest memory access through the domain's p2m. */
int guest_phys_read(struct domain *d, uint64_t gpa, void *buf, size_t len);
int guest_phys_write(struct domain *d, uint64_t gpa, const void *buf,
		     size_t len);

#endif

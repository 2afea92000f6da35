/* SPDX-License-Identifier: MIT */
/* Domains and their virtual CPUs. */
#ifndef KEEL_DOMAIN_H
#define KEEL_DOMAIN_H

#include <keel/lib.h>
#include <keel/hvm.h>
#include <keel/hvm_io.h>
#include <keel/spinlock.h>
#include <keel/vlapic.h>
#include <keel/vioapic.h>
#include <keel/vuart.h>

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
	uint64_t kvmclock_msr; /* MSR_KVM_SYSTEM_TIME_NEW as written */
	uint64_t tsc_offset;
	uint64_t xcr0;	    /* the guest's XCR0 (see fpu.c) */
	uint64_t spec_ctrl; /* IA32_SPEC_CTRL, loaded only while it runs */
	uint32_t tsc_aux;   /* IA32_TSC_AUX (RDTSCP, RDPID) */
	void *fpu_area;	    /* XSAVE/FXSAVE image, 64-byte aligned */
	void *fpu_alloc;    /* what fpu_area was carved from */
	int fpu_cpu;	    /* CPU whose registers last held its state */
	bool fpu_live;	    /* running there, fpu_area not yet current */
};

struct dom_mem_range {
	uint64_t start, end; /* host-physical [start, end) */
};

#define DOM_MAX_RANGES 32

enum domain_state { DOM_RUNNING, DOM_PAUSED, DOM_CRASHED, DOM_SHUTDOWN };

struct domain {
	unsigned id;
	char name[DOMAIN_NAME_MAX];
	bool privileged;
	enum domain_state state;
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
	unsigned nr_ranges;
	struct dom_mem_range ram[DOM_MAX_RANGES]; /* RAM the domain owns */
	uint64_t ram_bytes;
	struct vioapic vioapic;
	struct vuart vuart;
	/* Emulated port and MMIO ranges; filled while the domain is built. */
	struct hvm_io_handler io_handlers[HVM_MAX_IO_HANDLERS];
	unsigned nr_io_handlers;
	uint64_t p2m_pages; /* page-table pages used */
	char crash_reason[96];
	unsigned msr_refusals; /* MSR accesses answered with #GP (msr.c) */
	char con_buf[160];     /* a partial line of serial output */
	unsigned con_len;
};

extern struct domain *domains[MAX_DOMAINS];

struct domain *domain_create(unsigned id, const char *name, bool privileged,
			     unsigned nr_vcpus);
/*
 * Stops every vCPU of d with a log line; Keel goes on. `culprit` is the vCPU
 * whose exit this CPU is handling (NULL if none): only its registers are
 * dumped, as reading another vCPU's may need the CPU that last ran it (a
 * VMCS), and that CPU may be waiting for the domain lock held here.
 */
void domain_crash(struct domain *d, struct vcpu *culprit, const char *fmt, ...)
    __printf(3, 4);
bool domain_owns_ram(const struct domain *d, uint64_t pa, uint64_t len);

/* Guest memory access through the domain's p2m. */
int guest_phys_read(struct domain *d, uint64_t gpa, void *buf, size_t len);
int guest_phys_write(struct domain *d, uint64_t gpa, const void *buf,
		     size_t len);

#endif

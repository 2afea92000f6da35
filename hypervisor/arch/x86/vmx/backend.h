/* SPDX-License-Identifier: MIT */
/*
 * What the files of the VT-x backend share (Intel SDM vol. 3C, ch. 24-29):
 * its per-CPU and per-vCPU state, the capabilities probed at boot, the
 * VMX instructions, and the functions each file provides:
 *
 *   probe.c   which controls and EPT features the CPU offers (vmx_probe)
 *   vmcs.c    VMXON per CPU, VMCS creation, destruction and moves between
 *             CPUs
 *   state.c   guest registers in the VMCS <-> struct guest_state
 *   ept.c     EPT entries, EPT and VPID invalidation
 *   vmx.c     events, exits, the VM-entry loop and the hvm_ops table
 *
 * Keel needs EPT (4-level, write-back, 2 MiB pages) and unrestricted guest
 * (vCPUs start in real mode after INIT/SIPI); VPID, virtual NMIs, the
 * VMX-preemption timer, RDTSCP, INVPCID and XSAVES are used when present.
 * Physical interrupts exit the guest without being acknowledged, so Keel
 * takes them through its own IDT after the exit, as on SVM. Every vCPU has
 * its own VMCS; it stays active on the CPU that last used it until another
 * CPU needs it (vmcs_load()). Events, the interrupt window, STARTUP IPIs
 * and the values interruptible() reads are kept in struct vmx_vcpu and
 * written to the VMCS at the next VM entry, so that the calls common code
 * makes under the domain lock never wait for another CPU.
 */
#ifndef KEEL_VMX_BACKEND_H
#define KEEL_VMX_BACKEND_H

#include <keel/asid.h>
#include <keel/debugreg.h>
#include <keel/domain.h>
#include <keel/hvm.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include "vmx.h"

struct cpu_regs;

struct vmx_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
} __packed;

struct vmx_capabilities {
	uint32_t revision;
	uint32_t pin, proc, proc2, exit, entry; /* the controls Keel sets */
	uint64_t ept_vpid;
	uint64_t misc;
	unsigned preempt_rate; /* the preemption timer ticks at TSC >> rate */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	unsigned nr_switched_msrs;
	/* Guest CR bits the hardware must see set / may see set, and the
	 * bits a guest write to which exits (§24.8, §26.3.1.1). */
	uint64_t cr0_guest_set, cr0_guest_allowed, cr0_mask;
	uint64_t cr4_guest_set, cr4_guest_allowed, cr4_mask;
};

struct vmx_cpu {
	uint64_t vmxon_pa;
	uint64_t host_msrs_pa;	 /* VM-exit MSR-load area */
	struct vmx_vcpu *loaded; /* the current VMCS of this CPU */
	/* A VMCS active here that another CPU waits for (vmcs_fetch()). */
	struct vmx_vcpu *clear_request;
	struct asid_pool vpids;
};

/* An event for the next VM entry (§25.8.3), or the one to deliver again. */
struct vmx_event {
	uint32_t info; /* VM-entry interruption information; 0: none */
	uint32_t error;
	uint32_t insn_len;
	/* An exception that pushes an error code unless in real mode. */
	bool error_if_protected;
};

struct vmx_vcpu {
	struct vcpu *v;
	uint64_t vmcs_pa;
	uint64_t io_bitmaps_pa, msr_bitmap_pa, guest_msrs_pa, vapic_pa;
	int cpu;	/* where the VMCS is active, -1 while clear (atomic) */
	bool launched;	/* VMLAUNCH succeeded: VMRESUME from now on */
	uint32_t entry; /* cached entry controls */
	/* Processor controls wanted for the next entry / in the VMCS. */
	uint32_t proc, vmcs_proc;
	uint64_t cr2; /* not part of the VMCS: switched by hand */
	/* Guest RFLAGS and interruptibility: last exit or set_state. */
	uint64_t rflags;
	uint32_t intr_state;
	struct vmx_event event;
	/* A STARTUP IPI vector not yet applied, or -1 (atomic). */
	int startup_vector;
	/* Where the vCPU last entered, and the p2m generation it saw then. */
	int entered_cpu;
	uint64_t ept_generation;
	struct asid_tag vpid; /* its VPID on the CPU it runs on */
	/*
	 * DR0-DR3 and DR6, in the hardware while the guest runs once it has
	 * touched a debug register or taken a #DB (vmx_vcpu_run); until
	 * then MOV DR exits. DR7 is in the VMCS. Only the CPU running v.
	 */
	bool dr_active;
	struct guest_drs drs;
};

extern struct vmx_capabilities vmx_caps; /* set by vmx_probe() */
extern struct vmx_cpu vmx_cpus[MAX_CPUS];

int vmx_enter(uint64_t *gpr, bool launched);
extern char vmx_exit_stub[];

/* ---- VMX instructions (§31.3) ---------------------------------------- */

static inline uint64_t vmread(enum vmcs_field field)
{
	uint64_t val;
	bool fail;

	__asm__ volatile("vmread %2, %0; setna %1"
			 : "=rm"(val), "=qm"(fail)
			 : "r"((uint64_t)field)
			 : "cc");
	if (unlikely(fail))
		panic("VMREAD of VMCS field %x failed", field);
	return val;
}

static inline void vmwrite(enum vmcs_field field, uint64_t val)
{
	bool fail;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=qm"(fail)
			 : "rm"(val), "r"((uint64_t)field)
			 : "cc");
	if (unlikely(fail))
		panic("VMWRITE of %lx to VMCS field %x failed (error %lu)", val,
		      field, vmread(VMCS_INSN_ERROR));
}

static inline bool vmx_on(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmxon %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	return !fail;
}

static inline void vmptrld(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	if (unlikely(fail))
		panic("VMPTRLD of the VMCS at %lx failed", pa);
}

static inline void vmclear(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmclear %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	if (unlikely(fail))
		panic("VMCLEAR of the VMCS at %lx failed", pa);
}

static inline void invept(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = {eptp, 0};
	bool fail;

	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	if (unlikely(fail))
		panic("INVEPT type %lu for EPTP %lx failed", type, eptp);
}

static inline void invvpid(uint64_t type, uint16_t vpid)
{
	struct {
		uint64_t vpid, linear;
	} desc = {vpid, 0};
	bool fail;

	__asm__ volatile("invvpid %1, %2; setna %0"
			 : "=qm"(fail)
			 : "m"(desc), "r"(type)
			 : "cc", "memory");
	if (unlikely(fail))
		panic("INVVPID type %lu for VPID %u failed", type, vpid);
}

static inline void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void write_cr2(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr2" : : "r"(v) : "memory");
}

static inline uint64_t idt_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	return idtr.base;
}

static inline uint64_t alloc_zeroed(unsigned order)
{
	uint64_t pa = frames_alloc(order);

	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE << order);
	return pa;
}

static inline struct vmx_vcpu *to_vmx(struct vcpu *v)
{
	return v->arch;
}

/* vmcs.c */
int vmx_cpu_enable(void);
int vmx_vcpu_create(struct vcpu *v);
void vmx_vcpu_destroy(struct vcpu *v);
struct vmx_vcpu *vmcs_load(struct vcpu *v);
void ipi_vmcs_clear(struct cpu_regs *regs);
/* How many MSRs VM entries and exits switch (TSC_AUX only with RDTSCP). */
unsigned vmx_switched_msr_count(bool tsc_aux);

/* state.c */
void vmx_get_state(struct vcpu *v, struct guest_state *gs);
void vmx_set_state(struct vcpu *v, const struct guest_state *gs);
void set_intr_state(struct vmx_vcpu *x, uint32_t state);

/* ept.c */
uint64_t eptp_of(struct domain *d);
void flush_stale_ept(struct vcpu *v, struct vmx_vcpu *x);
void assign_vpid(struct vmx_vcpu *x);
uint64_t vmx_p2m_entry(uint64_t hpa, unsigned perms, bool large, bool uncached);
uint64_t vmx_p2m_table_entry(uint64_t pa);
bool vmx_p2m_present(uint64_t entry);
bool vmx_p2m_is_large(uint64_t entry);
void vmx_p2m_flush(struct domain *d);

/* probe.c */
unsigned vmx_guest_limits(void);

/* vmx.c */
extern const struct hvm_ops vmx_ops;

#endif

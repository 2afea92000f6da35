/* SPDX-License-Identifier: MIT */
/*
 * The Intel VT-x backend of struct hvm_ops (Intel SDM vol. 3C, ch. 24-29).
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
#include <keel/asid.h>
#include <keel/cpu.h>
#include <keel/cpu_policy.h>
#include <keel/hvm_exit.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/traps.h>
#include <keel/x86.h>
#include "vmx.h"

#define EXC_MC			18
#define NR_PDPTES		4
#define MSR_BITMAP_WRITE_OFFSET 0x800 /* read bitmaps first (§25.6.9) */
#define MSR_BITMAP_HIGH_OFFSET	0x400 /* C0000000h-C0001FFFh */
#define IO_BITMAPS_ORDER	1     /* A (ports 0-7FFF) and B */
#define COM1_FIRST_PORT		0x3F8
#define COM1_LAST_PORT		0x3FF
#define GUEST_RESET_PAT		0x0007040600070406ULL

/*
 * MSRs that VMX does not switch but guests use directly (they are in the
 * passthrough list below): the VM-entry MSR-load list and the VM-exit
 * MSR-store list share one per-vCPU area holding the guest's values, and
 * the VM-exit MSR-load list restores the host's (§25.7.2, §25.8.2).
 */
static const uint32_t switched_msrs[] = {
    MSR_KERNEL_GS_BASE, MSR_STAR,   MSR_LSTAR,
    MSR_CSTAR,		MSR_SFMASK, MSR_TSC_AUX, /* last: only with RDTSCP */
};

/*
 * MSRs whose state lives in the VMCS or in the switched list above go
 * straight through (the same list as the SVM backend); everything else
 * exits to the common MSR policy (hvm/msr.c).
 */
static const uint32_t passthrough_msrs[] = {
    MSR_FS_BASE,	MSR_GS_BASE,
    MSR_KERNEL_GS_BASE, MSR_STAR,
    MSR_LSTAR,		MSR_CSTAR,
    MSR_SFMASK,		MSR_IA32_SYSENTER_CS,
    MSR_SYSENTER_ESP,	MSR_SYSENTER_EIP,
    MSR_TSC_AUX,
};

struct vmx_msr_entry {
	uint32_t index;
	uint32_t reserved;
	uint64_t value;
} __packed;

struct vmx_caps {
	uint32_t revision;
	uint32_t pin, proc, proc2, exit, entry; /* the controls Keel sets */
	uint64_t ept_vpid;
	uint64_t misc;
	unsigned preempt_rate; /* the preemption timer ticks at TSC >> rate */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	unsigned nr_switched_msrs;
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
};

static struct vmx_caps caps;
static struct vmx_cpu vmx_cpus[MAX_CPUS];
/* Bumped by every p2m change (vmx_p2m_flush()); read at each VM entry. */
static uint64_t ept_generation = 1;
/* Guest CR bits the hardware must see set / may see set (§24.8, §26.3.1.1). */
static uint64_t cr0_guest_set, cr0_guest_allowed, cr0_mask;
static uint64_t cr4_guest_set, cr4_guest_allowed, cr4_mask;

int vmx_enter(uint64_t *gpr, bool launched);
extern char vmx_exit_stub[];

/* ---- VMX instructions (§31.3) ---------------------------------------- */

static uint64_t vmread(enum vmcs_field field)
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

static void vmwrite(enum vmcs_field field, uint64_t val)
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

static bool vmx_on(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmxon %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	return !fail;
}

static void vmptrld(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	if (unlikely(fail))
		panic("VMPTRLD of the VMCS at %lx failed", pa);
}

static void vmclear(uint64_t pa)
{
	bool fail;

	__asm__ volatile("vmclear %1; setna %0"
			 : "=qm"(fail)
			 : "m"(pa)
			 : "cc", "memory");
	if (unlikely(fail))
		panic("VMCLEAR of the VMCS at %lx failed", pa);
}

static void invept(uint64_t type, uint64_t eptp)
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

static void invvpid(uint64_t type, uint16_t vpid)
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

static void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static void write_cr2(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr2" : : "r"(v) : "memory");
}

static uint64_t idt_base(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	return idtr.base;
}

static uint64_t alloc_zeroed(unsigned order)
{
	uint64_t pa = frames_alloc(order);

	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE << order);
	return pa;
}

/* ---- per-CPU enable --------------------------------------------------- */

static int vmx_cpu_enable(void)
{
	struct vmx_cpu *c = &vmx_cpus[this_cpu()->cpu];
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL), cr0, cr4;
	struct vmx_msr_entry *host;

	/* Firmware that leaves the MSR unlocked lets the OS choose (§24.7). */
	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED |
			  FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return -ENODEV;

	cr0 = read_cr0() | caps.cr0_fixed0;
	cr4 = read_cr4() | caps.cr4_fixed0 | X86_CR4_VMXE;
	if ((cr0 & ~caps.cr0_fixed1) || (cr4 & ~caps.cr4_fixed1)) {
		printk(
		    "VMX: CR0 %lx / CR4 %lx have bits VMX operation forbids\n",
		    cr0, cr4);
		return -ENODEV;
	}
	write_cr0(cr0);
	write_cr4(cr4);
	asid_pool_init(&c->vpids, (uint32_t)UINT16_MAX + 1);

	c->vmxon_pa = alloc_zeroed(0);
	c->host_msrs_pa = alloc_zeroed(0);
	if (!c->vmxon_pa || !c->host_msrs_pa)
		return -ENOMEM;
	*(uint32_t *)phys_to_virt(c->vmxon_pa) = caps.revision;
	host = phys_to_virt(c->host_msrs_pa);
	for (unsigned i = 0; i < caps.nr_switched_msrs; i++)
		host[i] = (struct vmx_msr_entry){switched_msrs[i], 0,
						 rdmsr(switched_msrs[i])};
	if (!vmx_on(c->vmxon_pa)) {
		printk("VMX: VMXON failed on cpu%u\n", this_cpu()->cpu);
		return -EIO;
	}
	/*
	 * EPT translations cached before VMXON (a previous kernel) must not
	 * survive; without all-context INVEPT the EPTP-specific flushes of
	 * each new domain do it (§29.4.3.1).
	 */
	if (caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXT, 0);
	this_cpu()->arch = c;
	return 0;
}

/* ---- VMCS life cycle -------------------------------------------------- */

static struct vmx_vcpu *to_vmx(struct vcpu *v)
{
	return v->arch;
}

static uint64_t eptp_of(struct domain *d)
{
	return d->p2m_root | EPT_MEMTYPE_WB |
	       ((EPT_LEVELS - 1) << EPTP_WALK_LENGTH_SHIFT);
}

/* Host state that depends on the physical CPU (§25.5, §28.5). */
static void write_host_state(struct vmx_cpu *c)
{
	struct percpu *p = this_cpu();

	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	vmwrite(VMCS_HOST_CS_SELECTOR, GDT_CS64);
	vmwrite(VMCS_HOST_SS_SELECTOR, GDT_DS);
	vmwrite(VMCS_HOST_DS_SELECTOR, GDT_DS);
	vmwrite(VMCS_HOST_ES_SELECTOR, GDT_DS);
	vmwrite(VMCS_HOST_FS_SELECTOR, 0);
	vmwrite(VMCS_HOST_GS_SELECTOR, 0);
	vmwrite(VMCS_HOST_TR_SELECTOR, GDT_TSS);
	vmwrite(VMCS_HOST_FS_BASE, 0);
	vmwrite(VMCS_HOST_GS_BASE, (uint64_t)p);
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)&p->tss);
	vmwrite(VMCS_HOST_GDTR_BASE, (uint64_t)p->gdt);
	vmwrite(VMCS_HOST_IDTR_BASE, idt_base());
	vmwrite(VMCS_HOST_SYSENTER_CS, 0);
	vmwrite(VMCS_HOST_SYSENTER_ESP, 0);
	vmwrite(VMCS_HOST_SYSENTER_EIP, 0);
	vmwrite(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmwrite(VMCS_HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmwrite(VMCS_HOST_RIP, (uint64_t)vmx_exit_stub);
	vmwrite(VMCS_EXIT_MSR_LOAD_ADDR, c->host_msrs_pa);
}

/*
 * VMCLEARs the VMCS another CPU asked this one to release: its data goes
 * back to memory and its launch state becomes clear (§25.11.3). Runs from
 * the IPI and from every loop that waits for another CPU.
 */
static void serve_clear_request(void)
{
	struct vmx_cpu *c = this_cpu()->arch;
	struct vmx_vcpu *x;

	if (!c)
		return;
	x = __atomic_exchange_n(&c->clear_request, NULL, __ATOMIC_ACQUIRE);
	if (!x)
		return;
	vmclear(x->vmcs_pa);
	if (c->loaded == x)
		c->loaded = NULL;
	x->launched = false;
	__atomic_store_n(&x->cpu, -1, __ATOMIC_RELEASE);
}

static void ipi_vmcs_clear(struct cpu_regs *regs)
{
	(void)regs;
	serve_clear_request();
}

/*
 * A VMCS may be active on one CPU only and only that CPU can VMCLEAR it
 * (§25.11.1): ask the owner by IPI and wait. The owner takes the IPI when
 * it next enables interrupts (after its current exit, or in HLT); while
 * waiting, this CPU serves requests aimed at it, so two CPUs fetching
 * each other's VMCS do not wait forever. The caller must not hold a lock
 * the owner may spin on with interrupts off, such as the domain lock:
 * vcpu_run holds none, which is why STARTUP IPIs wait for it.
 */
static void vmcs_fetch(struct vmx_vcpu *x, int owner)
{
	struct vmx_cpu *oc = &vmx_cpus[owner];
	struct vmx_vcpu *none = NULL;

	while (!__atomic_compare_exchange_n(&oc->clear_request, &none, x, false,
					    __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED)) {
		none = NULL;
		serve_clear_request();
		cpu_relax();
	}
	lapic_send_ipi(percpu_area[owner].apic_id, IPI_VMCS_CLEAR_VECTOR);
	while (__atomic_load_n(&x->cpu, __ATOMIC_ACQUIRE) >= 0) {
		serve_clear_request();
		cpu_relax();
	}
}

/*
 * Makes v's VMCS the current one of this CPU, fetching it from the CPU
 * where it is active. Host state that depends on the CPU is rewritten
 * when the VMCS arrives on a CPU.
 */
static struct vmx_vcpu *vmcs_load(struct vcpu *v)
{
	struct vmx_vcpu *x = to_vmx(v);
	struct vmx_cpu *c = this_cpu()->arch;
	int cpu = (int)this_cpu()->cpu;
	int owner;

	if (c->loaded == x)
		return x;
	owner = __atomic_load_n(&x->cpu, __ATOMIC_ACQUIRE);
	if (owner >= 0 && owner != cpu)
		vmcs_fetch(x, owner);
	vmptrld(x->vmcs_pa);
	c->loaded = x;
	if (owner != cpu) {
		__atomic_store_n(&x->cpu, cpu, __ATOMIC_RELAXED);
		write_host_state(c);
	}
	return x;
}

/* MSR bitmap: one bit per MSR and direction, set = exit (§25.6.9). */
static void msr_bitmap_pass(uint8_t *bm, uint32_t msr)
{
	unsigned base;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = MSR_BITMAP_HIGH_OFFSET, msr -= 0xC0000000;
	else
		return; /* outside the bitmap: always exits */
	bm[base + msr / 8] &= ~(1u << (msr % 8));
	bm[MSR_BITMAP_WRITE_OFFSET + base + msr / 8] &= ~(1u << (msr % 8));
}

/* Dom0 drives the hardware; only the ports Keel emulates are trapped. */
static void io_bitmaps_setup(uint8_t *io, bool privileged)
{
	memset(io, privileged ? 0 : 0xFF, PAGE_SIZE << IO_BITMAPS_ORDER);
	if (!privileged)
		return;
	for (unsigned port = COM1_FIRST_PORT; port <= COM1_LAST_PORT; port++)
		io[port / 8] |= 1u << (port % 8);
}

static void seg_write(enum vmcs_seg seg, const struct segment *s);

static void write_reset_state(void)
{
	const struct segment code = {0xF000, 0x9B, 0xFFFF, 0xFFFF0000};
	const struct segment data = {0, 0x93, 0xFFFF, 0};
	const struct segment ldtr = {0, 0x82, 0xFFFF, 0};
	const struct segment tr = {0, 0x8B, 0xFFFF, 0};
	uint64_t cr0 = X86_CR0_ET | X86_CR0_NE | X86_CR0_CD | X86_CR0_NW;

	/* Architectural reset state (SDM vol. 3A §10.1.1); builders override.
	 */
	seg_write(SEG_CS, &code);
	seg_write(SEG_DS, &data);
	seg_write(SEG_ES, &data);
	seg_write(SEG_SS, &data);
	seg_write(SEG_FS, &data);
	seg_write(SEG_GS, &data);
	seg_write(SEG_LDTR, &ldtr);
	seg_write(SEG_TR, &tr);
	vmwrite(VMCS_GUEST_GDTR_BASE, 0);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
	vmwrite(VMCS_GUEST_IDTR_BASE, 0);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, 0xFFFF);
	vmwrite(VMCS_CR0_READ_SHADOW, cr0);
	vmwrite(VMCS_GUEST_CR0, (cr0 | cr0_guest_set) & cr0_guest_allowed);
	vmwrite(VMCS_CR4_READ_SHADOW, 0);
	vmwrite(VMCS_GUEST_CR4, cr4_guest_set & cr4_guest_allowed);
	vmwrite(VMCS_GUEST_CR3, 0);
	vmwrite(VMCS_GUEST_IA32_EFER, 0);
	vmwrite(VMCS_GUEST_IA32_PAT, GUEST_RESET_PAT);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_GUEST_RIP, 0xFFF0);
	vmwrite(VMCS_GUEST_RSP, 0);
	vmwrite(VMCS_GUEST_DR7, 0x400);
	vmwrite(VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmwrite(VMCS_GUEST_SYSENTER_CS, 0);
	vmwrite(VMCS_GUEST_SYSENTER_ESP, 0);
	vmwrite(VMCS_GUEST_SYSENTER_EIP, 0);
	vmwrite(VMCS_GUEST_PENDING_DBG, 0);
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmwrite(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmwrite(VMCS_LINK_POINTER, ~0ULL); /* no shadow VMCS (§26.3.1.5) */
}

static int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_vcpu *x = xzalloc(sizeof(*x));
	struct vmx_msr_entry *guest_msrs;
	uint8_t *msr_bitmap;

	if (!x)
		return -ENOMEM;
	v->arch = x;
	x->v = v;
	x->cpu = -1;
	x->entered_cpu = -1;
	x->startup_vector = -1;
	x->vmcs_pa = alloc_zeroed(0);
	x->io_bitmaps_pa = alloc_zeroed(IO_BITMAPS_ORDER);
	x->msr_bitmap_pa = alloc_zeroed(0);
	x->guest_msrs_pa = alloc_zeroed(0);
	x->vapic_pa = alloc_zeroed(0);
	if (!x->vmcs_pa || !x->io_bitmaps_pa || !x->msr_bitmap_pa ||
	    !x->guest_msrs_pa || !x->vapic_pa)
		return -ENOMEM;

	io_bitmaps_setup(phys_to_virt(x->io_bitmaps_pa), v->dom->privileged);
	msr_bitmap = phys_to_virt(x->msr_bitmap_pa);
	memset(msr_bitmap, 0xFF, PAGE_SIZE);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msr_bitmap_pass(msr_bitmap, passthrough_msrs[i]);
	guest_msrs = phys_to_virt(x->guest_msrs_pa);
	for (unsigned i = 0; i < caps.nr_switched_msrs; i++)
		guest_msrs[i] = (struct vmx_msr_entry){switched_msrs[i], 0, 0};

	/* A fresh VMCS: revision ID, then VMCLEAR sets its launch state clear.
	 */
	*(uint32_t *)phys_to_virt(x->vmcs_pa) = caps.revision;
	vmclear(x->vmcs_pa);
	vmcs_load(v);

	x->proc = x->vmcs_proc = caps.proc;
	x->entry = caps.entry;
	vmwrite(VMCS_PIN_CONTROLS, caps.pin);
	vmwrite(VMCS_PROC_CONTROLS, x->proc);
	vmwrite(VMCS_PROC2_CONTROLS, caps.proc2);
	vmwrite(VMCS_EXIT_CONTROLS, caps.exit);
	vmwrite(VMCS_ENTRY_CONTROLS, x->entry);
	vmwrite(VMCS_EXCEPTION_BITMAP, 1u << EXC_MC); /* Keel owns #MC */
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_IO_BITMAP_A, x->io_bitmaps_pa);
	vmwrite(VMCS_IO_BITMAP_B, x->io_bitmaps_pa + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, x->msr_bitmap_pa);
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, x->guest_msrs_pa);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, caps.nr_switched_msrs);
	vmwrite(VMCS_EXIT_MSR_STORE_ADDR, x->guest_msrs_pa);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, caps.nr_switched_msrs);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, caps.nr_switched_msrs);
	/* CR8 reads and writes go to the TPR shadow, never to Keel's LAPIC. */
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, x->vapic_pa);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	vmwrite(VMCS_EPT_POINTER, eptp_of(v->dom));
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, cr0_mask);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, cr4_mask);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	if (caps.proc2 & PROC2_ENABLE_XSAVES)
		vmwrite(VMCS_XSS_EXIT_BITMAP, 0);
	write_reset_state();
	x->rflags = vmread(VMCS_GUEST_RFLAGS);
	x->intr_state = 0;
	return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
	struct vmx_vcpu *x = to_vmx(v);
	int owner;

	if (!x)
		return;
	owner = __atomic_load_n(&x->cpu, __ATOMIC_ACQUIRE);
	if (owner >= 0 && owner != (int)this_cpu()->cpu) {
		vmcs_fetch(x, owner);
	} else if (owner >= 0) {
		struct vmx_cpu *c = this_cpu()->arch;

		vmclear(x->vmcs_pa);
		if (c->loaded == x)
			c->loaded = NULL;
	}
	if (x->vmcs_pa)
		frames_free(x->vmcs_pa, 0);
	if (x->io_bitmaps_pa)
		frames_free(x->io_bitmaps_pa, IO_BITMAPS_ORDER);
	if (x->msr_bitmap_pa)
		frames_free(x->msr_bitmap_pa, 0);
	if (x->guest_msrs_pa)
		frames_free(x->guest_msrs_pa, 0);
	if (x->vapic_pa)
		frames_free(x->vapic_pa, 0);
	xfree(x);
	v->arch = NULL;
}

/* ---- guest state ------------------------------------------------------ */

/*
 * struct segment keeps SVM's packed attributes (descriptor bits 40-47 in
 * 0-7, bits 52-55 in 8-11); VMX access rights keep the upper nibble at
 * 12-15 and mark a segment that is not present (a null selector) with the
 * "unusable" bit 16 (§25.4.1).
 */
static uint32_t attr_to_ar(uint16_t attr)
{
	uint32_t ar =
	    (attr & VMX_AR_LOW_MASK) |
	    (((uint32_t)attr << VMX_AR_HIGH_SHIFT) & VMX_AR_HIGH_MASK);

	if (!(ar & VMX_AR_P))
		ar |= VMX_AR_UNUSABLE;
	return ar;
}

static uint16_t ar_to_attr(uint32_t ar)
{
	uint16_t attr = (ar & VMX_AR_LOW_MASK) |
			((ar & VMX_AR_HIGH_MASK) >> VMX_AR_HIGH_SHIFT);

	if (ar & VMX_AR_UNUSABLE)
		attr &= ~VMX_AR_P;
	return attr;
}

/* Guest interruptibility state (§25.4.2): the VMCS field and its copy. */
static void set_intr_state(struct vmx_vcpu *x, uint32_t state)
{
	x->intr_state = state;
	vmwrite(VMCS_GUEST_INTERRUPTIBILITY, state);
}

static void seg_write(enum vmcs_seg seg, const struct segment *s)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * seg, s->sel);
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * seg, s->limit);
	vmwrite(VMCS_GUEST_ES_AR + 2 * seg, attr_to_ar(s->attr));
	vmwrite(VMCS_GUEST_ES_BASE + 2 * seg, s->base);
}

static void seg_read(enum vmcs_seg seg, struct segment *s)
{
	s->sel = vmread(VMCS_GUEST_ES_SELECTOR + 2 * seg);
	s->limit = vmread(VMCS_GUEST_ES_LIMIT + 2 * seg);
	s->attr = ar_to_attr(vmread(VMCS_GUEST_ES_AR + 2 * seg));
	s->base = vmread(VMCS_GUEST_ES_BASE + 2 * seg);
}

/* What the guest sees: shadowed bits from the read shadow (§25.6.6). */
static uint64_t guest_cr(enum vmcs_field cr, enum vmcs_field shadow,
			 uint64_t mask)
{
	return (vmread(cr) & ~mask) | (vmread(shadow) & mask);
}

static void vmx_get_state(struct vcpu *v, struct guest_state *gs)
{
	struct vmx_vcpu *x = vmcs_load(v);

	gs->cr0 = guest_cr(VMCS_GUEST_CR0, VMCS_CR0_READ_SHADOW, cr0_mask);
	gs->cr2 = x->cr2;
	gs->cr3 = vmread(VMCS_GUEST_CR3);
	gs->cr4 = guest_cr(VMCS_GUEST_CR4, VMCS_CR4_READ_SHADOW, cr4_mask);
	gs->efer = vmread(VMCS_GUEST_IA32_EFER);
	gs->rflags = vmread(VMCS_GUEST_RFLAGS);
	gs->rip = vmread(VMCS_GUEST_RIP);
	gs->pat = vmread(VMCS_GUEST_IA32_PAT);
	seg_read(SEG_CS, &gs->cs);
	seg_read(SEG_SS, &gs->ss);
	seg_read(SEG_DS, &gs->ds);
	seg_read(SEG_ES, &gs->es);
	seg_read(SEG_FS, &gs->fs);
	seg_read(SEG_GS, &gs->gs);
	seg_read(SEG_TR, &gs->tr);
	seg_read(SEG_LDTR, &gs->ldtr);
	gs->gdtr_base = vmread(VMCS_GUEST_GDTR_BASE);
	gs->gdtr_limit = vmread(VMCS_GUEST_GDTR_LIMIT);
	gs->idtr_base = vmread(VMCS_GUEST_IDTR_BASE);
	gs->idtr_limit = vmread(VMCS_GUEST_IDTR_LIMIT);
	/* The CPL is SS.DPL in the VMCS (§27.3.2). */
	gs->cpl = (vmread(VMCS_GUEST_ES_AR + 2 * SEG_SS) >> VMX_AR_DPL_SHIFT) &
		  VMX_AR_DPL_MASK;
}

static bool pae_paging(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * With EPT, VM entry takes the PAE PDPTEs from the VMCS, not from memory
 * (§27.3.2.4): load them as MOV CR3 would when PAE paging starts or CR3
 * changes. A CR3 outside guest RAM gives not-present PDPTEs.
 */
static void load_pdptes(struct vcpu *v, uint64_t cr3)
{
	uint64_t pdpte[NR_PDPTES];

	if (guest_phys_read(v->dom, cr3 & ~0x1FULL, pdpte, sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	for (unsigned i = 0; i < NR_PDPTES; i++)
		vmwrite(VMCS_GUEST_PDPTE0 + 2 * i, pdpte[i]);
}

static void vmx_set_state(struct vcpu *v, const struct guest_state *gs)
{
	struct vmx_vcpu *x = vmcs_load(v);
	uint64_t old_cr0 = vmread(VMCS_GUEST_CR0);
	uint64_t old_cr4 = vmread(VMCS_GUEST_CR4);
	uint64_t old_efer = vmread(VMCS_GUEST_IA32_EFER);
	struct segment ss = gs->ss;
	uint32_t entry;

	if (pae_paging(gs->cr0, gs->cr4, gs->efer) &&
	    (!pae_paging(old_cr0, old_cr4, old_efer) ||
	     gs->cr3 != vmread(VMCS_GUEST_CR3)))
		load_pdptes(v, gs->cr3);

	vmwrite(VMCS_CR0_READ_SHADOW, gs->cr0);
	vmwrite(VMCS_GUEST_CR0, (gs->cr0 | cr0_guest_set) & cr0_guest_allowed);
	vmwrite(VMCS_CR4_READ_SHADOW, gs->cr4);
	vmwrite(VMCS_GUEST_CR4, (gs->cr4 | cr4_guest_set) & cr4_guest_allowed);
	x->cr2 = gs->cr2;
	vmwrite(VMCS_GUEST_CR3, gs->cr3);
	/* The IA-32e mode guest entry control must equal EFER.LMA (§26.3.1.1).
	 */
	vmwrite(VMCS_GUEST_IA32_EFER, gs->efer);
	entry = gs->efer & EFER_LMA ? x->entry | ENTRY_IA32E_MODE_GUEST
				    : x->entry & ~ENTRY_IA32E_MODE_GUEST;
	if (entry != x->entry) {
		x->entry = entry;
		vmwrite(VMCS_ENTRY_CONTROLS, entry);
	}
	vmwrite(VMCS_GUEST_RFLAGS, gs->rflags);
	x->rflags = gs->rflags;
	/* Moving RIP retires the instruction an STI or MOV SS shadow covered.
	 */
	if (gs->rip != vmread(VMCS_GUEST_RIP)) {
		if (x->intr_state & (INTR_BLOCK_STI | INTR_BLOCK_MOVSS))
			set_intr_state(x, x->intr_state & ~(INTR_BLOCK_STI |
							    INTR_BLOCK_MOVSS));
		vmwrite(VMCS_GUEST_RIP, gs->rip);
	}
	vmwrite(VMCS_GUEST_IA32_PAT, gs->pat);
	seg_write(SEG_CS, &gs->cs);
	/* VMX has no CPL field: it is SS.DPL. */
	ss.attr = (ss.attr & ~(VMX_AR_DPL_MASK << VMX_AR_DPL_SHIFT)) |
		  ((gs->cpl & VMX_AR_DPL_MASK) << VMX_AR_DPL_SHIFT);
	seg_write(SEG_SS, &ss);
	seg_write(SEG_DS, &gs->ds);
	seg_write(SEG_ES, &gs->es);
	seg_write(SEG_FS, &gs->fs);
	seg_write(SEG_GS, &gs->gs);
	seg_write(SEG_TR, &gs->tr);
	seg_write(SEG_LDTR, &gs->ldtr);
	vmwrite(VMCS_GUEST_GDTR_BASE, gs->gdtr_base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, gs->gdtr_limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, gs->idtr_base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, gs->idtr_limit);
}

/* ---- events ----------------------------------------------------------- */

/* Exceptions that push an error code in protected mode (SDM vol. 3A §6.15) */
static bool exception_has_error(uint8_t vector)
{
	switch (vector) {
	case 8:
	case 10:
	case 11:
	case 12:
	case 13:
	case 14:
	case 17:
	case 21:
		return true;
	}
	return false;
}

/*
 * Queues the event in struct vmx_vcpu; the next VM entry writes it to the
 * VMCS (write_entry_event()), so this never needs v's VMCS.
 */
static bool vmx_inject_event(struct vcpu *v, enum event_type type,
			     uint8_t vector, bool has_error, uint32_t error)
{
	struct vmx_vcpu *x = to_vmx(v);
	struct vmx_event ev = {.info = vector | INTR_INFO_VALID};

	if (x->event.info & INTR_INFO_VALID)
		return false;
	switch (type) {
	case EVENT_EXTINT:
		ev.info |= INTR_TYPE_EXT_INTR;
		break;
	case EVENT_NMI:
		/* VM entry refuses an NMI in these shadows (§26.3.1.5). */
		if (x->intr_state &
		    (INTR_BLOCK_STI | INTR_BLOCK_MOVSS | INTR_BLOCK_NMI))
			return false;
		ev.info |= INTR_TYPE_NMI;
		break;
	case EVENT_EXCEPTION:
		ev.info |= INTR_TYPE_HW_EXC;
		/*
		 * The error code is delivered exactly when the architecture
		 * pushes one: never in real mode (§26.2.1.3), which the
		 * guest's CR0 at entry decides.
		 */
		ev.error_if_protected = exception_has_error(vector);
		ev.error = has_error ? error : 0;
		break;
	case EVENT_SOFTINT:
		/*
		 * Returns to the current RIP, as SVM's injection does: with an
		 * instruction length of 0 where the CPU accepts it (MISC bit
		 * 30), otherwise delivered like an external interrupt.
		 */
		if (caps.misc & VMX_MISC_ZERO_LEN_INJECT)
			ev.info |= INTR_TYPE_SOFT_INTR;
		else
			ev.info |= INTR_TYPE_EXT_INTR;
		break;
	}
	x->event = ev;
	return true;
}

/* Writes the queued event, if any, to the current VMCS (§25.8.3). */
static void write_entry_event(struct vmx_vcpu *x)
{
	struct vmx_event *ev = &x->event;
	uint32_t info = ev->info;

	if (!(info & INTR_INFO_VALID))
		return;
	if (ev->error_if_protected && (vmread(VMCS_GUEST_CR0) & X86_CR0_PE))
		info |= INTR_INFO_DELIVER_ERR;
	if (info & INTR_INFO_DELIVER_ERR)
		vmwrite(VMCS_ENTRY_EXCEPTION_ERROR, ev->error);
	vmwrite(VMCS_ENTRY_INSN_LEN, ev->insn_len);
	vmwrite(VMCS_ENTRY_INTR_INFO, info);
}

static bool vmx_interruptible(struct vcpu *v)
{
	struct vmx_vcpu *x = to_vmx(v);

	return (x->rflags & X86_RFLAGS_IF) &&
	       !(x->intr_state & (INTR_BLOCK_STI | INTR_BLOCK_MOVSS)) &&
	       !(x->event.info & INTR_INFO_VALID);
}

/*
 * Interrupt-window exiting: an exit as soon as RFLAGS.IF=1 and no shadow.
 * The next VM entry writes the control.
 */
static void vmx_request_intr_window(struct vcpu *v, bool on)
{
	struct vmx_vcpu *x = to_vmx(v);

	x->proc = on ? x->proc | PROC_INTR_WINDOW_EXITING
		     : x->proc & ~PROC_INTR_WINDOW_EXITING;
}

/*
 * An event whose delivery the exit interrupted is delivered again on the
 * next entry, with its error code and, for software events, the length of
 * the instruction that raised it (§28.2.4, §27.8.3).
 */
static void requeue_vectoring_event(struct vmx_vcpu *x)
{
	uint32_t info = vmread(VMCS_IDT_VECTORING_INFO), type;
	struct vmx_event ev = {0};

	if (!(info & INTR_INFO_VALID))
		return;
	type = info & INTR_INFO_TYPE_MASK;
	if (info & INTR_INFO_DELIVER_ERR)
		ev.error = vmread(VMCS_IDT_VECTORING_ERROR);
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_PRIV_SW_EXC ||
	    type == INTR_TYPE_SOFT_EXC)
		ev.insn_len = vmread(VMCS_EXIT_INSN_LEN);
	if (type == INTR_TYPE_NMI && (caps.pin & PIN_VIRTUAL_NMIS))
		set_intr_state(x, x->intr_state & ~INTR_BLOCK_NMI);
	ev.info = info & (INTR_INFO_VALID | INTR_INFO_DELIVER_ERR |
			  INTR_INFO_TYPE_MASK | INTR_INFO_VECTOR_MASK);
	x->event = ev;
}

/* ---- exits ------------------------------------------------------------ */

/*
 * MOV to CR0/CR4 exits only when the guest changes a bit the hardware
 * forces (CR0.NE, CR4.VMXE, bits VMX does not allow): Keel keeps the
 * guest's value in the read shadow. Checks follow SDM vol. 3A §2.5 and the
 * MOV CR instruction page; a violation is a #GP for the guest.
 */
static int write_guest_cr0(struct guest_state *s, uint64_t val)
{
	bool paging_on = (val & X86_CR0_PG) && !(s->cr0 & X86_CR0_PG);
	bool paging_off = !(val & X86_CR0_PG) && (s->cr0 & X86_CR0_PG);

	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return -EINVAL;
	if (paging_on && (s->efer & EFER_LME)) {
		if (!(s->cr4 & X86_CR4_PAE) || (s->cs.attr & SEG_ATTR_L))
			return -EINVAL;
		s->efer |= EFER_LMA;
	}
	if (paging_off && (s->efer & EFER_LMA)) {
		if (s->cs.attr & SEG_ATTR_L)
			return -EINVAL; /* only from compatibility mode */
		s->efer &= ~EFER_LMA;
	}
	s->cr0 = val;
	return 0;
}

static int write_guest_cr4(struct guest_state *s, uint64_t val)
{
	if ((val & ~cr4_guest_allowed) || (val & X86_CR4_VMXE) ||
	    ((s->efer & EFER_LMA) && !(val & X86_CR4_PAE)))
		return -EINVAL;
	s->cr4 = val;
	return 0;
}

/* Returns true when the exit was a CR write handled here. */
static bool handle_cr_access(struct vcpu *v)
{
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION), val;
	unsigned cr = qual & CR_QUAL_NUMBER_MASK;
	unsigned type = (qual >> CR_QUAL_TYPE_SHIFT) & CR_QUAL_TYPE_MASK;
	struct guest_state s;
	int rc;

	if (type != CR_QUAL_TYPE_MOV_TO || (cr != 0 && cr != 4))
		return false;
	val = v->gpr[(qual >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK];
	vmx_get_state(v, &s);
	rc = cr == 0 ? write_guest_cr0(&s, val) : write_guest_cr4(&s, val);
	if (rc) {
		vmx_inject_event(v, EVENT_EXCEPTION, 13, true, 0);
		return true;
	}
	s.rip += vmread(VMCS_EXIT_INSN_LEN);
	vmx_set_state(v, &s);
	return true;
}

static void exit_io(uint64_t qual, struct vm_exit *e)
{
	e->reason = EXIT_IO;
	e->io.port = qual >> IO_QUAL_PORT_SHIFT;
	e->io.size = (qual & IO_QUAL_SIZE_MASK) + 1; /* encodings 0, 1, 3 */
	e->io.in = qual & IO_QUAL_IN;
	e->io.string = qual & IO_QUAL_STRING;
	e->io.rep = qual & IO_QUAL_REP;
}

static const char *entry_failure_name(uint32_t basic)
{
	switch (basic) {
	case VMX_EXIT_INVALID_STATE:
		return "invalid guest state";
	case VMX_EXIT_MSR_LOADING:
		return "MSR loading";
	case VMX_EXIT_MCE_DURING_ENTRY:
		return "machine check";
	}
	return "unknown reason";
}

/*
 * Turns the exit into a neutral one; false when it was handled here and
 * the guest can be entered again right away.
 */
static bool vmx_translate_exit(struct vcpu *v, struct vmx_vcpu *x,
			       struct vm_exit *e)
{
	uint32_t reason = vmread(VMCS_EXIT_REASON);
	uint32_t basic = reason & EXIT_REASON_MASK;
	uint64_t qual = vmread(VMCS_EXIT_QUALIFICATION);

	memset(e, 0, sizeof(*e));
	e->raw = reason;
	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		printk("d%u v%u: VM entry failed: %s (exit reason %u, "
		       "qualification %lx)\n",
		       v->dom->id, v->id, entry_failure_name(basic), basic,
		       qual);
		e->reason = EXIT_INVALID;
		return true;
	}
	x->launched = true;
	requeue_vectoring_event(x);
	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI: {
		uint32_t info = vmread(VMCS_EXIT_INTR_INFO);

		if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_NMI) {
			/*
			 * Unlike SVM, the exit consumed the host NMI: hand it
			 * to Keel's own handler.
			 */
			__asm__ volatile("int $2");
			e->reason = EXIT_NMI;
			break;
		}
		e->reason = EXIT_EXCEPTION;
		e->exc.vector = info & INTR_INFO_VECTOR_MASK;
		e->exc.has_error = info & INTR_INFO_DELIVER_ERR;
		if (e->exc.has_error)
			e->exc.error = vmread(VMCS_EXIT_INTR_ERROR);
		e->exc.cr2 = qual;
		break;
	}
	case VMX_EXIT_EXTERNAL_INTR:
		e->reason = EXIT_EXTINT;
		break;
	case VMX_EXIT_PREEMPT_TIMER:
		e->reason = EXIT_DEADLINE;
		break;
	case VMX_EXIT_TRIPLE_FAULT:
		e->reason = EXIT_SHUTDOWN;
		break;
	case VMX_EXIT_INIT:
		e->reason = EXIT_INIT;
		break;
	case VMX_EXIT_INTR_WINDOW:
		e->reason = EXIT_INTR_WINDOW;
		break;
	case VMX_EXIT_CPUID:
		e->reason = EXIT_CPUID;
		break;
	case VMX_EXIT_HLT:
		e->reason = EXIT_HLT;
		break;
	case VMX_EXIT_VMCALL:
		e->reason = EXIT_HYPERCALL;
		break;
	case VMX_EXIT_RDMSR:
		e->reason = EXIT_MSR_READ;
		break;
	case VMX_EXIT_WRMSR:
		e->reason = EXIT_MSR_WRITE;
		break;
	case VMX_EXIT_IO:
		exit_io(qual, e);
		break;
	case VMX_EXIT_XSETBV:
		e->reason = EXIT_XSETBV;
		break;
	case VMX_EXIT_PAUSE:
		e->reason = EXIT_PAUSE;
		break;
	case VMX_EXIT_CR_ACCESS:
		if (handle_cr_access(v))
			return false;
		e->reason = EXIT_UNKNOWN;
		break;
	case VMX_EXIT_EPT_VIOLATION:
		e->reason = EXIT_NPF;
		e->npf.gpa = vmread(VMCS_GUEST_PHYSICAL_ADDR);
		e->npf.write = qual & EPT_QUAL_WRITE;
		e->npf.fetch = qual & EPT_QUAL_FETCH;
		e->npf.present = qual & EPT_QUAL_PERMS_MASK;
		/* A faulting IRET had unblocked NMIs: block them again. */
		if ((qual & EPT_QUAL_NMI_UNBLOCK) &&
		    (caps.pin & PIN_VIRTUAL_NMIS) &&
		    !(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
			set_intr_state(x, x->intr_state | INTR_BLOCK_NMI);
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		printk("d%u v%u: EPT misconfiguration for guest-physical %lx\n",
		       v->dom->id, v->id, vmread(VMCS_GUEST_PHYSICAL_ADDR));
		e->reason = EXIT_INVALID;
		break;
	case VMX_EXIT_GETSEC:
	case VMX_EXIT_VMCLEAR:
	case VMX_EXIT_VMLAUNCH:
	case VMX_EXIT_VMPTRLD:
	case VMX_EXIT_VMPTRST:
	case VMX_EXIT_VMREAD:
	case VMX_EXIT_VMRESUME:
	case VMX_EXIT_VMWRITE:
	case VMX_EXIT_VMXOFF:
	case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT:
	case VMX_EXIT_INVVPID:
	case VMX_EXIT_MONITOR:
	case VMX_EXIT_MWAIT:
		e->reason = EXIT_VIRT_INSN;
		break;
	default:
		e->reason = EXIT_UNKNOWN;
	}
	/* VMX reports lengths for instruction exits only (§28.2.5). */
	switch (e->reason) {
	case EXIT_CPUID:
	case EXIT_HLT:
	case EXIT_HYPERCALL:
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
	case EXIT_IO:
	case EXIT_XSETBV:
	case EXIT_PAUSE:
		e->insn_len = vmread(VMCS_EXIT_INSN_LEN);
		break;
	default:
		break;
	}
	return true;
}

/*
 * Guest-physical and combined translations this CPU may hold for v's EPT
 * are stale when v last entered elsewhere (they date from an earlier stay
 * here) or when a p2m changed since; INVEPT drops them for every VPID
 * (§29.4.3.1).
 */
static void flush_stale_ept(struct vcpu *v, struct vmx_vcpu *x)
{
	uint64_t gen = __atomic_load_n(&ept_generation, __ATOMIC_ACQUIRE);
	int cpu = (int)this_cpu()->cpu;

	if (x->entered_cpu == cpu && x->ept_generation == gen)
		return;
	if (caps.ept_vpid & EPT_CAP_INVEPT_SINGLE)
		invept(INVEPT_SINGLE_CONTEXT, eptp_of(v->dom));
	else
		invept(INVEPT_ALL_CONTEXT, 0);
	x->entered_cpu = cpu;
	x->ept_generation = gen;
}

/*
 * VPIDs come from the entering CPU's pool (keel/asid.h), so two vCPUs
 * never share one on a CPU. A VPID new to v may hold another vCPU's
 * translations from an earlier generation: it is flushed before use
 * (§29.4.3.3), which also covers the pool's generation change.
 */
static void assign_vpid(struct vmx_vcpu *x)
{
	struct vmx_cpu *c = &vmx_cpus[this_cpu()->cpu];
	struct asid_tag old = x->vpid;

	if (!(caps.proc2 & PROC2_ENABLE_VPID))
		return;
	asid_assign(&c->vpids, &x->vpid, (int)this_cpu()->cpu);
	if (x->vpid.generation == old.generation && x->vpid.cpu == old.cpu)
		return; /* kept */
	if (caps.ept_vpid & VPID_CAP_INVVPID_SINGLE)
		invvpid(INVVPID_SINGLE_CONTEXT, (uint16_t)x->vpid.asid);
	else
		invvpid(INVVPID_ALL_CONTEXT, 0);
	vmwrite(VMCS_VPID, x->vpid.asid);
}

/* Control and event changes made since the last exit (§25.6.2, §25.8.3). */
static void prepare_entry(struct vmx_vcpu *x)
{
	if (x->proc != x->vmcs_proc) {
		vmwrite(VMCS_PROC_CONTROLS, x->proc);
		x->vmcs_proc = x->proc;
	}
	write_entry_event(x);
}

/*
 * The VMX-preemption timer counts down while the guest runs, by one each
 * time TSC bit `rate` changes, and exits (reason 52) when it reaches zero;
 * a value of zero exits before the first guest instruction (§26.5.1,
 * §27.7.4). VM entry loads it from the VMCS: the time left to deadline.
 */
static uint32_t preempt_timer_value(uint64_t deadline)
{
	uint64_t now = rdtsc();
	uint64_t ticks =
	    deadline > now ? (deadline - now) >> caps.preempt_rate : 0;

	return ticks > UINT32_MAX ? UINT32_MAX : (uint32_t)ticks;
}

/* Only records the vector: see hvm_ops.startup_ipi. */
static void vmx_startup_ipi(struct vcpu *v, uint8_t vector)
{
	__atomic_store_n(&to_vmx(v)->startup_vector, vector, __ATOMIC_RELEASE);
}

/*
 * No lock is held here: vmcs_load() may wait for another CPU. The guest
 * leaves by the deadline through the preemption timer when the CPU has
 * one, otherwise through Keel's LAPIC timer.
 */
static void vmx_vcpu_run(struct vcpu *v, uint64_t deadline, struct vm_exit *e)
{
	struct vmx_vcpu *x = vmcs_load(v);
	bool preempt_timer = caps.pin & PIN_PREEMPT_TIMER;
	int startup, rc;

	/* v's VMCS is current here: a STARTUP IPI can be applied now. */
	startup = __atomic_exchange_n(&x->startup_vector, -1, __ATOMIC_ACQUIRE);
	if (startup >= 0)
		hvm_startup_state(v, (uint8_t)startup);
	if (!preempt_timer)
		lapic_timer_arm(deadline);
	do {
		flush_stale_ept(v, x);
		assign_vpid(x);
		prepare_entry(x);
		vmwrite(VMCS_GUEST_RSP, v->gpr[GPR_RSP]);
		vmwrite(VMCS_TSC_OFFSET, v->tsc_offset);
		if (read_cr2() != x->cr2)
			write_cr2(x->cr2);
		if (preempt_timer)
			vmwrite(VMCS_PREEMPT_TIMER_VALUE,
				preempt_timer_value(deadline));
		hvm_msrs_guest_enter(v);
		rc = vmx_enter(v->gpr, x->launched);
		hvm_msrs_guest_exit(v);
		x->cr2 = read_cr2();
		if (rc) {
			/* VMfailInvalid: no current VMCS, a Keel bug. */
			if (rc == 1)
				panic("VM entry of d%u v%u: no current VMCS",
				      v->dom->id, v->id);
			memset(e, 0, sizeof(*e));
			e->reason = EXIT_INVALID;
			e->raw = vmread(VMCS_INSN_ERROR);
			printk(
			    "d%u v%u: VM%s failed: VM-instruction error %lu\n",
			    v->dom->id, v->id,
			    x->launched ? "RESUME" : "LAUNCH", e->raw);
			return;
		}
		/* Every exit clears the entry event's valid bit (§28.2). */
		x->event.info = 0;
		x->rflags = vmread(VMCS_GUEST_RFLAGS);
		x->intr_state = vmread(VMCS_GUEST_INTERRUPTIBILITY);
		v->gpr[GPR_RSP] = vmread(VMCS_GUEST_RSP);
	} while (!vmx_translate_exit(v, x, e));
}

/* ---- EPT ---------------------------------------------------------------- */

/* EPT leaf entries (Intel SDM vol. 3C §28.3.2): rights and memory type. */
static uint64_t vmx_p2m_entry(uint64_t hpa, unsigned perms, bool large,
			      bool uncached)
{
	uint64_t e = hpa & PTE_ADDR_MASK;
	uint64_t memtype = uncached ? EPT_MEMTYPE_UC : EPT_MEMTYPE_WB;

	if (perms & P2M_R)
		e |= EPT_R;
	if (perms & P2M_W)
		e |= EPT_R | EPT_W;
	if (perms & P2M_X) {
		e |= EPT_X;
		if (!(caps.ept_vpid & EPT_CAP_EXECUTE_ONLY))
			e |= EPT_R;
	}
	e |= memtype << EPT_MEMTYPE_SHIFT;
	if (large)
		e |= EPT_LARGE;
	return e;
}

/* Non-leaf entries: all rights, bits 3-7 clear (§28.3.2). */
static uint64_t vmx_p2m_table_entry(uint64_t pa)
{
	return (pa & PTE_ADDR_MASK) | EPT_R | EPT_W | EPT_X;
}

static bool vmx_p2m_present(uint64_t entry)
{
	return entry & (EPT_R | EPT_W | EPT_X);
}

static bool vmx_p2m_is_large(uint64_t entry)
{
	return entry & EPT_LARGE;
}

/*
 * Every CPU may cache translations of d's EPT: each vCPU flushes on its
 * next VM entry (flush_stale_ept()), as the SVM backend does at VMRUN.
 */
static void vmx_p2m_flush(struct domain *d)
{
	(void)d;
	__atomic_add_fetch(&ept_generation, 1, __ATOMIC_RELEASE);
}

/* Without these controls the instructions #UD in a guest (§25.6.2). */
static unsigned vmx_guest_limits(void)
{
	return (caps.proc2 & PROC2_ENABLE_RDTSCP ? 0 : CPU_POLICY_NO_RDTSCP) |
	       (caps.proc2 & PROC2_ENABLE_INVPCID ? 0 : CPU_POLICY_NO_INVPCID);
}

static const struct hvm_ops vmx_ops = {
    .name = "Intel VMX with EPT",
    .cpu_enable = vmx_cpu_enable,
    .vcpu_create = vmx_vcpu_create,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_run = vmx_vcpu_run,
    .startup_ipi = vmx_startup_ipi,
    .get_state = vmx_get_state,
    .set_state = vmx_set_state,
    .inject_event = vmx_inject_event,
    .interruptible = vmx_interruptible,
    .request_intr_window = vmx_request_intr_window,
    .p2m_entry = vmx_p2m_entry,
    .p2m_table_entry = vmx_p2m_table_entry,
    .p2m_present = vmx_p2m_present,
    .p2m_is_large = vmx_p2m_is_large,
    .p2m_flush = vmx_p2m_flush,
    .guest_limits = vmx_guest_limits,
};

/* ---- probing ------------------------------------------------------------ */

struct vmx_control {
	uint32_t bit;
	const char *name;
};

static const struct vmx_control pin_needed[] = {
    {PIN_EXT_INTR_EXITING, "external-interrupt exiting"},
    {PIN_NMI_EXITING, "NMI exiting"},
};

static const struct vmx_control proc_needed[] = {
    {PROC_INTR_WINDOW_EXITING, "interrupt-window exiting"},
    {PROC_USE_TSC_OFFSETTING, "TSC offsetting"},
    {PROC_HLT_EXITING, "HLT exiting"},
    {PROC_MWAIT_EXITING, "MWAIT exiting"},
    {PROC_USE_TPR_SHADOW, "TPR shadow"},
    {PROC_USE_IO_BITMAPS, "I/O bitmaps"},
    {PROC_USE_MSR_BITMAPS, "MSR bitmaps"},
    {PROC_MONITOR_EXITING, "MONITOR exiting"},
    {PROC_SECONDARY_CONTROLS, "secondary controls"},
};

static const struct vmx_control proc_unwanted[] = {
    {PROC_INVLPG_EXITING, "INVLPG exiting"},
    {PROC_RDTSC_EXITING, "RDTSC exiting"},
    {PROC_CR3_LOAD_EXITING, "CR3-load exiting"},
    {PROC_CR3_STORE_EXITING, "CR3-store exiting"},
    {PROC_CR8_LOAD_EXITING, "CR8-load exiting"},
    {PROC_CR8_STORE_EXITING, "CR8-store exiting"},
    {PROC_MOV_DR_EXITING, "MOV-DR exiting"},
    {PROC_UNCOND_IO_EXITING, "unconditional I/O exiting"},
};

static const struct vmx_control proc2_needed[] = {
    {PROC2_ENABLE_EPT, "EPT (extended page tables)"},
    {PROC2_UNRESTRICTED_GUEST,
     "unrestricted guest (guest CPUs start in real mode)"},
};

static const struct vmx_control exit_needed[] = {
    {EXIT_HOST_ADDR_SPACE_SIZE, "64-bit host"},
    {EXIT_SAVE_IA32_PAT, "save PAT on exit"},
    {EXIT_LOAD_IA32_PAT, "load PAT on exit"},
    {EXIT_SAVE_IA32_EFER, "save EFER on exit"},
    {EXIT_LOAD_IA32_EFER, "load EFER on exit"},
};

static const struct vmx_control exit_unwanted[] = {
    {EXIT_ACK_INTR_ON_EXIT, "acknowledge interrupt on exit"},
};

static const struct vmx_control entry_needed[] = {
    {ENTRY_LOAD_IA32_PAT, "load PAT on entry"},
    {ENTRY_LOAD_IA32_EFER, "load EFER on entry"},
};

static const struct vmx_control entry_unwanted[] = {
    {ENTRY_IA32E_MODE_GUEST, "IA-32e mode guest chosen per vCPU"},
};

/*
 * A control MSR gives the bits that must be 1 in its low half and the
 * bits that may be 1 in its high half (appendix A.3).
 */
static bool pick_controls(uint32_t msr, const struct vmx_control *needed,
			  unsigned nr_needed,
			  const struct vmx_control *unwanted,
			  unsigned nr_unwanted, uint32_t optional,
			  uint32_t *ctl)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must = (uint32_t)cap, may = cap >> 32;
	bool ok = true;

	*ctl = must | (optional & may);
	for (unsigned i = 0; i < nr_needed; i++) {
		if (may & needed[i].bit) {
			*ctl |= needed[i].bit;
		} else {
			printk("VMX lacks %s: Keel needs it\n", needed[i].name);
			ok = false;
		}
	}
	for (unsigned i = 0; i < nr_unwanted; i++) {
		if (must & unwanted[i].bit) {
			printk("VMX cannot turn off %s\n", unwanted[i].name);
			ok = false;
		}
	}
	return ok;
}

static bool probe_ept(uint64_t cap)
{
	static const struct vmx_control ept_needed[] = {
	    {EPT_CAP_WALK_4, "4-level EPT"},
	    {EPT_CAP_MEMTYPE_WB, "write-back EPT tables"},
	    {EPT_CAP_2MB_PAGES, "2 MiB EPT pages"},
	    {EPT_CAP_INVEPT, "INVEPT"},
	};
	bool ok = true;

	for (unsigned i = 0; i < ARRAY_SIZE(ept_needed); i++) {
		if (!(cap & ept_needed[i].bit)) {
			printk("VMX lacks %s: Keel needs it\n",
			       ept_needed[i].name);
			ok = false;
		}
	}
	if (!(cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		printk("VMX lacks single- and all-context INVEPT\n");
		ok = false;
	}
	return ok;
}

const struct hvm_ops *vmx_probe(void)
{
	uint64_t basic, fc;
	uint32_t regs[4], proc2_optional;
	bool true_ctls, ok = true;

	if (!boot_cpu.vmx) {
		printk("Intel CPU without VMX (CPUID.1:ECX.VMX[bit 5] = 0): "
		       "enable VT-x in the firmware, or on a KVM host use "
		       "'--cpu host-passthrough' with kvm_intel nested=1\n");
		return NULL;
	}
	fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if ((fc & FEATURE_CONTROL_LOCKED) &&
	    !(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		printk("VMX is disabled by the firmware (IA32_FEATURE_CONTROL "
		       "locked without VMX outside SMX)\n");
		return NULL;
	}
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	caps.revision = basic & VMX_BASIC_REVISION_MASK;
	if (basic & VMX_BASIC_32BIT_ADDR) {
		printk("VMX limits VMCS addresses to 32 bits: not supported\n");
		return NULL;
	}
	if (((basic >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK) !=
	    EPT_MEMTYPE_WB) {
		printk("VMX wants a VMCS memory type other than write-back\n");
		return NULL;
	}
	if (((basic >> VMX_BASIC_SIZE_SHIFT) & VMX_BASIC_SIZE_MASK) >
	    PAGE_SIZE) {
		printk("VMX regions larger than a page: not supported\n");
		return NULL;
	}
	true_ctls = basic & VMX_BASIC_TRUE_CTLS;

	ok &= pick_controls(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS
				      : MSR_IA32_VMX_PINBASED_CTLS,
			    pin_needed, ARRAY_SIZE(pin_needed), NULL, 0,
			    PIN_VIRTUAL_NMIS | PIN_PREEMPT_TIMER, &caps.pin);
	ok &= pick_controls(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
				      : MSR_IA32_VMX_PROCBASED_CTLS,
			    proc_needed, ARRAY_SIZE(proc_needed), proc_unwanted,
			    ARRAY_SIZE(proc_unwanted), 0, &caps.proc);
	ok &= pick_controls(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS
				      : MSR_IA32_VMX_EXIT_CTLS,
			    exit_needed, ARRAY_SIZE(exit_needed), exit_unwanted,
			    ARRAY_SIZE(exit_unwanted), 0, &caps.exit);
	ok &= pick_controls(
	    true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
	    entry_needed, ARRAY_SIZE(entry_needed), entry_unwanted,
	    ARRAY_SIZE(entry_unwanted), 0, &caps.entry);
	/*
	 * EPT and unrestricted guest are secondary controls, whose MSRs exist
	 * only if the primary ones offer them (§A.3.3); a CPU that lacks
	 * other controls too gets all its gaps reported.
	 */
	if (!(caps.proc & PROC_SECONDARY_CONTROLS))
		return NULL;

	/* Instructions guests are shown by CPUID must not #UD (§25.6.2). */
	proc2_optional =
	    PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID | PROC2_ENABLE_XSAVES;
	/* Absent (#GP) on CPUs without EPT and VPID: then no capabilities. */
	if (rdmsr_safe(MSR_IA32_VMX_EPT_VPID_CAP, &caps.ept_vpid))
		caps.ept_vpid = 0;
	if ((caps.ept_vpid & VPID_CAP_INVVPID) &&
	    (caps.ept_vpid & (VPID_CAP_INVVPID_SINGLE | VPID_CAP_INVVPID_ALL)))
		proc2_optional |= PROC2_ENABLE_VPID;
	ok &= pick_controls(MSR_IA32_VMX_PROCBASED_CTLS2, proc2_needed,
			    ARRAY_SIZE(proc2_needed), NULL, 0, proc2_optional,
			    &caps.proc2);
	ok &= probe_ept(caps.ept_vpid);
	if (!ok)
		return NULL;

	caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	caps.preempt_rate = caps.misc & VMX_MISC_PREEMPT_RATE_MASK;
	caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* Unrestricted guest lifts the PE and PG requirements (§26.3.1.1). */
	cr0_guest_set = caps.cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG);
	cr0_guest_allowed = caps.cr0_fixed1;
	cr0_mask = cr0_guest_set | ~cr0_guest_allowed;
	cr4_guest_set = caps.cr4_fixed0;
	cr4_guest_allowed = caps.cr4_fixed1;
	cr4_mask = cr4_guest_set | ~cr4_guest_allowed | X86_CR4_VMXE;

	/* TSC_AUX exists only with RDTSCP (CPUID.80000001h:EDX[27]). */
	cpuid_count(0x80000001, 0, regs);
	caps.nr_switched_msrs =
	    ARRAY_SIZE(switched_msrs) - (regs[3] & (1u << 27) ? 0 : 1);

	printk("VMX: VMCS revision %x; ept unrestricted-guest%s%s%s%s%s\n",
	       caps.revision, caps.proc2 & PROC2_ENABLE_VPID ? " vpid" : "",
	       caps.pin & PIN_VIRTUAL_NMIS ? " vnmi" : "",
	       caps.pin & PIN_PREEMPT_TIMER
		   ? " preemption-timer"
		   : " (no preemption timer: the LAPIC timer ends runs)",
	       caps.ept_vpid & EPT_CAP_INVEPT_SINGLE
		   ? " invept-single"
		   : " (no single-context INVEPT: global flushes)",
	       true_ctls ? " true-controls" : "");
	irq_set_handler(IPI_VMCS_CLEAR_VECTOR, ipi_vmcs_clear);
	return &vmx_ops;
}

/* SPDX-License-Identifier: MIT */
/*
 * VMX operation per CPU and the life of a VMCS: created with the
 * architectural reset state, active on one CPU at a time, fetched by the
 * CPU that runs its vCPU next (VMCLEAR there by IPI, VMPTRLD here), and
 * destroyed (Intel SDM vol. 3C ch. 25).
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/traps.h>
#include <keel/x86.h>
#include "backend.h"

#define EXC_DB			1
#define EXC_AC			17
#define EXC_MC			18
#define MSR_BITMAP_WRITE_OFFSET 0x800 /* read bitmaps first (§25.6.9) */
#define MSR_BITMAP_HIGH_OFFSET	0x400 /* C0000000h-C0001FFFh */
#define IO_BITMAPS_ORDER	1     /* A (ports 0-7FFF) and B */
#define COM1_FIRST_PORT		0x3F8
#define COM1_LAST_PORT		0x3FF

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

struct vmx_cpu vmx_cpus[MAX_CPUS];

unsigned vmx_switched_msr_count(bool tsc_aux)
{
	return ARRAY_SIZE(switched_msrs) - (tsc_aux ? 0 : 1);
}

int vmx_cpu_enable(void)
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

	cr0 = read_cr0() | vmx_caps.cr0_fixed0;
	cr4 = read_cr4() | vmx_caps.cr4_fixed0 | X86_CR4_VMXE;
	if ((cr0 & ~vmx_caps.cr0_fixed1) || (cr4 & ~vmx_caps.cr4_fixed1)) {
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
	*(uint32_t *)phys_to_virt(c->vmxon_pa) = vmx_caps.revision;
	host = phys_to_virt(c->host_msrs_pa);
	for (unsigned i = 0; i < vmx_caps.nr_switched_msrs; i++)
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
	if (vmx_caps.ept_vpid & EPT_CAP_INVEPT_ALL)
		invept(INVEPT_ALL_CONTEXT, 0);
	this_cpu()->arch = c;
	return 0;
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

void ipi_vmcs_clear(struct cpu_regs *regs)
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
struct vmx_vcpu *vmcs_load(struct vcpu *v)
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

/* Guest-state fields outside struct guest_state, at their reset values
 * (SDM vol. 3A §10.1.1, vol. 3C §25.4). */
static void write_reset_extras(void)
{
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

int vmx_vcpu_create(struct vcpu *v)
{
	struct vmx_vcpu *x = xzalloc(sizeof(*x));
	struct vmx_msr_entry *guest_msrs;
	struct guest_state reset;
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
	for (unsigned i = 0; i < vmx_caps.nr_switched_msrs; i++)
		guest_msrs[i] = (struct vmx_msr_entry){switched_msrs[i], 0, 0};

	/* A fresh VMCS: revision ID, then VMCLEAR sets its launch state clear.
	 */
	*(uint32_t *)phys_to_virt(x->vmcs_pa) = vmx_caps.revision;
	vmclear(x->vmcs_pa);
	vmcs_load(v);

	/* MOV DR exits until the guest first uses the debug registers. */
	x->proc = x->vmcs_proc = vmx_caps.proc | PROC_MOV_DR_EXITING;
	x->drs.dr6 = DR6_RESET;
	x->entry = vmx_caps.entry;
	vmwrite(VMCS_PIN_CONTROLS, vmx_caps.pin);
	vmwrite(VMCS_PROC_CONTROLS, x->proc);
	vmwrite(VMCS_PROC2_CONTROLS, vmx_caps.proc2);
	vmwrite(VMCS_EXIT_CONTROLS, vmx_caps.exit);
	vmwrite(VMCS_ENTRY_CONTROLS, x->entry);
	/* Keel owns #MC; #DB and #AC exit so that no guest can make the CPU
	 * deliver them in a loop without exits (hvm/exit.c). */
	vmwrite(VMCS_EXCEPTION_BITMAP,
		(1u << EXC_MC) | (1u << EXC_DB) | (1u << EXC_AC));
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	vmwrite(VMCS_IO_BITMAP_A, x->io_bitmaps_pa);
	vmwrite(VMCS_IO_BITMAP_B, x->io_bitmaps_pa + PAGE_SIZE);
	vmwrite(VMCS_MSR_BITMAP, x->msr_bitmap_pa);
	vmwrite(VMCS_ENTRY_MSR_LOAD_ADDR, x->guest_msrs_pa);
	vmwrite(VMCS_ENTRY_MSR_LOAD_COUNT, vmx_caps.nr_switched_msrs);
	vmwrite(VMCS_EXIT_MSR_STORE_ADDR, x->guest_msrs_pa);
	vmwrite(VMCS_EXIT_MSR_STORE_COUNT, vmx_caps.nr_switched_msrs);
	vmwrite(VMCS_EXIT_MSR_LOAD_COUNT, vmx_caps.nr_switched_msrs);
	/* CR8 reads and writes go to the TPR shadow, never to Keel's LAPIC. */
	vmwrite(VMCS_VIRTUAL_APIC_ADDR, x->vapic_pa);
	vmwrite(VMCS_TPR_THRESHOLD, 0);
	vmwrite(VMCS_EPT_POINTER, eptp_of(v->dom));
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, vmx_caps.cr0_mask);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, vmx_caps.cr4_mask);
	vmwrite(VMCS_ENTRY_INTR_INFO, 0);
	if (vmx_caps.proc2 & PROC2_ENABLE_XSAVES)
		vmwrite(VMCS_XSS_EXIT_BITMAP, 0);
	write_reset_extras();
	hvm_reset_state(&reset);
	vmx_set_state(v, &reset);
	x->rflags = vmread(VMCS_GUEST_RFLAGS);
	x->intr_state = 0;
	return 0;
}

void vmx_vcpu_destroy(struct vcpu *v)
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

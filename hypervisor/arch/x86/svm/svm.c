/* SPDX-License-Identifier: MIT */
/*
 * The AMD SVM backend of struct hvm_ops (AMD APM vol. 2, ch. 15).
 *
 * Works with what QEMU TCG emulates (NPT + VGIF; no next-RIP save, decode
 * assists, flush-by-ASID or clean bits) and uses next-RIP and
 * flush-by-ASID when the hardware has them: without next-RIP the exit
 * handlers decode instruction lengths themselves; without flush-by-ASID a
 * vCPU whose p2m changed takes a fresh ASID (keel/asid.h).
 */
#include <keel/asid.h>
#include <keel/cpu.h>
#include <keel/cpu_policy.h>
#include <keel/debugreg.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/x86.h>
#include "svm.h"

#define IOPM_ORDER  2 /* 12 KiB used, 16 KiB allocated */
#define MSRPM_ORDER 1 /* 8 KiB */

#define EXC_DB 1
#define EXC_AC 17
#define EXC_MC 18

/* The VMCB's state save area, up to g_pat and DBGCTL, as words. */
#define SAVE_AREA	offsetof(struct vmcb, es)
#define SAVE_AREA_WORDS ((offsetof(struct vmcb, dbgctl) + 8 - SAVE_AREA) / 8)

/*
 * What a VMRUN started from: the state save area, the event and interrupt
 * controls a #VMEXIT rewrites, and the GPRs (svm_lost_guest_state()).
 */
struct svm_entry {
	uint64_t save[SAVE_AREA_WORDS];
	uint64_t gpr[NR_GPRS];
	uint64_t vintr, interrupt_shadow, eventinj;
	uint8_t tlb_control;
	uint64_t host_rsp; /* Keel's RSP at the VMRUN */
};

struct svm_cpu {
	uint64_t hsave_pa;
	uint64_t host_vmcb_pa; /* VMSAVE/VMLOAD area for host hidden state */
	uint64_t tsc_aux;      /* the value in TSC_AUX, ~0 before the first */
	struct asid_pool asids;
	struct svm_entry entry; /* the vCPU this CPU runs */
};

struct svm_vcpu {
	struct vmcb *vmcb;
	uint64_t vmcb_pa;
	uint64_t iopm_pa, msrpm_pa;
	bool flush_tlb;	      /* p2m changed since last VMRUN (atomic) */
	struct asid_tag asid; /* only touched by the CPU running it */
	/* A STARTUP IPI vector not yet applied, or -1 (atomic). */
	int startup_vector;
	/*
	 * DR0-DR3 live in the hardware while the guest runs once it has
	 * touched a debug register (svm_vcpu_run); until then every MOV DR
	 * exits. DR6 and DR7 are in the VMCB. Only the CPU running v.
	 */
	bool dr_active;
	struct guest_drs drs;
	/*
	 * NMI blocking, which SVM without vNMI does not track for injected
	 * NMIs (APM vol. 2 §15.20): set when an NMI is injected, cleared
	 * once the guest's IRET has retired. nmi_iret_rip is where the
	 * intercepted IRET was; RIP elsewhere means it has run. Read and
	 * written with the domain lock or by the CPU running v.
	 */
	bool nmi_blocked, nmi_iret_seen;
	uint64_t nmi_iret_rip;
	/* An interrupt handed to V_IRQ for delivery (svm_inject_event),
	 * settled at the next exit back to common code (virq_settle). */
	bool virq_pending;
	uint8_t virq_vector;
	uint64_t virq_rip; /* where the guest was when it was handed over */
};

static uint32_t svm_features;
/*
 * Set once a guest ran instructions with IF=1 and left V_IRQ pending: that
 * CPU does not take a virtual interrupt pending at VMRUN (Bochs 2.7 leaves
 * it masked until the guest changes IF), so external interrupts go
 * through EVENTINJ from then on.
 */
static bool virq_unreliable;
static struct svm_cpu svm_cpus[MAX_CPUS];

static uint64_t alloc_zeroed(unsigned order)
{
	uint64_t pa = frames_alloc(order);

	if (pa)
		memset(phys_to_virt(pa), 0, PAGE_SIZE << order);
	return pa;
}

static int svm_cpu_enable(void)
{
	struct svm_cpu *c = &svm_cpus[this_cpu()->cpu];

	c->hsave_pa = alloc_zeroed(0);
	c->host_vmcb_pa = alloc_zeroed(0);
	if (!c->hsave_pa || !c->host_vmcb_pa)
		return -ENOMEM;
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, c->hsave_pa);
	c->tsc_aux = ~0ULL;
	asid_pool_init(&c->asids, boot_cpu.svm_nasid);
	this_cpu()->arch = c;
	return 0;
}

static struct svm_vcpu *to_svm(struct vcpu *v)
{
	return v->arch;
}

/* MSR permission map: 2 bits per MSR (read, write) in three 2 KiB ranges. */
static void msrpm_set(uint8_t *pm, uint32_t msr, bool rd, bool wr)
{
	uint32_t base;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
		base = 0x800 * 8, msr -= 0xC0000000;
	else if (msr >= 0xC0010000 && msr <= 0xC0011FFF)
		base = 0x1000 * 8, msr -= 0xC0010000;
	else
		return; /* outside the map: always intercepted */
	uint32_t bit = base + msr * 2;

	pm[bit / 8] = (pm[bit / 8] & ~(3u << (bit % 8))) |
		      ((rd ? 1u : 0) << (bit % 8)) |
		      ((wr ? 2u : 0) << (bit % 8));
}

/*
 * MSRs whose state lives in the VMCB go straight through; everything else
 * exits to the common MSR policy (hvm/msr.c). TSC_AUX is not in the VMCB:
 * it is the vCPU's (msr.c) and loaded before VMRUN (svm_vcpu_run).
 */
static const uint32_t passthrough_msrs[] = {
    0xC0000100, /* FS_BASE */
    0xC0000101, /* GS_BASE */
    0xC0000102, /* KERNEL_GS_BASE */
    0xC0000081, /* STAR */
    0xC0000082, /* LSTAR */
    0xC0000083, /* CSTAR */
    0xC0000084, /* SFMASK */
    0x174,	/* SYSENTER_CS */
    0x175,	/* SYSENTER_ESP */
    0x176,	/* SYSENTER_EIP */
};

/* Dom0 drives the hardware; only the ports Keel emulates are trapped. */
static void iopm_setup(uint8_t *iopm, bool privileged)
{
	memset(iopm, 0xFF, PAGE_SIZE * 3);
	if (!privileged)
		return;
	memset(iopm, 0, PAGE_SIZE * 3);
	for (unsigned port = 0x3F8; port <= 0x3FF; port++)
		iopm[port / 8] |= 1u << (port % 8);
}

static void svm_set_state(struct vcpu *v, const struct guest_state *gs);

static int svm_vcpu_create(struct vcpu *v)
{
	struct svm_vcpu *s = xzalloc(sizeof(*s));
	struct vmcb *vmcb;
	struct guest_state reset;
	uint8_t *msrpm;

	if (!s)
		return -ENOMEM;
	v->arch = s; /* from here on svm_vcpu_destroy frees what exists */
	s->vmcb_pa = alloc_zeroed(0);
	s->iopm_pa = alloc_zeroed(IOPM_ORDER);
	s->msrpm_pa = alloc_zeroed(MSRPM_ORDER);
	if (!s->vmcb_pa || !s->iopm_pa || !s->msrpm_pa)
		return -ENOMEM;
	s->startup_vector = -1;
	s->vmcb = vmcb = phys_to_virt(s->vmcb_pa);

	iopm_setup(phys_to_virt(s->iopm_pa), v->dom->privileged);
	msrpm = phys_to_virt(s->msrpm_pa);
	memset(msrpm, 0xFF, PAGE_SIZE << MSRPM_ORDER);
	for (unsigned i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		msrpm_set(msrpm, passthrough_msrs[i], false, false);

	/* #MC: Keel owns machine checks. #DB and #AC: no guest can make
	 * the CPU deliver them in a loop without exits (hvm/exit.c). */
	vmcb->intercept_exc = INTERCEPT_EXC(EXC_MC) | INTERCEPT_EXC(EXC_DB) |
			      INTERCEPT_EXC(EXC_AC);
	vmcb->intercept_dr = INTERCEPT_DR0_7_RW; /* until first use */
	vmcb->intercept_misc1 =
	    INTERCEPT_INTR | INTERCEPT_NMI | INTERCEPT_SMI | INTERCEPT_INIT |
	    INTERCEPT_CPUID | INTERCEPT_INVD | INTERCEPT_HLT |
	    INTERCEPT_INVLPGA | INTERCEPT_IOIO | INTERCEPT_MSR |
	    INTERCEPT_TASK_SWITCH | INTERCEPT_SHUTDOWN;
	/* VMRUN must be intercepted (APM §15.5.1); the rest hides SVM. */
	vmcb->intercept_misc2 =
	    INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_VMLOAD |
	    INTERCEPT_VMSAVE | INTERCEPT_STGI | INTERCEPT_CLGI |
	    INTERCEPT_SKINIT | INTERCEPT_ICEBP | INTERCEPT_MONITOR |
	    INTERCEPT_MWAIT | INTERCEPT_XSETBV;
	vmcb->iopm_base_pa = s->iopm_pa;
	vmcb->msrpm_base_pa = s->msrpm_pa;
	vmcb->vintr = V_INTR_MASKING;
	vmcb->np_control = NP_ENABLE;
	vmcb->n_cr3 = v->dom->p2m_root;

	/* Reset state (APM vol. 2 §14.1.3); builders override. */
	hvm_reset_state(&reset);
	svm_set_state(v, &reset);
	vmcb->dr6 = 0xFFFF0FF0;
	vmcb->dr7 = 0x400;
	return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
	struct svm_vcpu *s = to_svm(v);

	if (!s)
		return;
	if (s->vmcb_pa)
		frames_free(s->vmcb_pa, 0);
	if (s->iopm_pa)
		frames_free(s->iopm_pa, IOPM_ORDER);
	if (s->msrpm_pa)
		frames_free(s->msrpm_pa, MSRPM_ORDER);
	xfree(s);
	v->arch = NULL;
}

static void exit_io(struct vmcb *vmcb, struct vm_exit *e)
{
	uint64_t info = vmcb->exitinfo1;

	e->reason = EXIT_IO;
	e->io.port = info >> IOIO_PORT_SHIFT;
	e->io.in = info & IOIO_TYPE_IN;
	e->io.string = info & IOIO_STR;
	e->io.rep = info & IOIO_REP;
	e->io.size = (info >> IOIO_SZ_SHIFT) & 1   ? 1
		     : (info >> IOIO_SZ_SHIFT) & 2 ? 2
						   : 4;
	/* IOIO exits always report the next RIP in EXITINFO2. */
	e->insn_len = vmcb->exitinfo2 - vmcb->rip;
}

/* Exits that need nothing but a new name (APM vol. 2 appendix C). */
static const uint8_t exit_reasons[] = {
    [SVM_EXIT_INTR] = EXIT_EXTINT,
    [SVM_EXIT_NMI] = EXIT_NMI,
    [SVM_EXIT_SMI] = EXIT_EXTINT, /* resumes the guest; SMM runs */
    [SVM_EXIT_VINTR] = EXIT_INTR_WINDOW,
    [SVM_EXIT_CPUID] = EXIT_CPUID,
    [SVM_EXIT_HLT] = EXIT_HLT,
    [SVM_EXIT_VMMCALL] = EXIT_HYPERCALL,
    [SVM_EXIT_SHUTDOWN] = EXIT_SHUTDOWN,
    [SVM_EXIT_INIT] = EXIT_INIT,
    [SVM_EXIT_XSETBV] = EXIT_XSETBV,
    [SVM_EXIT_PAUSE] = EXIT_PAUSE,
    /* Instructions guests are not shown: #UD (hvm/exit.c). */
    [SVM_EXIT_VMRUN] = EXIT_VIRT_INSN,
    [SVM_EXIT_VMLOAD] = EXIT_VIRT_INSN,
    [SVM_EXIT_VMSAVE] = EXIT_VIRT_INSN,
    [SVM_EXIT_STGI] = EXIT_VIRT_INSN,
    [SVM_EXIT_CLGI] = EXIT_VIRT_INSN,
    [SVM_EXIT_SKINIT] = EXIT_VIRT_INSN,
    [SVM_EXIT_MONITOR] = EXIT_VIRT_INSN,
    [SVM_EXIT_MWAIT] = EXIT_VIRT_INSN,
    [SVM_EXIT_INVLPGA] = EXIT_VIRT_INSN,
    [SVM_EXIT_ICEBP] = EXIT_ICEBP,
};

/*
 * Once the intercepted IRET has run (RIP has moved), NMIs are unblocked:
 * checked at every exit. Until then the VINTR window stays requested so
 * that the first instruction boundary with interrupts on after the IRET
 * exits, and a pending NMI goes in there rather than at the next timer.
 */
static void nmi_unblock_after_iret(struct svm_vcpu *s)
{
	if (s->nmi_iret_seen && s->vmcb->rip != s->nmi_iret_rip) {
		s->nmi_blocked = false;
		s->nmi_iret_seen = false;
	}
}

/* V_IRQ with its priority and vector: a window request or a delivery. */
#define VINTR_IRQ_FIELDS                                                       \
	(V_IRQ | V_IGN_TPR | (0xFULL << V_INTR_PRIO_SHIFT) |                   \
	 (0xFFULL << V_INTR_VECTOR_SHIFT))

/* Raises V_IRQ with a priority and vector, replacing any earlier one. */
static void vintr_raise(struct vmcb *vmcb, unsigned prio, uint8_t vector)
{
	vmcb->vintr = (vmcb->vintr & ~VINTR_IRQ_FIELDS) | V_IRQ | V_IGN_TPR |
		      ((uint64_t)prio << V_INTR_PRIO_SHIFT) |
		      ((uint64_t)vector << V_INTR_VECTOR_SHIFT);
}

/*
 * With an interrupt pending delivery in V_IRQ, the VINTR intercept alone
 * makes it the window: the CPU exits instead of delivering it, and
 * virq_settle() puts it back in the IRR.
 */
static void set_intr_window(struct svm_vcpu *s, bool on)
{
	struct vmcb *vmcb = s->vmcb;

	if (on || s->nmi_iret_seen) {
		if (!s->virq_pending)
			vintr_raise(vmcb, 0xF, 0);
		vmcb->intercept_misc1 |= INTERCEPT_VINTR;
	} else {
		if (!s->virq_pending)
			vmcb->vintr &= ~VINTR_IRQ_FIELDS;
		vmcb->intercept_misc1 &= ~INTERCEPT_VINTR;
	}
}

/*
 * An interrupt given to V_IRQ was taken if the CPU cleared V_IRQ, or if
 * this exit cut its delivery short (EXITINTINFO holds it, and it goes in
 * again through EVENTINJ). Otherwise it returns to the vLAPIC's IRR and
 * the next entry picks the highest pending vector afresh.
 */
static void virq_settle(struct svm_vcpu *s, struct vm_exit *e)
{
	struct vmcb *vmcb = s->vmcb;
	uint64_t info = vmcb->exitintinfo;
	bool cut = (info & EVENTINJ_VALID) &&
		   (info & EVENTINJ_TYPE_MASK) == EVENTINJ_TYPE_INTR &&
		   (uint8_t)info == s->virq_vector;

	if ((vmcb->vintr & V_IRQ) && !cut) {
		e->irq_requeue = true;
		e->irq_vector = s->virq_vector;
		if (vmcb->rip != s->virq_rip && !virq_unreliable) {
			virq_unreliable = true;
			printk("SVM: V_IRQ not taken at VMRUN; interrupts go "
			       "through EVENTINJ\n");
		}
	}
	vmcb->vintr &= ~VINTR_IRQ_FIELDS;
	s->virq_pending = false;
}

/*
 * Exits the backend handles by itself; true when the guest can be entered
 * again at once. A first MOV DR hands the debug registers to the guest and
 * retries the instruction, which now runs natively (as Xen's lazy DR
 * switch). An intercepted IRET has not run yet: NMIs stay blocked until
 * it has.
 */
static bool svm_handled_exit(struct svm_vcpu *s)
{
	struct vmcb *vmcb = s->vmcb;
	uint64_t code = vmcb->exitcode;

	if (code >= SVM_EXIT_DR_BASE && code < SVM_EXIT_DR_END) {
		s->dr_active = true;
		vmcb->intercept_dr = 0;
		return true;
	}
	if (code == SVM_EXIT_IRET) {
		vmcb->intercept_misc1 &= ~INTERCEPT_IRET;
		s->nmi_iret_seen = true;
		s->nmi_iret_rip = vmcb->rip;
		set_intr_window(s, true);
		return true;
	}
	return false;
}

static void svm_translate_exit(struct vcpu *v, struct vm_exit *e)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;
	uint64_t code = vmcb->exitcode;

	memset(e, 0, sizeof(*e));
	e->raw = code;
	if ((svm_features & SVM_FEAT_NRIPS) && vmcb->next_rip > vmcb->rip)
		e->insn_len = vmcb->next_rip - vmcb->rip;
	switch (code) {
	case SVM_EXIT_MSR:
		e->reason = vmcb->exitinfo1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		break;
	case SVM_EXIT_IOIO:
		exit_io(vmcb, e);
		break;
	case SVM_EXIT_NPF:
		e->reason = EXIT_NPF;
		e->npf.gpa = vmcb->exitinfo2;
		e->npf.present = vmcb->exitinfo1 & NPF_PRESENT;
		e->npf.write = vmcb->exitinfo1 & NPF_WRITE;
		e->npf.fetch = vmcb->exitinfo1 & NPF_FETCH;
		break;
	case SVM_EXIT_INVALID:
	case (uint32_t)SVM_EXIT_INVALID: /* QEMU 7.2 stores it in 32 bits */
		e->reason = EXIT_INVALID;
		break;
	default:
		if (code >= SVM_EXIT_EXCP_BASE &&
		    code < SVM_EXIT_EXCP_BASE + 32) {
			e->reason = EXIT_EXCEPTION;
			e->exc.vector = code - SVM_EXIT_EXCP_BASE;
			e->exc.error = vmcb->exitinfo1;
			e->exc.cr2 = vmcb->exitinfo2;
		} else if (code < ARRAY_SIZE(exit_reasons) &&
			   exit_reasons[code]) {
			e->reason = exit_reasons[code];
		} else {
			e->reason = EXIT_UNKNOWN;
		}
	}
}

/*
 * Only records the vector: the VMCB may be in use by another CPU running
 * v until its exit is handled (see hvm_ops.startup_ipi).
 */
static void svm_startup_ipi(struct vcpu *v, uint8_t vector)
{
	__atomic_store_n(&to_svm(v)->startup_vector, vector, __ATOMIC_RELEASE);
}

static void copy_words(uint64_t *dst, const uint64_t *src, size_t n)
{
	while (n--)
		*dst++ = *src++;
}

static void entry_save(struct svm_entry *e, const struct vmcb *vmcb,
		       const uint64_t *gpr)
{
	copy_words(e->save,
		   (const uint64_t *)((const uint8_t *)vmcb + SAVE_AREA),
		   SAVE_AREA_WORDS);
	copy_words(e->gpr, gpr, NR_GPRS);
	e->vintr = vmcb->vintr;
	e->interrupt_shadow = vmcb->interrupt_shadow;
	e->eventinj = vmcb->eventinj;
	e->tlb_control = vmcb->tlb_control;
}

static void entry_restore(const struct svm_entry *e, struct vmcb *vmcb,
			  uint64_t *gpr)
{
	copy_words((uint64_t *)((uint8_t *)vmcb + SAVE_AREA), e->save,
		   SAVE_AREA_WORDS);
	copy_words(gpr, e->gpr, NR_GPRS);
	vmcb->vintr = e->vintr;
	vmcb->interrupt_shadow = e->interrupt_shadow;
	vmcb->eventinj = e->eventinj;
	vmcb->tlb_control = e->tlb_control;
	vmcb->exitintinfo = 0;
}

/*
 * QEMU 7.2's TCG, rarely and under load, ends a VMRUN with the guest's
 * save area holding Keel's own state at that VMRUN: RIP at svm_vmrun_exit,
 * Keel's RSP and CR3, RAX the VMCB's address (docs/testing-notes.md). Its
 * do_vmexit() does not check that the CPU is in guest mode, so a second
 * #VMEXIT taken right after the first stores the just-restored host state
 * over the guest's. A guest that knew all four values could set them on
 * purpose: it then only gets its previous state back and runs again, and
 * hvm_entry_recovered() rate-limits the log line.
 */
static bool svm_lost_guest_state(const struct vmcb *vmcb, uint64_t vmcb_pa,
				 const struct svm_entry *e)
{
	return vmcb->rip == (uint64_t)svm_vmrun_exit &&
	       vmcb->rsp == e->host_rsp && vmcb->cr3 == read_cr3() &&
	       vmcb->rax == vmcb_pa;
}

/* SVM has no timer of its own: Keel's LAPIC timer ends the run. */
static void svm_vcpu_run(struct vcpu *v, uint64_t deadline, struct vm_exit *e)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb *vmcb = s->vmcb;
	struct svm_cpu *c = this_cpu()->arch;
	int startup;
	bool stale;

	startup = __atomic_exchange_n(&s->startup_vector, -1, __ATOMIC_ACQUIRE);
	if (startup >= 0) {
		hvm_startup_state(v, (uint8_t)startup);
		s->nmi_blocked = s->nmi_iret_seen = false; /* INIT unblocks */
		vmcb->intercept_misc1 &= ~INTERCEPT_IRET;
	}
	lapic_timer_arm(deadline);
reenter:
	vmcb->rax = v->gpr[GPR_RAX];
	vmcb->rsp = v->gpr[GPR_RSP];
	/*
	 * ASIDs come from this CPU's pool (keel/asid.h): a new generation
	 * flushes every ASID once. After a p2m change v's translations are
	 * stale: flush its ASID where the CPU can, else take a fresh ASID,
	 * which has no TLB entries in this generation. Either way the other
	 * guests keep theirs.
	 */
	stale = __atomic_exchange_n(&s->flush_tlb, false, __ATOMIC_ACQ_REL);
	if (stale && !(svm_features & SVM_FEAT_FLUSH_BY_ASID))
		asid_tag_invalidate(&s->asid);
	if (asid_assign(&c->asids, &s->asid, (int)this_cpu()->cpu))
		vmcb->tlb_control = TLB_CONTROL_FLUSH_ALL;
	else if (stale)
		vmcb->tlb_control = TLB_CONTROL_FLUSH_ASID;
	vmcb->asid = s->asid.asid;
	vmcb->tsc_offset = v->tsc_offset;
	/* RDTSCP and RDPID read it directly: one vCPU's value never shows
	 * in another's. */
	if (guest_cpu_policy.tsc_aux && c->tsc_aux != v->tsc_aux) {
		wrmsr(MSR_TSC_AUX, v->tsc_aux);
		c->tsc_aux = v->tsc_aux;
	}

	if (s->dr_active)
		drs_load(&s->drs, false);

	hvm_msrs_guest_enter(v);
	entry_save(&c->entry, vmcb, v->gpr);
	svm_vmrun(s->vmcb_pa, v->gpr, c->host_vmcb_pa, &c->entry.host_rsp);
	hvm_msrs_guest_exit(v);

	if (s->dr_active)
		drs_save(&s->drs, false);
	if (svm_lost_guest_state(vmcb, s->vmcb_pa, &c->entry)) {
		/* Run it again from the state it was entered with. */
		entry_restore(&c->entry, vmcb, v->gpr);
		hvm_entry_recovered(v);
		goto reenter;
	}
	vmcb->tlb_control = TLB_CONTROL_NONE;
	v->gpr[GPR_RAX] = vmcb->rax;
	v->gpr[GPR_RSP] = vmcb->rsp;
	nmi_unblock_after_iret(s);
	if (!(vmcb->exitintinfo & EVENTINJ_VALID) && svm_handled_exit(s))
		goto reenter;
	svm_translate_exit(v, e);
	if (s->virq_pending)
		virq_settle(s, e);

	/*
	 * An event that was being delivered when the exit happened (e.g. an
	 * NPF while pushing an interrupt frame) must be delivered again.
	 */
	if (vmcb->exitintinfo & EVENTINJ_VALID) {
		vmcb->eventinj = vmcb->exitintinfo;
		vmcb->exitintinfo = 0;
	}
}

static void seg_get(struct segment *d, const struct vmcb_seg *s)
{
	*d = (struct segment){s->sel, s->attr, s->limit, s->base};
}

static void seg_put(struct vmcb_seg *d, const struct segment *s)
{
	*d = (struct vmcb_seg){s->sel, s->attr, s->limit, s->base};
}

static void svm_get_state(struct vcpu *v, struct guest_state *gs)
{
	const struct vmcb *vmcb = to_svm(v)->vmcb;

	gs->cr0 = vmcb->cr0;
	gs->cr2 = vmcb->cr2;
	gs->cr3 = vmcb->cr3;
	gs->cr4 = vmcb->cr4;
	gs->efer = vmcb->efer & ~EFER_SVME; /* the guest never sees SVME */
	gs->rflags = vmcb->rflags;
	gs->rip = vmcb->rip;
	gs->pat = vmcb->g_pat;
	seg_get(&gs->cs, &vmcb->cs);
	seg_get(&gs->ss, &vmcb->ss);
	seg_get(&gs->ds, &vmcb->ds);
	seg_get(&gs->es, &vmcb->es);
	seg_get(&gs->fs, &vmcb->fs);
	seg_get(&gs->gs, &vmcb->gs);
	seg_get(&gs->tr, &vmcb->tr);
	seg_get(&gs->ldtr, &vmcb->ldtr);
	gs->gdtr_base = vmcb->gdtr.base;
	gs->gdtr_limit = vmcb->gdtr.limit;
	gs->idtr_base = vmcb->idtr.base;
	gs->idtr_limit = vmcb->idtr.limit;
	gs->cpl = vmcb->cpl;
}

static void svm_set_state(struct vcpu *v, const struct guest_state *gs)
{
	struct vmcb *vmcb = to_svm(v)->vmcb;

	vmcb->cr0 = gs->cr0;
	vmcb->cr2 = gs->cr2;
	vmcb->cr3 = gs->cr3;
	vmcb->cr4 = gs->cr4;
	vmcb->efer = gs->efer | EFER_SVME; /* VMRUN requires it (§15.5.1) */
	vmcb->rflags = gs->rflags;
	/* Moving RIP retires the instruction an STI or MOV SS shadow covered
	 * (an intercepted HLT right after STI exits inside the shadow). */
	if (gs->rip != vmcb->rip)
		vmcb->interrupt_shadow &= ~INT_SHADOW;
	vmcb->rip = gs->rip;
	vmcb->g_pat = gs->pat;
	seg_put(&vmcb->cs, &gs->cs);
	seg_put(&vmcb->ss, &gs->ss);
	seg_put(&vmcb->ds, &gs->ds);
	seg_put(&vmcb->es, &gs->es);
	seg_put(&vmcb->fs, &gs->fs);
	seg_put(&vmcb->gs, &gs->gs);
	seg_put(&vmcb->tr, &gs->tr);
	seg_put(&vmcb->ldtr, &gs->ldtr);
	vmcb->gdtr.base = gs->gdtr_base;
	vmcb->gdtr.limit = gs->gdtr_limit;
	vmcb->idtr.base = gs->idtr_base;
	vmcb->idtr.limit = gs->idtr_limit;
	vmcb->cpl = gs->cpl;
}

static bool svm_inject_event(struct vcpu *v, enum event_type type,
			     uint8_t vector, bool has_error, uint32_t error)
{
	struct svm_vcpu *s = to_svm(v);
	struct vmcb *vmcb = s->vmcb;
	static const uint64_t types[] = {
	    [EVENT_EXTINT] = EVENTINJ_TYPE_INTR,
	    [EVENT_NMI] = EVENTINJ_TYPE_NMI,
	    [EVENT_EXCEPTION] = EVENTINJ_TYPE_EXC,
	    [EVENT_SOFTINT] = EVENTINJ_TYPE_SOFT,
	};

	if ((vmcb->eventinj & EVENTINJ_VALID) || s->virq_pending)
		return false;
	/*
	 * External interrupts go through V_IRQ, which the CPU delivers at
	 * the first instruction boundary where the guest can take them, as
	 * it would an EVENTINJ interrupt. QEMU's TCG leaves an EVENTINJ
	 * interrupt's vector behind as a pending exception after delivering
	 * it, and delivers it again, into code running with IF=0, the next
	 * time its CPU loop is asked to exit (docs/testing-notes.md).
	 */
	if (type == EVENT_EXTINT && !virq_unreliable) {
		vintr_raise(vmcb, vector >> 4, vector);
		vmcb->intercept_misc1 &= ~INTERCEPT_VINTR;
		s->virq_pending = true;
		s->virq_vector = vector;
		s->virq_rip = vmcb->rip;
		return true;
	}
	if (type == EVENT_NMI) {
		if (s->nmi_blocked)
			return false;
		s->nmi_blocked = true;
		vmcb->intercept_misc1 |= INTERCEPT_IRET;
	}
	vmcb->eventinj =
	    vector | types[type] | EVENTINJ_VALID |
	    (has_error ? EVENTINJ_ERR_VALID | ((uint64_t)error << 32) : 0);
	return true;
}

static bool svm_interruptible(struct vcpu *v)
{
	const struct vmcb *vmcb = to_svm(v)->vmcb;

	return (vmcb->rflags & X86_RFLAGS_IF) &&
	       !(vmcb->interrupt_shadow & INT_SHADOW) &&
	       !(vmcb->eventinj & EVENTINJ_VALID);
}

/*
 * A virtual interrupt request (V_IRQ) with the VINTR intercept gives an
 * exit exactly when the guest could take an interrupt (APM §15.21.4).
 */
static void svm_request_intr_window(struct vcpu *v, bool on)
{
	set_intr_window(to_svm(v), on);
}

static void svm_dump_events(struct vcpu *v)
{
	const struct svm_vcpu *s = to_svm(v);
	const struct vmcb *vmcb = s->vmcb;

	printk("  SVM: shadow %d, EVENTINJ %lx, V_IRQ %d (vector %lu, "
	       "priority %lu), VINTR exit %s, interrupt in V_IRQ %s\n",
	       !!(vmcb->interrupt_shadow & INT_SHADOW), vmcb->eventinj,
	       !!(vmcb->vintr & V_IRQ),
	       (vmcb->vintr >> V_INTR_VECTOR_SHIFT) & 0xFF,
	       (vmcb->vintr >> V_INTR_PRIO_SHIFT) & 0xF,
	       (vmcb->intercept_misc1 & INTERCEPT_VINTR) ? "on" : "off",
	       s->virq_pending ? "yes" : "no");
}

/* NPT entries use the host page-table format; guest accesses are user. */
static uint64_t svm_p2m_entry(uint64_t hpa, unsigned perms, bool large,
			      bool uncached)
{
	uint64_t e = (hpa & PTE_ADDR_MASK) | PTE_P | PTE_U | PTE_A | PTE_D;

	if (perms & P2M_W)
		e |= PTE_W;
	if (!(perms & P2M_X) && boot_cpu.nx)
		e |= PTE_NX;
	if (large)
		e |= PTE_PS;
	if (uncached)
		e |= PTE_PCD | PTE_PWT;
	return e;
}

/* Tables grant everything; the leaf decides (APM vol. 2 §15.25.5). */
static uint64_t svm_p2m_table_entry(uint64_t pa)
{
	return (pa & PTE_ADDR_MASK) | PTE_P | PTE_W | PTE_U | PTE_A;
}

static bool svm_p2m_present(uint64_t entry)
{
	return entry & PTE_P;
}

static bool svm_p2m_is_large(uint64_t entry)
{
	return entry & PTE_PS;
}

static void svm_p2m_flush(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (d->vcpus[i] && d->vcpus[i]->arch)
			__atomic_store_n(&to_svm(d->vcpus[i])->flush_tlb, true,
					 __ATOMIC_RELEASE);
}

/* SVM lets guests run RDTSCP, RDPID and INVPCID unless intercepted. */
static unsigned svm_guest_limits(void)
{
	return 0;
}

static const struct hvm_ops svm_ops = {
    .name = "AMD SVM with nested paging",
    .cpu_enable = svm_cpu_enable,
    .vcpu_create = svm_vcpu_create,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_run = svm_vcpu_run,
    .startup_ipi = svm_startup_ipi,
    .get_state = svm_get_state,
    .set_state = svm_set_state,
    .inject_event = svm_inject_event,
    .interruptible = svm_interruptible,
    .request_intr_window = svm_request_intr_window,
    .dump_events = svm_dump_events,
    .p2m_entry = svm_p2m_entry,
    .p2m_table_entry = svm_p2m_table_entry,
    .p2m_present = svm_p2m_present,
    .p2m_is_large = svm_p2m_is_large,
    .p2m_flush = svm_p2m_flush,
    .guest_limits = svm_guest_limits,
};

const struct hvm_ops *svm_probe(void)
{
	uint32_t f = boot_cpu.svm_features;
	uint64_t vm_cr;

	if (!boot_cpu.svm) {
		printk("AMD CPU without SVM (CPUID 8000_0001:ECX.SVM = 0): "
		       "enable AMD-V in the firmware, or on a KVM host use "
		       "'--cpu host-passthrough' with kvm_amd nested=1\n");
		return NULL;
	}
	/* Every AMD CPU has VM_CR, but Bochs's newer models (ryzen) raise
	 * #GP for it: without the MSR, nothing can have disabled SVM. */
	if (rdmsr_safe(MSR_VM_CR, &vm_cr))
		vm_cr = 0;
	if (vm_cr & VM_CR_SVMDIS) {
		printk("SVM is disabled by the firmware (VM_CR.SVMDIS)\n");
		return NULL;
	}
	if (!(f & SVM_FEAT_NPT)) {
		printk("SVM lacks nested paging (NPT): Keel needs it\n");
		return NULL;
	}
	if (boot_cpu.svm_nasid < 2) {
		printk("SVM reports %u ASIDs: Keel needs at least 2\n",
		       boot_cpu.svm_nasid);
		return NULL;
	}
	svm_features = f;
	printk("SVM: %u ASIDs; npt%s%s%s%s%s\n", boot_cpu.svm_nasid,
	       f & SVM_FEAT_NRIPS ? " nrips" : " (no nrips: decoding lengths)",
	       f & SVM_FEAT_DECODE_ASSISTS ? " decode-assists" : "",
	       f & SVM_FEAT_FLUSH_BY_ASID
		   ? " flush-by-asid"
		   : " (no flush-by-asid: full flushes when needed)",
	       f & SVM_FEAT_VMCB_CLEAN ? " vmcb-clean" : "",
	       f & SVM_FEAT_VGIF ? " vgif" : "");
	return &svm_ops;
}

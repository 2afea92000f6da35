/* SPDX-License-Identifier: MIT */
/*
 * The Intel VT-x backend of struct hvm_ops: events, exits and the VM-entry
 * loop (the other files: backend.h).
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/x86.h>
#include "backend.h"

#define EXC_DB 1

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
		/*
		 * VM entry refuses an NMI in these shadows (§26.3.1.5), and
		 * with virtual NMIs the CPU blocks NMIs from an injected one
		 * until its IRET (§25.3, §26.6.1.2). NMI-window exiting, which
		 * exists exactly with virtual NMIs (§A.3.2), exits once it
		 * can go in instead of waiting for the next exit.
		 */
		if (x->intr_state &
		    (INTR_BLOCK_STI | INTR_BLOCK_MOVSS | INTR_BLOCK_NMI)) {
			if (vmx_caps.pin & PIN_VIRTUAL_NMIS)
				x->proc |= PROC_NMI_WINDOW_EXITING;
			return false;
		}
		x->proc &= ~PROC_NMI_WINDOW_EXITING;
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
		if (vmx_caps.misc & VMX_MISC_ZERO_LEN_INJECT)
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

static void vmx_dump_events(struct vcpu *v)
{
	const struct vmx_vcpu *x = to_vmx(v);

	printk("  VMX: interruptibility %x, entry event %x, interrupt window "
	       "exit %s\n",
	       x->intr_state, x->event.info,
	       (x->proc & PROC_INTR_WINDOW_EXITING) ? "on" : "off");
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
	if (type == INTR_TYPE_NMI && (vmx_caps.pin & PIN_VIRTUAL_NMIS))
		set_intr_state(x, x->intr_state & ~INTR_BLOCK_NMI);
	ev.info = info & (INTR_INFO_VALID | INTR_INFO_DELIVER_ERR |
			  INTR_INFO_TYPE_MASK | INTR_INFO_VECTOR_MASK);
	x->event = ev;
}

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
	if ((val & ~vmx_caps.cr4_guest_allowed) || (val & X86_CR4_VMXE) ||
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

/* Exits that need nothing but a new name (SDM vol. 3D appendix C). */
static const uint8_t exit_reasons[] = {
    [VMX_EXIT_EXTERNAL_INTR] = EXIT_EXTINT,
    [VMX_EXIT_PREEMPT_TIMER] = EXIT_DEADLINE,
    [VMX_EXIT_TRIPLE_FAULT] = EXIT_SHUTDOWN,
    [VMX_EXIT_INIT] = EXIT_INIT,
    [VMX_EXIT_INTR_WINDOW] = EXIT_INTR_WINDOW,
    [VMX_EXIT_NMI_WINDOW] = EXIT_INTR_WINDOW,
    [VMX_EXIT_CPUID] = EXIT_CPUID,
    [VMX_EXIT_HLT] = EXIT_HLT,
    [VMX_EXIT_VMCALL] = EXIT_HYPERCALL,
    [VMX_EXIT_RDMSR] = EXIT_MSR_READ,
    [VMX_EXIT_WRMSR] = EXIT_MSR_WRITE,
    [VMX_EXIT_XSETBV] = EXIT_XSETBV,
    [VMX_EXIT_PAUSE] = EXIT_PAUSE,
    /* Instructions guests are not shown: #UD (hvm/exit.c). */
    [VMX_EXIT_GETSEC] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMCLEAR] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMLAUNCH] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMPTRLD] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMPTRST] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMREAD] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMRESUME] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMWRITE] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMXOFF] = EXIT_VIRT_INSN,
    [VMX_EXIT_VMXON] = EXIT_VIRT_INSN,
    [VMX_EXIT_INVEPT] = EXIT_VIRT_INSN,
    [VMX_EXIT_INVVPID] = EXIT_VIRT_INSN,
    [VMX_EXIT_MONITOR] = EXIT_VIRT_INSN,
    [VMX_EXIT_MWAIT] = EXIT_VIRT_INSN,
};

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
 * A #DB exit leaves DR6 alone and reports what the CPU would have put
 * there in the exit qualification (§28.1, §28.2.1): the guest's DR6 gets
 * it, as delivery would have done, and is loaded from then on. ICEBP's
 * #DB exits at the ICEBP itself, as an instruction would (§27.2.2 note):
 * the common code skips it and injects the #DB. After any other #DB in an
 * STI or MOV SS shadow with RFLAGS.TF set, the single-step trap is still
 * owed, and VM entry checks that the pending-debug-exceptions field says
 * so (§26.3.1.5); the CPU does not set it for #DB exits.
 */
static enum exit_reason debug_exit(struct vmx_vcpu *x, uint32_t info,
				   uint64_t qual)
{
	if ((info & INTR_INFO_TYPE_MASK) == INTR_TYPE_PRIV_SW_EXC)
		return EXIT_ICEBP;
	x->drs.dr6 =
	    (x->drs.dr6 & ~DR6_TRAPS) | (qual & (DR6_TRAPS | DR6_BD | DR6_BS));
	x->dr_active = true;
	x->proc &= ~PROC_MOV_DR_EXITING;
	if ((x->rflags & X86_RFLAGS_TF) &&
	    (x->intr_state & (INTR_BLOCK_STI | INTR_BLOCK_MOVSS)))
		vmwrite(VMCS_GUEST_PENDING_DBG,
			vmread(VMCS_GUEST_PENDING_DBG) | DR6_BS);
	return EXIT_EXCEPTION;
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
		if (e->exc.vector == EXC_DB)
			e->reason = debug_exit(x, info, qual);
		e->exc.has_error = info & INTR_INFO_DELIVER_ERR;
		if (e->exc.has_error)
			e->exc.error = vmread(VMCS_EXIT_INTR_ERROR);
		e->exc.cr2 = qual;
		break;
	}
	case VMX_EXIT_IO:
		exit_io(qual, e);
		break;
	case VMX_EXIT_MOV_DR:
		/*
		 * The guest's first use of a debug register: from now on its
		 * DR0-DR3 and DR6 are loaded at each entry, and the MOV runs
		 * again, natively (as Xen's lazy switch).
		 */
		x->dr_active = true;
		x->proc &= ~PROC_MOV_DR_EXITING;
		return false;
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
		    (vmx_caps.pin & PIN_VIRTUAL_NMIS) &&
		    !(vmread(VMCS_IDT_VECTORING_INFO) & INTR_INFO_VALID))
			set_intr_state(x, x->intr_state | INTR_BLOCK_NMI);
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		printk("d%u v%u: EPT misconfiguration for guest-physical %lx\n",
		       v->dom->id, v->id, vmread(VMCS_GUEST_PHYSICAL_ADDR));
		e->reason = EXIT_INVALID;
		break;
	default:
		e->reason =
		    basic < ARRAY_SIZE(exit_reasons) && exit_reasons[basic]
			? exit_reasons[basic]
			: EXIT_UNKNOWN;
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
	case EXIT_ICEBP:
		e->insn_len = vmread(VMCS_EXIT_INSN_LEN);
		break;
	default:
		break;
	}
	return true;
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
	    deadline > now ? (deadline - now) >> vmx_caps.preempt_rate : 0;

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
	bool preempt_timer = vmx_caps.pin & PIN_PREEMPT_TIMER;
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
		if (x->dr_active)
			drs_load(&x->drs, true);
		hvm_msrs_guest_enter(v);
		rc = vmx_enter(v->gpr, x->launched);
		hvm_msrs_guest_exit(v);
		if (x->dr_active)
			drs_save(&x->drs, true);
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

const struct hvm_ops vmx_ops = {
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
    .dump_events = vmx_dump_events,
    .p2m_entry = vmx_p2m_entry,
    .p2m_table_entry = vmx_p2m_table_entry,
    .p2m_present = vmx_p2m_present,
    .p2m_is_large = vmx_p2m_is_large,
    .p2m_flush = vmx_p2m_flush,
    .guest_limits = vmx_guest_limits,
};

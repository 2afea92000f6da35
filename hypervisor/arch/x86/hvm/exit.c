/* SPDX-License-Identifier: MIT */
/*
 * One handler for the neutral exit reasons of both vendors. Everything
 * read from the guest here (registers, instruction bytes, addresses) is
 * untrusted: a guest that gives Keel something it cannot handle is
 * stopped, Keel is not.
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/fpu.h>
#include <keel/guest_mem.h>
#include <keel/hvm_exit.h>
#include <keel/hypercall.h>
#include <keel/sched.h>
#include <keel/trace.h>
#include <keel/x86.h>

#define EXC_DB 1
#define EXC_UD 6
#define EXC_GP 13
#define EXC_AC 17

void hvm_inject_gp(struct vcpu *v)
{
	hvm->inject_event(v, EVENT_EXCEPTION, EXC_GP, true, 0);
}

void hvm_inject_ud(struct vcpu *v)
{
	hvm->inject_event(v, EVENT_EXCEPTION, EXC_UD, false, 0);
}

/* Opcode bytes (after prefixes) of the instructions whose exits we skip. */
static const struct {
	enum exit_reason reason;
	uint8_t len;
	uint8_t op[3];
} known_insns[] = {
    {EXIT_CPUID, 2, {0x0F, 0xA2}},
    {EXIT_MSR_READ, 2, {0x0F, 0x32}},
    {EXIT_MSR_WRITE, 2, {0x0F, 0x30}},
    {EXIT_HLT, 1, {0xF4}},
    {EXIT_HYPERCALL, 3, {0x0F, 0x01, 0xD9}}, /* VMMCALL */
    {EXIT_HYPERCALL, 3, {0x0F, 0x01, 0xC1}}, /* VMCALL */
    {EXIT_PAUSE, 1, {0x90}},
    {EXIT_XSETBV, 3, {0x0F, 0x01, 0xD1}},
    {EXIT_ICEBP, 1, {0xF1}},
};

/*
 * Without next-RIP (QEMU TCG, older AMD) the length comes from the bytes
 * at RIP, which also proves the exit matches the instruction (TCG reports
 * RDTSCP as RDTSC, for one).
 */
int hvm_skip_insn(struct vcpu *v, const struct vm_exit *e)
{
	struct guest_state s;
	struct insn_prefixes pfx;
	uint8_t buf[INSN_MAX_LEN];
	int n, p;

	hvm->get_state(v, &s);
	if (e->insn_len) {
		s.rip += e->insn_len;
		hvm->set_state(v, &s);
		return 0;
	}
	n = guest_fetch_insn(v, &s, buf, sizeof(buf));
	if (n <= 0)
		return -EFAULT;
	if (insn_prefixes(buf, (size_t)n, guest_insn_mode(&s), &pfx))
		return -EINVAL;
	p = pfx.len;
	for (unsigned i = 0; i < ARRAY_SIZE(known_insns); i++) {
		if (known_insns[i].reason != e->reason ||
		    p + known_insns[i].len > n ||
		    memcmp(buf + p, known_insns[i].op, known_insns[i].len))
			continue;
		s.rip += p + known_insns[i].len;
		hvm->set_state(v, &s);
		return 0;
	}
	return -EINVAL;
}

static void skip_or_crash(struct vcpu *v, const struct vm_exit *e)
{
	if (hvm_skip_insn(v, e))
		domain_crash(v->dom, v,
			     "cannot decode the %s instruction at the exit",
			     exit_reason_names[e->reason]);
}

static void handle_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t r[4];

	hvm_cpuid(v, (uint32_t)v->gpr[GPR_RAX], (uint32_t)v->gpr[GPR_RCX], r);
	v->gpr[GPR_RAX] = r[0];
	v->gpr[GPR_RBX] = r[1];
	v->gpr[GPR_RCX] = r[2];
	v->gpr[GPR_RDX] = r[3];
	skip_or_crash(v, e);
}

static void handle_msr(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t msr = (uint32_t)v->gpr[GPR_RCX];
	uint64_t val;

	if (e->reason == EXIT_MSR_READ) {
		if (hvm_msr_read(v, msr, &val)) {
			hvm_inject_gp(v);
			return;
		}
		v->gpr[GPR_RAX] = (uint32_t)val;
		v->gpr[GPR_RDX] = val >> 32;
	} else {
		val = (v->gpr[GPR_RDX] << 32) | (uint32_t)v->gpr[GPR_RAX];
		if (hvm_msr_write(v, msr, val)) {
			hvm_inject_gp(v);
			return;
		}
	}
	skip_or_crash(v, e);
}

static void handle_io(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t val = (uint32_t)v->gpr[GPR_RAX];
	uint64_t mask =
	    e->io.size == 4 ? 0xFFFFFFFFULL : (1ULL << (8 * e->io.size)) - 1;
	int rc;

	if (e->io.string) {
		domain_crash(v->dom, v, "string I/O to emulated port %x",
			     e->io.port);
		return;
	}
	rc = hvm_io(v, e->io.port, e->io.size, e->io.in, &val);
	if (rc < 0) {
		hvm_inject_gp(v);
		return;
	}
	/* An I/O request: IN's value reaches RAX when Dom0 answers. */
	if (e->io.in && rc != HVM_IO_DEFERRED) {
		if (e->io.size == 4)
			v->gpr[GPR_RAX] = val; /* 32-bit writes zero-extend */
		else
			v->gpr[GPR_RAX] =
			    (v->gpr[GPR_RAX] & ~mask) | (val & mask);
	}
	skip_or_crash(v, e);
}

static void handle_xsetbv(struct vcpu *v, const struct vm_exit *e)
{
	uint64_t val = (v->gpr[GPR_RDX] << 32) | (uint32_t)v->gpr[GPR_RAX];

	if (fpu_set_xcr0(v, (uint32_t)v->gpr[GPR_RCX], val)) {
		hvm_inject_gp(v);
		return;
	}
	skip_or_crash(v, e);
}

static void handle_hlt(struct vcpu *v, const struct vm_exit *e)
{
	skip_or_crash(v, e);
	if (v->state == VCPU_RUNNABLE && vlapic_pending_irq(&v->vlapic) < 0 &&
	    !v->nmi_pending) {
		v->state = VCPU_BLOCKED;
		vcpu_sleep(v);
		trace_vcpu(v, KEEL_TRACE_SCHED, KEEL_TRACE_SCHED_BLOCK,
			   (uint64_t)v->pcpu);
	}
}

/*
 * #DB and #AC are intercepted only to be given back: a guest that makes
 * the CPU deliver one of them while delivering the same one (an #AC frame
 * pushed misaligned at CPL3, a data breakpoint on the #DB stack) would
 * otherwise keep a real CPU in microcode for good, with no instruction
 * boundary at which Keel's timer could end the run (CVE-2015-5307,
 * CVE-2015-8104, Xen XSA-156). With the intercept each delivery is an
 * exit, so the loop costs the guest its own time only. The backends have
 * already put the #DB's DR6 where the guest reads it. #AC always pushes an
 * error code of 0 (SDM vol. 3A §6.15).
 */
static void reflect_exception(struct vcpu *v, const struct vm_exit *e)
{
	switch (e->exc.vector) {
	case EXC_DB:
		hvm->inject_event(v, EVENT_EXCEPTION, EXC_DB, false, 0);
		break;
	case EXC_AC:
		hvm->inject_event(v, EVENT_EXCEPTION, EXC_AC, true, 0);
		break;
	default:
		domain_crash(v->dom, v, "exception %u in vCPU %u",
			     e->exc.vector, v->id);
	}
}

/* ICEBP is a trap: #DB follows it, with RIP past it and DR6 unchanged
 * (SDM vol. 3A §17.3.1.2 and the INT1 entry of vol. 2). */
static void handle_icebp(struct vcpu *v, const struct vm_exit *e)
{
	if (hvm_skip_insn(v, e)) {
		domain_crash(v->dom, v, "cannot decode the ICEBP at the exit");
		return;
	}
	hvm->inject_event(v, EVENT_EXCEPTION, EXC_DB, false, 0);
}

static void handle_hypercall(struct vcpu *v, const struct vm_exit *e)
{
	struct guest_state s;

	hvm->get_state(v, &s);
	if (s.cpl != 0) {
		hvm_inject_ud(v);
		return;
	}
	/*
	 * Locking rule: a hypercall runs without its caller's domain lock. It
	 * reads only the caller's registers (its vCPU cannot run elsewhere
	 * meanwhile) and acts on other domains under their own locks, and
	 * some calls (domain destruction) wait for other CPUs, which may need
	 * the caller's lock to finish their own exits.
	 */
	spin_unlock(&v->dom->lock);
	v->gpr[GPR_RAX] = hypercall_dispatch(v);
	spin_lock(&v->dom->lock);
	skip_or_crash(v, e);
}

void hvm_handle_exit(struct vcpu *v, struct vm_exit *e)
{
	v->exits[e->reason]++;
	if (e->irq_requeue) {
		vlapic_irq_requeue(&v->vlapic, e->irq_vector);
		__atomic_store_n(&v->irqs_injected, v->irqs_injected - 1,
				 __ATOMIC_RELAXED);
	}
	switch (e->reason) {
	case EXIT_EXTINT:
	case EXIT_NMI:
	case EXIT_PAUSE:
	case EXIT_DEADLINE:
		/*
		 * The host takes the interrupt; after PAUSE or a passed run
		 * deadline the scheduler decides what runs next.
		 */
		break;
	case EXIT_INTR_WINDOW:
		hvm->request_intr_window(v, false);
		break;
	case EXIT_CPUID:
		handle_cpuid(v, e);
		break;
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		handle_msr(v, e);
		break;
	case EXIT_IO:
		handle_io(v, e);
		break;
	case EXIT_NPF:
		hvm_npf(v, e);
		break;
	case EXIT_HLT:
		handle_hlt(v, e);
		break;
	case EXIT_XSETBV:
		handle_xsetbv(v, e);
		break;
	case EXIT_HYPERCALL:
		handle_hypercall(v, e);
		break;
	case EXIT_VIRT_INSN:
		hvm_inject_ud(v);
		break;
	case EXIT_SHUTDOWN:
		domain_crash(v->dom, v, "triple fault (shutdown) on vCPU %u",
			     v->id);
		break;
	case EXIT_INVALID:
		domain_crash(v->dom, v, "vCPU %u state rejected by the CPU",
			     v->id);
		break;
	case EXIT_EXCEPTION:
		reflect_exception(v, e);
		break;
	case EXIT_ICEBP:
		handle_icebp(v, e);
		break;
	case EXIT_INIT:
		/* A physical INIT aimed at this CPU: nothing for the guest. */
		break;
	default:
		domain_crash(v->dom, v, "unhandled exit %s (vendor code %lx)",
			     exit_reason_names[e->reason], e->raw);
	}
}

/*
 * Whether v's next instruction is HLT. `sti; hlt` must not take an
 * interrupt between the two (the STI shadow), or the guest halts after
 * its wake-up has already been handled. QEMU's TCG emulation of SVM can
 * exit at that HLT without reporting the shadow; waiting for the HLT exit
 * is correct whether or not a shadow is reported, as an interrupt may
 * always arrive an instruction later.
 */
static bool about_to_halt(struct vcpu *v)
{
	struct guest_state s;
	uint8_t op;

	hvm->get_state(v, &s);
	return guest_fetch_insn(v, &s, &op, 1) == 1 && op == 0xF4;
}

void hvm_deliver_events(struct vcpu *v)
{
	int vec;

	if (v->nmi_pending && hvm->inject_event(v, EVENT_NMI, 2, false, 0)) {
		v->nmi_pending = false;
		trace_vcpu(v, KEEL_TRACE_INJECT, KEEL_TRACE_INJ_NMI, 2);
	}
	vec = vlapic_pending_irq(&v->vlapic);
	if (vec < 0) {
		hvm->request_intr_window(v, false);
		return;
	}
	if (!hvm->interruptible(v)) {
		hvm->request_intr_window(v, true);
	} else if (about_to_halt(v)) {
		/* Its HLT exits at once; the interrupt follows the HLT. */
		hvm->request_intr_window(v, false);
	} else if (hvm->inject_event(v, EVENT_EXTINT, (uint8_t)vec, false, 0)) {
		vlapic_irq_injected(&v->vlapic, (uint8_t)vec);
		trace_vcpu(v, KEEL_TRACE_INJECT, KEEL_TRACE_INJ_IRQ,
			   (uint64_t)vec);
		__atomic_store_n(&v->irqs_injected, v->irqs_injected + 1,
				 __ATOMIC_RELAXED);
		hvm->request_intr_window(v, false);
	} else {
		hvm->request_intr_window(v, true);
	}
}

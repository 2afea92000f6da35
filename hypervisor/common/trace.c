/* SPDX-License-Identifier: MIT */
/*
 * Trace rings (ABI and ring protocol in public/keel.h, docs/trace.md):
 * the writers. Enabling, disabling and describing them is trace_ctl.c.
 *
 * Each online CPU gets 2^n contiguous pages of Keel's memory when Dom0
 * enables tracing; they are mapped read-only into Dom0 at their own
 * address (Dom0 is identity-mapped), so keel.ko maps them into `kl trace`
 * and nothing is copied per event. Only the CPU that owns a ring writes
 * it, and never with interrupts on, so a writer needs no lock and no
 * atomic read-modify-write. The writer never waits: the mapping is
 * read-only, so Keel cannot know how far the reader got, and the newest
 * records are the ones worth keeping; it overwrites the oldest and the
 * reader counts what it lost.
 */
#include <keel/hvm.h>
#include <keel/percpu.h>
#include <keel/trace.h>
#include <keel/x86.h>

bool trace_on;
struct keel_trace_ring *trace_rings[MAX_CPUS];

/* Keel's exit reasons in the ABI's numbering. */
static const uint8_t abi_exit[EXIT_NR] = {
    [EXIT_EXTINT] = KEEL_TRACE_EXIT_EXTINT,
    [EXIT_NMI] = KEEL_TRACE_EXIT_NMI,
    [EXIT_INTR_WINDOW] = KEEL_TRACE_EXIT_INTR_WINDOW,
    [EXIT_CPUID] = KEEL_TRACE_EXIT_CPUID,
    [EXIT_MSR_READ] = KEEL_TRACE_EXIT_MSR_READ,
    [EXIT_MSR_WRITE] = KEEL_TRACE_EXIT_MSR_WRITE,
    [EXIT_IO] = KEEL_TRACE_EXIT_IO,
    [EXIT_NPF] = KEEL_TRACE_EXIT_NPF,
    [EXIT_HLT] = KEEL_TRACE_EXIT_HLT,
    [EXIT_HYPERCALL] = KEEL_TRACE_EXIT_HYPERCALL,
    [EXIT_SHUTDOWN] = KEEL_TRACE_EXIT_SHUTDOWN,
    [EXIT_EXCEPTION] = KEEL_TRACE_EXIT_EXCEPTION,
    [EXIT_INIT] = KEEL_TRACE_EXIT_INIT,
    [EXIT_DEADLINE] = KEEL_TRACE_EXIT_DEADLINE,
    [EXIT_XSETBV] = KEEL_TRACE_EXIT_XSETBV,
    [EXIT_PAUSE] = KEEL_TRACE_EXIT_PAUSE,
    [EXIT_VIRT_INSN] = KEEL_TRACE_EXIT_VIRT_INSN,
    [EXIT_ICEBP] = KEEL_TRACE_EXIT_ICEBP,
    [EXIT_INVALID] = KEEL_TRACE_EXIT_INVALID,
    [EXIT_UNKNOWN] = KEEL_TRACE_EXIT_UNKNOWN,
};

static struct keel_trace_rec *next_slot(struct keel_trace_ring *r)
{
	struct keel_trace_rec *slots = (struct keel_trace_rec *)(r + 1);

	return &slots[r->head % r->nr_slots];
}

/* The record is complete before the head that shows it (release). */
static void publish(struct keel_trace_ring *r)
{
	__atomic_store_n(&r->head, r->head + 1, __ATOMIC_RELEASE);
}

void trace_write(uint16_t domid, uint16_t vcpu, uint8_t kind, uint8_t reason,
		 uint64_t qual)
{
	struct keel_trace_ring *r = trace_rings[this_cpu()->cpu];
	struct keel_trace_rec *rec = next_slot(r);

	*rec = (struct keel_trace_rec){.tsc = rdtsc(),
				       .domid = domid,
				       .vcpu = vcpu,
				       .kind = kind,
				       .reason = reason,
				       .qual = qual};
	publish(r);
}

void trace_write_exit(const struct vcpu *v, const struct vm_exit *e,
		      uint64_t exited, uint64_t done)
{
	struct keel_trace_ring *r = trace_rings[this_cpu()->cpu];
	struct keel_trace_rec *rec = next_slot(r);
	uint64_t qual = 0, cycles = done - exited;
	uint16_t info = v->ioreq.waiting ? KEEL_TRACE_IOREQ : 0;

	switch (e->reason) {
	case EXIT_IO:
		qual = e->io.port;
		info |= (e->io.size & KEEL_TRACE_IO_SIZE_MASK) |
			(e->io.in ? KEEL_TRACE_IO_IN : 0) |
			(e->io.string ? KEEL_TRACE_IO_STRING : 0);
		break;
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		qual = (uint32_t)v->gpr[GPR_RCX]; /* the handlers keep RCX */
		break;
	case EXIT_NPF:
		qual = e->npf.gpa;
		info |= (e->npf.write ? KEEL_TRACE_NPF_WRITE : 0) |
			(e->npf.fetch ? KEEL_TRACE_NPF_FETCH : 0);
		break;
	case EXIT_EXCEPTION:
		qual = e->exc.vector;
		break;
	default:
		break;
	}
	*rec = (struct keel_trace_rec){
	    .tsc = exited,
	    .domid = (uint16_t)v->dom->id,
	    .vcpu = (uint16_t)v->id,
	    .kind = KEEL_TRACE_EXIT,
	    .reason = abi_exit[e->reason],
	    .info = info,
	    .qual = qual,
	    .cycles = cycles > UINT32_MAX ? UINT32_MAX : (uint32_t)cycles};
	publish(r);
}

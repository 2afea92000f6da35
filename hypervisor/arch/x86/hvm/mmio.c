/* SPDX-License-Identifier: MIT */
/*
 * Nested page faults. Pages of emulated devices (the MMIO ranges in the
 * domain's handler table: vLAPIC, vIOAPIC) are never mapped, so accesses
 * fault here and are emulated by decoding the instruction. Dom0 gets any
 * other non-RAM address (device MMIO, firmware tables) mapped 1:1 on first
 * touch. Everything else is a guest error. A load that became an I/O
 * request (ioreq.c) retires now and gets its value when Dom0 answers.
 */
#include <keel/decode.h>
#include <keel/domain.h>
#include <keel/guest_mem.h>
#include <keel/hvm_exit.h>
#include <keel/ioreq.h>
#include <keel/memmap.h>
#include <keel/p2m.h>
#include <keel/x86.h>

static void emulate(struct vcpu *v, uint64_t gpa,
		    const struct hvm_io_handler *h)
{
	struct guest_state s;
	struct mmio_insn in;
	uint8_t bytes[INSN_MAX_LEN];
	uint64_t val;
	int n, rc;

	hvm->get_state(v, &s);
	n = guest_fetch_insn(v, &s, bytes, sizeof(bytes));
	if (n <= 0 ||
	    insn_decode_mmio(bytes, (size_t)n, guest_insn_mode(&s), &in)) {
		domain_crash(v->dom, v,
			     "cannot emulate MMIO at %lx: instruction at %lx "
			     "(%02x %02x %02x %02x)",
			     gpa, s.rip, n > 0 ? bytes[0] : 0,
			     n > 1 ? bytes[1] : 0, n > 2 ? bytes[2] : 0,
			     n > 3 ? bytes[3] : 0);
		return;
	}
	if (in.write) {
		val = insn_mmio_store_value(&in, v->gpr);
		rc = h->ops->write(h, v, gpa, in.size, val);
	} else {
		rc = h->ops->read(h, v, gpa, in.size, &val);
	}
	if (rc < 0) {
		/* A fault leaves RIP at the faulting instruction. */
		hvm_inject_gp(v);
		return;
	}
	/* Deferred to Dom0: the load finishes when the request does. */
	if (!in.write && rc == HVM_IO_DEFERRED)
		ioreq_defer_load(v, &in);
	else if (!in.write)
		insn_mmio_load_result(&in, v->gpr, val);
	s.rip += in.len;
	hvm->set_state(v, &s);
}

/*
 * Each 2 MiB of device memory Dom0 touches takes a page-table page from
 * Keel's frame pool, which a Dom0 touching its whole address space would
 * drain: the pages its on-demand mappings add are capped (a Linux Dom0
 * needs a few).
 */
#define DOM0_MMIO_TABLES_MAX 1024

static void dom0_map_mmio(struct domain *d, struct vcpu *v, uint64_t page)
{
	uint64_t before = d->p2m_pages, hpa;

	/*
	 * Another vCPU faulted on the same page at the same time and mapped
	 * it first: the access is simply retried. Mapping it again would
	 * replace a present entry and wait, with d->lock held, for every CPU
	 * in d to leave its guest (vcpu_loop_evict_domain()).
	 */
	if (!p2m_lookup(d, page, &hpa))
		return;
	if (d->mmio_p2m_pages >= DOM0_MMIO_TABLES_MAX) {
		domain_crash(d, v,
			     "MMIO %lx: over Dom0's quota of %u page-table "
			     "pages",
			     page, DOM0_MMIO_TABLES_MAX);
		return;
	}
	if (p2m_map(d, page, page, PAGE_SIZE, P2M_RWX,
		    !memmap_is_firmware(page))) {
		domain_crash(d, v, "out of memory mapping MMIO %lx", page);
		return;
	}
	if (d->p2m_pages > before)
		d->mmio_p2m_pages += d->p2m_pages - before;
}

void hvm_npf(struct vcpu *v, struct vm_exit *e)
{
	struct domain *d = v->dom;
	uint64_t gpa = e->npf.gpa, page = gpa & ~(PAGE_SIZE - 1);
	const struct hvm_io_handler *h = hvm_io_find(v, HVM_IO_MMIO, gpa);

	if (h) {
		emulate(v, gpa, h);
		return;
	}
	if (d->privileged && !memmap_is_ram(page) && !memmap_is_private(page)) {
		dom0_map_mmio(d, v, page);
		return;
	}
	struct guest_state s;

	hvm->get_state(v, &s);
	domain_crash(d, v, "%s access to %lx outside its memory (rip %lx)",
		     e->npf.fetch   ? "execute"
		     : e->npf.write ? "write"
				    : "read",
		     gpa, s.rip);
}

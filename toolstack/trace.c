/* SPDX-License-Identifier: MIT */
/* `kl trace`'s records: ring reading, filters, text, JSON, statistics and
 * the record file (kl/trace.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kl/domains.h>
#include <kl/trace.h>

size_t kl_trace_ring_read(const struct keel_trace_ring *r, uint64_t *pos,
			  struct keel_trace_rec *out, size_t max,
			  uint64_t *lost)
{
	const struct keel_trace_rec *slots =
	    (const struct keel_trace_rec *)(r + 1);
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t slots_n = r->nr_slots, first = *pos, n, valid_from;
	size_t copied = 0;

	if (!slots_n || head <= first)
		return 0;
	if (head > slots_n && first < head - slots_n)
		first = head - slots_n;
	n = head - first;
	if (n > max)
		n = max;
	for (uint64_t i = 0; i < n; i++)
		out[i] = slots[(first + i) % slots_n];
	/* What Keel wrote meanwhile may have replaced the oldest copies. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	valid_from = head > slots_n ? head - slots_n : 0;
	for (uint64_t i = 0; i < n; i++)
		if (first + i >= valid_from)
			out[copied++] = out[i];
	*lost += (first + n - *pos) - copied;
	*pos = first + n;
	return copied;
}

static int by_tsc(const void *a, const void *b)
{
	const struct kl_trace_event *x = a, *y = b;

	if (x->rec.tsc != y->rec.tsc)
		return x->rec.tsc < y->rec.tsc ? -1 : 1;
	return x->cpu < y->cpu ? -1 : x->cpu > y->cpu;
}

void kl_trace_sort(struct kl_trace_event *ev, size_t n)
{
	if (n > 1)
		qsort(ev, n, sizeof(*ev), by_tsc);
}

static const struct {
	const char *name, *explain;
} exits[KEEL_TRACE_EXIT_NR] = {
    [KEEL_TRACE_EXIT_EXTINT] =
	{"extint",
	 "A physical interrupt arrived while the guest ran (SVM INTR "
	 "intercept, VMX external-interrupt exiting); the guest did nothing. "
	 "Keel let its own handler run (its timer, a device line it forwards "
	 "to Dom0) and chose what runs next."},
    [KEEL_TRACE_EXIT_NMI] = {"nmi",
			     "A physical NMI arrived while the guest ran. "
			     "Keel handled it on the host and resumed."},
    [KEEL_TRACE_EXIT_INTR_WINDOW] =
	{"intr-window",
	 "An interrupt was pending for the vCPU but the guest could not take "
	 "it (interrupts off or an STI/MOV SS shadow), so Keel asked to be "
	 "told when it can (SVM VINTR, VMX interrupt-window exiting); now it "
	 "can. Keel dropped the request; it injects the interrupt before the "
	 "next entry."},
    [KEEL_TRACE_EXIT_CPUID] =
	{"cpuid",
	 "The guest ran CPUID, which always exits (VMX unconditionally, SVM "
	 "through Keel's intercept). Keel answered from the vCPU's CPUID "
	 "policy (host values filtered, the Keel and KVM leaves added) and "
	 "moved RIP past it."},
    [KEEL_TRACE_EXIT_MSR_READ] =
	{"msr-read",
	 "The guest ran RDMSR on an MSR Keel intercepts (SVM MSR permission "
	 "map, VMX MSR bitmaps). Keel emulated it (x2APIC registers, "
	 "kvmclock, TSC deadline, ...) or injected #GP for an MSR it does "
	 "not know, and moved RIP past it."},
    [KEEL_TRACE_EXIT_MSR_WRITE] =
	{"msr-write",
	 "The guest ran WRMSR on an MSR Keel intercepts (SVM MSR permission "
	 "map, VMX MSR bitmaps). Keel checked and applied the value or "
	 "injected #GP, and moved RIP past it."},
    [KEEL_TRACE_EXIT_IO] =
	{"io",
	 "The guest ran IN or OUT on a port Keel intercepts (SVM I/O "
	 "permission map, VMX I/O bitmaps). Keel emulated it (its 16550 at "
	 "0x3F8, a DomU's power and boot-timer ports), posted an I/O request "
	 "to the domain's device model in Dom0 for a registered range, "
	 "dropped a write to (or read all-ones from) an unclaimed DomU port, "
	 "or injected #GP where nothing claims it."},
    [KEEL_TRACE_EXIT_NPF] =
	{"npf",
	 "The guest touched guest-physical memory its nested page tables do "
	 "not map that way (SVM nested page fault, VMX EPT violation). Keel "
	 "decoded the instruction and emulated the MMIO access (vLAPIC, "
	 "vIOAPIC, or an I/O request to Dom0's device model), mapped a "
	 "device page for Dom0, or stopped the domain for an access outside "
	 "its memory."},
    [KEEL_TRACE_EXIT_HLT] =
	{"hlt",
	 "The guest ran HLT: it has nothing to do. Keel moved RIP past it "
	 "and, with no interrupt pending, blocked the vCPU until its timer "
	 "or an interrupt wakes it; the CPU runs something else."},
    [KEEL_TRACE_EXIT_HYPERCALL] =
	{"hypercall",
	 "The guest ran VMMCALL (AMD) or VMCALL (Intel) to call Keel. From "
	 "CPL 0 Keel ran the call named in RAX and put the result in RAX "
	 "(else it injected #UD), and moved RIP past it."},
    [KEEL_TRACE_EXIT_SHUTDOWN] =
	{"shutdown", "The guest triple-faulted (SVM SHUTDOWN, VMX triple "
		     "fault). Keel stopped the domain as crashed."},
    [KEEL_TRACE_EXIT_EXCEPTION] =
	{"exception",
	 "The guest raised #DB or #AC, which Keel intercepts only to give "
	 "them back: otherwise a guest could keep the CPU delivering one for "
	 "good (CVE-2015-5307, CVE-2015-8104). Keel injected it again."},
    [KEEL_TRACE_EXIT_INIT] = {"init",
			      "A physical INIT signal reached the CPU while "
			      "it ran the guest. Nothing for the guest: Keel "
			      "resumed it."},
    [KEEL_TRACE_EXIT_DEADLINE] =
	{"deadline",
	 "The run deadline Keel set at entry passed (the end of the time "
	 "slice or the vCPU's own timer; the VMX preemption timer or Keel's "
	 "host timer). The guest did nothing; Keel fired due timers and let "
	 "the scheduler choose."},
    [KEEL_TRACE_EXIT_XSETBV] =
	{"xsetbv",
	 "The guest ran XSETBV to change XCR0, which always exits. Keel "
	 "checked the value against the vCPU's features, set it or injected "
	 "#GP, and moved RIP past it."},
    [KEEL_TRACE_EXIT_PAUSE] =
	{"pause",
	 "The guest spun on PAUSE (SVM PAUSE intercept, VMX PAUSE exiting), "
	 "usually waiting for a lock a descheduled vCPU holds. Keel let the "
	 "scheduler run something else."},
    [KEEL_TRACE_EXIT_VIRT_INSN] =
	{"virt-insn",
	 "The guest ran a virtualization instruction (VMRUN, VMXON, ...). "
	 "Keel offers no nested virtualization and injected #UD."},
    [KEEL_TRACE_EXIT_ICEBP] =
	{"icebp", "The guest ran ICEBP (INT1, F1). Keel moved RIP past it "
		  "and injected the #DB it raises."},
    [KEEL_TRACE_EXIT_INVALID] =
	{"invalid", "The CPU refused to enter the vCPU: its state is "
		    "invalid. Keel stopped the domain."},
    [KEEL_TRACE_EXIT_UNKNOWN] =
	{"unknown", "The CPU exited for a reason Keel does not handle. Keel "
		    "stopped the domain."},
};

const char *kl_trace_exit_name(unsigned reason)
{
	return reason < KEEL_TRACE_EXIT_NR ? exits[reason].name : NULL;
}

const char *kl_trace_exit_explain(unsigned reason)
{
	return reason < KEEL_TRACE_EXIT_NR ? exits[reason].explain : NULL;
}

int kl_trace_parse_reasons(const char *s, uint32_t *mask)
{
	*mask = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		unsigned r;

		for (r = 1; r < KEEL_TRACE_EXIT_NR; r++)
			if (strlen(exits[r].name) == len &&
			    !strncmp(exits[r].name, s, len))
				break;
		if (r == KEEL_TRACE_EXIT_NR)
			return -EINVAL;
		*mask |= 1u << r;
		s += len;
		if (*s == ',' && !*++s)
			return -EINVAL;
	}
	return *mask ? 0 : -EINVAL;
}

int kl_trace_names_set(struct kl_trace_names *n, uint32_t domid,
		       const char *name)
{
	size_t i;

	for (i = 0; i < n->nr && n->e[i].domid != domid; i++)
		;
	if (i == n->nr) {
		void *grown = realloc(n->e, (n->nr + 1) * sizeof(*n->e));

		if (!grown)
			return -ENOMEM;
		n->e = grown;
		n->nr++;
		n->e[i].domid = domid;
	}
	snprintf(n->e[i].name, sizeof(n->e[i].name), "%.*s",
		 (int)KEEL_DOMAIN_NAME_LEN, name);
	return 0;
}

const char *kl_trace_names_get(const struct kl_trace_names *n, uint32_t domid)
{
	for (size_t i = 0; i < n->nr; i++)
		if (n->e[i].domid == domid)
			return n->e[i].name;
	return NULL;
}

void kl_trace_names_free(struct kl_trace_names *n)
{
	free(n->e);
	n->e = NULL;
	n->nr = 0;
}

static bool domain_matches(const char *want, const struct kl_trace_names *names,
			   uint32_t domid)
{
	const char *name = kl_trace_names_get(names, domid);
	char *end;
	unsigned long id = strtoul(want, &end, 10);

	if (*want && !*end)
		return id == domid;
	return name && !strcmp(name, want);
}

bool kl_trace_match(const struct kl_trace_filter *f,
		    const struct kl_trace_names *names,
		    const struct keel_trace_rec *rec)
{
	if (f->domain && !domain_matches(f->domain, names, rec->domid))
		return false;
	if (f->vcpu >= 0 &&
	    (rec->kind == KEEL_TRACE_DOMAIN || rec->vcpu != f->vcpu))
		return false;
	if (f->exits && (rec->kind != KEEL_TRACE_EXIT || rec->reason >= 32 ||
			 !(f->exits & (1u << rec->reason))))
		return false;
	return true;
}

double kl_trace_seconds(uint64_t tsc, uint64_t tsc0, uint64_t tsc_khz)
{
	return tsc >= tsc0 ? (double)(tsc - tsc0) / ((double)tsc_khz * 1e3)
			   : -(double)(tsc0 - tsc) / ((double)tsc_khz * 1e3);
}

double kl_trace_us(uint64_t cycles, uint64_t tsc_khz)
{
	return (double)cycles * 1e3 / (double)tsc_khz;
}

/* What Keel did with an exit, as far as the record tells. */
static const char *exit_action(const struct keel_trace_rec *r)
{
	if (r->info & KEEL_TRACE_IOREQ)
		return "dom0 device model";
	switch (r->reason) {
	case KEEL_TRACE_EXIT_IO:
		if (r->qual >= 0x3F8 && r->qual <= 0x3FF)
			return "vuart";
		if (r->domid && r->qual >= KEEL_DOMU_SLEEP_CONTROL_PORT &&
		    r->qual <= KEEL_DOMU_BOOT_TIMER_PORT)
			return "domu platform";
		return r->domid ? "unclaimed" : "keel";
	case KEEL_TRACE_EXIT_NPF:
		return "mmio";
	case KEEL_TRACE_EXIT_CPUID:
		return "cpuid policy";
	case KEEL_TRACE_EXIT_MSR_READ:
	case KEEL_TRACE_EXIT_MSR_WRITE:
		return "msr";
	case KEEL_TRACE_EXIT_HLT:
		return "halt";
	case KEEL_TRACE_EXIT_HYPERCALL:
		return "hypercall";
	case KEEL_TRACE_EXIT_INTR_WINDOW:
		return "inject";
	case KEEL_TRACE_EXIT_EXCEPTION:
	case KEEL_TRACE_EXIT_ICEBP:
		return "reflect";
	case KEEL_TRACE_EXIT_VIRT_INSN:
		return "#UD";
	case KEEL_TRACE_EXIT_SHUTDOWN:
	case KEEL_TRACE_EXIT_INVALID:
	case KEEL_TRACE_EXIT_UNKNOWN:
		return "crash";
	default:
		return "schedule";
	}
}

static const char *const sched_names[] = {
    [KEEL_TRACE_SCHED_IN] = "in",	    [KEEL_TRACE_SCHED_OUT] = "out",
    [KEEL_TRACE_SCHED_WAKE] = "wake",	    [KEEL_TRACE_SCHED_BLOCK] = "block",
    [KEEL_TRACE_SCHED_MIGRATE] = "migrate",
};
static const char *const dom_names[] = {
    [KEEL_TRACE_DOM_CREATE] = "create",
    [KEEL_TRACE_DOM_START] = "start",
    [KEEL_TRACE_DOM_PAUSE] = "pause",
    [KEEL_TRACE_DOM_UNPAUSE] = "unpause",
    [KEEL_TRACE_DOM_SHUTDOWN] = "shutdown",
    [KEEL_TRACE_DOM_CRASH] = "crash",
    [KEEL_TRACE_DOM_DESTROY] = "destroy",
};

#define NAME_OF(table, i)                                                      \
	((i) < sizeof(table) / sizeof(table[0]) && (table)[i] ? (table)[i]     \
							      : "?")

static const char *kind_name(uint8_t kind)
{
	switch (kind) {
	case KEEL_TRACE_EXIT:
		return "exit";
	case KEEL_TRACE_INJECT:
		return "inject";
	case KEEL_TRACE_SCHED:
		return "sched";
	case KEEL_TRACE_DOMAIN:
		return "domain";
	default:
		return "?";
	}
}

static const char *reason_name(const struct keel_trace_rec *r)
{
	const char *name;

	switch (r->kind) {
	case KEEL_TRACE_EXIT:
		name = kl_trace_exit_name(r->reason);
		return name ? name : "?";
	case KEEL_TRACE_INJECT:
		return r->reason == KEEL_TRACE_INJ_NMI ? "nmi" : "irq";
	case KEEL_TRACE_SCHED:
		return NAME_OF(sched_names, r->reason);
	case KEEL_TRACE_DOMAIN:
		return NAME_OF(dom_names, r->reason);
	default:
		return "?";
	}
}

/* The exit's qualifier in words ("out 0x3f8 len 1"), or "". */
static void exit_detail(char *buf, size_t len, const struct keel_trace_rec *r)
{
	switch (r->reason) {
	case KEEL_TRACE_EXIT_IO:
		snprintf(buf, len, " %s 0x%" PRIx64 " len %u%s",
			 r->info & KEEL_TRACE_IO_IN ? "in" : "out", r->qual,
			 r->info & KEEL_TRACE_IO_SIZE_MASK,
			 r->info & KEEL_TRACE_IO_STRING ? " string" : "");
		break;
	case KEEL_TRACE_EXIT_MSR_READ:
	case KEEL_TRACE_EXIT_MSR_WRITE:
		snprintf(buf, len, " 0x%" PRIx64, r->qual);
		break;
	case KEEL_TRACE_EXIT_NPF:
		snprintf(buf, len, " %s 0x%" PRIx64,
			 r->info & KEEL_TRACE_NPF_FETCH	  ? "fetch"
			 : r->info & KEEL_TRACE_NPF_WRITE ? "write"
							  : "read",
			 r->qual);
		break;
	case KEEL_TRACE_EXIT_EXCEPTION:
		snprintf(buf, len, " vector %" PRIu64, r->qual);
		break;
	default:
		buf[0] = '\0';
	}
}

void kl_trace_format(char *buf, size_t len, const struct kl_trace_event *ev,
		     uint64_t tsc0, uint64_t tsc_khz)
{
	const struct keel_trace_rec *r = &ev->rec;
	double t = kl_trace_seconds(r->tsc, tsc0, tsc_khz);
	char detail[64];

	switch (r->kind) {
	case KEEL_TRACE_EXIT:
		exit_detail(detail, sizeof(detail), r);
		snprintf(buf, len, "%.6f d%uv%u exit %s%s -> %s %.1fus", t,
			 r->domid, r->vcpu, reason_name(r), detail,
			 exit_action(r), kl_trace_us(r->cycles, tsc_khz));
		break;
	case KEEL_TRACE_INJECT:
		snprintf(buf, len, "%.6f d%uv%u inject %s vector %" PRIu64, t,
			 r->domid, r->vcpu, reason_name(r), r->qual);
		break;
	case KEEL_TRACE_SCHED:
		if (r->reason == KEEL_TRACE_SCHED_MIGRATE)
			snprintf(buf, len,
				 "%.6f d%uv%u sched migrate cpu%u -> cpu%u", t,
				 r->domid, r->vcpu, (unsigned)(r->qual >> 32),
				 (unsigned)(uint32_t)r->qual);
		else
			snprintf(buf, len, "%.6f d%uv%u sched %s cpu%d", t,
				 r->domid, r->vcpu, reason_name(r),
				 (int)(int32_t)r->qual); /* -1: none */
		break;
	default:
		snprintf(buf, len, "%.6f d%u %s %s", t, r->domid,
			 kind_name(r->kind), reason_name(r));
	}
}

void kl_trace_print_json(FILE *out, const struct kl_trace_event *ev,
			 uint64_t tsc0, uint64_t tsc_khz,
			 const struct kl_trace_names *names)
{
	const struct keel_trace_rec *r = &ev->rec;
	const char *name = kl_trace_names_get(names, r->domid);

	fprintf(out,
		"{\"t\": %.6f, \"tsc\": %" PRIu64 ", \"cpu\": %u, "
		"\"domid\": %u, \"domain\": ",
		kl_trace_seconds(r->tsc, tsc0, tsc_khz), r->tsc, ev->cpu,
		r->domid);
	if (name)
		kl_json_string(out, name);
	else
		fputs("null", out);
	fprintf(out, ", \"vcpu\": %u, \"kind\": \"%s\", \"reason\": \"%s\"",
		r->vcpu, kind_name(r->kind), reason_name(r));
	switch (r->kind) {
	case KEEL_TRACE_EXIT:
		if (r->reason == KEEL_TRACE_EXIT_IO)
			fprintf(out,
				", \"port\": %" PRIu64 ", \"dir\": \"%s\", "
				"\"size\": %u",
				r->qual,
				r->info & KEEL_TRACE_IO_IN ? "in" : "out",
				r->info & KEEL_TRACE_IO_SIZE_MASK);
		else if (r->reason == KEEL_TRACE_EXIT_MSR_READ ||
			 r->reason == KEEL_TRACE_EXIT_MSR_WRITE)
			fprintf(out, ", \"msr\": %" PRIu64, r->qual);
		else if (r->reason == KEEL_TRACE_EXIT_NPF)
			fprintf(out, ", \"gpa\": %" PRIu64, r->qual);
		else if (r->reason == KEEL_TRACE_EXIT_EXCEPTION)
			fprintf(out, ", \"vector\": %" PRIu64, r->qual);
		fprintf(out, ", \"action\": \"%s\", \"us\": %.3f",
			exit_action(r), kl_trace_us(r->cycles, tsc_khz));
		break;
	case KEEL_TRACE_INJECT:
		fprintf(out, ", \"vector\": %" PRIu64, r->qual);
		break;
	case KEEL_TRACE_SCHED:
		if (r->reason == KEEL_TRACE_SCHED_MIGRATE)
			fprintf(out, ", \"from\": %u, \"to\": %u",
				(unsigned)(r->qual >> 32),
				(unsigned)(uint32_t)r->qual);
		else
			fprintf(out, ", \"pcpu\": %d", (int)(int32_t)r->qual);
		break;
	default:
		break;
	}
	fputs("}\n", out);
}

static struct kl_trace_dom_stats *stats_dom(struct kl_trace_stats *s,
					    uint32_t domid)
{
	size_t i;

	for (i = 0; i < s->nr && s->doms[i].domid != domid; i++)
		;
	if (i == s->nr) {
		struct kl_trace_dom_stats *grown =
		    realloc(s->doms, (s->nr + 1) * sizeof(*s->doms));

		if (!grown)
			return NULL;
		s->doms = grown;
		memset(&s->doms[i], 0, sizeof(s->doms[i]));
		s->doms[i].domid = domid;
		s->nr++;
	}
	return &s->doms[i];
}

int kl_trace_stats_add(struct kl_trace_stats *s,
		       const struct keel_trace_rec *rec)
{
	struct kl_trace_dom_stats *d;
	unsigned r = rec->reason;

	if (rec->kind != KEEL_TRACE_EXIT || r >= KEEL_TRACE_EXIT_NR)
		return 0;
	d = stats_dom(s, rec->domid);
	if (!d)
		return -ENOMEM;
	if (d->count[r] == d->cap[r]) {
		size_t cap = d->cap[r] ? d->cap[r] * 2 : 64;
		uint32_t *grown = realloc(d->cycles[r], cap * sizeof(uint32_t));

		if (!grown)
			return -ENOMEM;
		d->cycles[r] = grown;
		d->cap[r] = cap;
	}
	d->cycles[r][d->count[r]++] = rec->cycles;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t kl_trace_percentile(struct kl_trace_dom_stats *d, unsigned reason,
			     double p)
{
	uint64_t n = d->count[reason], rank;

	if (!n)
		return 0;
	qsort(d->cycles[reason], n, sizeof(uint32_t), cmp_u32);
	/* Nearest rank: the smallest value with p% of them at or below. */
	rank = (uint64_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return d->cycles[reason][rank - 1];
}

static int by_domid(const void *a, const void *b)
{
	const struct kl_trace_dom_stats *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

void kl_trace_stats_print(FILE *out, struct kl_trace_stats *s,
			  const struct kl_trace_names *names, uint64_t tsc_khz,
			  double seconds)
{
	if (s->nr)
		qsort(s->doms, s->nr, sizeof(*s->doms), by_domid);
	fprintf(out, "%.1f s, %" PRIu64 " records lost\n", seconds, s->lost);
	for (size_t i = 0; i < s->nr; i++) {
		struct kl_trace_dom_stats *d = &s->doms[i];
		const char *name = kl_trace_names_get(names, d->domid);
		uint64_t total = 0;

		for (unsigned r = 0; r < KEEL_TRACE_EXIT_NR; r++)
			total += d->count[r];
		fprintf(out, "\nd%u %s: %" PRIu64 " exits\n", d->domid,
			name ? name : "?", total);
		fprintf(out, "  %-12s %10s %10s %10s\n", "REASON", "COUNT",
			"p50(us)", "p99(us)");
		for (unsigned r = 1; r < KEEL_TRACE_EXIT_NR; r++)
			if (d->count[r])
				fprintf(
				    out,
				    "  %-12s %10" PRIu64 " %10.2f %10.2f\n",
				    exits[r].name, d->count[r],
				    kl_trace_us(kl_trace_percentile(d, r, 50),
						tsc_khz),
				    kl_trace_us(kl_trace_percentile(d, r, 99),
						tsc_khz));
	}
}

void kl_trace_stats_print_json(FILE *out, struct kl_trace_stats *s,
			       const struct kl_trace_names *names,
			       uint64_t tsc_khz, double seconds)
{
	if (s->nr)
		qsort(s->doms, s->nr, sizeof(*s->doms), by_domid);
	fprintf(out,
		"{\"seconds\": %.3f, \"lost\": %" PRIu64 ", \"domains\": [",
		seconds, s->lost);
	for (size_t i = 0; i < s->nr; i++) {
		struct kl_trace_dom_stats *d = &s->doms[i];
		const char *name = kl_trace_names_get(names, d->domid);
		bool first = true;

		fprintf(out, "%s{\"domid\": %u, \"name\": ", i ? ", " : "",
			d->domid);
		if (name)
			kl_json_string(out, name);
		else
			fputs("null", out);
		fputs(", \"exits\": {", out);
		for (unsigned r = 1; r < KEEL_TRACE_EXIT_NR; r++) {
			if (!d->count[r])
				continue;
			fprintf(
			    out,
			    "%s\"%s\": {\"count\": %" PRIu64
			    ", \"p50_us\": %.3f, \"p99_us\": %.3f}",
			    first ? "" : ", ", exits[r].name, d->count[r],
			    kl_trace_us(kl_trace_percentile(d, r, 50), tsc_khz),
			    kl_trace_us(kl_trace_percentile(d, r, 99),
					tsc_khz));
			first = false;
		}
		fputs("}}", out);
	}
	fputs("]}\n", out);
}

void kl_trace_stats_free(struct kl_trace_stats *s)
{
	for (size_t i = 0; i < s->nr; i++)
		for (unsigned r = 0; r < KEEL_TRACE_EXIT_NR; r++)
			free(s->doms[i].cycles[r]);
	free(s->doms);
	memset(s, 0, sizeof(*s));
}

int kl_trace_file_write_header(FILE *f, uint64_t tsc_khz)
{
	if (fwrite(KL_TRACE_FILE_MAGIC, 8, 1, f) != 1 ||
	    fwrite(&tsc_khz, sizeof(tsc_khz), 1, f) != 1)
		return -EIO;
	return 0;
}

int kl_trace_file_read_header(FILE *f, uint64_t *tsc_khz)
{
	char magic[8];

	if (fread(magic, sizeof(magic), 1, f) != 1 ||
	    memcmp(magic, KL_TRACE_FILE_MAGIC, sizeof(magic)) ||
	    fread(tsc_khz, sizeof(*tsc_khz), 1, f) != 1 || !*tsc_khz)
		return -EINVAL;
	return 0;
}

int kl_trace_file_read(FILE *f, struct kl_trace_entry *e)
{
	size_t n = fread(e, 1, sizeof(*e), f);

	if (n == 0 && feof(f))
		return 0;
	if (n != sizeof(*e) || e->type < KL_TRACE_ENTRY_REC ||
	    e->type > KL_TRACE_ENTRY_LOST)
		return -EINVAL;
	if (e->type == KL_TRACE_ENTRY_NAME)
		e->name[sizeof(e->name) - 1] = '\0';
	return 1;
}

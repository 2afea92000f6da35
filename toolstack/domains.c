/* SPDX-License-Identifier: MIT */
/* Finding and printing domains (kl/domains.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <kl/domains.h>

const char *kl_domain_state_name(uint32_t state)
{
	switch (state) {
	case KEEL_DOMSTATE_BUILDING:
		return "building";
	case KEEL_DOMSTATE_RUNNING:
		return "running";
	case KEEL_DOMSTATE_PAUSED:
		return "paused";
	case KEEL_DOMSTATE_SHUTDOWN:
		return "shutdown";
	case KEEL_DOMSTATE_CRASHED:
		return "crashed";
	default:
		return "unknown";
	}
}

void kl_domain_state_letters(const struct keel_domain_info *d, char out[7])
{
	memcpy(out, "------", 7);
	switch (d->state) {
	case KEEL_DOMSTATE_BUILDING:
		out[1] = 'b';
		break;
	case KEEL_DOMSTATE_RUNNING:
		out[0] = 'r';
		break;
	case KEEL_DOMSTATE_PAUSED:
		out[2] = 'p';
		break;
	case KEEL_DOMSTATE_SHUTDOWN:
		out[3] = 's';
		break;
	case KEEL_DOMSTATE_CRASHED:
		out[4] = 'c';
		break;
	default:
		break;
	}
}

const char *kl_shutdown_reason_name(uint32_t reason)
{
	switch (reason) {
	case KEEL_SHUTDOWN_POWEROFF:
		return "poweroff";
	case KEEL_SHUTDOWN_REBOOT:
		return "reboot";
	default:
		return "";
	}
}

const char *kl_vcpu_state_name(uint32_t state)
{
	switch (state) {
	case KEEL_VCPUSTATE_DOWN:
		return "down";
	case KEEL_VCPUSTATE_RUNNABLE:
		return "runnable";
	case KEEL_VCPUSTATE_BLOCKED:
		return "blocked";
	case KEEL_VCPUSTATE_STOPPED:
		return "stopped";
	default:
		return "unknown";
	}
}

/* Keel NUL-ends names; a full field is still read safely. */
static void domain_name(const struct keel_domain_info *d,
			char out[KEEL_DOMAIN_NAME_LEN + 1])
{
	memcpy(out, d->name, KEEL_DOMAIN_NAME_LEN);
	out[KEEL_DOMAIN_NAME_LEN] = '\0';
}

long kl_domain_find(const struct keel_domain_info *doms, size_t nr,
		    const char *arg)
{
	char name[KEEL_DOMAIN_NAME_LEN + 1];
	size_t digits = strspn(arg, "0123456789");

	if (!*arg)
		return -1;
	if (!arg[digits] && digits <= 10) {
		unsigned long long id = strtoull(arg, NULL, 10);

		for (size_t i = 0; i < nr; i++)
			if (doms[i].domid == id)
				return (long)i;
	}
	for (size_t i = 0; i < nr; i++) {
		domain_name(&doms[i], name);
		if (!strcmp(name, arg))
			return (long)i;
	}
	return -1;
}

void kl_list_print_text(FILE *out, const struct keel_domain_info *doms,
			size_t nr, bool long_format)
{
	char name[KEEL_DOMAIN_NAME_LEN + 1], state[7];

	fprintf(out, "%-32s %5s %5s %5s %6s %9s", "Name", "ID", "Mem", "VCPUs",
		"State", "Time(s)");
	if (long_format)
		fprintf(out, " %6s %5s %7s  %s", "Weight", "Cap", "P2M(K)",
			"Reason");
	fputc('\n', out);
	for (size_t i = 0; i < nr; i++) {
		const struct keel_domain_info *d = &doms[i];

		domain_name(d, name);
		kl_domain_state_letters(d, state);
		fprintf(out,
			"%-32s %5" PRIu32 " %5" PRIu64 " %5" PRIu32
			" %6s %9.1f",
			name, d->domid, d->ram_bytes >> 20, d->nr_vcpus, state,
			(double)d->cpu_time_ns / 1e9);
		if (long_format) {
			char reason[sizeof(d->crash_reason) + 1];

			memcpy(reason, d->crash_reason,
			       sizeof(d->crash_reason));
			reason[sizeof(d->crash_reason)] = '\0';
			fprintf(
			    out, " %6" PRIu32 " %5" PRIu32 " %7" PRIu64 "  %s",
			    d->weight, d->cap, d->p2m_bytes >> 10,
			    d->state == KEEL_DOMSTATE_CRASHED
				? reason
				: kl_shutdown_reason_name(d->shutdown_reason));
		}
		fputc('\n', out);
	}
}

void kl_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7F)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void kl_list_print_json(FILE *out, const struct keel_domain_info *doms,
			size_t nr)
{
	char name[KEEL_DOMAIN_NAME_LEN + 1];
	char reason[sizeof(doms->crash_reason) + 1];

	fputc('[', out);
	for (size_t i = 0; i < nr; i++) {
		const struct keel_domain_info *d = &doms[i];

		domain_name(d, name);
		memcpy(reason, d->crash_reason, sizeof(d->crash_reason));
		reason[sizeof(d->crash_reason)] = '\0';
		fprintf(out,
			"%s{\"domid\": %" PRIu32 ", \"name\": ", i ? ", " : "",
			d->domid);
		kl_json_string(out, name);
		fprintf(out, ", \"state\": \"%s\"",
			kl_domain_state_name(d->state));
		fprintf(out, ", \"shutdown_reason\": \"%s\"",
			kl_shutdown_reason_name(d->shutdown_reason));
		fputs(", \"crash_reason\": ", out);
		kl_json_string(out, reason);
		fprintf(out,
			", \"privileged\": %s, \"boot_domain\": %s"
			", \"vcpus\": %" PRIu32 ", \"vcpus_up\": %" PRIu32
			", \"memory_bytes\": %" PRIu64
			", \"p2m_bytes\": %" PRIu64
			", \"cpu_time_ns\": %" PRIu64 ", \"weight\": %" PRIu32
			", \"cap\": %" PRIu32 "}",
			d->flags & KEEL_DOMFLAG_PRIVILEGED ? "true" : "false",
			d->flags & KEEL_DOMFLAG_BOOT ? "true" : "false",
			d->nr_vcpus, d->nr_vcpus_up, d->ram_bytes, d->p2m_bytes,
			d->cpu_time_ns, d->weight, d->cap);
	}
	fputs("]\n", out);
}

/* The CPUs of a mask as "all", "0-3,6" or "none". */
static void cpumask_text(uint64_t mask, char *buf, size_t size)
{
	size_t len = 0;

	if (mask == UINT64_MAX) {
		snprintf(buf, size, "all");
		return;
	}
	buf[0] = '\0';
	for (unsigned cpu = 0; cpu < 64 && len < size; cpu++) {
		unsigned last = cpu;

		if (!(mask >> cpu & 1))
			continue;
		while (last + 1 < 64 && (mask >> (last + 1) & 1))
			last++;
		if (last == cpu)
			len += (size_t)snprintf(buf + len, size - len, "%s%u",
						len ? "," : "", cpu);
		else
			len +=
			    (size_t)snprintf(buf + len, size - len, "%s%u-%u",
					     len ? "," : "", cpu, last);
		cpu = last;
	}
	if (!len)
		snprintf(buf, size, "none");
}

void kl_vcpu_print(FILE *out, const struct keel_domain_info *d,
		   const struct keel_vcpu_info *v, bool header)
{
	char name[KEEL_DOMAIN_NAME_LEN + 1], cpus[200], pcpu[12];

	if (header)
		fprintf(out, "%-32s %5s %5s %5s %-9s %9s  %s\n", "Name", "ID",
			"VCPU", "CPU", "State", "Time(s)", "Affinity");
	domain_name(d, name);
	cpumask_text(v->affinity, cpus, sizeof(cpus));
	if (v->pcpu < 0)
		snprintf(pcpu, sizeof(pcpu), "-");
	else
		snprintf(pcpu, sizeof(pcpu), "%" PRId32, v->pcpu);
	fprintf(out, "%-32s %5" PRIu32 " %5" PRIu32 " %5s %-9s %9.1f  %s\n",
		name, d->domid, v->vcpu, pcpu, kl_vcpu_state_name(v->state),
		(double)v->cpu_time_ns / 1e9, cpus);
}

/* SPDX-License-Identifier: MIT */
/* `kl info` output (kl/platform_info.h). */
#include <kl/platform_info.h>

#include <inttypes.h>
#include <string.h>

/* The scheduler name as a C string even if Keel filled the whole field. */
static void sched_name(const struct keel_platform_info *info,
		       char buf[KEEL_SCHED_NAME_LEN + 1])
{
	memcpy(buf, info->sched_name, KEEL_SCHED_NAME_LEN);
	buf[KEEL_SCHED_NAME_LEN] = '\0';
}

void kl_info_print_text(FILE *out, const char *host,
			const struct keel_platform_info *info)
{
	char sched[KEEL_SCHED_NAME_LEN + 1];

	sched_name(info, sched);
	fprintf(out, "host                   : %s\n", host);
	fprintf(out, "keel_version           : %u.%u\n", info->version >> 16,
		info->version & 0xFFFF);
	fprintf(out, "nr_cpus                : %" PRIu32 "\n", info->nr_cpus);
	fprintf(out, "scheduler              : %s\n", sched);
	fprintf(out, "tsc_mhz                : %" PRIu64 ".%03" PRIu64 "\n",
		info->tsc_khz / 1000, info->tsc_khz % 1000);
	fprintf(out, "total_memory           : %" PRIu64 "\n",
		info->total_ram >> 20);
	fprintf(out, "free_memory            : %" PRIu64 "\n",
		info->free_ram >> 20);
	fprintf(out, "nr_domains             : %" PRIu32 "\n",
		info->nr_domains);
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7F)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

void kl_info_print_json(FILE *out, const char *host,
			const struct keel_platform_info *info)
{
	char sched[KEEL_SCHED_NAME_LEN + 1];

	sched_name(info, sched);
	fputs("{\"host\": ", out);
	json_string(out, host);
	fprintf(out, ", \"keel_version\": \"%u.%u\"", info->version >> 16,
		info->version & 0xFFFF);
	fprintf(out,
		", \"nr_cpus\": %" PRIu32 ", \"scheduler\": ", info->nr_cpus);
	json_string(out, sched);
	fprintf(out,
		", \"tsc_khz\": %" PRIu64 ", \"total_memory_bytes\": %" PRIu64
		", \"free_memory_bytes\": %" PRIu64 ", \"nr_domains\": %" PRIu32
		"}\n",
		info->tsc_khz, info->total_ram, info->free_ram,
		info->nr_domains);
}

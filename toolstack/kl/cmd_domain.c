/* SPDX-License-Identifier: MIT */
/*
 * The kl commands that act on existing domains: list, destroy, pause,
 * unpause, console, vcpu-list, vcpu-pin, sched-credit, and Keel's log
 * (dmesg).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kl/cli.h>
#include <kl/domains.h>

#include "kl.h"

int kl_find_domain(int fd, const char *cmd, const char *arg,
		   struct keel_domain_info *info)
{
	struct keel_domain_info *doms;
	size_t nr;
	long i;
	int rc = keel_domain_list(fd, &doms, &nr);

	if (rc < 0) {
		kl_device_error("domain list", -rc);
		return -1;
	}
	i = kl_domain_find(doms, nr, arg);
	if (i < 0) {
		fprintf(stderr, "kl %s: no domain '%s' (kl list shows them)\n",
			cmd, arg);
		free(doms);
		return -1;
	}
	*info = doms[i];
	free(doms);
	return 0;
}

static int usage_error(const char *usage, const char *why)
{
	if (why)
		fprintf(stderr, "kl: %s\n", why);
	fputs(usage, stderr);
	return 2;
}

int kl_cmd_list(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: kl list [-l] [--json] [DOMAIN...]\n"
	    "  -l, --long   also weight, cap, Keel's page-table memory, and\n"
	    "               why a domain stopped\n"
	    "  --json       one JSON array (memory in bytes, time in ns)\n";
	struct keel_domain_info *doms, *shown;
	bool json = false, long_format = false;
	size_t nr, nr_shown = 0;
	int fd, rc, first_name = argc;

	for (int i = 1; i < argc; i++) {
		if (kl_is_help(argv[i])) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--json") ||
			   !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "-l") ||
			   !strcmp(argv[i], "--long")) {
			long_format = true;
		} else if (argv[i][0] == '-') {
			return usage_error(usage, "list: unknown option");
		} else {
			first_name = i;
			break;
		}
	}
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	rc = keel_domain_list(fd, &doms, &nr);
	close(fd);
	if (rc < 0) {
		kl_device_error("domain list", -rc);
		return 1;
	}
	shown = doms;
	nr_shown = nr;
	if (first_name < argc) {
		shown = calloc((size_t)(argc - first_name), sizeof(*shown));
		if (!shown) {
			free(doms);
			return 1;
		}
		nr_shown = 0;
		for (int i = first_name; i < argc; i++) {
			long at = kl_domain_find(doms, nr, argv[i]);

			if (at < 0) {
				fprintf(stderr, "kl list: no domain '%s'\n",
					argv[i]);
				free(shown);
				free(doms);
				return 1;
			}
			shown[nr_shown++] = doms[at];
		}
	}
	if (json)
		kl_list_print_json(stdout, shown, nr_shown);
	else
		kl_list_print_text(stdout, shown, nr_shown, long_format);
	if (shown != doms)
		free(shown);
	free(doms);
	return fflush(stdout) ? 1 : 0;
}

/* destroy, pause, unpause: one domain by name or id. */
static int domain_verb(int argc, char **argv, const char *verb,
		       int (*call)(int, uint32_t), const char *what)
{
	struct keel_domain_info info;
	char usage[160];
	int fd, rc;

	snprintf(usage, sizeof(usage), "Usage: kl %s DOMAIN\n  %s\n", verb,
		 what);
	if (argc == 2 && kl_is_help(argv[1])) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2)
		return usage_error(usage, NULL);
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	if (kl_find_domain(fd, verb, argv[1], &info)) {
		close(fd);
		return 1;
	}
	if (info.flags & KEEL_DOMFLAG_PRIVILEGED) {
		fprintf(stderr, "kl %s: domain 0 is Dom0, this system\n", verb);
		close(fd);
		return 1;
	}
	rc = call(fd, info.domid);
	close(fd);
	if (rc == -EINVAL && strcmp(verb, "destroy")) {
		fprintf(stderr, "kl %s: domain '%s' is %s\n", verb, argv[1],
			kl_domain_state_name(info.state));
		return 1;
	}
	if (rc < 0) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%s %s", verb, argv[1]);
		kl_device_error(msg, -rc);
		return 1;
	}
	return 0;
}

int kl_cmd_destroy(int argc, char **argv)
{
	return domain_verb(argc, argv, "destroy", keel_domain_destroy,
			   "Stops the domain at once (no shutdown inside it) "
			   "and frees its memory.");
}

int kl_cmd_pause(int argc, char **argv)
{
	return domain_verb(argc, argv, "pause", keel_domain_pause,
			   "Stops the domain's vCPUs until kl unpause.");
}

int kl_cmd_unpause(int argc, char **argv)
{
	return domain_verb(argc, argv, "unpause", keel_domain_unpause,
			   "Lets a paused domain's vCPUs run again.");
}

int kl_cmd_console(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: kl console DOMAIN\n"
	    "  Attaches this terminal to the domain's serial console (its\n"
	    "  ttyS0). Ctrl-] detaches; the domain keeps running.\n";
	struct keel_domain_info info;
	int fd, rc;

	if (argc == 2 && kl_is_help(argv[1])) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2)
		return usage_error(usage, NULL);
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	if (kl_find_domain(fd, "console", argv[1], &info)) {
		close(fd);
		return 1;
	}
	rc = kl_console_attach(fd, info.domid, argv[1]);
	close(fd);
	return rc ? 1 : 0;
}

int kl_cmd_dmesg(int argc, char **argv)
{
	static const char usage[] = "Usage: kl dmesg [-c]\n"
				    "  Keel's log; -c clears it after "
				    "printing.\n";
	uint32_t flags = 0, size = 1u << 20;
	long n = -ENOMEM;
	char *buf = NULL;
	int fd;

	for (int i = 1; i < argc; i++) {
		if (kl_is_help(argv[i])) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(argv[i], "-c") ||
			   !strcmp(argv[i], "--clear")) {
			flags |= KEEL_DMESG_CLEAR;
		} else {
			return usage_error(usage, "dmesg: unknown argument");
		}
	}
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	/* keel.ko needs the buffer physically contiguous: smaller tries
	 * when Dom0's memory is fragmented. */
	for (; size >= 4096; size /= 4) {
		free(buf);
		buf = malloc(size);
		if (!buf)
			break;
		n = keel_dmesg(fd, buf, size, flags);
		if (n != -ENOMEM)
			break;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		kl_device_error("dmesg", (int)-n);
		return 1;
	}
	fwrite(buf, 1, (size_t)n, stdout);
	free(buf);
	return fflush(stdout) ? 1 : 0;
}

static int print_vcpus(int fd, const struct keel_domain_info *d, bool *header)
{
	for (uint32_t v = 0; v < d->nr_vcpus; v++) {
		struct keel_vcpu_info vi;
		int rc = keel_vcpu_info(fd, d->domid, v, &vi);

		if (rc < 0) {
			kl_device_error("vcpu info", -rc);
			return -1;
		}
		kl_vcpu_print(stdout, d, &vi, *header);
		*header = false;
	}
	return 0;
}

int kl_cmd_vcpu_list(int argc, char **argv)
{
	static const char usage[] = "Usage: kl vcpu-list [DOMAIN...]\n";
	struct keel_domain_info *doms;
	bool header = true;
	size_t nr;
	int fd, rc, status = 0;

	for (int i = 1; i < argc; i++)
		if (kl_is_help(argv[i])) {
			fputs(usage, stdout);
			return 0;
		}
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	rc = keel_domain_list(fd, &doms, &nr);
	if (rc < 0) {
		close(fd);
		kl_device_error("domain list", -rc);
		return 1;
	}
	for (size_t i = 0; i < nr && argc == 1; i++)
		if (print_vcpus(fd, &doms[i], &header))
			status = 1;
	for (int i = 1; i < argc; i++) {
		long at = kl_domain_find(doms, nr, argv[i]);

		if (at < 0) {
			fprintf(stderr, "kl vcpu-list: no domain '%s'\n",
				argv[i]);
			status = 1;
		} else if (print_vcpus(fd, &doms[at], &header)) {
			status = 1;
		}
	}
	free(doms);
	close(fd);
	return status;
}

int kl_cmd_vcpu_pin(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: kl vcpu-pin DOMAIN VCPU|all CPUS\n"
	    "  CPUS: all, 2, 0-3, 0-3,^1 (physical CPUs 0-63)\n";
	struct keel_domain_info info;
	uint32_t first = 0, last, vcpu;
	uint64_t mask;
	int fd, rc = 0;

	if (argc == 2 && kl_is_help(argv[1])) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 4)
		return usage_error(usage, NULL);
	if (kl_parse_cpumask64(argv[3], &mask))
		return usage_error(usage, "vcpu-pin: bad CPU list");
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	if (kl_find_domain(fd, "vcpu-pin", argv[1], &info)) {
		close(fd);
		return 1;
	}
	last = info.nr_vcpus - 1;
	if (strcmp(argv[2], "all")) {
		if (kl_parse_u32(argv[2], 0, last, &first)) {
			fprintf(stderr,
				"kl vcpu-pin: '%s' is not a vCPU of '%s' "
				"(0-%u)\n",
				argv[2], argv[1], last);
			close(fd);
			return 1;
		}
		last = first;
	}
	for (vcpu = first; vcpu <= last; vcpu++) {
		rc = keel_vcpu_pin(fd, info.domid, vcpu, mask);
		if (rc == -EINVAL) {
			fprintf(stderr,
				"kl vcpu-pin: Keel refused CPUs '%s' for vCPU "
				"%u of '%s' (none of them online?)\n",
				argv[3], vcpu, argv[1]);
			break;
		}
		if (rc < 0) {
			kl_device_error("vcpu-pin", -rc);
			break;
		}
	}
	close(fd);
	return rc < 0 ? 1 : 0;
}

int kl_cmd_sched_credit(int argc, char **argv)
{
	static const char usage[] =
	    "Usage: kl sched-credit [-d DOMAIN [-w WEIGHT] [-c CAP]]\n"
	    "  Without -w and -c, prints the weight and cap (all domains\n"
	    "  without -d). WEIGHT 1-65535 (default 256); CAP in percent\n"
	    "  of one CPU, 0 for none.\n";
	const char *dom = NULL, *weight = NULL, *cap = NULL;
	struct keel_domain_info *doms;
	size_t nr;
	int fd, rc;

	for (int i = 1; i < argc; i++) {
		const char **slot = NULL;

		if (kl_is_help(argv[i])) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "-d") || !strcmp(argv[i], "--domain"))
			slot = &dom;
		else if (!strcmp(argv[i], "-w") || !strcmp(argv[i], "--weight"))
			slot = &weight;
		else if (!strcmp(argv[i], "-c") || !strcmp(argv[i], "--cap"))
			slot = &cap;
		if (!slot || i + 1 >= argc)
			return usage_error(usage, NULL);
		*slot = argv[++i];
	}
	if ((weight || cap) && !dom)
		return usage_error(usage, "sched-credit: -w and -c need -d");
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	rc = keel_domain_list(fd, &doms, &nr);
	if (rc < 0) {
		close(fd);
		kl_device_error("domain list", -rc);
		return 1;
	}
	rc = 0;
	if (weight || cap) {
		long at = kl_domain_find(doms, nr, dom);
		uint32_t w, c;

		if (at < 0) {
			fprintf(stderr, "kl sched-credit: no domain '%s'\n",
				dom);
			rc = 1;
		} else {
			w = doms[at].weight;
			c = doms[at].cap;
			if ((weight && kl_parse_u32(weight, 1, 65535, &w)) ||
			    (cap && kl_parse_u32(cap, 0, 65535, &c))) {
				rc = usage_error(usage, "sched-credit: bad "
							"weight or cap");
			} else {
				int err =
				    keel_sched_set(fd, doms[at].domid, w, c);

				if (err < 0)
					rc = kl_device_error("sched-credit",
							     -err)
						 ? 1
						 : 0;
			}
		}
	} else {
		printf("%-32s %5s %6s %4s\n", "Name", "ID", "Weight", "Cap");
		for (size_t i = 0; i < nr; i++) {
			char name[KEEL_DOMAIN_NAME_LEN + 1];

			if (dom && kl_domain_find(&doms[i], 1, dom) < 0)
				continue;
			memcpy(name, doms[i].name, KEEL_DOMAIN_NAME_LEN);
			name[KEEL_DOMAIN_NAME_LEN] = '\0';
			printf("%-32s %5u %6u %4u\n", name, doms[i].domid,
			       doms[i].weight, doms[i].cap);
		}
	}
	free(doms);
	close(fd);
	return rc;
}

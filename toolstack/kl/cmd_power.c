/* SPDX-License-Identifier: MIT */
/*
 * kl shutdown and kl reboot: ask a DomU's OS to power off or restart, as
 * xl does for an HVM guest without PV drivers, through its ACPI power
 * button. The domain's owner (the kl create process) presses the button;
 * kl signals it. For reboot the owner brings the domain back once it has
 * powered off, since ACPI has no "restart" button.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kl/domains.h>

#include "kl.h"

#define WAIT_STEP_US 200000

/* The owner's pid from its pid file, if that process is a kl owner. */
static pid_t owner_of(const char *name)
{
	char path[128], comm[32] = "";
	long pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), KL_RUN_DIR "/kl-%s.pid", name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = pid > 0 ? fopen(path, "re") : NULL;
	if (!f)
		return -1;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "kl-owner", 8) ? -1 : (pid_t)pid;
}

/*
 * Until the domain is gone (shutdown), or runs again as a new instance
 * (reboot): a new domid, or the same one (Keel reuses ids) with less CPU
 * time than the old instance had.
 */
static void wait_for(int fd, const struct keel_domain_info *was, bool reboot)
{
	uint64_t old_cpu = was->cpu_time_ns;

	for (;;) {
		struct keel_domain_info *doms;
		bool done = !reboot;
		size_t nr;

		if (keel_domain_list(fd, &doms, &nr) < 0)
			return;
		for (size_t k = 0; k < nr; k++) {
			const struct keel_domain_info *d = &doms[k];

			if (strncmp(d->name, was->name, KEEL_DOMAIN_NAME_LEN))
				continue;
			if (!reboot) {
				done &= d->domid != was->domid;
			} else if (d->state == KEEL_DOMSTATE_RUNNING &&
				   (d->domid != was->domid ||
				    d->cpu_time_ns < old_cpu)) {
				done = true;
			} else if (d->domid == was->domid &&
				   d->cpu_time_ns > old_cpu) {
				old_cpu = d->cpu_time_ns;
			}
		}
		free(doms);
		if (done)
			return;
		usleep(WAIT_STEP_US);
	}
}

static int power_verb(int argc, char **argv, const char *verb, int sig)
{
	struct keel_domain_info info;
	bool wait = false;
	const char *name;
	pid_t owner;
	int fd, i = 1;

	if (argc == 2 && kl_is_help(argv[1])) {
		printf("Usage: kl %s [-w] DOMAIN\n"
		       "  Presses the DomU's ACPI power button: its OS %s.\n"
		       "  -w   wait until it has%s\n",
		       verb,
		       sig == KL_SIG_REBOOT
			   ? "powers off, and kl starts it again"
			   : "powers off (or ignores the button, as a PC's "
			     "may)",
		       sig == KL_SIG_REBOOT ? " restarted" : " gone");
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "-w")) {
		wait = true;
		i++;
	}
	if (argc - i != 1) {
		fprintf(stderr, "Usage: kl %s [-w] DOMAIN\n", verb);
		return 2;
	}
	name = argv[i];
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	if (kl_find_domain(fd, verb, name, &info)) {
		close(fd);
		return 1;
	}
	if (info.flags & (KEEL_DOMFLAG_PRIVILEGED | KEEL_DOMFLAG_BOOT)) {
		fprintf(stderr,
			"kl %s: %s has no power button kl can press (%s); "
			"kl destroy stops it\n",
			verb, name,
			info.flags & KEEL_DOMFLAG_PRIVILEGED
			    ? "it is Dom0, this system: use poweroff"
			    : "Keel built it at boot");
		close(fd);
		return 1;
	}
	owner = owner_of(info.name);
	if (owner < 0 || kill(owner, sig)) {
		fprintf(stderr,
			"kl %s: the kl process that owns %s is not running "
			"(" KL_RUN_DIR "/kl-%s.pid)\n",
			verb, info.name, info.name);
		close(fd);
		return 1;
	}
	if (wait) {
		printf("Waiting for domain %s (id %u) to %s...\n", info.name,
		       info.domid, sig == KL_SIG_REBOOT ? "restart" : "go");
		fflush(stdout);
		wait_for(fd, &info, sig == KL_SIG_REBOOT);
	}
	close(fd);
	return 0;
}

int kl_cmd_shutdown(int argc, char **argv)
{
	return power_verb(argc, argv, "shutdown", KL_SIG_SHUTDOWN);
}

int kl_cmd_reboot(int argc, char **argv)
{
	return power_verb(argc, argv, "reboot", KL_SIG_REBOOT);
}

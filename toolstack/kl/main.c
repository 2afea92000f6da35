/* SPDX-License-Identifier: MIT */
/*
 * kl: Keel's toolstack command (Xen's xl vocabulary). It talks to Keel
 * through keel.ko's /dev/keel (include/public/keel_ioctl.h); `kl --help`
 * lists the commands, `kl COMMAND --help` explains one.
 *
 * Linked statically: the Dom0 test initramfs has busybox and no libc.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kl/platform_info.h>

#include "kl.h"

static const char usage[] =
    "Usage: kl [--help] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  create [-c] [-p] FILE [KEY=VALUE...]\n"
    "                  build and start a domain from an xl.cfg file\n"
    "  list [-l] [--json] [DOMAIN...]\n"
    "                  domains with memory, vCPUs, state and CPU time\n"
    "  console DOMAIN  attach to a domain's serial console (Ctrl-] "
    "detaches)\n"
    "  destroy DOMAIN  stop a domain at once and free its memory\n"
    "  shutdown [-w] DOMAIN\n"
    "                  press its power button: its OS powers off\n"
    "  reboot [-w] DOMAIN\n"
    "                  the same, and kl starts it again\n"
    "  pause DOMAIN    stop a domain's vCPUs\n"
    "  unpause DOMAIN  let them run again\n"
    "  vcpu-list [DOMAIN]\n"
    "                  vCPUs with physical CPU, state, time and affinity\n"
    "  vcpu-pin DOMAIN VCPU|all CPUS\n"
    "                  set which physical CPUs a vCPU may run on\n"
    "  sched-credit [-d DOMAIN [-w WEIGHT] [-c CAP]]\n"
    "                  credit scheduler weight and cap\n"
    "  top [-b] [-i SECONDS] [-n COUNT] [-v] [-s KEY] [--json]\n"
    "                  domains' CPU %, memory, exits, interrupts and I/O\n"
    "                  requests per second, refreshed (like xentop)\n"
    "  trace [-d DOMAIN] [-v VCPU] [-e REASONS] [--explain] [--stats]\n"
    "        [--json] [-t SECONDS] [-o FILE | -r FILE]\n"
    "                  Keel's events live (exits, injections, scheduling,\n"
    "                  domains), their statistics, or a recording\n"
    "  dmesg [-c]      Keel's log (-c: then clear it)\n"
    "  info [--json]   Keel's version, physical CPUs, scheduler, TSC rate,\n"
    "                  total and free memory (MiB; bytes in JSON), domains\n"
    "  version         versions of kl, keel.ko and Keel\n"
    "  help            this text\n"
    "\n"
    "DOMAIN is a name or a domain id. kl talks to Keel through /dev/keel\n"
    "(the keel.ko module) and needs root.\n";

int kl_device_error(const char *what, int err)
{
	switch (err) {
	case ENOENT:
		fprintf(stderr,
			"kl: %s does not exist: keel.ko is not loaded "
			"(modprobe keel)\n",
			KEEL_DEVICE);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"kl: %s: %s: kl must run as root (CAP_SYS_ADMIN)\n",
			what, strerror(err));
		break;
	case ENODEV:
	case ENXIO:
		fprintf(stderr,
			"kl: %s: %s: keel.ko is not bound (is this Dom0 "
			"running under Keel?)\n",
			what, strerror(err));
		break;
	case ENOSYS:
		fprintf(stderr,
			"kl: %s: Keel does not offer this call (Keel older "
			"than kl?)\n",
			what);
		break;
	case ENOTTY:
		fprintf(stderr,
			"kl: %s: keel.ko does not know this request (keel.ko "
			"older than kl?)\n",
			what);
		break;
	default:
		fprintf(stderr, "kl: %s: %s\n", what, strerror(err));
	}
	return -1;
}

int kl_open_keel(void)
{
	int fd = keel_open();

	if (fd < 0)
		return kl_device_error("cannot open " KEEL_DEVICE, -fd);
	return fd;
}

bool kl_is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

static int cmd_info(int argc, char **argv)
{
	struct keel_platform_info info;
	bool json = false;
	char host[256] = "";
	int fd, rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (kl_is_help(argv[i])) {
			fputs("Usage: kl info [--json]\n", stdout);
			return 0;
		} else {
			fprintf(stderr,
				"kl info: unknown argument '%s'\n"
				"Usage: kl info [--json]\n",
				argv[i]);
			return 2;
		}
	}
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	rc = keel_platform_info(fd, &info);
	close(fd);
	if (rc < 0) {
		kl_device_error("platform info", -rc);
		return 1;
	}
	gethostname(host, sizeof(host) - 1);
	if (json)
		kl_info_print_json(stdout, host, &info);
	else
		kl_info_print_text(stdout, host, &info);
	return fflush(stdout) ? 1 : 0;
}

static int cmd_version(int argc, char **argv)
{
	struct keel_ioctl_version ver;
	int fd;

	if (argc > 1) {
		if (kl_is_help(argv[1])) {
			fputs("Usage: kl version\n", stdout);
			return 0;
		}
		fputs("Usage: kl version\n", stderr);
		return 2;
	}
	printf("kl      : %u.%u\n", KEEL_VERSION_MAJOR, KEEL_VERSION_MINOR);
	fflush(stdout);
	fd = kl_open_keel();
	if (fd < 0)
		return 1;
	if (ioctl(fd, KEEL_IOCTL_VERSION, &ver) < 0) {
		kl_device_error("version", errno);
		close(fd);
		return 1;
	}
	close(fd);
	printf("keel.ko : %u.%u\n", ver.module >> 16, ver.module & 0xFFFF);
	printf("Keel    : %u.%u\n", ver.hypervisor >> 16,
	       ver.hypervisor & 0xFFFF);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
    {"create", kl_cmd_create},
    {"list", kl_cmd_list},
    {"console", kl_cmd_console},
    {"destroy", kl_cmd_destroy},
    {"shutdown", kl_cmd_shutdown},
    {"reboot", kl_cmd_reboot},
    {"pause", kl_cmd_pause},
    {"unpause", kl_cmd_unpause},
    {"vcpu-list", kl_cmd_vcpu_list},
    {"vcpu-pin", kl_cmd_vcpu_pin},
    {"sched-credit", kl_cmd_sched_credit},
    {"top", kl_cmd_top},
    {"trace", kl_cmd_trace},
    {"dmesg", kl_cmd_dmesg},
    {"info", cmd_info},
    {"version", cmd_version},
};

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage, stderr);
		return 2;
	}
	if (kl_is_help(cmd) || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "kl: unknown command '%s' (kl --help lists them)\n",
		cmd);
	return 2;
}

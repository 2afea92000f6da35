/* SPDX-License-Identifier: MIT */
/*
 * kl: Keel's toolstack command (Xen's xl vocabulary). It talks to Keel
 * through keel.ko's /dev/keel (include/public/keel_ioctl.h).
 *
 *   kl --help
 *   kl info [--json]     the host as Keel sees it
 *   kl version           kl's, keel.ko's and Keel's versions
 *
 * Linked statically: the Dom0 test initramfs has busybox and no libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <kl/platform_info.h>
#include <public/keel_ioctl.h>

static const char usage[] =
    "Usage: kl [--help] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  info [--json]   Keel's version, physical CPUs, scheduler, TSC rate,\n"
    "                  total and free memory (MiB; bytes in JSON), domains\n"
    "  version         versions of kl, keel.ko and Keel\n"
    "  help            this text\n"
    "\n"
    "kl talks to Keel through /dev/keel (the keel.ko module) and needs root.\n";

/* Says why /dev/keel cannot be used and returns -1. */
static int device_error(const char *what, int err)
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

static int open_keel(void)
{
	int fd = open(KEEL_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return device_error("cannot open " KEEL_DEVICE, errno);
	return fd;
}

static int cmd_info(int argc, char **argv)
{
	struct keel_platform_info info;
	bool json = false;
	char host[256] = "";
	int fd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") ||
			   !strcmp(argv[i], "-h")) {
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
	fd = open_keel();
	if (fd < 0)
		return 1;
	memset(&info, 0, sizeof(info));
	if (ioctl(fd, KEEL_IOCTL_PLATFORM_INFO, &info) < 0) {
		device_error("platform info", errno);
		close(fd);
		return 1;
	}
	close(fd);
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

	(void)argv;
	if (argc > 1) {
		fputs("Usage: kl version\n", stderr);
		return 2;
	}
	printf("kl      : %u.%u\n", KEEL_VERSION_MAJOR, KEEL_VERSION_MINOR);
	fflush(stdout);
	fd = open_keel();
	if (fd < 0)
		return 1;
	if (ioctl(fd, KEEL_IOCTL_VERSION, &ver) < 0) {
		device_error("version", errno);
		close(fd);
		return 1;
	}
	close(fd);
	printf("keel.ko : %u.%u\n", ver.module >> 16, ver.module & 0xFFFF);
	printf("Keel    : %u.%u\n", ver.hypervisor >> 16,
	       ver.hypervisor & 0xFFFF);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "info"))
		return cmd_info(argc - 1, argv + 1);
	if (!strcmp(cmd, "version"))
		return cmd_version(argc - 1, argv + 1);
	fprintf(stderr, "kl: unknown command '%s' (kl --help lists them)\n",
		cmd);
	return 2;
}

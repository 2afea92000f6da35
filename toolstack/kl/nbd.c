/* SPDX-License-Identifier: MIT */
/* qcow2 disks through qemu-nbd and Dom0's nbd.ko (nbd.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kl.h"
#include "nbd.h"

/* qemu-nbd needs a moment to start, more under emulation. */
#define READY_TIMEOUT_MS 30000
#define STOP_TIMEOUT_MS	 30000
#define POLL_MS		 20

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* The first line of a sysfs or procfs file, or "" if there is none. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

/* Runs argv to its end: its exit status, or -1. */
static int run(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* nbd.ko, without partitions: Dom0 never parses a guest's partition
 * table. Where it is loaded already (the test ISO), it stays as it is. */
static int load_module(void)
{
	static char *const argv[] = {"modprobe", "nbd", "max_part=0", NULL};
	struct stat st;

	if (stat("/sys/module/nbd", &st) == 0 || run(argv) == 0)
		return 0;
	fprintf(stderr, "kl create: qcow2 disks need Dom0's nbd module, and "
			"modprobe nbd failed\n");
	return -1;
}

/* A device nobody has connected: -1 if all are taken. */
static int free_device(void)
{
	char path[64], size[32];
	struct stat st;

	for (int n = 0;; n++) {
		snprintf(path, sizeof(path), "/sys/block/nbd%d", n);
		if (stat(path, &st))
			return -1;
		snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", n);
		if (stat(path, &st) == 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/nbd%d/size", n);
		read_line(path, size, sizeof(size));
		if (!strcmp(size, "0"))
			return n;
	}
}

/*
 * Whether process pid serves nbd<n> and the device has its size: the
 * device's pid file names the thread of qemu-nbd that waits in the
 * kernel, which sets the size just after.
 */
static bool served_by(int n, pid_t pid)
{
	char path[96], line[64];
	FILE *f;
	bool ours = false;

	snprintf(path, sizeof(path), "/sys/block/nbd%d/size", n);
	read_line(path, line, sizeof(line));
	if (!line[0] || !strcmp(line, "0"))
		return false;
	snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", n);
	read_line(path, line, sizeof(line));
	if (!line[0])
		return false;
	snprintf(path, sizeof(path), "/proc/%s/status", line);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Tgid:", 5)) {
			ours = strtol(line + 5, NULL, 10) == pid;
			break;
		}
	fclose(f);
	return ours;
}

static pid_t spawn(const char *image, bool readonly, const char *dev,
		   const char *sock)
{
	/* -v keeps it in the foreground, as this process's child; -f: the
	 * format is never guessed from the guest's data. */
	const char *argv[12] = {"qemu-nbd", "-v", "-f", "qcow2",
				"-k",	    sock, "-c", dev};
	size_t n = 8;
	pid_t parent = getpid(), pid = fork();

	if (pid)
		return pid;
	/* However the owner ends, qemu-nbd flushes and lets go. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != parent)
		_exit(1);
	dup2(STDERR_FILENO, STDOUT_FILENO);
	if (readonly)
		argv[n++] = "-r";
	argv[n++] = "--";
	argv[n++] = image;
	execvp(argv[0], (char *const *)argv);
	fprintf(stderr, "kl: cannot run qemu-nbd: %s\n", strerror(errno));
	_exit(127);
}

int kl_nbd_export(const char *what, const char *image, bool readonly, char *dev,
		  size_t devlen, pid_t *pid)
{
	char sock[64];
	int n;

	if (load_module())
		return -1;
	/* Two kl create racing for one device: the second qemu-nbd fails
	 * and says so. */
	n = free_device();
	if (n < 0) {
		fprintf(stderr, "kl create: %s: every /dev/nbd is in use\n",
			what);
		return -1;
	}
	snprintf(dev, devlen, "/dev/nbd%d", n);
	mkdir("/run", 0755);
	mkdir(KL_RUN_DIR, 0755);
	snprintf(sock, sizeof(sock), KL_RUN_DIR "/nbd%d.sock", n);
	*pid = spawn(image, readonly, dev, sock);
	if (*pid < 0) {
		fprintf(stderr, "kl create: %s: fork: %s\n", what,
			strerror(errno));
		*pid = 0;
		return -1;
	}
	for (int waited = 0; waited < READY_TIMEOUT_MS; waited += POLL_MS) {
		if (waitpid(*pid, NULL, WNOHANG) == *pid) {
			*pid = 0;
			fprintf(stderr,
				"kl create: %s: qemu-nbd cannot export '%s' "
				"as qcow2 (its message is above)\n",
				what, image);
			return -1;
		}
		if (served_by(n, *pid))
			return 0;
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "kl create: %s: qemu-nbd did not connect %s in %d s\n",
		what, dev, READY_TIMEOUT_MS / 1000);
	kl_nbd_stop(*pid);
	*pid = 0;
	return -1;
}

void kl_nbd_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	for (int waited = 0; waited < STOP_TIMEOUT_MS; waited += POLL_MS) {
		pid_t done = waitpid(pid, NULL, WNOHANG);

		if (done == pid || (done < 0 && errno != EINTR))
			return;
		sleep_ms(POLL_MS);
	}
	fprintf(stderr, "kl: qemu-nbd (pid %ld) ignored SIGTERM: killed\n",
		(long)pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* SPDX-License-Identifier: MIT */
/*
 * `kl console`: the terminal in raw mode joined to a domain's console fd
 * (keel.ko's ring of the domain's COM1), as xl console does. Ctrl-]
 * detaches; the end of the domain ends it too.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "kl.h"

#define CTRL_RIGHT_BRACKET 0x1d

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int kl_console_attach(int fd, uint32_t domid, const char *name)
{
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO);
	int cfd = keel_console_open(fd, domid), rc = 0;
	char buf[4096];

	if (cfd == -EBUSY) {
		fprintf(stderr,
			"kl console: '%s' already has a console attached\n",
			name);
		return -1;
	}
	if (cfd == -EAGAIN || cfd == -ENOENT) {
		fprintf(stderr,
			"kl console: '%s' has no console in Dom0 (not started "
			"by kl, or not started yet)\n",
			name);
		return -1;
	}
	if (cfd < 0)
		return kl_device_error("console", -cfd);
	if (tty && tcgetattr(STDIN_FILENO, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = cfd, .events = POLLIN},
				      {.fd = STDIN_FILENO, .events = POLLIN}};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(cfd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n <= 0) {
				rc = n < 0 ? -errno : 0; /* the domain ended */
				break;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n))
				break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			char *esc;

			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0) {
				p[1].fd = -1;
				break; /* input closed: detach */
			}
			esc = memchr(buf, CTRL_RIGHT_BRACKET, (size_t)n);
			if (esc)
				n = esc - buf;
			if (n && write_all(cfd, buf, (size_t)n) == -EIO)
				break; /* the domain ended */
			if (esc)
				break;
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	close(cfd);
	if (rc < 0) {
		fprintf(stderr, "\nkl console: %s\n", strerror(-rc));
		return -1;
	}
	fputc('\n', stdout);
	fflush(stdout);
	return 0;
}

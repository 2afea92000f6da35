/* SPDX-License-Identifier: MIT */
/*
 * TAP devices for virtio-net: the name and default MAC of a domain's
 * vif, and a TAP created with a vnet header, attached to a bridge and up.
 * The TAP is not persistent: closing its fd (the device model exiting)
 * removes it and its bridge port, so a failure here leaves nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>

#include "virtio.h"

void virtio_tap_name(const char *domain, unsigned index, char name[IFNAMSIZ])
{
	char suffix[16] = "";
	size_t room, n;

	if (index)
		snprintf(suffix, sizeof(suffix), ".%u", index);
	room = IFNAMSIZ - 1 - 3 - strlen(suffix);
	n = strnlen(domain, room);
	memcpy(name, "kl-", 3);
	memcpy(name + 3, domain, n);
	strcpy(name + 3 + n, suffix);
	/* Linux refuses '/', ':' and blanks in interface names (and '%'
	 * would be a format for TUNSETIFF). */
	for (size_t i = 3; i < 3 + n; i++)
		if (name[i] == '/' || name[i] == ':' || name[i] == '%' ||
		    (unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			name[i] = '_';
}

void virtio_default_mac(const char *domain, unsigned index, uint8_t mac[6])
{
	/* FNV-1a over the name, a NUL and the index. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const char *p = domain;; p++) {
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
		if (!*p)
			break;
	}
	for (int i = 0; i < 4; i++)
		h = (h ^ ((index >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	/* Unicast, locally administered. */
	mac[0] = (uint8_t)((mac[0] & ~1u) | 2u);
}

/* err = the formatted message, ": " and rc's description; returns rc. */
static int __attribute__((format(printf, 4, 5)))
fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s%s", msg, strerror(-rc),
		 rc == -EPERM ? " (needs CAP_NET_ADMIN)" : "");
	return rc;
}

int virtio_tap_open(const char *ifname, const char *bridge, unsigned mtu,
		    char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, sock = -1, rc, hdr = sizeof(struct virtio_net_hdr_v1);

	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strchr(ifname, '%')) {
		snprintf(err, errlen, "bad TAP name \"%s\"", ifname);
		return -EINVAL;
	}
	if (bridge && (!*bridge || strlen(bridge) >= IFNAMSIZ)) {
		snprintf(err, errlen, "bad bridge name \"%s\"", bridge);
		return -EINVAL;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fail(-errno, err, errlen, "cannot open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		rc = -errno;
		if (rc == -EBUSY)
			snprintf(err, errlen, "TAP %s is in use", ifname);
		else if (rc == -EINVAL)
			snprintf(err, errlen,
				 "cannot create TAP %s: an interface of "
				 "another kind has that name",
				 ifname);
		else
			fail(rc, err, errlen, "cannot create TAP %s", ifname);
		goto out;
	}
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) || ioctl(fd, TUNSETOFFLOAD, 0)) {
		rc = fail(-errno, err, errlen, "TAP %s: vnet header", ifname);
		goto out;
	}
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		rc = fail(-errno, err, errlen, "socket");
		goto out;
	}
	if (mtu) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(sock, SIOCSIFMTU, &ifr)) {
			rc = -errno;
			snprintf(err, errlen, "TAP %s: cannot set MTU %u: %s",
				 ifname, mtu, strerror(errno));
			goto out;
		}
	}
	if (bridge) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", bridge);
		ifr.ifr_ifindex = (int)if_nametoindex(ifname);
		if (!ifr.ifr_ifindex || ioctl(sock, SIOCBRADDIF, &ifr)) {
			rc = -errno;
			if (rc == -ENODEV)
				snprintf(err, errlen,
					 "bridge %s does not exist", bridge);
			else if (rc == -EOPNOTSUPP)
				snprintf(err, errlen, "%s is not a bridge",
					 bridge);
			else
				fail(rc, err, errlen,
				     "cannot add %s to bridge %s", ifname,
				     bridge);
			goto out;
		}
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr)) {
		rc = fail(-errno, err, errlen, "TAP %s: flags", ifname);
		goto out;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sock, SIOCSIFFLAGS, &ifr)) {
		rc =
		    fail(-errno, err, errlen, "cannot bring TAP %s up", ifname);
		goto out;
	}
	close(sock);
	return fd;
out:
	if (sock >= 0)
		close(sock);
	close(fd); /* a non-persistent TAP goes, bridge port and all */
	return rc;
}

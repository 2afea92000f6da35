/* SPDX-License-Identifier: MIT */
/*
 * virtio-net and TAP devices (toolstack/virtio/net.c, tap.c). The TAP
 * tests need /dev/net/tun and CAP_NET_ADMIN (CI runs as root); they run
 * in a network namespace of their own, so they neither see nor disturb
 * the host's interfaces, and are skipped, saying why, where that cannot
 * be had. Frames cross between the guest's queues and the TAP interface,
 * where a packet socket sends and captures them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio_driver.h"

#define ETHERTYPE_TEST 0x88B5 /* IEEE local experimental */
#define HDR_LEN	       sizeof(struct virtio_net_hdr_v1)
#define RX_BUF	       1526
#define TAP_NAME       "kl-test0"

static const char *no_tap; /* why the TAP tests are skipped */

static void need_tap(void)
{
	if (no_tap) {
		print_message("# skipped: %s\n", no_tap);
		skip();
	}
}

static int ctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	assert_true(s >= 0);
	rc = ioctl(s, req, ifr) ? -errno : 0;
	close(s);
	return rc;
}

static struct ifreq ifreq(const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	return ifr;
}

static void test_names_and_macs(void **state)
{
	char name[IFNAMSIZ];
	uint8_t a[6], b[6], c[6];

	(void)state;
	virtio_tap_name("web", 0, name);
	assert_string_equal(name, "kl-web");
	virtio_tap_name("web", 2, name);
	assert_string_equal(name, "kl-web.2");
	virtio_tap_name("a-rather-long-domain-name", 0, name);
	assert_string_equal(name, "kl-a-rather-lon");
	virtio_tap_name("a-rather-long-domain-name", 13, name);
	assert_string_equal(name, "kl-a-rather-.13");
	virtio_tap_name("a b/c:d%e", 0, name);
	assert_string_equal(name, "kl-a_b_c_d_e");
	virtio_tap_name("x", 4294967295u, name);
	assert_string_equal(name, "kl-x.4294967295");
	assert_true(strlen(name) < IFNAMSIZ);

	virtio_default_mac("web", 0, a);
	virtio_default_mac("web", 0, b);
	virtio_default_mac("web", 1, c);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	virtio_default_mac("web2", 0, c);
	assert_memory_not_equal(a, c, 6);
	/* Unicast and locally administered. */
	assert_int_equal(a[0] & 3, 2);
	assert_int_equal(c[0] & 3, 2);
}

static void test_tap_errors(void **state)
{
	char err[256];

	(void)state;
	need_tap();
	assert_int_equal(
	    virtio_tap_open(TAP_NAME, "nobr0", 0, err, sizeof(err)), -ENODEV);
	assert_string_equal(err, "bridge nobr0 does not exist");
	assert_int_equal(if_nametoindex(TAP_NAME), 0);
	assert_int_equal(virtio_tap_open(TAP_NAME, "lo", 0, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_string_equal(err, "lo is not a bridge");
	assert_int_equal(if_nametoindex(TAP_NAME), 0);
	assert_int_equal(
	    virtio_tap_open("0123456789abcdef", NULL, 0, err, sizeof(err)),
	    -EINVAL);
	assert_string_equal(err, "bad TAP name \"0123456789abcdef\"");
	assert_int_equal(virtio_tap_open(TAP_NAME, "", 0, err, sizeof(err)),
			 -EINVAL);
	/* A name taken by an interface of another kind. */
	assert_int_equal(virtio_tap_open("lo", NULL, 0, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "cannot create TAP lo: an interface of "
				 "another kind has that name");
	/* An MTU the TAP refuses: nothing left behind either. */
	assert_true(
	    virtio_tap_open(TAP_NAME, NULL, 1u << 20, err, sizeof(err)) < 0);
	assert_int_equal(if_nametoindex(TAP_NAME), 0);
}

/* Raises or drops CAP_NET_ADMIN in the effective set (it stays
 * permitted). */
static int net_admin(bool on)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct c[2];

	if (syscall(SYS_capget, &h, c))
		return -1;
	if (on)
		c[0].effective |= 1u << CAP_NET_ADMIN;
	else
		c[0].effective &= ~(1u << CAP_NET_ADMIN);
	return (int)syscall(SYS_capset, &h, c);
}

static void test_tap_no_permission(void **state)
{
	char err[256];
	int rc;

	(void)state;
	need_tap();
	assert_int_equal(net_admin(false), 0);
	rc = virtio_tap_open(TAP_NAME, NULL, 0, err, sizeof(err));
	assert_int_equal(net_admin(true), 0);
	assert_int_equal(rc, -EPERM);
	assert_string_equal(err, "cannot create TAP " TAP_NAME
				 ": Operation not permitted (needs "
				 "CAP_NET_ADMIN)");
	assert_int_equal(if_nametoindex(TAP_NAME), 0);
}

static void test_tap_bridge(void **state)
{
	struct ifreq ifr;
	char err[256];
	int fd, hdr = 0;

	(void)state;
	need_tap();
	ifr = ifreq("klbr0");
	assert_int_equal(ctl(SIOCBRADDBR, &ifr), 0);
	fd = virtio_tap_open(TAP_NAME, "klbr0", 1400, err, sizeof(err));
	if (fd < 0)
		fail_msg("virtio_tap_open: %s", err);
	assert_int_equal(ioctl(fd, TUNGETVNETHDRSZ, &hdr), 0);
	assert_int_equal(hdr, HDR_LEN);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ifr = ifreq(TAP_NAME);
	assert_int_equal(ctl(SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	ifr = ifreq(TAP_NAME);
	assert_int_equal(ctl(SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	/* A port of klbr0: it can be removed from it. */
	ifr = ifreq("klbr0");
	ifr.ifr_ifindex = (int)if_nametoindex(TAP_NAME);
	assert_int_equal(ctl(SIOCBRDELIF, &ifr), 0);
	/* In use while open; gone once closed. */
	assert_int_equal(virtio_tap_open(TAP_NAME, NULL, 0, err, sizeof(err)),
			 -EBUSY);
	assert_string_equal(err, "TAP " TAP_NAME " is in use");
	close(fd);
	assert_int_equal(if_nametoindex(TAP_NAME), 0);
	ifr = ifreq("klbr0");
	assert_int_equal(ctl(SIOCBRDELBR, &ifr), 0);
}

struct netfix {
	struct vd d;
	int psock; /* packet socket on the TAP interface */
	uint8_t mac[6];
};

static struct netfix *net_make(void)
{
	struct netfix *f = calloc(1, sizeof(*f));
	struct virtio_net_params p;
	struct sockaddr_ll sll;
	char err[256];

	assert_non_null(f);
	assert_int_equal(vd_mem_init(&f->d), 0);
	virtio_default_mac("test", 0, f->mac);
	p.tap_fd = virtio_tap_open(TAP_NAME, NULL, 0, err, sizeof(err));
	if (p.tap_fd < 0)
		fail_msg("virtio_tap_open: %s", err);
	memcpy(p.mac, f->mac, 6);
	if (virtio_net_create(&f->d.mem, &p, &f->d.dev, err, sizeof(err)))
		fail_msg("virtio_net_create: %s", err);
	vd_attach(&f->d, f->d.dev);
	f->psock = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  htons(ETHERTYPE_TEST));
	assert_true(f->psock >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE_TEST);
	sll.sll_ifindex = (int)if_nametoindex(TAP_NAME);
	assert_int_equal(bind(f->psock, (struct sockaddr *)&sll, sizeof(sll)),
			 0);
	return f;
}

static void net_free(struct netfix *f)
{
	close(f->psock);
	vd_free(&f->d);
	free(f);
}

/* A test frame of len bytes (>= 14) with marker seq. */
static void frame(uint8_t *buf, size_t len, uint8_t seq)
{
	memset(buf, 0xff, 6);
	memcpy(buf + 6, "\x02\x00\x00\x00\x00\x01", 6);
	buf[12] = ETHERTYPE_TEST >> 8;
	buf[13] = ETHERTYPE_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
}

/* Sends a frame into the TAP interface: the TAP fd then has it. */
static void inject(struct netfix *f, size_t len, uint8_t seq)
{
	uint8_t buf[2048];

	frame(buf, len, seq);
	assert_int_equal(send(f->psock, buf, len, 0), (ssize_t)len);
}

/* What the guest transmitted, as the TAP interface received it. */
static ssize_t capture(struct netfix *f, uint8_t *buf, size_t max)
{
	struct pollfd p = {.fd = f->psock, .events = POLLIN};

	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(f->psock, buf, max, 0);
}

/* Serves the device's fds for up to ms milliseconds. */
static void serve(struct netfix *f, int ms)
{
	struct pollfd fds[4];
	size_t n = virtio_mmio_pollfds(f->d.dev, fds, 4);

	if (poll(fds, n, ms) <= 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (fds[i].revents)
			virtio_mmio_handle_fd(f->d.dev, fds[i].fd,
					      fds[i].revents);
}

static short tap_events(struct netfix *f)
{
	struct pollfd fds[4];

	assert_int_equal(virtio_mmio_pollfds(f->d.dev, fds, 4), 1);
	return fds[0].events;
}

static void test_net_config(void **state)
{
	struct netfix *f;
	uint8_t mac[6];
	uint64_t v;

	(void)state;
	need_tap();
	f = net_make();
	vd_setup(&f->d, ~0ULL, 2);
	assert_int_equal(vd_rd(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_MAC);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_STATUS);
	assert_false(f->d.features & 1ULL << VIRTIO_NET_F_CSUM);
	assert_false(f->d.features & 1ULL << VIRTIO_NET_F_GUEST_CSUM);
	assert_false(f->d.features & 1ULL << VIRTIO_NET_F_MRG_RXBUF);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(
		    virtio_mmio_read(f->d.dev, VIRTIO_MMIO_CONFIG + (uint64_t)i,
				     1, &v),
		    0);
		mac[i] = (uint8_t)v;
	}
	assert_memory_equal(mac, f->mac, 6);
	assert_int_equal(
	    virtio_mmio_read(f->d.dev,
			     VIRTIO_MMIO_CONFIG +
				 offsetof(struct virtio_net_config, status),
			     2, &v),
	    0);
	assert_int_equal(v, VIRTIO_NET_S_LINK_UP);
	/* Two queues, no third. */
	vd_wr(&f->d, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(vd_rd(&f->d, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	net_free(f);
}

static void test_net_tx(void **state)
{
	struct netfix *f;
	uint8_t want[200], got[2048];
	struct virtio_net_hdr_v1 *h;
	uint64_t hdr, pkt;
	uint32_t id, len;
	uint16_t head;

	(void)state;
	need_tap();
	f = net_make();
	vd_setup(&f->d, ~0ULL, 2);

	/* Header and frame in separate buffers, as Linux sends them. */
	frame(want, sizeof(want), 1);
	hdr = vd_alloc(&f->d, HDR_LEN);
	pkt = vd_alloc(&f->d, sizeof(want));
	memcpy(vd_host(&f->d, pkt), want, sizeof(want));
	struct vd_buf b1[] = {{hdr, HDR_LEN, false},
			      {pkt, sizeof(want), false}};
	head = vd_add(&f->d, 1, b1, 2);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(capture(f, got, sizeof(got)), sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	assert_int_equal(f->d.irq_level, 1);

	/* One buffer for both, with offload requests in the header the
	 * driver had no right to make: they are not passed on. */
	frame(want, 64, 2);
	pkt = vd_alloc(&f->d, HDR_LEN + 64);
	h = vd_host(&f->d, pkt);
	memset(h, 0, HDR_LEN);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 60000;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = 1;
	memcpy((uint8_t *)h + HDR_LEN, want, 64);
	struct vd_buf b2[] = {{pkt, HDR_LEN + 64, false}};
	head = vd_add_indirect(&f->d, 1, b2, 1);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(capture(f, got, sizeof(got)), 64);
	assert_memory_equal(got, want, 64);

	/* Shorter than the header: dropped, the buffer returned. */
	struct vd_buf b3[] = {{pkt, 4, false}};
	head = vd_add(&f->d, 1, b3, 1);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	assert_null(virtio_mmio_broken(f->d.dev));
	net_free(f);
}

static uint16_t post_rx(struct netfix *f, uint32_t size, uint64_t *gpa)
{
	struct vd_buf b;

	*gpa = vd_alloc(&f->d, size);
	memset(vd_host(&f->d, *gpa), 0xEE, size);
	b = (struct vd_buf){*gpa, size, true};
	return vd_add(&f->d, 0, &b, 1);
}

/* Serves the device until the guest has a frame with marker seq; its
 * used length, or 0. Other frames (none expected) are skipped. */
static uint32_t receive(struct netfix *f, const uint64_t *gpas,
			const uint16_t *heads, int n, uint8_t seq, uint64_t *at)
{
	for (int tries = 0; tries < 50; tries++) {
		uint32_t id, len;

		serve(f, 100);
		while (vd_get_used(&f->d, 0, &id, &len)) {
			for (int i = 0; i < n; i++) {
				uint8_t *p = vd_host(&f->d, gpas[i]);

				if (heads[i] != id || len < HDR_LEN + 15 ||
				    p[HDR_LEN + 14] != (uint8_t)(seq + 14))
					continue;
				*at = gpas[i];
				return len;
			}
		}
	}
	return 0;
}

static void test_net_rx(void **state)
{
	struct netfix *f;
	uint64_t gpa[4], at = 0;
	uint16_t head[4];
	uint8_t want[300];
	struct virtio_net_hdr_v1 *h;

	(void)state;
	need_tap();
	f = net_make();
	vd_setup(&f->d, ~0ULL, 2);
	for (int i = 0; i < 4; i++)
		head[i] = post_rx(f, RX_BUF, &gpa[i]);
	vd_kick(&f->d, 0);
	assert_int_equal(tap_events(f), POLLIN);
	inject(f, sizeof(want), 7);
	assert_int_equal(receive(f, gpa, head, 4, 7, &at),
			 HDR_LEN + sizeof(want));
	frame(want, sizeof(want), 7);
	assert_memory_equal((uint8_t *)vd_host(&f->d, at) + HDR_LEN, want,
			    sizeof(want));
	h = vd_host(&f->d, at);
	assert_int_equal(h->num_buffers, 1);
	assert_int_equal(h->flags, 0);
	assert_int_equal(h->gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(f->d.irq_level, 1);
	assert_true(vd_canary_intact(&f->d));
	net_free(f);
}

/* Without receive buffers the TAP is not polled; a refill brings the
 * waiting frame in. A frame too big for the buffer is dropped. */
static void test_net_rx_stall(void **state)
{
	struct netfix *f;
	uint64_t gpa[2], at = 0;
	uint16_t head[2];

	(void)state;
	need_tap();
	f = net_make();
	vd_setup(&f->d, ~0ULL, 2);
	inject(f, 100, 9);
	serve(f, 200);
	assert_int_equal(tap_events(f), 0);
	assert_null(virtio_mmio_broken(f->d.dev));

	/* A small buffer first: the 100-byte frame does not fit and is
	 * dropped; the next, small one lands in it. */
	head[0] = post_rx(f, HDR_LEN + 40, &gpa[0]);
	vd_kick(&f->d, 0);
	assert_int_equal(tap_events(f), POLLIN);
	inject(f, 40, 10);
	assert_int_equal(receive(f, gpa, head, 1, 10, &at), HDR_LEN + 40);

	head[1] = post_rx(f, RX_BUF, &gpa[1]);
	vd_kick(&f->d, 0);
	inject(f, 100, 11);
	assert_int_equal(receive(f, gpa + 1, head + 1, 1, 11, &at),
			 HDR_LEN + 100);
	net_free(f);
}

static void test_net_rx_malformed(void **state)
{
	struct netfix *f;
	struct vd_buf b;

	(void)state;
	need_tap();
	f = net_make();
	vd_setup(&f->d, ~0ULL, 2);
	b = (struct vd_buf){vd_alloc(&f->d, RX_BUF), RX_BUF, false};
	vd_add(&f->d, 0, &b, 1);
	vd_kick(&f->d, 0);
	inject(f, 60, 1);
	serve(f, 1000);
	assert_string_equal(virtio_mmio_broken(f->d.dev),
			    "receive buffer the device cannot write");
	assert_true(vd_rd(&f->d, VIRTIO_MMIO_STATUS) &
		    VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(tap_events(f), 0);
	net_free(f);
}

/* Deletes interface name (RTM_DELLINK): 0 or -errno. */
static int del_link(const char *name)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req;
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	assert_true(s >= 0);
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_DELLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = (int)if_nametoindex(name);
	assert_int_equal(send(s, &req, sizeof(req), 0), sizeof(req));
	assert_true(recv(s, &ack, sizeof(ack), 0) >= (ssize_t)sizeof(ack));
	close(s);
	assert_int_equal(ack.nh.nlmsg_type, NLMSG_ERROR);
	return ack.err.error;
}

/* The TAP deleted under a running device: link down with a config
 * interrupt, and its fd is no longer polled (it would report POLLERR
 * forever). */
static void test_net_tap_deleted(void **state)
{
	struct netfix *f;
	struct pollfd fds[4];
	uint64_t v, gen0, gen1;

	(void)state;
	need_tap();
	f = net_make();
	vd_setup(&f->d, ~0ULL, 2);
	virtio_mmio_read(f->d.dev, VIRTIO_MMIO_CONFIG_GENERATION, 4, &gen0);
	assert_int_equal(del_link(TAP_NAME), 0);
	serve(f, 1000);
	assert_int_equal(virtio_mmio_pollfds(f->d.dev, fds, 4), 0);
	assert_int_equal(
	    virtio_mmio_read(f->d.dev,
			     VIRTIO_MMIO_CONFIG +
				 offsetof(struct virtio_net_config, status),
			     2, &v),
	    0);
	assert_int_equal(v, 0);
	virtio_mmio_read(f->d.dev, VIRTIO_MMIO_CONFIG_GENERATION, 4, &gen1);
	assert_int_not_equal(gen0, gen1);
	assert_int_equal(vd_ack(&f->d), VIRTIO_MMIO_INT_CONFIG);
	/* Transmitting still returns the buffers. */
	uint64_t pkt = vd_alloc(&f->d, 64);
	struct vd_buf b = {pkt, 64, false};
	uint32_t id, len;
	uint16_t head = vd_add(&f->d, 1, &b, 1);

	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	assert_null(virtio_mmio_broken(f->d.dev));
	net_free(f);
}

/* Its own network namespace, without IPv6 chatter on new interfaces. */
static void isolate(void)
{
	int fd;

	if (access("/dev/net/tun", R_OK | W_OK)) {
		no_tap = "/dev/net/tun is missing or not accessible";
		return;
	}
	if (unshare(CLONE_NEWNET)) {
		no_tap = "cannot make a network namespace (needs root or "
			 "CAP_SYS_ADMIN and CAP_NET_ADMIN)";
		return;
	}
	fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			print_message("# IPv6 stays on\n");
		close(fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_and_macs),
	    cmocka_unit_test(test_tap_errors),
	    cmocka_unit_test(test_tap_no_permission),
	    cmocka_unit_test(test_tap_bridge),
	    cmocka_unit_test(test_net_config),
	    cmocka_unit_test(test_net_tx),
	    cmocka_unit_test(test_net_rx),
	    cmocka_unit_test(test_net_rx_stall),
	    cmocka_unit_test(test_net_rx_malformed),
	    cmocka_unit_test(test_net_tap_deleted),
	};

	isolate();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

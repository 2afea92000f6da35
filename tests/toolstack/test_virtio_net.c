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
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio/virtio_dev.h"
#include "virtio_driver.h"

#define ETHERTYPE_TEST 0x88B5 /* IEEE local experimental */
#define HDR_LEN	       sizeof(struct virtio_net_hdr_v1)
#define RX_BUF	       1526
#define TAP_NAME       "kl-test0"
#define F(bit)	       (1ULL << VIRTIO_NET_F_##bit)
#define GUEST_TSO      (F(GUEST_TSO4) | F(GUEST_TSO6) | F(GUEST_ECN))
#define PAGE	       4096

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

/*
 * The fixture lives in the test's *state, so that net_teardown() frees it
 * (and closes the TAP) even when an assertion ends the test early: a TAP
 * left open would make every later test fail with "in use".
 */
static struct netfix *net_make(void **state)
{
	struct netfix *f = calloc(1, sizeof(*f));
	struct virtio_net_params p;
	struct sockaddr_ll sll;
	char err[256];

	assert_non_null(f);
	f->psock = -1;
	*state = f;
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

static int net_teardown(void **state)
{
	struct netfix *f = *state;

	if (f) {
		if (f->psock >= 0)
			close(f->psock);
		vd_free(&f->d);
		free(f);
	}
	return 0;
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

/* Frames the device dropped on receive (rx) or transmit. */
static uint64_t dropped(struct netfix *f, bool rx)
{
	uint64_t r, t;

	virtio_net_dropped(f->d.dev, &r, &t);
	return rx ? r : t;
}

/* An IPv4 TCP frame with len bytes of payload marked seq; its length. */
static size_t tcp_frame(uint8_t *buf, size_t len, uint8_t seq)
{
	static const uint8_t head[54] = {
	    2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
	    /* IPv4: 10.9.0.1 -> 10.9.0.2, TCP */
	    0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 9, 0, 1, 10, 9, 0, 2,
	    /* TCP 1234 -> 5678, seq 1, ack 1, ACK */
	    0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0xff,
	    0xff, 0, 0, 0, 0};

	memcpy(buf, head, sizeof(head));
	buf[16] = (uint8_t)((40 + len) >> 8);
	buf[17] = (uint8_t)(40 + len);
	for (size_t i = 0; i < len; i++)
		buf[sizeof(head) + i] = (uint8_t)(seq + i * 7);
	return sizeof(head) + len;
}

/* A packet socket for IPv4 on the TAP interface with vnet headers: what
 * it sends reaches the TAP fd as one GSO frame if the TAP takes TSO. */
static int gso_socket(void)
{
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       htons(ETH_P_IP)),
	    on = 1;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_IP)};

	assert_true(s >= 0);
	sll.sll_ifindex = (int)if_nametoindex(TAP_NAME);
	assert_int_equal(
	    setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &on, sizeof(on)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

/* Sends a TCP segment of len payload bytes as one TSO frame (gso_size
 * 1448, checksum to fill); the frame (without header) is in buf. */
static size_t send_gso(int s, uint8_t *buf, size_t len, uint8_t seq)
{
	struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				   .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				   .hdr_len = 54,
				   .gso_size = 1448,
				   .csum_start = 34,
				   .csum_offset = 16};
	size_t n = tcp_frame(buf, len, seq);
	struct iovec v[2] = {{&h, sizeof(h)}, {buf, n}};
	struct msghdr m = {.msg_iov = v, .msg_iovlen = 2};

	assert_int_equal(sendmsg(s, &m, 0), (ssize_t)(sizeof(h) + n));
	return n;
}

/* The TAP's TSO and transmit checksum (what TUNSETOFFLOAD set), as
 * ethtool reads them: bit 0 TSO, bit 1 checksum. */
static unsigned tap_offloads(void)
{
	struct ethtool_value tso = {.cmd = ETHTOOL_GTSO},
			     csum = {.cmd = ETHTOOL_GTXCSUM};
	struct ifreq ifr = ifreq(TAP_NAME);

	ifr.ifr_data = (void *)&tso;
	assert_int_equal(ctl(SIOCETHTOOL, &ifr), 0);
	ifr.ifr_data = (void *)&csum;
	assert_int_equal(ctl(SIOCETHTOOL, &ifr), 0);
	return (tso.data ? 1u : 0) | (csum.data ? 2u : 0);
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

	need_tap();
	f = net_make(state);
	vd_setup(&f->d, ~0ULL, 2);
	assert_int_equal(vd_rd(&f->d, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_MAC);
	assert_true(f->d.features & 1ULL << VIRTIO_NET_F_STATUS);
	/* Offloads as QEMU's TAP back end has them, UFO aside. */
	assert_int_equal(f->d.features &
			     (F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) |
			      F(HOST_TSO6) | F(HOST_ECN) | GUEST_TSO |
			      F(MRG_RXBUF) | F(HOST_UFO) | F(GUEST_UFO)),
			 F(CSUM) | F(GUEST_CSUM) | F(HOST_TSO4) | F(HOST_TSO6) |
			     F(HOST_ECN) | GUEST_TSO | F(MRG_RXBUF));
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
}

static void test_net_tx(void **state)
{
	struct netfix *f;
	uint8_t want[200], got[2048];
	struct virtio_net_hdr_v1 *h;
	uint64_t hdr, pkt;
	uint32_t id, len;
	uint16_t head;

	need_tap();
	f = net_make(state);
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

	/* Offload requests the TAP refuses (a checksum offset past the
	 * frame) or that were never offered (UFO): dropped and counted,
	 * the buffers returned. */
	frame(want, 64, 2);
	pkt = vd_alloc(&f->d, HDR_LEN + 64);
	h = vd_host(&f->d, pkt);
	memset(h, 0, HDR_LEN);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = 60000;
	memcpy((uint8_t *)h + HDR_LEN, want, 64);
	struct vd_buf b2[] = {{pkt, HDR_LEN + 64, false}};
	head = vd_add_indirect(&f->d, 1, b2, 1);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	h->flags = 0;
	h->gso_type = VIRTIO_NET_HDR_GSO_UDP;
	h->gso_size = 100;
	head = vd_add(&f->d, 1, b2, 1);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(capture(f, got, sizeof(got)), -1);
	assert_int_equal(dropped(f, false), 2);

	/* Shorter than the header: dropped, the buffer returned. */
	struct vd_buf b3[] = {{pkt, 4, false}};
	head = vd_add(&f->d, 1, b3, 1);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(dropped(f, false), 3);
	assert_null(virtio_mmio_broken(f->d.dev));
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

	need_tap();
	f = net_make(state);
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
}

/* Without receive buffers the TAP is not polled; a refill brings the
 * waiting frame in. A frame too big for the buffer is dropped. */
static void test_net_rx_stall(void **state)
{
	struct netfix *f;
	uint64_t gpa[2], at = 0;
	uint16_t head[2];

	need_tap();
	f = net_make(state);
	vd_setup(&f->d, ~F(MRG_RXBUF), 2);
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
	assert_int_equal(dropped(f, true), 1);

	head[1] = post_rx(f, RX_BUF, &gpa[1]);
	vd_kick(&f->d, 0);
	inject(f, 100, 11);
	assert_int_equal(receive(f, gpa + 1, head + 1, 1, 11, &at),
			 HDR_LEN + 100);
}

static void test_net_rx_malformed(void **state)
{
	struct netfix *f;
	struct vd_buf b;

	need_tap();
	f = net_make(state);
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
}

static void test_offload_mapping(void **state)
{
	const uint64_t host =
	    F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN);
	const unsigned all =
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
	struct virtio_net_hdr_v1 h;

	(void)state;
	/* Offered: what the TAP takes on receive, with dependencies. */
	assert_int_equal(virtio_net_offload_features(0), host);
	assert_int_equal(virtio_net_offload_features(TUN_F_TSO4), host);
	assert_int_equal(virtio_net_offload_features(TUN_F_CSUM),
			 host | F(GUEST_CSUM));
	assert_int_equal(
	    virtio_net_offload_features(TUN_F_CSUM | TUN_F_TSO_ECN),
	    host | F(GUEST_CSUM));
	assert_int_equal(virtio_net_offload_features(all),
			 host | F(GUEST_CSUM) | GUEST_TSO);
	/* Set on the TAP: what the driver accepted. */
	assert_int_equal(virtio_net_tun_offloads(~0ULL), all);
	assert_int_equal(virtio_net_tun_offloads(host | GUEST_TSO), 0);
	assert_int_equal(virtio_net_tun_offloads(F(GUEST_CSUM)), TUN_F_CSUM);
	assert_int_equal(virtio_net_tun_offloads(F(GUEST_CSUM) | F(GUEST_TSO6)),
			 TUN_F_CSUM | TUN_F_TSO6);
	assert_int_equal(virtio_net_tun_offloads(F(GUEST_CSUM) | F(GUEST_ECN)),
			 TUN_F_CSUM);

	/* Transmit: only what was negotiated. */
	memset(&h, 0, sizeof(h));
	assert_true(virtio_net_tx_hdr_ok(0, &h));
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	assert_false(virtio_net_tx_hdr_ok(~F(CSUM), &h));
	assert_true(virtio_net_tx_hdr_ok(F(CSUM), &h));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_false(virtio_net_tx_hdr_ok(F(CSUM) | F(HOST_TSO6), &h));
	assert_true(virtio_net_tx_hdr_ok(F(CSUM) | F(HOST_TSO4), &h));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN;
	assert_false(virtio_net_tx_hdr_ok(F(CSUM) | F(HOST_TSO6), &h));
	assert_true(virtio_net_tx_hdr_ok(host, &h));
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_false(virtio_net_tx_hdr_ok(~0ULL, &h));
	h.gso_type = VIRTIO_NET_HDR_GSO_ECN;
	assert_false(virtio_net_tx_hdr_ok(~0ULL, &h));
	h.gso_type = 0;
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	assert_false(virtio_net_tx_hdr_ok(~0ULL, &h));

	/* Receive: DATA_VALID only with GUEST_CSUM; NEEDS_CSUM and GSO
	 * the driver did not take drop the frame. */
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_RSC_INFO;
	assert_true(virtio_net_rx_hdr_fix(F(GUEST_CSUM), &h));
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_true(virtio_net_rx_hdr_fix(0, &h));
	assert_int_equal(h.flags, 0);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	assert_false(virtio_net_rx_hdr_fix(~F(GUEST_CSUM), &h));
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_false(virtio_net_rx_hdr_fix(F(GUEST_CSUM) | F(GUEST_TSO6), &h));
	assert_true(virtio_net_rx_hdr_fix(F(GUEST_CSUM) | F(GUEST_TSO4), &h));
	h.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	assert_false(virtio_net_rx_hdr_fix(F(GUEST_CSUM) | F(GUEST_TSO4), &h));
	assert_true(virtio_net_rx_hdr_fix(~0ULL, &h));
}

/* The TAP's offloads follow what the driver accepted, and a reset takes
 * them away. */
static void test_net_tap_offloads(void **state)
{
	struct netfix *f;

	need_tap();
	f = net_make(state);
	assert_int_equal(tap_offloads(), 0);
	vd_setup(&f->d, ~0ULL, 2);
	assert_int_equal(tap_offloads(), 3);
	vd_wr(&f->d, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(tap_offloads(), 0);
	vd_setup(&f->d, ~GUEST_TSO, 2);
	assert_int_equal(tap_offloads(), 2);
	vd_setup(&f->d, ~F(GUEST_CSUM), 2);
	assert_int_equal(tap_offloads(), 0);
}

/* A TSO frame from the guest reaches Dom0 whole, with its header. */
static void test_net_tx_gso(void **state)
{
	static uint8_t want[20100], got[20100];
	struct virtio_net_hdr *gh = (void *)got;
	struct netfix *f;
	struct virtio_net_hdr_v1 *h;
	uint64_t hdr, pkt;
	uint32_t id, len;
	size_t n;
	int s;

	need_tap();
	f = net_make(state);
	vd_setup(&f->d, ~0ULL, 2);
	s = gso_socket();
	n = tcp_frame(want, 20000, 3);
	hdr = vd_alloc(&f->d, HDR_LEN);
	pkt = vd_alloc(&f->d, n);
	h = vd_host(&f->d, hdr);
	*h = (struct virtio_net_hdr_v1){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					.hdr_len = 54,
					.gso_size = 1448,
					.csum_start = 34,
					.csum_offset = 16};
	memcpy(vd_host(&f->d, pkt), want, n);
	struct vd_buf b[] = {{hdr, HDR_LEN, false}, {pkt, (uint32_t)n, false}};
	vd_add(&f->d, 1, b, 2);
	vd_kick(&f->d, 1);
	assert_true(vd_get_used(&f->d, 1, &id, &len));
	assert_int_equal(dropped(f, false), 0);
	struct pollfd p = {.fd = s, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	assert_int_equal(recv(s, got, sizeof(got), 0), sizeof(*gh) + n);
	assert_int_equal(gh->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(gh->gso_size, 1448);
	assert_memory_equal(got + sizeof(*gh), want, n);
	close(s);
}

/* Posts one receive chain: a header buffer then pages of PAGE bytes
 * (as Linux's big-packet mode does), through an indirect table; fills
 * them and guard bytes after each with 0xEE. */
static uint16_t post_big(struct netfix *f, unsigned pages, uint64_t *gpas)
{
	struct vd_buf b[20];

	assert_true(pages < 20);
	for (unsigned i = 0; i <= pages; i++) {
		uint32_t size = i ? PAGE : HDR_LEN;

		gpas[i] = vd_alloc(&f->d, size + 16);
		memset(vd_host(&f->d, gpas[i]), 0xEE, size + 16);
		b[i] = (struct vd_buf){gpas[i], size, true};
	}
	return vd_add_indirect(&f->d, 0, b, pages + 1);
}

/* Reads len bytes of the guest's buffers at gpas (the first HDR_LEN
 * long, the others PAGE) after the header into out. */
static void gather(struct netfix *f, const uint64_t *gpas, size_t len,
		   uint8_t *out)
{
	for (unsigned i = 1; len; i++) {
		size_t n = len < PAGE ? len : PAGE;

		memcpy(out, vd_host(&f->d, gpas[i]), n);
		out += n;
		len -= n;
	}
}

/* Guard bytes after each of the chain's buffers are untouched. */
static bool guards_intact(struct netfix *f, const uint64_t *gpas,
			  unsigned pages)
{
	for (unsigned i = 0; i <= pages; i++) {
		uint8_t *g =
		    (uint8_t *)vd_host(&f->d, gpas[i]) + (i ? PAGE : HDR_LEN);

		for (int j = 0; j < 16; j++)
			if (g[j] != 0xEE)
				return false;
	}
	return true;
}

/* Without MRG_RXBUF: a 60 KB GSO frame lands in one chain of 17 pages,
 * header as Dom0's stack made it; one too big for the next chain is
 * dropped and counted, nothing written past that chain. */
static void test_net_rx_gso(void **state)
{
	static uint8_t want[61000], got[61000];
	uint64_t big[18], small[5];
	struct virtio_net_hdr_v1 *h;
	struct netfix *f;
	uint32_t id, len;
	uint16_t head;
	size_t n;
	int s;

	need_tap();
	f = net_make(state);
	vd_setup(&f->d, ~F(MRG_RXBUF), 2);
	s = gso_socket();
	head = post_big(f, 17, big);
	vd_kick(&f->d, 0);
	n = send_gso(s, want, 60000, 5);
	for (int i = 0; i < 20 && !vd_get_used(&f->d, 0, &id, &len); i++)
		serve(f, 100);
	assert_int_equal(id, head);
	assert_int_equal(len, HDR_LEN + n);
	h = vd_host(&f->d, big[0]);
	assert_int_equal(h->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(h->gso_size, 1448);
	assert_int_equal(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(h->csum_start, 34);
	assert_int_equal(h->num_buffers, 1);
	gather(f, big, n, got);
	assert_memory_equal(got, want, n);
	assert_true(guards_intact(f, big, 17));

	/* 4 pages: too small for the next one. */
	head = post_big(f, 4, small);
	vd_kick(&f->d, 0);
	send_gso(s, want, 60000, 6);
	for (int i = 0; i < 5 && !dropped(f, true); i++)
		serve(f, 100);
	assert_int_equal(dropped(f, true), 1);
	assert_false(vd_get_used(&f->d, 0, &id, &len));
	assert_true(guards_intact(f, small, 4));
	uint8_t *p = vd_host(&f->d, small[1]);
	assert_int_equal(p[0], 0xEE);
	/* The chain takes the next frame that fits. */
	n = send_gso(s, want, 3000, 7);
	for (int i = 0; i < 20 && !vd_get_used(&f->d, 0, &id, &len); i++)
		serve(f, 100);
	assert_int_equal(id, head);
	assert_int_equal(len, HDR_LEN + n);
	gather(f, small, n, got);
	assert_memory_equal(got, want, n);
	assert_true(guards_intact(f, small, 4));
	assert_true(vd_canary_intact(&f->d));
	close(s);
}

/* Posts n one-page receive buffers (Linux's mergeable buffers); their
 * guest addresses by head in gpa_of. */
static void post_pages(struct netfix *f, unsigned n, uint64_t *gpa_of)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t gpa = vd_alloc(&f->d, PAGE);
		struct vd_buf b = {gpa, PAGE, true};

		gpa_of[vd_add(&f->d, 0, &b, 1)] = gpa;
	}
	vd_kick(&f->d, 0);
}

/* Collects one frame of a MRG_RXBUF queue into out (header included):
 * its length, and its buffers' count in *nb; 0 if none came. */
static size_t take_merged(struct netfix *f, const uint64_t *gpa_of,
			  uint8_t *out, unsigned *nb)
{
	uint32_t id, len;
	size_t total = 0;
	unsigned want = 1;

	for (unsigned got = 0; got < want;) {
		int tries = 0;

		while (!vd_get_used(&f->d, 0, &id, &len)) {
			if (++tries > 20)
				return 0;
			serve(f, 100);
		}
		assert_true(len <= PAGE);
		memcpy(out + total, vd_host(&f->d, gpa_of[id]), len);
		if (!got++)
			want = ((struct virtio_net_hdr_v1 *)out)->num_buffers;
		total += len;
	}
	*nb = want;
	return total;
}

/* With MRG_RXBUF: a GSO frame spreads over as many buffers as it needs;
 * with too few it waits, and comes once the guest adds more. */
static void test_net_rx_mrg(void **state)
{
	static uint8_t want[61000], got[62000];
	uint64_t gpa_of[VD_QNUM];
	struct netfix *f;
	unsigned nb;
	size_t n;
	int s;

	need_tap();
	f = net_make(state);
	vd_setup(&f->d, ~0ULL, 2);
	s = gso_socket();
	post_pages(f, VD_QNUM, gpa_of);
	n = send_gso(s, want, 60000, 8);
	assert_int_equal(take_merged(f, gpa_of, got, &nb), HDR_LEN + n);
	assert_int_equal(nb, (HDR_LEN + n + PAGE - 1) / PAGE);
	assert_memory_equal(got + HDR_LEN, want, n);
	assert_int_equal(((struct virtio_net_hdr_v1 *)got)->gso_type,
			 VIRTIO_NET_HDR_GSO_TCPV4);

	/* One buffer left: the next frame waits, the TAP is not polled. */
	n = send_gso(s, want, 50000, 9);
	serve(f, 300);
	assert_int_equal(vd_used_idx(&f->d, 0), f->d.q[0].used_seen);
	assert_int_equal(tap_events(f), 0);
	post_pages(f, VD_QNUM - 1, gpa_of);
	assert_int_equal(take_merged(f, gpa_of, got, &nb), HDR_LEN + n);
	assert_memory_equal(got + HDR_LEN, want, n);
	assert_int_equal(dropped(f, true), 0);
	assert_true(vd_canary_intact(&f->d));
	close(s);
}

/* A driver without GUEST_TSO gets Dom0's GSO frames cut to segments. */
static void test_net_rx_no_gso(void **state)
{
	static uint8_t want[11000], got[4 * PAGE];
	uint64_t gpa_of[VD_QNUM];
	struct netfix *f;
	size_t payload = 0;
	unsigned nb;
	int s;

	need_tap();
	f = net_make(state);
	vd_setup(&f->d, ~GUEST_TSO, 2);
	s = gso_socket();
	post_pages(f, VD_QNUM, gpa_of);
	send_gso(s, want, 10000, 10);
	for (int i = 0; i < 7; i++) {
		size_t len = take_merged(f, gpa_of, got, &nb);
		struct virtio_net_hdr_v1 *h = (void *)got;

		assert_true(len > HDR_LEN + 54 && len <= HDR_LEN + 1514);
		assert_int_equal(h->gso_type, VIRTIO_NET_HDR_GSO_NONE);
		payload += len - HDR_LEN - 54;
	}
	assert_int_equal(payload, 10000);
	close(s);
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

	need_tap();
	f = net_make(state);
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
	    cmocka_unit_test(test_offload_mapping),
	    cmocka_unit_test_teardown(test_net_config, net_teardown),
	    cmocka_unit_test_teardown(test_net_tap_offloads, net_teardown),
	    cmocka_unit_test_teardown(test_net_tx, net_teardown),
	    cmocka_unit_test_teardown(test_net_tx_gso, net_teardown),
	    cmocka_unit_test_teardown(test_net_rx, net_teardown),
	    cmocka_unit_test_teardown(test_net_rx_stall, net_teardown),
	    cmocka_unit_test_teardown(test_net_rx_gso, net_teardown),
	    cmocka_unit_test_teardown(test_net_rx_mrg, net_teardown),
	    cmocka_unit_test_teardown(test_net_rx_no_gso, net_teardown),
	    cmocka_unit_test_teardown(test_net_rx_malformed, net_teardown),
	    cmocka_unit_test_teardown(test_net_tap_deleted, net_teardown),
	};

	isolate();
	return cmocka_run_group_tests(tests, NULL, NULL);
}

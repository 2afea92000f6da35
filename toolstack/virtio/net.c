/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2 section 5.1) on a TAP with a 12-byte vnet
 * header: queue 0 receives, queue 1 transmits. No offloads are offered
 * (the TAP has none either, TUNSETOFFLOAD 0), so every header the guest
 * sees or sends is all zeros but num_buffers, and packets are copied
 * straight between the TAP and the guest's buffers by readv/writev.
 *
 * Receiving is driven by the TAP's readability; while the guest has no
 * receive buffer the TAP is not polled (its queue holds, then drops),
 * until the guest's next notification on queue 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio_dev.h"

#define RXQ 0
#define TXQ 1
/* Frames received per wake-up, so one busy device does not starve the
 * event loop (the TAP stays readable and poll() comes back). Transmit has
 * no such limit: with VIRTIO_F_EVENT_IDX the driver does not kick again
 * for buffers it already made available, so the queue must be drained;
 * a driver that refills it forever only delays its own domain's devices
 * (one device model per domain). */
#define RX_BATCH 64

struct net {
	struct virtio_mmio_dev mmio;
	int tap;
	bool rx_stalled; /* no receive buffer: wait for the guest */
	bool tap_dead;	 /* the TAP failed: link down, not polled */
	struct iovec iov[VIRTQ_MAX_CHAIN + 1]; /* header or spill added */
	uint8_t spill[65536 + 64];	       /* the largest TAP frame */
};

static struct net *to_net(struct virtio_mmio_dev *dev)
{
	return container_of(dev, struct net, mmio);
}

static void link_down(struct net *n)
{
	struct virtio_net_config *cfg = (void *)n->mmio.config;

	n->tap_dead = true;
	cfg->status = 0;
	virtio_mmio_config_changed(&n->mmio);
}

static void net_tx(struct net *n)
{
	struct virtio_mmio_dev *dev = &n->mmio;
	struct virtq_chain *c = &dev->chain;
	/* Without offloads the TAP gets a zeroed header whatever the
	 * guest wrote in its own. */
	static const struct virtio_net_hdr_v1 hdr;
	const char *why = NULL;
	bool pushed = false;

	while (virtio_mmio_running(dev) && dev->q[TXQ].ready) {
		unsigned nr = 0;
		size_t skip = sizeof(hdr);
		int rc = virtq_pop(&dev->q[TXQ].vq, c, &why);

		if (rc <= 0)
			break;
		/* Packets shorter than the header are dropped; writable
		 * buffers in a transmit chain are ignored. */
		if (c->out_len > sizeof(hdr) && !n->tap_dead) {
			n->iov[nr++] =
			    (struct iovec){(void *)&hdr, sizeof(hdr)};
			for (unsigned j = 0; j < c->nr_out; j++) {
				struct iovec v = c->iov[j];
				size_t cut =
				    skip < v.iov_len ? skip : v.iov_len;

				skip -= cut;
				v.iov_base = (uint8_t *)v.iov_base + cut;
				v.iov_len -= cut;
				if (v.iov_len)
					n->iov[nr++] = v;
			}
			/* A full TAP queue or an oversized frame drops
			 * the packet, as a NIC would. */
			if (writev(n->tap, n->iov, (int)nr) < 0 &&
			    errno != EAGAIN && errno != EINVAL &&
			    errno != EMSGSIZE)
				link_down(n);
		}
		virtq_push(&dev->q[TXQ].vq, c->head, 0);
		pushed = true;
	}
	if (why)
		virtio_mmio_break(dev, why);
	else if (pushed)
		virtio_mmio_used(dev, TXQ);
}

static void net_rx(struct net *n)
{
	struct virtio_mmio_dev *dev = &n->mmio;
	struct virtq_chain *c = &dev->chain;
	struct virtq *vq = &dev->q[RXQ].vq;
	/* 5.1.6.3.2: without MRG_RXBUF one buffer per packet; no
	 * GUEST_CSUM, so flags stay 0. */
	const struct virtio_net_hdr_v1 hdr = {.num_buffers = 1};
	const char *why = NULL;
	bool pushed = false;

	for (int i = 0; i < RX_BATCH && !n->tap_dead; i++) {
		ssize_t got;
		int rc;

		if (!virtio_mmio_running(dev) || !dev->q[RXQ].ready)
			break;
		rc = virtq_pop(vq, c, &why);
		if (rc < 0)
			break;
		if (!rc) {
			n->rx_stalled = true;
			break;
		}
		if (c->nr_out) {
			why = "receive buffer the device cannot write";
			break;
		}
		if (c->in_len < sizeof(hdr)) {
			why = "receive buffer shorter than the header";
			break;
		}
		/* Linux's TAP truncates a frame to the buffer and says
		 * nothing: a spare tail catches what does not fit. */
		if (c->nr_in == VIRTQ_MAX_CHAIN) {
			why = "receive buffer of too many pieces";
			break;
		}
		memcpy(n->iov, c->iov, c->nr_in * sizeof(*c->iov));
		n->iov[c->nr_in] = (struct iovec){n->spill, sizeof(n->spill)};
		got = readv(n->tap, n->iov, (int)c->nr_in + 1);
		if (got <= 0) {
			virtq_unpop(vq);
			if (got < 0 && errno != EAGAIN && errno != EINTR)
				link_down(n);
			break;
		}
		if ((uint64_t)got > c->in_len) {
			/* Too big for the buffer (the guest's MTU is
			 * smaller than the TAP's): dropped, as a NIC
			 * would. */
			virtq_unpop(vq);
			continue;
		}
		iov_from_buf(c->iov, c->nr_in, 0, &hdr, sizeof(hdr));
		virtq_push(vq, c->head, (uint32_t)got);
		pushed = true;
	}
	if (why)
		virtio_mmio_break(dev, why);
	else if (pushed)
		virtio_mmio_used(dev, RXQ);
}

static void net_notify(struct virtio_mmio_dev *dev, unsigned q)
{
	struct net *n = to_net(dev);

	if (q == TXQ)
		net_tx(n);
	else
		n->rx_stalled = false; /* new buffers: poll the TAP again */
}

static void net_start(struct virtio_mmio_dev *dev)
{
	struct net *n = to_net(dev);

	n->rx_stalled = false;
	net_tx(n);
}

static void net_stop(struct virtio_mmio_dev *dev)
{
	/* Everything is synchronous: nothing is in flight. */
	to_net(dev)->rx_stalled = false;
}

static size_t net_pollfds(struct virtio_mmio_dev *dev, struct pollfd *fds,
			  size_t max)
{
	struct net *n = to_net(dev);
	bool rx =
	    virtio_mmio_running(dev) && dev->q[RXQ].ready && !n->rx_stalled;

	/* A dead TAP would report POLLERR forever, asked or not. */
	if (!max || n->tap_dead)
		return 0;
	fds[0] = (struct pollfd){.fd = n->tap, .events = rx ? POLLIN : 0};
	return 1;
}

static void net_handle_fd(struct virtio_mmio_dev *dev, int fd, short revents)
{
	struct net *n = to_net(dev);

	if (fd != n->tap || n->tap_dead)
		return;
	/* POLLERR: the interface was deleted under us (tun_chr_poll()). */
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		link_down(n);
	else if (revents & POLLIN)
		net_rx(n);
}

static void net_destroy(struct virtio_mmio_dev *dev)
{
	struct net *n = to_net(dev);

	close(n->tap);
	free(n);
}

static const struct virtio_dev_ops net_ops = {
    .notify = net_notify,
    .start = net_start,
    .stop = net_stop,
    .pollfds = net_pollfds,
    .handle_fd = net_handle_fd,
    .destroy = net_destroy,
};

int virtio_net_create(const struct virtio_mem *mem,
		      const struct virtio_net_params *p,
		      struct virtio_mmio_dev **out, char *err, size_t errlen)
{
	struct virtio_net_config cfg;
	struct net *n;

	if (p->tap_fd < 0) {
		snprintf(err, errlen, "virtio-net needs a TAP");
		return -EBADF;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	n->tap = p->tap_fd;
	virtio_mmio_init(&n->mmio, &net_ops, mem, VIRTIO_ID_NET,
			 1ULL << VIRTIO_NET_F_MAC |
			     1ULL << VIRTIO_NET_F_STATUS |
			     1ULL << VIRTIO_RING_F_INDIRECT_DESC |
			     1ULL << VIRTIO_RING_F_EVENT_IDX,
			 2);
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.mac, p->mac, sizeof(cfg.mac));
	cfg.status = VIRTIO_NET_S_LINK_UP;
	cfg.max_virtqueue_pairs = 1;
	_Static_assert(sizeof(cfg) <= VIRTIO_CONFIG_MAX, "config space");
	memcpy(n->mmio.config, &cfg, sizeof(cfg));
	n->mmio.config_len = sizeof(cfg);
	*out = &n->mmio;
	return 0;
}

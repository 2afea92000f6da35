/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.2 section 5.1) on a TAP with a 12-byte vnet
 * header (VERSION_1's struct virtio_net_hdr_v1, with or without
 * MRG_RXBUF): queue 0 receives, queue 1 transmits.
 *
 * Offloads (net_offload.c): checksum and TSO (IPv4, IPv6, ECN) both
 * ways, as QEMU's TAP back end offers them. The header passes between
 * the guest and the TAP as it is, after a check that it asks only for
 * what was negotiated. Once the driver is up, the TAP is told which
 * receive offloads it accepted (TUNSETOFFLOAD), so Dom0 hands it
 * unchecksummed and GSO frames of up to 64 KiB instead of segmenting
 * them; a reset sets them back to none.
 *
 * Receiving reads one frame from the TAP into a buffer of the largest
 * size, then copies it into one receive chain, which must hold all of it
 * (else the frame is dropped and counted), or with MRG_RXBUF into as many
 * as it takes (num_buffers in the first). While the guest has too few
 * receive buffers the frame waits and the TAP is not polled (its queue
 * holds, then drops), until the guest's next notification on queue 0.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_ids.h>

#include "virtio_dev.h"

#define RXQ	0
#define TXQ	1
#define HDR_LEN sizeof(struct virtio_net_hdr_v1)
/* Frames received per wake-up, so one busy device does not starve the
 * event loop (the TAP stays readable and poll() comes back). Transmit has
 * no such limit: with VIRTIO_F_EVENT_IDX the driver does not kick again
 * for buffers it already made available, so the queue must be drained;
 * a driver that refills it forever only delays its own domain's devices
 * (one device model per domain). */
#define RX_BATCH 64
/* The largest read from the TAP: header, a 64 KiB GSO frame (the TAP's
 * gso_max_size) and a VLAN tag, with room to spare. A read that returns
 * more was cut short (the TAP says how long the frame was). */
#define FRAME_MAX (HDR_LEN + 65536 + 64)

struct net {
	struct virtio_mmio_dev mmio;
	int tap;
	bool rx_stalled; /* too few receive buffers: wait for the guest */
	bool tap_dead;	 /* the TAP failed: link down, not polled */
	size_t pending;	 /* bytes of frame[] waiting for receive buffers */
	uint64_t rx_dropped, tx_dropped;
	struct iovec iov[VIRTQ_MAX_CHAIN + 1]; /* header added */
	uint16_t heads[VIRTIO_QUEUE_MAX];      /* chains of one frame */
	uint32_t lens[VIRTIO_QUEUE_MAX];
	uint8_t frame[FRAME_MAX]; /* vnet header, then the frame */
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

/* Writes the frame in chain c to the TAP, or drops it. */
static void tx_frame(struct net *n, const struct virtq_chain *c)
{
	/* The header is copied once and only the copy is checked and
	 * written: the guest may change its own meanwhile. */
	struct virtio_net_hdr_v1 hdr;
	size_t skip = HDR_LEN;
	unsigned nr = 0;

	/* Writable buffers in a transmit chain are ignored. */
	if (c->out_len <= HDR_LEN) {
		n->tx_dropped++;
		return;
	}
	iov_to_buf(c->iov, c->nr_out, 0, &hdr, HDR_LEN);
	if (!virtio_net_tx_hdr_ok(n->mmio.driver_features, &hdr)) {
		n->tx_dropped++;
		return;
	}
	n->iov[nr++] = (struct iovec){&hdr, HDR_LEN};
	for (unsigned j = 0; j < c->nr_out; j++) {
		struct iovec v = c->iov[j];
		size_t cut = skip < v.iov_len ? skip : v.iov_len;

		skip -= cut;
		v.iov_base = (uint8_t *)v.iov_base + cut;
		v.iov_len -= cut;
		if (v.iov_len)
			n->iov[nr++] = v;
	}
	/* A full TAP queue, or a frame the TAP refuses (oversized, offsets
	 * outside it), drops the frame, as a NIC would. */
	if (writev(n->tap, n->iov, (int)nr) >= 0)
		return;
	if (errno == EAGAIN || errno == EINVAL || errno == EMSGSIZE)
		n->tx_dropped++;
	else
		link_down(n);
}

static void net_tx(struct net *n)
{
	struct virtio_mmio_dev *dev = &n->mmio;
	struct virtq_chain *c = &dev->chain;
	const char *why = NULL;
	bool pushed = false;

	while (virtio_mmio_running(dev) && dev->q[TXQ].ready) {
		int rc = virtq_pop(&dev->q[TXQ].vq, c, &why);

		if (rc <= 0)
			break;
		if (!n->tap_dead)
			tx_frame(n, c);
		virtq_push(&dev->q[TXQ].vq, c->head, 0);
		pushed = true;
	}
	if (why)
		virtio_mmio_break(dev, why);
	else if (pushed)
		virtio_mmio_used(dev, TXQ);
}

/* The byte at offset off of iov, which the caller knows holds it. */
static uint8_t *iov_byte(const struct iovec *iov, size_t off)
{
	while (off >= iov->iov_len)
		off -= iov++->iov_len;
	return (uint8_t *)iov->iov_base + off;
}

/*
 * Puts the pending frame into receive chains: 1 when it is done with
 * (delivered, or dropped and counted), 0 when the guest has too few
 * buffers for it now, -1 with *why if the driver broke the rules.
 */
static int rx_deliver(struct net *n, const char **why)
{
	struct virtio_mmio_dev *dev = &n->mmio;
	struct virtq_chain *c = &dev->chain;
	struct virtq *vq = &dev->q[RXQ].vq;
	bool mrg = virtio_has_feature(dev, VIRTIO_NET_F_MRG_RXBUF);
	uint8_t *num_buffers[2] = {NULL, NULL};
	unsigned k = 0;
	size_t off = 0;

	if (!virtio_net_rx_hdr_fix(dev->driver_features, (void *)n->frame)) {
		n->rx_dropped++;
		return 1;
	}
	while (off < n->pending) {
		size_t len;
		int rc;

		/* The whole ring is not enough (tiny merge buffers):
		 * waiting would not help. */
		if (k == vq->num) {
			vq->last_avail = (uint16_t)(vq->last_avail - k);
			n->rx_dropped++;
			return 1;
		}
		rc = virtq_pop(vq, c, why);
		if (rc < 0)
			return -1;
		if (!rc) {
			/* Given back, to be taken again with more. */
			vq->last_avail = (uint16_t)(vq->last_avail - k);
			n->rx_stalled = true;
			return 0;
		}
		if (c->nr_out) {
			*why = "receive buffer the device cannot write";
			return -1;
		}
		/* Section 5.1.6.3.1: every buffer holds a header. */
		if (c->in_len < HDR_LEN) {
			*why = "receive buffer shorter than the header";
			return -1;
		}
		if (!mrg && c->in_len < n->pending) {
			/* Too big for the buffer (the guest's MTU is
			 * smaller than the TAP's, or it did not take GSO
			 * frames that the TAP had queued): dropped, as a
			 * NIC would; the buffer waits for the next. */
			virtq_unpop(vq);
			n->rx_dropped++;
			return 1;
		}
		if (!k) {
			size_t at =
			    offsetof(struct virtio_net_hdr_v1, num_buffers);

			num_buffers[0] = iov_byte(c->iov, at);
			num_buffers[1] = iov_byte(c->iov, at + 1);
		}
		len = n->pending - off;
		if (len > c->in_len)
			len = c->in_len;
		iov_from_buf(c->iov, c->nr_in, 0, n->frame + off, len);
		n->heads[k] = c->head;
		n->lens[k++] = (uint32_t)len;
		off += len;
	}
	/* Little-endian (VERSION_1); the TAP left these bytes alone. */
	*num_buffers[0] = (uint8_t)k;
	*num_buffers[1] = (uint8_t)(k >> 8);
	for (unsigned i = 0; i < k; i++)
		virtq_push(vq, n->heads[i], n->lens[i]);
	return 1;
}

static void net_rx(struct net *n)
{
	struct virtio_mmio_dev *dev = &n->mmio;
	struct virtq *vq = &dev->q[RXQ].vq;
	uint16_t used = vq->used_idx;
	const char *why = NULL;

	for (int i = 0; i < RX_BATCH && !n->tap_dead; i++) {
		if (!virtio_mmio_running(dev) || !dev->q[RXQ].ready)
			break;
		if (!n->pending) {
			ssize_t got = read(n->tap, n->frame, sizeof(n->frame));

			if (got <= 0) {
				if (got < 0 && errno != EAGAIN &&
				    errno != EINTR)
					link_down(n);
				break;
			}
			if ((size_t)got > sizeof(n->frame) ||
			    (size_t)got <= HDR_LEN) {
				n->rx_dropped++; /* cut short, or empty */
				continue;
			}
			n->pending = (size_t)got;
		}
		if (rx_deliver(n, &why) <= 0)
			break;
		n->pending = 0;
	}
	if (why)
		virtio_mmio_break(dev, why);
	else if (vq->used_idx != used)
		virtio_mmio_used(dev, RXQ);
}

static void net_notify(struct virtio_mmio_dev *dev, unsigned q)
{
	struct net *n = to_net(dev);

	if (q == TXQ) {
		net_tx(n);
		return;
	}
	/* New buffers: poll the TAP again, after the frame that waited. */
	n->rx_stalled = false;
	if (n->pending)
		net_rx(n);
}

static void net_start(struct virtio_mmio_dev *dev)
{
	struct net *n = to_net(dev);
	unsigned long offloads = virtio_net_tun_offloads(dev->driver_features);

	/* Before any frame is read: the TAP hands over only frames the
	 * driver can take. The probe at creation accepted these; it left
	 * none set, as net_stop() does. */
	if (offloads && !n->tap_dead && ioctl(n->tap, TUNSETOFFLOAD, offloads))
		link_down(n);
	n->rx_stalled = false;
	net_tx(n);
}

static void net_stop(struct virtio_mmio_dev *dev)
{
	struct net *n = to_net(dev);

	/* Everything is synchronous: nothing is in flight. A waiting
	 * frame may need offloads the next driver will not take. */
	n->rx_stalled = false;
	n->pending = 0;
	if (!n->tap_dead)
		ioctl(n->tap, TUNSETOFFLOAD, 0UL);
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

/* The receive offloads the TAP takes (TUN_F_*), left at none. */
static unsigned probe_offloads(int tap)
{
	static const unsigned long tries[] = {
	    TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN, TUN_F_CSUM};
	unsigned ok = 0;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]) && !ok; i++)
		if (!ioctl(tap, TUNSETOFFLOAD, tries[i]))
			ok = (unsigned)tries[i];
	ioctl(tap, TUNSETOFFLOAD, 0UL);
	return ok;
}

void virtio_net_dropped(const struct virtio_mmio_dev *dev, uint64_t *rx,
			uint64_t *tx)
{
	const struct net *n = container_of(dev, const struct net, mmio);

	*rx = n->rx_dropped;
	*tx = n->tx_dropped;
}

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
			 virtio_net_offload_features(probe_offloads(n->tap)) |
			     1ULL << VIRTIO_NET_F_MRG_RXBUF |
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

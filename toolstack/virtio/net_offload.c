/* SPDX-License-Identifier: MIT */
/*
 * virtio-net offloads (virtio 1.2 section 5.1.6) on a TAP: the features
 * the device offers, the TAP offloads (TUNSETOFFLOAD) that the features a
 * driver accepted stand for, and the checks on the vnet header that
 * passes between the guest and the TAP. Transmit offloads are the TAP's
 * own (it takes checksum and GSO requests from any writer); receive
 * offloads are what the TAP hands us, hence the probe at creation.
 */
#include <linux/if_tun.h>

#include "virtio_dev.h"

#define F(bit) (1ULL << VIRTIO_NET_F_##bit)

uint64_t virtio_net_offload_features(unsigned tun_offloads)
{
	/* Dependencies (section 5.1.3.1): TSO needs the checksum feature
	 * of its direction, ECN needs TSO. */
	uint64_t f = F(CSUM) | F(HOST_TSO4) | F(HOST_TSO6) | F(HOST_ECN);

	if (!(tun_offloads & TUN_F_CSUM))
		return f;
	f |= F(GUEST_CSUM);
	if (tun_offloads & TUN_F_TSO4)
		f |= F(GUEST_TSO4);
	if (tun_offloads & TUN_F_TSO6)
		f |= F(GUEST_TSO6);
	if ((tun_offloads & TUN_F_TSO_ECN) &&
	    (tun_offloads & (TUN_F_TSO4 | TUN_F_TSO6)))
		f |= F(GUEST_ECN);
	return f;
}

unsigned virtio_net_tun_offloads(uint64_t features)
{
	unsigned t = 0;

	/* The TAP ignores TSO without CSUM; a driver that took TSO
	 * without GUEST_CSUM gets neither. */
	if (!(features & F(GUEST_CSUM)))
		return 0;
	t |= TUN_F_CSUM;
	if (features & F(GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (features & F(GUEST_TSO6))
		t |= TUN_F_TSO6;
	if ((features & F(GUEST_ECN)) && (t & (TUN_F_TSO4 | TUN_F_TSO6)))
		t |= TUN_F_TSO_ECN;
	return t;
}

/* Whether a header asks only for what the features allow; csum, tso4,
 * tso6 and ecn are the features of the header's direction. */
static bool hdr_allowed(const struct virtio_net_hdr_v1 *h, uint64_t features,
			uint64_t csum, uint64_t tso4, uint64_t tso6,
			uint64_t ecn)
{
	uint8_t gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && !(features & csum))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(features & ecn))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		/* ECN alone means nothing. */
		return !(h->gso_type & VIRTIO_NET_HDR_GSO_ECN);
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return features & tso4;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return features & tso6;
	default:
		return false; /* UFO and others are never offered */
	}
}

bool virtio_net_tx_hdr_ok(uint64_t features, const struct virtio_net_hdr_v1 *h)
{
	/* Section 5.1.6.2.1: the driver MUST NOT set DATA_VALID or
	 * RSC_INFO. The TAP checks the rest (offsets within the frame). */
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	return hdr_allowed(h, features, F(CSUM), F(HOST_TSO4), F(HOST_TSO6),
			   F(HOST_ECN));
}

bool virtio_net_rx_hdr_fix(uint64_t features, struct virtio_net_hdr_v1 *h)
{
	/* Section 5.1.6.4.1: flags 0 without GUEST_CSUM. DATA_VALID is a
	 * hint the driver may do without; NEEDS_CSUM is not. */
	if (!(features & F(GUEST_CSUM)))
		h->flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	return hdr_allowed(h, features, F(GUEST_CSUM), F(GUEST_TSO4),
			   F(GUEST_TSO6), F(GUEST_ECN));
}

/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk requests as Linux's virtio_blk driver builds them (header,
 * data, status byte), for the back ends' tests on top of virtio_driver.h.
 */
#ifndef KL_TEST_VIRTIO_BLK_REQ_H
#define KL_TEST_VIRTIO_BLK_REQ_H

#include <linux/virtio_blk.h>

#include "virtio_driver.h"

struct vd_blk_req {
	uint64_t hdr, data, status; /* gpas */
	uint16_t head;
};

/* Queues a request of type at sector with len data bytes at a fresh
 * buffer (filled with fill for writes); direct or indirect. */
static inline struct vd_blk_req vd_blk_submit(struct vd *d, uint32_t type,
					      uint64_t sector, uint32_t len,
					      uint8_t fill, bool indirect)
{
	struct vd_blk_req r;
	struct virtio_blk_outhdr *h;
	struct vd_buf b[3];
	unsigned n = 0;
	bool to_device = type == VIRTIO_BLK_T_OUT;

	r.hdr = vd_alloc(d, sizeof(*h));
	r.data = vd_alloc(d, len ? len : 1);
	r.status = vd_alloc(d, 1);
	h = vd_host(d, r.hdr);
	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	memset(vd_host(d, r.data), to_device ? fill : 0x5A, len);
	*(uint8_t *)vd_host(d, r.status) = 0xEE;
	b[n++] = (struct vd_buf){r.hdr, sizeof(*h), false};
	if (len)
		b[n++] = (struct vd_buf){r.data, len, !to_device};
	b[n++] = (struct vd_buf){r.status, 1, true};
	r.head = indirect ? vd_add_indirect(d, 0, b, n) : vd_add(d, 0, b, n);
	return r;
}

static inline uint8_t vd_blk_status(struct vd *d, const struct vd_blk_req *r)
{
	return *(uint8_t *)vd_host(d, r->status);
}

#endif

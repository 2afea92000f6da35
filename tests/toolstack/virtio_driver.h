/* SPDX-License-Identifier: MIT */
/*
 * A small virtio-mmio driver for the back ends' host tests and fuzzer: it
 * plays the guest, as Linux's virtio_mmio and virtio_ring do, on a fake
 * guest RAM (two regions of one aligned heap block, at gpa 0 and 4 GiB,
 * with a block between them that is not guest RAM and must stay intact).
 */
#ifndef KL_TEST_VIRTIO_DRIVER_H
#define KL_TEST_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "virtio/virtio.h"

#ifndef VD_REGION
#define VD_REGION (1u << 20) /* each RAM region */
#endif
#define VD_HIGH_GPA (1ULL << 32) /* the second one */
#define VD_CANARY   0xA5
#define VD_QNUM	    16 /* queue size the tests use */

struct vd_queue {
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct vd {
	struct virtio_mmio_dev *dev;
	uint8_t *block; /* low region, hole, high region */
	struct virtio_mem mem;
	int irq_level, irq_raised;
	uint64_t features; /* negotiated */
	struct vd_queue q[2];
	uint64_t next_buf; /* bump allocator in the low region */
};

static inline void vd_irq(void *ctx, int level)
{
	struct vd *d = ctx;

	d->irq_level = level;
	d->irq_raised += level;
}

/* Guest RAM: gpa [0, VD_REGION) and [4 GiB, 4 GiB + VD_REGION), in block
 * (3 * VD_REGION bytes, 4 KiB aligned). */
static inline int vd_mem_setup(struct vd *d, uint8_t *block)
{
	memset(d, 0, sizeof(*d));
	d->block = block;
	memset(d->block, 0, 3 * VD_REGION);
	memset(d->block + VD_REGION, VD_CANARY, VD_REGION);
	if (virtio_mem_add(&d->mem, 0, VD_REGION, d->block) ||
	    virtio_mem_add(&d->mem, VD_HIGH_GPA, VD_REGION,
			   d->block + 2 * VD_REGION))
		return -1;
	d->next_buf = 0x40000;
	return 0;
}

static inline int vd_mem_init(struct vd *d)
{
	uint8_t *block = aligned_alloc(4096, 3 * VD_REGION);

	return block ? vd_mem_setup(d, block) : -1;
}

static inline bool vd_canary_intact(const struct vd *d)
{
	const uint8_t *p = d->block + VD_REGION;

	/* All bytes equal to the first, which is the canary. */
	return p[0] == VD_CANARY && !memcmp(p, p + 1, VD_REGION - 1);
}

static inline void vd_attach(struct vd *d, struct virtio_mmio_dev *dev)
{
	d->dev = dev;
	virtio_mmio_set_irq(dev, vd_irq, d);
}

static inline void vd_free(struct vd *d)
{
	virtio_mmio_destroy(d->dev);
	free(d->block);
	d->dev = NULL;
	d->block = NULL;
}

/* Host address of guest-physical gpa (the test's own view). */
static inline void *vd_host(struct vd *d, uint64_t gpa)
{
	if (gpa >= VD_HIGH_GPA)
		return d->block + 2 * VD_REGION + (gpa - VD_HIGH_GPA);
	return d->block + gpa;
}

static inline uint64_t vd_alloc(struct vd *d, uint64_t len)
{
	uint64_t gpa = d->next_buf;

	d->next_buf = (d->next_buf + len + 15) & ~15ULL;
	return gpa;
}

static inline uint32_t vd_rd(struct vd *d, uint64_t off)
{
	uint64_t v = ~0ULL;

	if (virtio_mmio_read(d->dev, off, 4, &v))
		abort();
	return (uint32_t)v;
}

static inline void vd_wr(struct vd *d, uint64_t off, uint32_t v)
{
	if (virtio_mmio_write(d->dev, off, 4, v))
		abort();
}

/* Reset, ACKNOWLEDGE, DRIVER, features (wanted & offered, VERSION_1
 * added unless legacy), FEATURES_OK; the Status read back. */
static inline uint32_t vd_negotiate(struct vd *d, uint64_t wanted)
{
	uint64_t offered;

	vd_wr(d, VIRTIO_MMIO_STATUS, 0);
	vd_wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vd_wr(d, VIRTIO_MMIO_STATUS,
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	vd_wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= vd_rd(d, VIRTIO_MMIO_DEVICE_FEATURES);
	d->features = wanted & offered;
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(d->features >> 32));
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vd_wr(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)d->features);
	vd_wr(d, VIRTIO_MMIO_STATUS,
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		  VIRTIO_CONFIG_S_FEATURES_OK);
	return vd_rd(d, VIRTIO_MMIO_STATUS);
}

/* Queue qi with its rings at the given addresses. */
static inline void vd_queue_at(struct vd *d, unsigned qi, uint16_t num,
			       uint64_t desc, uint64_t avail, uint64_t used)
{
	struct vd_queue *q = &d->q[qi];

	q->num = num;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	q->avail_idx = q->used_seen = q->next_desc = 0;
	memset(vd_host(d, desc), 0, 16 * num);
	memset(vd_host(d, avail), 0, 6 + 2 * num);
	memset(vd_host(d, used), 0, 6 + 8 * num);
	vd_wr(d, VIRTIO_MMIO_QUEUE_SEL, qi);
	vd_wr(d, VIRTIO_MMIO_QUEUE_NUM, num);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	vd_wr(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)avail);
	vd_wr(d, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(avail >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)used);
	vd_wr(d, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(used >> 32));
	vd_wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Queue qi at the usual place in the low region. */
static inline void vd_queue(struct vd *d, unsigned qi)
{
	uint64_t base = 0x10000 + 0x8000 * (uint64_t)qi;

	vd_queue_at(d, qi, VD_QNUM, base, base + 0x1000, base + 0x2000);
}

static inline void vd_driver_ok(struct vd *d)
{
	vd_wr(d, VIRTIO_MMIO_STATUS,
	      VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* The usual bring-up: all offered features in wanted, the given number
 * of queues, DRIVER_OK. */
static inline void vd_setup(struct vd *d, uint64_t wanted, unsigned nr_queues)
{
	vd_negotiate(d, wanted);
	for (unsigned i = 0; i < nr_queues; i++)
		vd_queue(d, i);
	vd_driver_ok(d);
}

struct vd_buf {
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

static inline struct vring_desc *vd_desc(struct vd *d, unsigned qi, uint16_t i)
{
	return (struct vring_desc *)vd_host(d, d->q[qi].desc) + i;
}

/* Writes desc i of queue qi. */
static inline void vd_set_desc(struct vd *d, unsigned qi, uint16_t i,
			       uint64_t addr, uint32_t len, uint16_t flags,
			       uint16_t next)
{
	struct vring_desc *p = vd_desc(d, qi, i);

	p->addr = addr;
	p->len = len;
	p->flags = flags;
	p->next = next;
}

/* Makes head available (release on avail->idx, as virtio_ring does). */
static inline void vd_publish(struct vd *d, unsigned qi, uint16_t head)
{
	struct vd_queue *q = &d->q[qi];
	struct vring_avail *a = vd_host(d, q->avail);

	a->ring[q->avail_idx % q->num] = head;
	q->avail_idx++;
	__atomic_store_n(&a->idx, q->avail_idx, __ATOMIC_RELEASE);
}

/* Adds a chain of n buffers as direct descriptors; returns its head. */
static inline uint16_t vd_add(struct vd *d, unsigned qi, const struct vd_buf *b,
			      unsigned n)
{
	struct vd_queue *q = &d->q[qi];
	uint16_t head = q->next_desc % q->num;

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % q->num);

		vd_set_desc(d, qi, idx, b[i].gpa, b[i].len,
			    (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
				       (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			    (uint16_t)((idx + 1) % q->num));
	}
	q->next_desc = (uint16_t)(q->next_desc + n);
	vd_publish(d, qi, head);
	return head;
}

/* Adds a chain of n buffers through an indirect table; returns head. */
static inline uint16_t vd_add_indirect(struct vd *d, unsigned qi,
				       const struct vd_buf *b, unsigned n)
{
	struct vd_queue *q = &d->q[qi];
	uint16_t head = q->next_desc % q->num;
	uint64_t table = vd_alloc(d, 16ULL * n);
	struct vring_desc *t = vd_host(d, table);

	for (unsigned i = 0; i < n; i++) {
		t[i].addr = b[i].gpa;
		t[i].len = b[i].len;
		t[i].flags = (uint16_t)((b[i].write ? VRING_DESC_F_WRITE : 0) |
					(i + 1 < n ? VRING_DESC_F_NEXT : 0));
		t[i].next = (uint16_t)(i + 1);
	}
	vd_set_desc(d, qi, head, table, 16 * n, VRING_DESC_F_INDIRECT, 0);
	q->next_desc++;
	vd_publish(d, qi, head);
	return head;
}

static inline void vd_kick(struct vd *d, unsigned qi)
{
	vd_wr(d, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

static inline uint16_t vd_used_idx(struct vd *d, unsigned qi)
{
	struct vring_used *u = vd_host(d, d->q[qi].used);

	return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

/* The next used element of queue qi, if there is one. */
static inline bool vd_get_used(struct vd *d, unsigned qi, uint32_t *id,
			       uint32_t *len)
{
	struct vd_queue *q = &d->q[qi];
	struct vring_used *u = vd_host(d, q->used);

	if (vd_used_idx(d, qi) == q->used_seen)
		return false;
	*id = u->ring[q->used_seen % q->num].id;
	*len = u->ring[q->used_seen % q->num].len;
	q->used_seen++;
	return true;
}

/* InterruptStatus, acknowledged. */
static inline uint32_t vd_ack(struct vd *d)
{
	uint32_t s = vd_rd(d, VIRTIO_MMIO_INTERRUPT_STATUS);

	vd_wr(d, VIRTIO_MMIO_INTERRUPT_ACK, s);
	return s;
}

/* Serves the device's fds until queue qi has used >= want entries not
 * yet taken, or timeout_ms passes (for devices with worker threads). */
static inline bool vd_wait_used(struct vd *d, unsigned qi, uint16_t want,
				int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		struct pollfd fds[4];
		size_t n;

		if ((uint16_t)(vd_used_idx(d, qi) - d->q[qi].used_seen) >= want)
			return true;
		if (waited >= timeout_ms)
			return false;
		n = virtio_mmio_pollfds(d->dev, fds, 4);
		if (poll(fds, n, 10) < 0)
			return false;
		for (size_t i = 0; i < n; i++)
			if (fds[i].revents)
				virtio_mmio_handle_fd(d->dev, fds[i].fd,
						      fds[i].revents);
	}
}

#endif

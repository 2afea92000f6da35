/* SPDX-License-Identifier: MIT */
/*
 * Inside the virtio back ends: the split virtqueue (virtqueue.c), the
 * virtio-mmio transport a device embeds (mmio.c), and what a device
 * (blk.c, net.c) gives the transport. Not for integrators: virtio.h is
 * their interface.
 */
#ifndef KL_VIRTIO_DEV_H
#define KL_VIRTIO_DEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "virtio.h"

#define container_of(p, type, member)                                          \
	((type *)((char *)(p)-offsetof(type, member)))

/*
 * Longest descriptor chain a device accepts, indirect tables included
 * (IOV_MAX, so a chain's data fits one preadv). Linux's drivers stay far
 * below: virtio-blk uses seg_max + 2, virtio-net MAX_SKB_FRAGS + 2.
 */
#define VIRTQ_MAX_CHAIN 1024
/* A chain moves at most this many bytes (virtio 1.2 2.7.5: the driver
 * MUST NOT make a chain longer than 2^32 bytes). */
#define VIRTQ_MAX_CHAIN_BYTES (1ULL << 32)

/* A descriptor chain, translated: nr_out device-readable buffers, then
 * nr_in device-writable ones, in iov. Zero-length descriptors are
 * dropped. */
struct virtq_chain {
	uint16_t head;
	unsigned nr_out, nr_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_CHAIN];
};

/* One split virtqueue (virtio 1.2 section 2.7) once the driver made it
 * ready: ring pointers checked to lie in guest RAM. */
struct virtq {
	const struct virtio_mem *mem;
	bool indirect, event_idx; /* negotiated */
	uint16_t num;		  /* a power of 2 */
	struct vring_desc *desc;
	struct vring_avail *avail; /* with used_event after the ring */
	struct vring_used *used;   /* with avail_event after the ring */
	uint16_t last_avail;	   /* next avail entry to take */
	uint16_t used_idx;	   /* our copy of used->idx */
	uint16_t signalled_used;   /* used_idx when we last decided */
};

/*
 * Makes vq usable with rings at the given guest addresses; NULL, or why
 * they are unusable (size not a power of 2, misaligned, outside RAM).
 */
const char *virtq_init(struct virtq *vq, const struct virtio_mem *mem,
		       uint16_t num, uint64_t desc, uint64_t avail,
		       uint64_t used, bool indirect, bool event_idx);

/*
 * Takes the next available chain into c: 1, 0 if there is none, or -1
 * with *why set if the driver broke the rules (the device must stop).
 * With no chain it also asks the driver for a notification on the next
 * one, and looks again after that so none is missed.
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *c, const char **why);
/* Gives back the chain virtq_pop() just returned (nothing else popped
 * meanwhile); it will be returned again. */
void virtq_unpop(struct virtq *vq);
/* Puts head in the used ring with len bytes written (release order). */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed since the
 * last call (VRING_AVAIL_F_NO_INTERRUPT or used_event). */
bool virtq_need_signal(struct virtq *vq);

/* Copies up to len bytes at offset off of iov[0..nr) into buf (or from
 * buf into them); returns the bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned nr, size_t off, void *buf,
		  size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned nr, size_t off,
		    const void *buf, size_t len);

/* ---- transport <-> device ------------------------------------------ */

struct virtio_dev_ops {
	/* The driver notified queue q (DRIVER_OK set, device not broken). */
	void (*notify)(struct virtio_mmio_dev *dev, unsigned q);
	/* DRIVER_OK was just set: start (look at every queue). */
	void (*start)(struct virtio_mmio_dev *dev);
	/* The driver reset the device, or it broke: stop using the
	 * queues; nothing in flight may touch guest memory afterwards. */
	void (*stop)(struct virtio_mmio_dev *dev);
	size_t (*pollfds)(struct virtio_mmio_dev *dev, struct pollfd *fds,
			  size_t max);
	void (*handle_fd)(struct virtio_mmio_dev *dev, int fd, short revents);
	void (*destroy)(struct virtio_mmio_dev *dev);
};

#define VIRTIO_MMIO_MAX_QUEUES 2
#define VIRTIO_CONFIG_MAX      128

struct virtio_mmio_queue {
	uint16_t num;
	bool ready; /* as the driver wrote it and we accepted it */
	uint64_t desc, avail, used;
	struct virtq vq;
};

struct virtio_mmio_dev {
	const struct virtio_dev_ops *ops;
	struct virtio_mem mem;
	uint32_t device_id;
	uint64_t device_features, driver_features;
	uint32_t device_features_sel, driver_features_sel;
	uint32_t queue_sel;
	uint32_t status;
	uint32_t int_status;
	uint32_t config_generation;
	const char *broken;
	virtio_irq_fn irq;
	void *irq_ctx;
	int irq_level;
	unsigned nr_queues;
	struct virtio_mmio_queue q[VIRTIO_MMIO_MAX_QUEUES];
	uint8_t config[VIRTIO_CONFIG_MAX];
	size_t config_len;
	struct virtq_chain chain; /* scratch for the device's virtq_pop() */
};

void virtio_mmio_init(struct virtio_mmio_dev *dev,
		      const struct virtio_dev_ops *ops,
		      const struct virtio_mem *mem, uint32_t device_id,
		      uint64_t features, unsigned nr_queues);
/* Whether the device may use its queues: DRIVER_OK and not broken. */
bool virtio_mmio_running(const struct virtio_mmio_dev *dev);
/* The driver broke the rules (why says how): DEVICE_NEEDS_RESET, a
 * configuration-change interrupt, the device stops. */
void virtio_mmio_break(struct virtio_mmio_dev *dev, const char *why);
/* Used buffers were pushed to queue q: interrupt if the driver wants. */
void virtio_mmio_used(struct virtio_mmio_dev *dev, unsigned q);
/* The config space changed (the device already updated dev->config). */
void virtio_mmio_config_changed(struct virtio_mmio_dev *dev);

/* ---- virtio-net offloads (net_offload.c) --------------------------- */

/* The offload features to offer over a TAP that accepted tun_offloads
 * (TUN_F_*) in TUNSETOFFLOAD. */
uint64_t virtio_net_offload_features(unsigned tun_offloads);
/* The TUN_F_* offloads for the receive features a driver accepted. */
unsigned virtio_net_tun_offloads(uint64_t features);
/* Whether the header of a frame the driver transmits asks only for
 * offloads that were negotiated (anything else: the frame is dropped). */
bool virtio_net_tx_hdr_ok(uint64_t features, const struct virtio_net_hdr_v1 *h);
/* Clears the flags the driver may not see in the header of a frame from
 * the TAP; false if the frame needs an offload it did not accept (one
 * the TAP queued before the offloads changed): it is dropped. */
bool virtio_net_rx_hdr_fix(uint64_t features, struct virtio_net_hdr_v1 *h);

static inline bool virtio_has_feature(const struct virtio_mmio_dev *dev,
				      unsigned bit)
{
	return dev->driver_features & (1ULL << bit);
}

#endif

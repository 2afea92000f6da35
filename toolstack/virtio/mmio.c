/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio transport, version 2 only (virtio 1.2 section 4.2.2):
 * the register file a driver sees, feature negotiation, queue setup, the
 * status state machine and the level-triggered interrupt line. Devices
 * (blk.c, net.c) embed a struct virtio_mmio_dev and supply its ops.
 */
#include <errno.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "virtio_dev.h"

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

void virtio_mmio_init(struct virtio_mmio_dev *dev,
		      const struct virtio_dev_ops *ops,
		      const struct virtio_mem *mem, uint32_t device_id,
		      uint64_t features, unsigned nr_queues)
{
	dev->ops = ops;
	dev->mem = *mem;
	dev->device_id = device_id;
	/* Modern only: section 6.1, a device MUST offer VERSION_1. */
	dev->device_features = features | (1ULL << VIRTIO_F_VERSION_1);
	dev->nr_queues = nr_queues;
}

void virtio_mmio_set_irq(struct virtio_mmio_dev *dev, virtio_irq_fn fn,
			 void *ctx)
{
	dev->irq = fn;
	dev->irq_ctx = ctx;
}

static void update_irq(struct virtio_mmio_dev *dev)
{
	int level = dev->int_status != 0;

	if (level == dev->irq_level)
		return;
	dev->irq_level = level;
	if (dev->irq)
		dev->irq(dev->irq_ctx, level);
}

static void raise_int(struct virtio_mmio_dev *dev, uint32_t bits)
{
	dev->int_status |= bits;
	update_irq(dev);
}

bool virtio_mmio_running(const struct virtio_mmio_dev *dev)
{
	return (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(dev->status & VIRTIO_CONFIG_S_FAILED) && !dev->broken;
}

void virtio_mmio_break(struct virtio_mmio_dev *dev, const char *why)
{
	if (dev->broken)
		return;
	dev->broken = why;
	dev->ops->stop(dev);
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	/* Section 2.1.2: after DRIVER_OK, tell the driver. */
	if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_mmio_config_changed(dev);
}

void virtio_mmio_used(struct virtio_mmio_dev *dev, unsigned q)
{
	if (virtq_need_signal(&dev->q[q].vq))
		raise_int(dev, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio_dev *dev)
{
	dev->config_generation++;
	if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
		raise_int(dev, VIRTIO_MMIO_INT_CONFIG);
}

static void reset(struct virtio_mmio_dev *dev)
{
	if (!dev->broken)
		dev->ops->stop(dev);
	dev->status = 0;
	dev->broken = NULL;
	dev->driver_features = 0;
	dev->device_features_sel = dev->driver_features_sel = 0;
	dev->queue_sel = 0;
	memset(dev->q, 0, sizeof(dev->q));
	dev->int_status = 0;
	update_irq(dev);
}

uint32_t virtio_mmio_status(const struct virtio_mmio_dev *dev)
{
	return dev->status;
}

const char *virtio_mmio_broken(const struct virtio_mmio_dev *dev)
{
	return dev->broken;
}

static struct virtio_mmio_queue *sel_queue(struct virtio_mmio_dev *dev)
{
	return dev->queue_sel < dev->nr_queues ? &dev->q[dev->queue_sel] : NULL;
}

static void set_status(struct virtio_mmio_dev *dev, uint32_t val)
{
	uint32_t old = dev->status;

	if (!val) {
		reset(dev);
		return;
	}
	/* The driver only adds bits (section 3.1.1); NEEDS_RESET and
	 * FEATURES_OK are the device's to grant. */
	val &= 0xff & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	val |= old & VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/* Section 2.2.2: refuse what was not offered, and a driver
		 * without VERSION_1 (a legacy one) altogether. */
		if ((dev->driver_features & ~dev->device_features) ||
		    !virtio_has_feature(dev, VIRTIO_F_VERSION_1))
			val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	dev->status = val;
	if ((val & VIRTIO_CONFIG_S_DRIVER_OK) &&
	    !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(val & VIRTIO_CONFIG_S_FEATURES_OK))
			virtio_mmio_break(dev, "DRIVER_OK without FEATURES_OK");
		else if (!dev->broken)
			dev->ops->start(dev);
	}
	if ((val & VIRTIO_CONFIG_S_FAILED) && !(old & VIRTIO_CONFIG_S_FAILED) &&
	    !dev->broken)
		dev->ops->stop(dev);
}

static void set_queue_ready(struct virtio_mmio_dev *dev,
			    struct virtio_mmio_queue *q, uint32_t val)
{
	const char *why;

	if (!val) {
		/* Without VIRTIO_F_RING_RESET the driver only disables a
		 * queue on its way to a reset; stop looking at it. */
		q->ready = false;
		return;
	}
	if (q->ready)
		return;
	if (!(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		virtio_mmio_break(dev, "queue enabled before FEATURES_OK");
		return;
	}
	why = virtq_init(&q->vq, &dev->mem, q->num, q->desc, q->avail, q->used,
			 virtio_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC),
			 virtio_has_feature(dev, VIRTIO_RING_F_EVENT_IDX));
	if (why) {
		virtio_mmio_break(dev, why);
		return;
	}
	q->ready = true;
}

void virtio_mmio_notify(struct virtio_mmio_dev *dev, uint32_t queue)
{
	if (queue >= dev->nr_queues || !dev->q[queue].ready ||
	    !virtio_mmio_running(dev))
		return;
	dev->ops->notify(dev, queue);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
	if (high)
		*v = (*v & 0xffffffffULL) | (uint64_t)val << 32;
	else
		*v = (*v & ~0xffffffffULL) | val;
}

static uint32_t read_reg(struct virtio_mmio_dev *dev, uint64_t off)
{
	struct virtio_mmio_queue *q = sel_queue(dev);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return dev->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return dev->device_features_sel < 2
			   ? (uint32_t)(dev->device_features >>
					(32 * dev->device_features_sel))
			   : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return q ? VIRTIO_QUEUE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return dev->int_status;
	case VIRTIO_MMIO_STATUS:
		return dev->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return dev->config_generation;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		/* 4.2.2: a length of all ones means no such shared memory
		 * region; these devices have none. */
		return 0xffffffffu;
	default:
		/* Write-only registers, the legacy ones, holes. */
		return 0;
	}
}

static void write_reg(struct virtio_mmio_dev *dev, uint64_t off, uint32_t val)
{
	struct virtio_mmio_queue *q = sel_queue(dev);
	bool features_open = !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK);

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		dev->device_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (features_open && dev->driver_features_sel < 2)
			set_half(&dev->driver_features,
				 dev->driver_features_sel, val);
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		dev->driver_features_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		dev->queue_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_mmio_notify(dev, val);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		dev->int_status &= ~val;
		update_irq(dev);
		return;
	case VIRTIO_MMIO_STATUS:
		set_status(dev, val);
		return;
	}
	/* The rest configure the selected queue, and only while it is not
	 * in use (section 4.2.3.2). */
	if (!q || q->ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		q->num = val > 0xffff ? 0 : (uint16_t)val;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		set_queue_ready(dev, q, val);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&q->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&q->avail, off == VIRTIO_MMIO_QUEUE_AVAIL_HIGH, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		set_half(&q->used, off == VIRTIO_MMIO_QUEUE_USED_HIGH, val);
		break;
	}
}

/* Disabling a ready queue is the one queue write allowed while ready. */
static bool queue_disable(struct virtio_mmio_dev *dev, uint64_t off,
			  uint32_t val)
{
	struct virtio_mmio_queue *q = sel_queue(dev);

	if (off != VIRTIO_MMIO_QUEUE_READY || !q || !q->ready || val)
		return false;
	q->ready = false;
	return true;
}

int virtio_mmio_read(struct virtio_mmio_dev *dev, uint64_t offset,
		     unsigned size, uint64_t *val)
{
	*val = 0;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint64_t off = offset - VIRTIO_MMIO_CONFIG;

		if ((size != 1 && size != 2 && size != 4 && size != 8) ||
		    off >= dev->config_len || size > dev->config_len - off)
			return -EINVAL;
		memcpy(val, dev->config + off, size); /* little-endian */
		return 0;
	}
	if (size != 4 || offset % 4)
		return -EINVAL;
	*val = read_reg(dev, offset);
	return 0;
}

int virtio_mmio_write(struct virtio_mmio_dev *dev, uint64_t offset,
		      unsigned size, uint64_t val)
{
	if (offset >= VIRTIO_MMIO_CONFIG)
		/* Neither device has a writable config field it offers
		 * (no CONFIG_WCE, no legacy MAC writes). */
		return offset - VIRTIO_MMIO_CONFIG < dev->config_len ? 0
								     : -EINVAL;
	if (size != 4 || offset % 4)
		return -EINVAL;
	if (!queue_disable(dev, offset, (uint32_t)val))
		write_reg(dev, offset, (uint32_t)val);
	return 0;
}

size_t virtio_mmio_pollfds(struct virtio_mmio_dev *dev, struct pollfd *fds,
			   size_t max)
{
	return dev->ops->pollfds(dev, fds, max);
}

void virtio_mmio_handle_fd(struct virtio_mmio_dev *dev, int fd, short revents)
{
	dev->ops->handle_fd(dev, fd, revents);
}

void virtio_mmio_destroy(struct virtio_mmio_dev *dev)
{
	if (!dev)
		return;
	if (!dev->broken)
		dev->ops->stop(dev);
	dev->ops->destroy(dev);
}

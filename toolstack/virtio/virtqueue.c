/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.2 section 2.7), device side. The rings live
 * in guest memory that the guest's vCPUs write while we read: each value
 * is loaded once (atomic loads for indices, a copy behind a compiler
 * barrier for descriptors) and only the copy is checked and used. A
 * driver that breaks the rules gets -1 and a reason; nothing is read or
 * written outside the regions of struct virtio_mem.
 *
 * Ordering with the guest: avail->idx is loaded with acquire before the
 * ring entries it covers, used->idx is stored with release after the
 * used elements (and the data) it publishes, and a full fence separates
 * our stores from the loads that decide about notifications
 * (avail_event then avail->idx; used->idx then used_event), as in
 * section 2.7.7/2.7.10's suppression protocol.
 */
#include <string.h>

#include "virtio_dev.h"

#define barrier() __asm__ __volatile__("" ::: "memory")

static inline uint16_t load_acquire16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline uint16_t load16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void store16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* The u16s after the rings (section 2.7.10). */
static inline uint16_t *avail_event(struct virtq *vq)
{
	return (uint16_t *)((uint8_t *)vq->used + 4 + 8 * (size_t)vq->num);
}

static inline uint16_t *used_event(struct virtq *vq)
{
	return (uint16_t *)((uint8_t *)vq->avail + 4 + 2 * (size_t)vq->num);
}

static inline bool is_pow2(uint32_t n)
{
	return n && !(n & (n - 1));
}

const char *virtq_init(struct virtq *vq, const struct virtio_mem *mem,
		       uint16_t num, uint64_t desc, uint64_t avail,
		       uint64_t used, bool indirect, bool event_idx)
{
	memset(vq, 0, sizeof(*vq));
	if (!is_pow2(num) || num > VIRTIO_QUEUE_MAX)
		return "queue size is not a power of 2 up to QueueNumMax";
	/* Section 2.7: alignment 16, 2 and 4; sizes with the event
	 * fields, whether or not VIRTIO_F_EVENT_IDX is negotiated. */
	if (desc % 16 || avail % 2 || used % 4)
		return "misaligned ring";
	vq->desc = virtio_mem_translate(mem, desc, 16ULL * num);
	vq->avail = virtio_mem_translate(mem, avail, 6 + 2ULL * num);
	vq->used = virtio_mem_translate(mem, used, 6 + 8ULL * num);
	if (!vq->desc || !vq->avail || !vq->used)
		return "ring outside guest RAM";
	vq->mem = mem;
	vq->num = num;
	vq->indirect = indirect;
	vq->event_idx = event_idx;
	/* The driver starts with idx 0 (it was just reset). */
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	return NULL;
}

/* Entry i of a descriptor table. Indirect tables need not be aligned:
 * a byte copy, then a barrier so that the checks use only the copy. */
static void read_desc(const uint8_t *table, uint32_t i, struct vring_desc *d)
{
	memcpy(d, table + (size_t)i * sizeof(*d), sizeof(*d));
	barrier();
}

/* Follows the chain from head into c; NULL or why it is malformed. */
static const char *walk_chain(struct virtq *vq, uint16_t head,
			      struct virtq_chain *c)
{
	const uint8_t *table = (const uint8_t *)vq->desc;
	uint32_t table_len = vq->num, seen = 0, idx = head;
	unsigned total = 0;
	bool in_indirect = false;

	c->head = head;
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
	for (;;) {
		struct vring_desc d;
		void *p;

		if (idx >= table_len)
			return "descriptor index past the table";
		/* A chain visits each entry of its table at most once. */
		if (++seen > table_len)
			return "descriptor chain loops";
		read_desc(table, idx, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return "indirect descriptor not negotiated";
			if (in_indirect)
				return "indirect descriptor in an indirect "
				       "table";
			if (d.flags & VRING_DESC_F_NEXT)
				return "indirect descriptor with NEXT";
			if (!d.len || d.len % sizeof(d) ||
			    d.len / sizeof(d) > VIRTQ_MAX_CHAIN)
				return "bad indirect table length";
			table = virtio_mem_translate(vq->mem, d.addr, d.len);
			if (!table)
				return "indirect table outside guest RAM";
			table_len = d.len / sizeof(d);
			in_indirect = true;
			idx = 0;
			seen = 0;
			continue;
		}
		if (d.len) {
			if (total == VIRTQ_MAX_CHAIN)
				return "descriptor chain too long";
			p = virtio_mem_translate(vq->mem, d.addr, d.len);
			if (!p)
				return "buffer outside guest RAM";
			if (d.flags & VRING_DESC_F_WRITE) {
				c->nr_in++;
				c->in_len += d.len;
			} else {
				/* Section 2.7.4.2: readable ones first. */
				if (c->nr_in)
					return "readable buffer after a "
					       "writable one";
				c->nr_out++;
				c->out_len += d.len;
			}
			if (c->out_len + c->in_len > VIRTQ_MAX_CHAIN_BYTES)
				return "descriptor chain longer than 4 GiB";
			c->iov[total].iov_base = p;
			c->iov[total].iov_len = d.len;
			total++;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		idx = d.next;
	}
	if (!total)
		return "empty descriptor chain";
	return NULL;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *c, const char **why)
{
	uint16_t avail_idx = load_acquire16(&vq->avail->idx);
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail), head;

	if (pending > vq->num) {
		*why = "available index moved past the queue size";
		return -1;
	}
	if (!pending) {
		/* Ask for a kick on the next buffer, then look again: the
		 * driver may have added one before it saw our request. */
		if (vq->event_idx)
			store16(avail_event(vq), vq->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = load_acquire16(&vq->avail->idx);
		pending = (uint16_t)(avail_idx - vq->last_avail);
		if (pending > vq->num) {
			*why = "available index moved past the queue size";
			return -1;
		}
		if (!pending)
			return 0;
	}
	head = load16(&vq->avail->ring[vq->last_avail & (vq->num - 1)]);
	*why = walk_chain(vq, head, c);
	if (*why)
		return -1;
	vq->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *vq)
{
	vq->last_avail--;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e =
	    &vq->used->ring[vq->used_idx & (vq->num - 1)];

	__atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_need_signal(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx;

	/* Our used->idx store before the driver's flags or used_event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = now;
	if (old == now)
		return false;
	if (vq->event_idx)
		return vring_need_event(load16(used_event(vq)), now, old);
	return !(load16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

/* Copies between buf and the iovec's bytes from off on, either way. */
static size_t iov_copy(const struct iovec *iov, unsigned nr, size_t off,
		       uint8_t *buf, size_t len, bool to_iov)
{
	size_t done = 0;

	for (unsigned i = 0; i < nr && done < len; i++) {
		uint8_t *part;
		size_t n;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		part = (uint8_t *)iov[i].iov_base + off;
		n = iov[i].iov_len - off;
		if (n > len - done)
			n = len - done;
		if (to_iov)
			memcpy(part, buf + done, n);
		else
			memcpy(buf + done, part, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned nr, size_t off, void *buf,
		  size_t len)
{
	return iov_copy(iov, nr, off, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned nr, size_t off,
		    const void *buf, size_t len)
{
	return iov_copy(iov, nr, off, (uint8_t *)buf, len, true);
}

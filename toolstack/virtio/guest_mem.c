/* SPDX-License-Identifier: MIT */
/*
 * Guest-physical to host translation for the virtio back ends. Every
 * address and length here comes from the guest, so a range is accepted
 * only if all of it lies in one region, computed without overflow.
 */
#include <errno.h>

#include "virtio.h"

int virtio_mem_add(struct virtio_mem *m, uint64_t gpa, uint64_t len, void *host)
{
	/* 16-byte alignment lets the rings be read in place with aligned
	 * atomic loads. */
	if (!len || gpa + len - 1 < gpa || gpa % 16 || (uintptr_t)host % 16)
		return -EINVAL;
	for (size_t i = 0; i < m->nr; i++) {
		const struct virtio_mem_region *r = &m->r[i];

		if (gpa <= r->gpa + r->len - 1 && r->gpa <= gpa + len - 1)
			return -EINVAL;
	}
	if (m->nr == VIRTIO_MEM_MAX_REGIONS)
		return -ENOSPC;
	m->r[m->nr++] = (struct virtio_mem_region){gpa, len, host};
	return 0;
}

void *virtio_mem_translate(const struct virtio_mem *m, uint64_t gpa,
			   uint64_t len)
{
	if (!len)
		return NULL;
	for (size_t i = 0; i < m->nr; i++) {
		const struct virtio_mem_region *r = &m->r[i];

		/* gpa - r->gpa cannot wrap once gpa >= r->gpa; comparing
		 * with r->len - len avoids gpa + len wrapping. */
		if (gpa >= r->gpa && len <= r->len &&
		    gpa - r->gpa <= r->len - len)
			return r->host + (gpa - r->gpa);
	}
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/*
 * Each domain's table of emulated port and MMIO ranges, and port I/O
 * dispatch through it (only ports of emulated devices exit).
 */
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>

int hvm_io_register(struct domain *d, enum hvm_io_space space, uint64_t base,
		    uint64_t len, const struct hvm_io_ops *ops, void *dev)
{
	if (d->nr_io_handlers == HVM_MAX_IO_HANDLERS)
		return -ENOSPC;
	d->io_handlers[d->nr_io_handlers++] = (struct hvm_io_handler){
	    .space = space, .base = base, .len = len, .ops = ops, .dev = dev};
	return 0;
}

const struct hvm_io_handler *hvm_io_find(struct vcpu *v,
					 enum hvm_io_space space, uint64_t addr)
{
	struct domain *d = v->dom;

	ASSERT_LOCKED(&d->lock);
	for (unsigned i = 0; i < d->nr_io_handlers; i++) {
		const struct hvm_io_handler *h = &d->io_handlers[i];

		if (h->space != space)
			continue;
		if (h->ops->claims ? h->ops->claims(h, v, addr)
				   : addr - h->base < h->len)
			return h;
	}
	return NULL;
}

int hvm_io(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val)
{
	const struct hvm_io_handler *h = hvm_io_find(v, HVM_IO_PORT, port);
	uint64_t v64 = *val;
	int rc;

	if (!h)
		return -ENODEV;
	if (!in)
		return h->ops->write(h, v, port, size, v64);
	rc = h->ops->read(h, v, port, size, &v64);
	if (rc == 0)
		*val = (uint32_t)v64;
	return rc;
}

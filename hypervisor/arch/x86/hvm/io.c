/* SPDX-License-Identifier: MIT */
/* Port I/O that reaches Keel: only ports of emulated devices exit. */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/errno.h>
#include <keel/hvm_exit.h>

#define COM1_BASE 0x3F8

int hvm_io(struct vcpu *v, uint16_t port, unsigned size, bool in,
	   uint32_t *val)
{
	struct domain *d = v->dom;

	if (port >= COM1_BASE && port < COM1_BASE + 8) {
		uint8_t b = (uint8_t)*val;
		int rc;

		if (size != 1)
			return -EINVAL;
		if (in) {
			rc = vuart_io_read(&d->vuart, port - COM1_BASE, &b);
			*val = b;
		} else {
			rc = vuart_io_write(&d->vuart, port - COM1_BASE, b);
		}
		console_input_resume(d);
		return rc;
	}
	return -ENODEV;
}

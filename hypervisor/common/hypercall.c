/* SPDX-License-Identifier: MIT */
/* The hypercall table (ABI in include/public/keel.h). */
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <public/keel.h>

struct hypercall {
	uint64_t nr;
	bool privileged; /* refused for domains without the flag */
	int64_t (*fn)(struct vcpu *v, uint64_t a1, uint64_t a2, uint64_t a3,
		      uint64_t a4, uint64_t a5);
};

static int64_t hc_version(struct vcpu *v, uint64_t a1, uint64_t a2,
			  uint64_t a3, uint64_t a4, uint64_t a5)
{
	(void)v, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	return KEEL_VERSION_CODE;
}

static const struct hypercall table[] = {
	{ KEEL_HC_VERSION, false, hc_version },
};

uint64_t hypercall_dispatch(struct vcpu *v)
{
	uint64_t nr = v->gpr[GPR_RAX];

	for (unsigned i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].nr != nr)
			continue;
		if (table[i].privileged && !v->dom->privileged)
			return (uint64_t)-EPERM;
		return (uint64_t)table[i].fn(v, v->gpr[GPR_RDI], v->gpr[GPR_RSI],
					     v->gpr[GPR_RDX], v->gpr[GPR_R10],
					     v->gpr[GPR_R8]);
	}
	return (uint64_t)-ENOSYS;
}

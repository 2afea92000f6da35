/* SPDX-License-Identifier: MIT */
/* The hypercall table (ABI in include/public/keel.h). */
#include <keel/domctl.h>
#include <keel/errno.h>
#include <keel/hypercall.h>
#include <keel/irq.h>
#include <keel/memmap.h>
#include <keel/mm.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/trace.h>
#include <public/keel.h>

struct hypercall {
	uint64_t nr;
	bool privileged; /* refused for domains without the flag */
	int64_t (*fn)(struct vcpu *v, uint64_t a1, uint64_t a2, uint64_t a3,
		      uint64_t a4, uint64_t a5);
};

static int64_t hc_version(struct vcpu *v, uint64_t a1, uint64_t a2, uint64_t a3,
			  uint64_t a4, uint64_t a5)
{
	(void)v, (void)a1, (void)a2, (void)a3, (void)a4, (void)a5;
	return KEEL_VERSION_CODE;
}

/*
 * RDI: guest-physical address of the caller's buffer, RSI: its size.
 * guest_phys_read/write check each page against the caller's p2m and RAM;
 * the read first makes a buffer that runs out of the caller's RAM fail
 * before any of it is written.
 */
static int64_t hc_platform_info(struct vcpu *v, uint64_t gpa, uint64_t size,
				uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct keel_platform_info info;
	size_t len;

	(void)a3, (void)a4, (void)a5;
	if (size < sizeof(info))
		return -EINVAL;
	if (guest_phys_read(v->dom, gpa, &info, sizeof(info)))
		return -EFAULT;
	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.version = KEEL_VERSION_CODE;
	info.nr_cpus = nr_cpus_online;
	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		if (__atomic_load_n(&domains[i], __ATOMIC_ACQUIRE))
			info.nr_domains++;
	info.tsc_khz = tsc_khz();
	info.total_ram = e820_total(&host_e820, E820_RAM);
	info.free_ram = frames_free_pages() * PAGE_SIZE;
	len = strnlen(sched->name, sizeof(info.sched_name) - 1);
	memcpy(info.sched_name, sched->name, len);
	return guest_phys_write(v->dom, gpa, &info, sizeof(info)) ? -EFAULT : 0;
}

static const struct hypercall table[] = {
    {KEEL_HC_VERSION, false, hc_version},
    {KEEL_HC_PLATFORM_INFO, true, hc_platform_info},
    {KEEL_HC_DOMAIN_CREATE, true, hc_domain_create},
    {KEEL_HC_DOMAIN_DESTROY, true, hc_domain_destroy},
    {KEEL_HC_DOMAIN_PAUSE, true, hc_domain_pause},
    {KEEL_HC_DOMAIN_UNPAUSE, true, hc_domain_unpause},
    {KEEL_HC_DOMAIN_START, true, hc_domain_start},
    {KEEL_HC_DOMAIN_INFO, true, hc_domain_info},
    {KEEL_HC_MEMORY_MAP, true, hc_memory_map},
    {KEEL_HC_VCPU_BOOT_STATE, true, hc_vcpu_boot_state},
    {KEEL_HC_VCPU_AFFINITY, true, hc_vcpu_affinity},
    {KEEL_HC_VCPU_INFO, true, hc_vcpu_info},
    {KEEL_HC_SCHED_SET, true, hc_sched_set},
    {KEEL_HC_CONSOLE_SETUP, true, hc_console_setup},
    {KEEL_HC_CONSOLE_KICK, true, hc_console_kick},
    {KEEL_HC_DMESG, true, hc_dmesg},
    {KEEL_HC_IOREQ_SETUP, true, hc_ioreq_setup},
    {KEEL_HC_IOREQ_RANGE, true, hc_ioreq_range},
    {KEEL_HC_IOREQ_DONE, true, hc_ioreq_done},
    {KEEL_HC_IRQ_LINE, true, hc_irq_line},
    {KEEL_HC_TRACE, true, hc_trace},
};

uint64_t hypercall_dispatch(struct vcpu *v)
{
	uint64_t nr = v->gpr[GPR_RAX];

	for (unsigned i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].nr != nr)
			continue;
		if (table[i].privileged && !v->dom->privileged)
			return (uint64_t)-EPERM;
		return (uint64_t)table[i].fn(v, v->gpr[GPR_RDI],
					     v->gpr[GPR_RSI], v->gpr[GPR_RDX],
					     v->gpr[GPR_R10], v->gpr[GPR_R8]);
	}
	return (uint64_t)-ENOSYS;
}

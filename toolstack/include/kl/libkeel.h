/* SPDX-License-Identifier: MIT */
/*
 * libkeel: the toolstack's calls into keel.ko's /dev/keel
 * (include/public/keel_ioctl.h), one function per ioctl. Every function
 * returns 0 (or the value named) or a negative errno; none prints.
 */
#ifndef KL_LIBKEEL_H
#define KL_LIBKEEL_H

#include <stddef.h>
#include <stdint.h>

#include <public/keel_ioctl.h>

/* The global fd: open(KEEL_DEVICE). */
int keel_open(void);

int keel_platform_info(int fd, struct keel_platform_info *info);
/* The lowest existing domain with domid >= first: its domid, or -ESRCH. */
int keel_domain_info(int fd, uint32_t first, struct keel_domain_info *info);
/*
 * Every domain, lowest domid first, in a malloc'd array (*out, *nr);
 * the caller frees it.
 */
int keel_domain_list(int fd, struct keel_domain_info **out, size_t *nr);
int keel_domain_pause(int fd, uint32_t domid);
int keel_domain_unpause(int fd, uint32_t domid);
int keel_domain_destroy(int fd, uint32_t domid);
int keel_vcpu_pin(int fd, uint32_t domid, uint32_t vcpu, uint64_t cpumask);
int keel_vcpu_info(int fd, uint32_t domid, uint32_t vcpu,
		   struct keel_vcpu_info *info);
int keel_sched_set(int fd, uint32_t domid, uint32_t weight, uint32_t cap);
/* Bytes of Keel's log written to buf. */
long keel_dmesg(int fd, void *buf, uint32_t size, uint32_t flags);
/* Trace rings (keel_ioctl.h): pages per CPU; disable fails with -EBUSY
 * while the rings are mapped. */
int keel_trace_enable(int fd, uint32_t pages);
int keel_trace_disable(int fd);
int keel_trace_info(int fd, struct keel_ioctl_trace_info *info);
/* The rings, read-only, in *rings (info->nr_cpus * pages_per_cpu pages). */
int keel_trace_map(int fd, const struct keel_ioctl_trace_info *info,
		   const void **rings);
int keel_trace_unmap(const struct keel_ioctl_trace_info *info,
		     const void *rings);
/* A new domain (BUILDING): returns its per-domain fd, *domid set. */
int keel_create(int fd, const char *name, uint32_t nr_vcpus, uint32_t *domid);
/* The domain's console fd. */
int keel_console_open(int fd, uint32_t domid);

/* On the per-domain fd. */
int keel_map_ram(int dfd, void *addr, uint64_t gpa, uint64_t len);
int keel_vcpu_boot(int dfd, uint32_t vcpu,
		   const struct keel_vcpu_boot_state *state);
int keel_start(int dfd);

/*
 * The device model's calls on the per-domain fd (keel_ioctl.h). Setup
 * before keel_start(); then map the page, register ranges, and serve:
 * poll(dfd) for POLLIN, take PENDING slots (acquire), answer, set DONE
 * (release), keel_ioreq_done().
 */
int keel_ioreq_setup(int dfd);
/* The domain's ioreq page, shared with Keel, in *page. */
int keel_ioreq_map(int dfd, struct keel_ioreq_page **page);
int keel_ioreq_unmap(struct keel_ioreq_page *page);
/* KEEL_IOREQ_F_* flags; the range's id (>= 0). */
int keel_ioreq_range_add(int dfd, uint32_t flags, uint64_t start, uint64_t len);
int keel_ioreq_range_remove(int dfd, uint32_t flags, uint64_t start,
			    uint64_t len);
int keel_ioreq_done(int dfd, uint32_t vcpu);
/* KEEL_IRQ_ASSERT, _DEASSERT or _PULSE on a pin of the DomU's vIOAPIC. */
int keel_irq_line(int dfd, uint32_t gsi, uint32_t op);

#endif

/* SPDX-License-Identifier: MIT */
/* libkeel: /dev/keel's ioctls (kl/libkeel.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <kl/libkeel.h>

static int result(int rc)
{
	return rc < 0 ? -errno : rc;
}

int keel_open(void)
{
	return result(open(KEEL_DEVICE, O_RDWR | O_CLOEXEC));
}

int keel_platform_info(int fd, struct keel_platform_info *info)
{
	memset(info, 0, sizeof(*info));
	return result(ioctl(fd, KEEL_IOCTL_PLATFORM_INFO, info));
}

int keel_domain_info(int fd, uint32_t first, struct keel_domain_info *info)
{
	struct keel_ioctl_domain_info req = {.first_domid = first};
	int rc = result(ioctl(fd, KEEL_IOCTL_DOMAIN_INFO, &req));

	if (rc < 0)
		return rc;
	*info = req.info;
	return (int)req.info.domid;
}

int keel_domain_list(int fd, struct keel_domain_info **out, size_t *nr)
{
	struct keel_domain_info *list = NULL, info;
	size_t n = 0, cap = 0;
	uint64_t next = 0;
	int rc;

	while (next <= UINT32_MAX &&
	       (rc = keel_domain_info(fd, (uint32_t)next, &info)) >= 0) {
		if (n == cap) {
			struct keel_domain_info *grown;

			cap = cap ? cap * 2 : 8;
			grown = realloc(list, cap * sizeof(*list));
			if (!grown) {
				free(list);
				return -ENOMEM;
			}
			list = grown;
		}
		list[n++] = info;
		next = (uint64_t)info.domid + 1;
	}
	if (next <= UINT32_MAX && rc != -ESRCH) {
		free(list);
		return rc;
	}
	*out = list;
	*nr = n;
	return 0;
}

int keel_domain_pause(int fd, uint32_t domid)
{
	return result(ioctl(fd, KEEL_IOCTL_DOMAIN_PAUSE, &domid));
}

int keel_domain_unpause(int fd, uint32_t domid)
{
	return result(ioctl(fd, KEEL_IOCTL_DOMAIN_UNPAUSE, &domid));
}

int keel_domain_destroy(int fd, uint32_t domid)
{
	return result(ioctl(fd, KEEL_IOCTL_DOMAIN_DESTROY, &domid));
}

int keel_vcpu_pin(int fd, uint32_t domid, uint32_t vcpu, uint64_t cpumask)
{
	struct keel_ioctl_vcpu req = {
	    .domid = domid, .vcpu = vcpu, .cpumask = cpumask};

	return result(ioctl(fd, KEEL_IOCTL_VCPU_PIN, &req));
}

int keel_vcpu_info(int fd, uint32_t domid, uint32_t vcpu,
		   struct keel_vcpu_info *info)
{
	struct keel_ioctl_vcpu req = {.domid = domid, .vcpu = vcpu};
	int rc = result(ioctl(fd, KEEL_IOCTL_VCPU_INFO, &req));

	if (rc == 0)
		*info = req.info;
	return rc;
}

int keel_sched_set(int fd, uint32_t domid, uint32_t weight, uint32_t cap)
{
	struct keel_ioctl_sched req = {
	    .domid = domid, .weight = weight, .cap = cap};

	return result(ioctl(fd, KEEL_IOCTL_SCHED_SET, &req));
}

long keel_dmesg(int fd, void *buf, uint32_t size, uint32_t flags)
{
	struct keel_ioctl_dmesg req = {
	    .buf = (uintptr_t)buf, .size = size, .flags = flags};
	long rc = ioctl(fd, KEEL_IOCTL_DMESG, &req);

	return rc < 0 ? -errno : rc;
}

int keel_create(int fd, const char *name, uint32_t nr_vcpus, uint32_t *domid)
{
	struct keel_ioctl_create req;
	int dfd;

	memset(&req, 0, sizeof(req));
	if (strlen(name) >= sizeof(req.create.name))
		return -ENAMETOOLONG;
	strcpy(req.create.name, name);
	req.create.nr_vcpus = nr_vcpus;
	dfd = result(ioctl(fd, KEEL_IOCTL_CREATE, &req));
	if (dfd >= 0)
		*domid = req.domid;
	return dfd;
}

int keel_console_open(int fd, uint32_t domid)
{
	return result(ioctl(fd, KEEL_IOCTL_CONSOLE_OPEN, &domid));
}

int keel_map_ram(int dfd, void *addr, uint64_t gpa, uint64_t len)
{
	struct keel_ioctl_map_ram req = {
	    .uaddr = (uintptr_t)addr, .gpa = gpa, .len = len};

	return result(ioctl(dfd, KEEL_IOCTL_MAP_RAM, &req));
}

int keel_vcpu_boot(int dfd, uint32_t vcpu,
		   const struct keel_vcpu_boot_state *state)
{
	struct keel_ioctl_vcpu_boot req;

	memset(&req, 0, sizeof(req));
	req.vcpu = vcpu;
	req.state = *state;
	return result(ioctl(dfd, KEEL_IOCTL_VCPU_BOOT, &req));
}

int keel_start(int dfd)
{
	return result(ioctl(dfd, KEEL_IOCTL_START));
}

int keel_ioreq_setup(int dfd)
{
	return result(ioctl(dfd, KEEL_IOCTL_IOREQ_SETUP));
}

int keel_ioreq_map(int dfd, struct keel_ioreq_page **page)
{
	void *p = mmap(NULL, KEEL_IOREQ_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, dfd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*page = p;
	return 0;
}

int keel_ioreq_unmap(struct keel_ioreq_page *page)
{
	return result(munmap(page, KEEL_IOREQ_PAGE_SIZE));
}

static int ioreq_range(int dfd, uint32_t op, uint32_t flags, uint64_t start,
		       uint64_t len)
{
	struct keel_ioctl_ioreq_range req = {
	    .start = start, .len = len, .flags = flags, .op = op};

	return result(ioctl(dfd, KEEL_IOCTL_IOREQ_RANGE, &req));
}

int keel_ioreq_range_add(int dfd, uint32_t flags, uint64_t start, uint64_t len)
{
	return ioreq_range(dfd, KEEL_IOREQ_RANGE_ADD, flags, start, len);
}

int keel_ioreq_range_remove(int dfd, uint32_t flags, uint64_t start,
			    uint64_t len)
{
	return ioreq_range(dfd, KEEL_IOREQ_RANGE_REMOVE, flags, start, len);
}

int keel_ioreq_done(int dfd, uint32_t vcpu)
{
	return result(ioctl(dfd, KEEL_IOCTL_IOREQ_DONE, &vcpu));
}

int keel_irq_line(int dfd, uint32_t gsi, uint32_t op)
{
	struct keel_ioctl_irq_line req = {.gsi = gsi, .op = op};

	return result(ioctl(dfd, KEEL_IOCTL_IRQ_LINE, &req));
}

int keel_trace_enable(int fd, uint32_t pages)
{
	return result(ioctl(fd, KEEL_IOCTL_TRACE_ENABLE, &pages));
}

int keel_trace_disable(int fd)
{
	return result(ioctl(fd, KEEL_IOCTL_TRACE_DISABLE));
}

int keel_trace_info(int fd, struct keel_ioctl_trace_info *info)
{
	memset(info, 0, sizeof(*info));
	return result(ioctl(fd, KEEL_IOCTL_TRACE_INFO, info));
}

static size_t trace_map_len(const struct keel_ioctl_trace_info *info)
{
	return (size_t)info->nr_cpus * info->pages_per_cpu *
	       (size_t)sysconf(_SC_PAGESIZE);
}

int keel_trace_map(int fd, const struct keel_ioctl_trace_info *info,
		   const void **rings)
{
	void *p = mmap(NULL, trace_map_len(info), PROT_READ, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*rings = p;
	return 0;
}

int keel_trace_unmap(const struct keel_ioctl_trace_info *info,
		     const void *rings)
{
	return result(munmap((void *)rings, trace_map_len(info)));
}

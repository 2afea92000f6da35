/* SPDX-License-Identifier: MIT */
/*
 * `kl create`: builds a DomU in Dom0 user space (DESIGN section 5) and
 * then stays as its owner.
 *
 * Everything that can be refused is checked before Keel hears of the
 * domain: the configuration, the kernel and initramfs files, the bzImage
 * header and the layout, the name, and the memory Dom0 can donate. Then
 * the guest's RAM is a memfd (hugetlb pages when the pool has enough),
 * mapped shared and prefaulted, the image is written into it, and keel.ko
 * creates the domain, pins and maps the RAM, sets vCPU 0 and starts it.
 *
 * The per-domain fd keel.ko returns is the domain's life: whatever ends
 * this process (an error, exit, SIGKILL) closes it, and keel.ko then
 * destroys the domain and unpins its memory. After the start a child
 * process keeps the fd (the owner; `xl create` leaves such a process
 * too), watches the domain and applies on_poweroff, on_reboot and
 * on_crash; the command itself returns, or with -c attaches the console.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <kl/cli.h>
#include <kl/domains.h>
#include <kl/domu_image.h>
#include <kl/xlcfg.h>

#include "devmodel.h"
#include "kl.h"

#define MIB ((uint64_t)1 << 20)
/* Dom0 keeps this much of MemAvailable for itself. */
#define DOM0_RESERVE (32 * MIB)
/* keel.ko pins at most 16 GiB a call; smaller calls keep its page
 * arrays small. */
#define MAP_RAM_CHUNK (1ULL << 30)
/* How often the owner looks at the domain's state. */
#define WATCH_INTERVAL_MS 200
/* A guest that needs restarting this often within a minute is stuck. */
#define MAX_RESTARTS_PER_MINUTE 5
#define LOG_DIR			"/var/log/keel"
#define RUN_DIR			KL_RUN_DIR

struct domu {
	const struct kl_domain_config *cfg;
	const char *cfg_file;
	char *cmdline; /* the kernel's: kl_domu_cmdline() of the config's */
	uint8_t *kernel, *initrd;
	size_t kernel_len, initrd_len;
	uint64_t ram_bytes;
	int memfd;
	uint8_t *ram;
	bool hugetlb;
	int dfd;
	uint32_t domid;
	struct kl_dm dm;    /* its disks and vifs */
	struct timespec t0; /* kl create's start, for -t */
	bool timing;
};

/* -t: when each build phase ended, in ms since kl create started (Dom0's
 * CLOCK_MONOTONIC); `make bench` reads these lines. */
static void phase(const struct domu *u, const char *what)
{
	struct timespec now;

	if (!u->timing)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	fprintf(stderr, "kl create: timing: %.3f ms %s\n",
		(double)(now.tv_sec - u->t0.tv_sec) * 1e3 +
		    (double)(now.tv_nsec - u->t0.tv_nsec) / 1e6,
		what);
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		rc = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		close(fd);
		return rc;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n < 0 ? -errno : -EIO;
			free(buf);
			close(fd);
			return rc;
		}
		done += (size_t)n;
	}
	close(fd);
	*out = buf;
	*len = done;
	return 0;
}

/* A /proc/meminfo value in bytes ("kB" lines; HugePages_* are counts). */
static int64_t meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	char line[128];
	size_t klen = strlen(key);
	int64_t v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			long long n = strtoll(line + klen + 1, NULL, 10);

			v = strstr(line, " kB") ? n * 1024 : n;
			break;
		}
	}
	fclose(f);
	return v;
}

/* Whether the hugetlb pool can hold the whole guest. */
static bool hugetlb_fits(uint64_t bytes)
{
	int64_t free_pages = meminfo("HugePages_Free");
	int64_t page = meminfo("Hugepagesize");

	return free_pages > 0 && page == (int64_t)(2 * MIB) &&
	       bytes % (uint64_t)page == 0 &&
	       (uint64_t)free_pages * (uint64_t)page >= bytes;
}

static void print_diags(const struct kl_cfg_result *res)
{
	for (size_t i = 0; i < res->nr_diags; i++)
		fprintf(stderr, "%s\n", res->diags[i].text);
}

/* What the image builder and its check are given: the same for both. */
static void image_input(const struct domu *u, struct kl_domu_image_in *in)
{
	static struct kl_acpi_virtio windows[KL_DM_MAX];

	memset(in, 0, sizeof(*in));
	kl_dm_windows(&u->dm, windows);
	in->virtio = windows;
	in->nr_virtio = u->dm.nr;
	in->kernel = u->kernel;
	in->kernel_len = u->kernel_len;
	in->initrd = u->initrd;
	in->initrd_len = u->initrd_len;
	in->cmdline = u->cmdline;
	in->ram_bytes = u->ram_bytes;
	in->nr_vcpus = u->cfg->vcpus;
}

/* Loads kernel and initramfs and checks they make a bootable DomU. */
static int load_images(struct domu *u)
{
	const struct kl_domain_config *c = u->cfg;
	struct kl_domu_image_in in;
	int rc = read_file(c->kernel, &u->kernel, &u->kernel_len);

	if (rc) {
		fprintf(stderr, "kl create: kernel '%s': %s\n", c->kernel,
			strerror(-rc));
		return -1;
	}
	if (c->ramdisk) {
		rc = read_file(c->ramdisk, &u->initrd, &u->initrd_len);
		if (rc) {
			fprintf(stderr, "kl create: ramdisk '%s': %s\n",
				c->ramdisk, strerror(-rc));
			return -1;
		}
	}
	u->cmdline = kl_domu_cmdline(c->cmdline);
	if (!u->cmdline) {
		fprintf(stderr, "kl create: out of memory\n");
		return -1;
	}
	image_input(u, &in);
	rc = kl_domu_image_check(&in);
	switch (rc) {
	case 0:
		return 0;
	case -ENOEXEC:
		fprintf(stderr,
			"kl create: kernel '%s' is not a bzImage with the "
			"64-bit boot protocol (Linux 3.x or later, x86-64)\n",
			c->kernel);
		break;
	case -E2BIG:
		fprintf(stderr,
			"kl create: the command line is longer than kernel "
			"'%s' accepts\n",
			c->kernel);
		break;
	case -ENOSPC:
		fprintf(stderr,
			"kl create: kernel and ramdisk do not fit in memory = "
			"%" PRIu64 " MiB\n",
			c->memory_mib);
		break;
	default:
		fprintf(stderr, "kl create: kernel '%s' is malformed (%s)\n",
			c->kernel, strerror(-rc));
	}
	return -1;
}

/* Refuses what Keel would refuse, with a better message. */
static int check_host(int fd, const struct domu *u)
{
	const struct kl_domain_config *c = u->cfg;
	struct keel_platform_info pinfo;
	struct keel_domain_info *doms;
	int64_t avail = meminfo("MemAvailable");
	size_t nr;
	int rc;

	rc = keel_domain_list(fd, &doms, &nr);
	if (rc < 0)
		return kl_device_error("domain list", -rc);
	for (size_t i = 0; i < nr; i++) {
		if (strncmp(doms[i].name, c->name, KEEL_DOMAIN_NAME_LEN))
			continue;
		fprintf(stderr,
			"kl create: a domain named '%s' already exists "
			"(domid %" PRIu32 "); nothing was created\n",
			c->name, doms[i].domid);
		free(doms);
		return -1;
	}
	free(doms);
	rc = keel_platform_info(fd, &pinfo);
	if (rc < 0)
		return kl_device_error("platform info", -rc);
	if (c->vcpus > pinfo.nr_cpus)
		fprintf(stderr,
			"kl create: warning: vcpus = %u on %u physical CPUs: "
			"they share them\n",
			c->vcpus, pinfo.nr_cpus);
	if (!hugetlb_fits(u->ram_bytes) &&
	    (avail < 0 || u->ram_bytes + DOM0_RESERVE > (uint64_t)avail)) {
		uint64_t can = avail > (int64_t)DOM0_RESERVE
				   ? (uint64_t)avail - DOM0_RESERVE
				   : 0;

		fprintf(stderr,
			"kl create: memory = %" PRIu64
			" MiB is more than Dom0 can donate: %" PRIu64
			" MiB free (MemAvailable less %llu MiB Dom0 keeps); "
			"nothing was created\n",
			c->memory_mib, can / MIB,
			(unsigned long long)(DOM0_RESERVE / MIB));
		return -1;
	}
	/* Keel's nested page tables: about 1/512 of the RAM with 4 KiB
	 * pages, and a margin for the upper levels. */
	if (pinfo.free_ram < u->ram_bytes / 256 + 2 * MIB) {
		fprintf(stderr,
			"kl create: Keel has %" PRIu64
			" KiB free, too little for the page tables of memory = "
			"%" PRIu64 " MiB; nothing was created\n",
			pinfo.free_ram >> 10, c->memory_mib);
		return -1;
	}
	return 0;
}

static int alloc_ram(struct domu *u)
{
	char name[64];

	snprintf(name, sizeof(name), "keel-%s", u->cfg->name);
	u->hugetlb = hugetlb_fits(u->ram_bytes);
	for (;;) {
		u->memfd = memfd_create(
		    name, MFD_CLOEXEC | (u->hugetlb ? MFD_HUGETLB : 0));
		if (u->memfd >= 0 &&
		    ftruncate(u->memfd, (off_t)u->ram_bytes) == 0) {
			/* MAP_POPULATE faults every page in now (for
			 * hugetlb it reserves the pool), so nothing is
			 * allocated later under Keel's feet. */
			u->ram =
			    mmap(NULL, u->ram_bytes, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, u->memfd, 0);
			if (u->ram != MAP_FAILED)
				return 0;
		}
		if (u->memfd >= 0)
			close(u->memfd);
		u->memfd = -1;
		u->ram = NULL;
		if (!u->hugetlb)
			break;
		u->hugetlb = false; /* the pool shrank meanwhile */
	}
	fprintf(stderr, "kl create: cannot allocate %" PRIu64 " MiB: %s\n",
		u->cfg->memory_mib, strerror(errno));
	return -1;
}

static void free_ram(struct domu *u)
{
	if (u->ram)
		munmap(u->ram, u->ram_bytes);
	if (u->memfd >= 0)
		close(u->memfd);
	u->ram = NULL;
	u->memfd = -1;
}

/* Maps memfd bytes [off, off + len) at guest-physical gpa. */
static int map_range(const struct domu *u, uint64_t off, uint64_t len,
		     uint64_t gpa)
{
	for (uint64_t done = 0; done < len;) {
		uint64_t n =
		    len - done < MAP_RAM_CHUNK ? len - done : MAP_RAM_CHUNK;
		int rc =
		    keel_map_ram(u->dfd, u->ram + off + done, gpa + done, n);

		if (rc < 0)
			return kl_device_error("map guest memory", -rc);
		done += n;
	}
	return 0;
}

/* Guest-physical placement of the memfd (kl/domu_image.h). */
static int map_ram(const struct domu *u)
{
	uint64_t low = kl_domu_low_bytes(u->ram_bytes);

	if (map_range(u, 0, low, 0))
		return -1;
	if (u->ram_bytes > low &&
	    map_range(u, low, u->ram_bytes - low, KL_DOMU_4G))
		return -1;
	return 0;
}

static int apply_cpu_params(int fd, const struct domu *u)
{
	const struct kl_domain_config *c = u->cfg;
	int rc = keel_sched_set(fd, u->domid, c->cpu_weight, c->cap);

	if (rc < 0)
		return kl_device_error("scheduler parameters", -rc);
	for (unsigned v = 0; c->affinity && v < c->vcpus; v++) {
		const struct kl_cpumap *m = &c->affinity[v];
		uint64_t mask = m->bits[0];
		bool all = true;

		for (size_t w = 0; w < sizeof(m->bits) / sizeof(m->bits[0]);
		     w++)
			all &= m->bits[w] == UINT64_MAX;
		for (size_t w = 1; !all && w < sizeof(m->bits) / 8; w++)
			if (m->bits[w]) {
				fprintf(stderr,
					"kl create: cpus= names a CPU above "
					"63; Keel has at most 64\n");
				return -1;
			}
		rc = keel_vcpu_pin(fd, u->domid, v, all ? UINT64_MAX : mask);
		if (rc < 0) {
			fprintf(stderr,
				"kl create: cpus= for vCPU %u: %s (no such "
				"CPU?)\n",
				v, strerror(-rc));
			return -1;
		}
	}
	return 0;
}

/* The guest RAM as the back ends see it (kl/domu_image.h's layout). */
static int start_devices(struct domu *u)
{
	uint64_t low = kl_domu_low_bytes(u->ram_bytes);
	struct virtio_mem mem = {0};

	if (virtio_mem_add(&mem, 0, low, u->ram) ||
	    (u->ram_bytes > low &&
	     virtio_mem_add(&mem, KL_DOMU_4G, u->ram_bytes - low,
			    u->ram + low)))
		return -1;
	return kl_dm_start(&u->dm, &mem);
}

/* Destroys the domain: back ends first (the ioreq page's mapping holds
 * the domain's fd open), then the fd (keel.ko destroys and unpins), then
 * the RAM. */
static void end_domain(struct domu *u)
{
	kl_dm_stop(&u->dm);
	if (u->dfd >= 0)
		close(u->dfd);
	u->dfd = -1;
	free_ram(u);
}

/*
 * Memory, image, domain, start: 0 with u->dfd the running domain's fd,
 * or -1 after saying why (and with nothing left in Keel: the fd is
 * closed, which destroys what was created).
 */
static int build_domain(int fd, struct domu *u, bool paused, bool owner)
{
	static struct kl_domu_image img; /* a 4 KiB zero page inside */
	struct kl_domu_image_in in;
	int rc;

	if (alloc_ram(u))
		return -1;
	phase(u, "guest memory allocated");
	image_input(u, &in);
	rc = kl_domu_image_build(&in, u->ram, &img);
	if (rc) {
		fprintf(stderr, "kl create: cannot lay out the guest: %s\n",
			strerror(-rc));
		goto fail;
	}
	u->dfd = keel_create(fd, u->cfg->name, u->cfg->vcpus, &u->domid);
	if (u->dfd == -EEXIST) {
		fprintf(stderr,
			"kl create: a domain named '%s' already exists\n",
			u->cfg->name);
		goto fail;
	}
	if (u->dfd < 0) {
		kl_device_error("create", -u->dfd);
		goto fail;
	}
	phase(u, "domain created");
	if (map_ram(u))
		goto fail;
	phase(u, "memory pinned and mapped");
	rc = keel_vcpu_boot(u->dfd, 0, &img.boot);
	if (rc < 0) {
		kl_device_error("vCPU 0 boot state", -rc);
		goto fail;
	}
	if (apply_cpu_params(fd, u) || kl_dm_attach(&u->dm, u->dfd))
		goto fail;
	/* The back ends' threads must live where the requests are served. */
	if (owner && start_devices(u))
		goto fail;
	/* Paused before the start: Keel starts it paused (keel.h). */
	if (paused && (rc = keel_domain_pause(fd, u->domid)) < 0) {
		kl_device_error("pause", -rc);
		goto fail;
	}
	rc = keel_start(u->dfd);
	if (rc < 0) {
		kl_device_error("start", -rc);
		goto fail;
	}
	phase(u, "started");
	return 0;
fail:
	end_domain(u);
	return -1;
}

static void log_path(const char *name, char *path, size_t len)
{
	snprintf(path, len, LOG_DIR "/kl-%s.log", name);
}

/* The owner's log: the daemon has no terminal. */
static void open_log(const char *name)
{
	char path[128];
	int fd;

	mkdir("/var", 0755);
	mkdir("/var/log", 0755);
	mkdir(LOG_DIR, 0755);
	log_path(name, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, STDIN_FILENO);
		close(fd);
	}
}

/* RUN_DIR/kl-NAME.pid names the owner (to signal it, or to find it). */
static void pid_file(const char *name, bool create)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), RUN_DIR "/kl-%s.pid", name);
	if (!create) {
		unlink(path);
		return;
	}
	mkdir("/run", 0755);
	mkdir(RUN_DIR, 0755);
	f = fopen(path, "we");
	if (f) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
}

static void log_line(const char *fmt, const char *name, uint32_t domid,
		     const char *what)
{
	time_t now = time(NULL);
	char stamp[32];

	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", gmtime(&now));
	printf("%s ", stamp);
	printf(fmt, name, domid, what);
	putchar('\n');
	fflush(stdout);
}

/* kl shutdown and kl reboot signal the owner (cmd_domain.c). */
static volatile sig_atomic_t shutdown_asked, reboot_asked;

static void on_signal(int sig)
{
	if (sig == KL_SIG_SHUTDOWN)
		shutdown_asked = 1;
	else
		reboot_asked = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Presses the DomU's power button (its GED's line, kl/domu_image.h): the
 * guest's OS powers off, or ignores it as a PC's would.
 */
static void press_power_button(const struct domu *u, const char *why)
{
	int rc =
	    keel_irq_line(u->dfd, KL_DOMU_POWER_BUTTON_GSI, KEEL_IRQ_PULSE);

	log_line("domain %s (%" PRIu32 ") %s", u->cfg->name, u->domid,
		 rc < 0 ? "power button: cannot press it" : why);
}

/*
 * The owner: looks at the domain's state and applies the configured
 * action when the guest powers off, reboots or crashes. Returns when the
 * domain is gone (destroyed here or by `kl destroy`).
 */
static int watch(int fd, struct domu *u)
{
	const struct kl_domain_config *c = u->cfg;
	time_t restarts[MAX_RESTARTS_PER_MINUTE] = {0};
	unsigned nr_restarts = 0;
	bool preserved = false, rebooting = false;
	uint64_t next_look = 0;

	for (;;) {
		struct keel_domain_info info;
		enum kl_action action;
		const char *why;
		int rc;

		if (kl_dm_serve(&u->dm, WATCH_INTERVAL_MS)) {
			log_line("domain %s (%" PRIu32 ") %s", c->name,
				 u->domid, "cannot be served: destroying it");
			return 1;
		}
		if (shutdown_asked || reboot_asked) {
			rebooting |= reboot_asked;
			press_power_button(
			    u, reboot_asked ? "power button (kl reboot)"
					    : "power button (kl shutdown)");
			shutdown_asked = reboot_asked = 0;
		}
		if (now_ms() < next_look)
			continue;
		next_look = now_ms() + WATCH_INTERVAL_MS;
		rc = keel_domain_info(fd, u->domid, &info);
		if (rc != (int)u->domid ||
		    strncmp(info.name, c->name, KEEL_DOMAIN_NAME_LEN)) {
			log_line("domain %s (%" PRIu32 ") %s", c->name,
				 u->domid, "was destroyed");
			break;
		}
		if (preserved)
			continue;
		if (info.state == KEEL_DOMSTATE_SHUTDOWN) {
			/* kl reboot: the guest powers off, kl brings it back.
			 */
			bool reboot = rebooting || info.shutdown_reason ==
						       KEEL_SHUTDOWN_REBOOT;

			action = reboot ? c->on_reboot : c->on_poweroff;
			why = reboot ? "rebooted" : "powered off";
		} else if (info.state == KEEL_DOMSTATE_CRASHED) {
			action = c->on_crash;
			why = "crashed";
			log_line("domain %s (%" PRIu32 ") crashed: %s", c->name,
				 u->domid, info.crash_reason);
		} else {
			continue;
		}
		log_line("domain %s (%" PRIu32 ") %s", c->name, u->domid, why);
		if (action == KL_ACTION_PRESERVE) {
			log_line("domain %s (%" PRIu32 ") %s", c->name,
				 u->domid, "preserved for kl destroy");
			preserved = true;
			continue;
		}
		/* Destroys it; keel.ko unpins once Keel has let go. */
		end_domain(u);
		rebooting = false;
		if (action == KL_ACTION_DESTROY)
			break;
		if (nr_restarts == MAX_RESTARTS_PER_MINUTE &&
		    time(NULL) - restarts[0] < 60) {
			log_line("domain %s (%" PRIu32 ") %s", c->name,
				 u->domid,
				 "restarts too often: left destroyed");
			return 1;
		}
		if (nr_restarts == MAX_RESTARTS_PER_MINUTE) {
			memmove(restarts, restarts + 1,
				sizeof(restarts) - sizeof(restarts[0]));
			nr_restarts--;
		}
		restarts[nr_restarts++] = time(NULL);
		if (build_domain(fd, u, false, true))
			return 1;
		log_line("domain %s restarted as %" PRIu32 "%s", c->name,
			 u->domid, "");
	}
	return 0;
}

/* The log's size now: where what the owner writes next begins. */
static off_t log_end(const char *name)
{
	char path[128];
	struct stat st;

	log_path(name, path, sizeof(path));
	return stat(path, &st) ? 0 : st.st_size;
}

/* Copies the owner's log from offset from to stderr: why it gave up. */
static void show_log(const char *name, off_t from)
{
	char path[128], buf[4096];
	ssize_t n;
	int fd;

	log_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || lseek(fd, from, SEEK_SET) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stderr);
	close(fd);
}

static const char create_usage[] =
    "Usage: kl create [-c] [-p] [-q] [-t] FILE [KEY=VALUE...]\n"
    "  Builds and starts the domain that FILE (xl.cfg syntax, the PVH\n"
    "  subset) describes; KEY=VALUE settings override the file's.\n"
    "  -c   attach to its console (Ctrl-] detaches; it keeps running)\n"
    "  -p   leave it paused (kl unpause starts it)\n"
    "  -q   no 'Parsing config' line\n"
    "  -t   print when each build phase ended (ms since kl started)\n"
    "  A kl process stays as the domain's owner: it applies on_poweroff,\n"
    "  on_reboot and on_crash, and the domain ends with it. Its log is\n"
    "  " LOG_DIR "/kl-NAME.log, its pid in " RUN_DIR "/kl-NAME.pid.\n";

int kl_cmd_create(int argc, char **argv)
{
	struct kl_create_args args;
	struct kl_cfg_result res;
	struct domu u;
	char err[256];
	struct timespec t0;
	pid_t pid;
	off_t log_start;
	int fd, rc, ready[2];
	char started;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = kl_create_args_parse(argc, argv, &args, err, sizeof(err));
	if (rc == 1) {
		fputs(create_usage, stdout);
		return 0;
	}
	if (rc) {
		fprintf(stderr, "kl create: %s\n", err);
		fputs(create_usage, stderr);
		return 2;
	}
	if (!args.quiet)
		fprintf(stderr, "Parsing config from %s\n", args.file);
	rc = kl_cfg_load(args.file, args.overrides, args.nr_overrides, &res);
	print_diags(&res);
	if (rc) {
		if (!kl_cfg_error(&res))
			fprintf(stderr, "kl create: %s: %s\n", args.file,
				strerror(-rc));
		kl_cfg_result_free(&res);
		return 1;
	}
	memset(&u, 0, sizeof(u));
	u.t0 = t0;
	u.timing = args.timing;
	u.cfg = &res.cfg;
	u.cfg_file = args.file;
	u.memfd = -1;
	u.dfd = -1;
	u.ram_bytes = res.cfg.memory_mib * MIB;
	fd = -1;
	phase(&u, "configuration parsed");
	if (kl_dm_open(&u.dm, &res.cfg) || load_images(&u) ||
	    (fd = kl_open_keel()) < 0 || check_host(fd, &u)) {
		rc = 1;
		goto out;
	}
	phase(&u, "images read and checked");
	if (build_domain(fd, &u, args.paused, false)) {
		rc = 1;
		goto out;
	}
	printf("Started domain %s (id=%" PRIu32 ")%s\n", res.cfg.name, u.domid,
	       args.paused ? ", paused" : "");
	fflush(stdout);
	fflush(stderr);

	/* The owner says on ready when its devices serve (qemu-nbd may
	 * refuse a qcow2 image); if they do not, it destroys the domain. */
	log_start = log_end(res.cfg.name);
	pid = pipe2(ready, O_CLOEXEC) ? -1 : fork();
	if (pid < 0) {
		/* No owner process: the domain ends with this one. */
		fprintf(stderr, "kl create: fork: %s; destroying %s\n",
			strerror(errno), res.cfg.name);
		rc = 1;
		goto out;
	}
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_signal};

		close(ready[0]);
		setsid();
		signal(SIGHUP, SIG_IGN);
		signal(SIGPIPE, SIG_IGN);
		/* No SA_RESTART: the signal ends the owner's poll(). */
		sigaction(KL_SIG_SHUTDOWN, &sa, NULL);
		sigaction(KL_SIG_REBOOT, &sa, NULL);
		prctl(PR_SET_NAME, "kl-owner");
		open_log(res.cfg.name);
		if (start_devices(&u)) {
			log_line("domain %s (%" PRIu32 ") %s", res.cfg.name,
				 u.domid, "has no devices: destroying it");
			rc = 1;
			goto out;
		}
		log_line("domain %s (%" PRIu32 ") %s", res.cfg.name, u.domid,
			 "started");
		pid_file(res.cfg.name, true);
		if (write(ready[1], "", 1) != 1)
			log_line("domain %s (%" PRIu32 ") %s", res.cfg.name,
				 u.domid, "kl create left before it started");
		close(ready[1]);
		rc = watch(fd, &u);
		/* The pid file goes last: once it is gone, so is the
		 * domain's memory. */
		end_domain(&u);
		kl_dm_close(&u.dm);
		pid_file(res.cfg.name, false);
		goto out;
	}
	/* The child holds the domain now; this copy must not keep it. */
	end_domain(&u);
	kl_dm_close(&u.dm);
	close(ready[1]);
	if (read(ready[0], &started, 1) != 1) {
		fprintf(stderr,
			"kl create: %s's devices did not start; it was "
			"destroyed. Its owner's log says:\n",
			res.cfg.name);
		show_log(res.cfg.name, log_start);
		close(ready[0]);
		rc = 1;
		goto out;
	}
	close(ready[0]);
	rc = 0;
	if (args.console && kl_console_attach(fd, u.domid, res.cfg.name))
		rc = 1;
out:
	end_domain(&u);
	kl_dm_close(&u.dm);
	free(u.kernel);
	free(u.initrd);
	free(u.cmdline);
	if (fd >= 0)
		close(fd);
	kl_cfg_result_free(&res);
	return rc;
}

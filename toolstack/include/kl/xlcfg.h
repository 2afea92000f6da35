/* SPDX-License-Identifier: MIT */
/*
 * The PVH subset of Xen's xl.cfg(5): what `kl create FILE [KEY=VALUE]...`
 * reads. The file syntax is libxlu's (KEY = VALUE settings ended by a
 * newline or ';', strings in "..." or '...', numbers, one level of
 * [ ... ] lists that may span lines and end with a comma, # comments,
 * KEY += [list] appends). Command-line overrides use the same syntax and
 * are applied after the file, so `'name="web2"'` renames a domain; the last
 * setting of a key wins, as in xl.
 *
 * The parser keeps no global state and never exits: everything it learns
 * goes into a struct kl_cfg_result that kl_cfg_result_free() releases.
 */
#ifndef KL_XLCFG_H
#define KL_XLCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keel's per-domain vCPU limit (MAX_VCPUS in hypervisor/include/keel/domain.h).
 */
#define KL_MAX_VCPUS 64
/* Physical CPUs a cpus= list may name. */
#define KL_MAX_PCPUS 1024
/* Smallest and largest memory= (MiB): a Linux kernel and its initramfs need
 * some room; 1 TiB keeps every byte count far from overflow. */
#define KL_MIN_MEMORY_MIB 16
#define KL_MAX_MEMORY_MIB (1024 * 1024)
/* Credit scheduler parameters as xl sched-credit takes them. */
#define KL_DEFAULT_CPU_WEIGHT 256
#define KL_MAX_CPU_WEIGHT     65535
#define KL_MAX_CAP	      65535
/* What memory= defaults to: libxl's 32 MiB cannot boot a distribution kernel.
 */
#define KL_DEFAULT_MEMORY_MIB 512
/* Dom0's bridge; xl's default would be xenbr0. */
#define KL_DEFAULT_BRIDGE "br0"
/* Linux IFNAMSIZ less the terminating NUL. */
#define KL_MAX_IFNAME 15

enum kl_diag_level { KL_DIAG_WARNING, KL_DIAG_ERROR };

/* One warning or error, located in its file (or "<command line>", where
 * line is the override's position, counting from 1). */
struct kl_diag {
	enum kl_diag_level level;
	char *file;
	unsigned line;
	unsigned col;  /* 1-based; 0 when the whole line is meant */
	char *key;     /* the setting concerned, or NULL for syntax errors */
	char *message; /* without the location */
	char *text; /* "file:line:col: error: key: message", ready to print */
};

enum kl_action {
	KL_ACTION_DESTROY,
	KL_ACTION_RESTART,
	KL_ACTION_PRESERVE,
};

struct kl_cpumap {
	uint64_t bits[KL_MAX_PCPUS / 64];
};

enum kl_disk_format { KL_DISK_RAW, KL_DISK_QCOW2 };

/* One disk= entry (xl-disk-configuration(5)). */
struct kl_disk {
	char *target; /* file or block device */
	enum kl_disk_format format;
	char *vdev;	/* as written: xvda, sdb, hdc */
	unsigned index; /* the vdev's disk number: xvda 0, xvdb 1, xvdaa 26 */
	bool readonly;
};

/* One vif= entry (xl-network-configuration(5)); the model is virtio-net. */
struct kl_vif {
	bool has_mac; /* else the device model picks one */
	uint8_t mac[6];
	char *bridge;  /* never NULL */
	char *vifname; /* TAP name, or NULL to let the device model name it */
	unsigned mtu;  /* 0: the bridge's */
};

struct kl_domain_config {
	char *name;
	char *kernel;
	char *ramdisk; /* NULL: none */
	char *cmdline; /* composed from root= and extra= when absent; never NULL
			*/
	uint64_t memory_mib;
	uint64_t maxmem_mib; /* >= memory_mib */
	unsigned vcpus;	     /* online at boot */
	unsigned maxvcpus;   /* >= vcpus */
	/*
	 * NULL without cpus=; else maxvcpus maps, one per vCPU: the same map
	 * for a "0-3,^1" string, one per list element for ["2", "3-5"]
	 * (vCPUs past the list's end may run anywhere: all bits set).
	 */
	struct kl_cpumap *affinity;
	unsigned cpu_weight;
	unsigned cap; /* percent of one physical CPU; 0: no cap */
	enum kl_action on_poweroff, on_reboot, on_crash;
	struct kl_disk *disks;
	size_t nr_disks;
	struct kl_vif *vifs;
	size_t nr_vifs;
};

struct kl_cfg_result {
	struct kl_domain_config cfg; /* meaningful only after a 0 return */
	struct kl_diag *diags;	     /* warnings, then at most one error */
	size_t nr_diags;
};

/*
 * Parses len bytes of xl.cfg text named file in messages, then each
 * override ("KEY=VALUE", in the same syntax). Returns 0, -EINVAL with an
 * error in out->diags, or -ENOMEM. Call kl_cfg_result_free() in every case.
 */
int kl_cfg_parse(const char *file, const char *text, size_t len,
		 const char *const *overrides, size_t nr_overrides,
		 struct kl_cfg_result *out);

/* Reads path and parses it as kl_cfg_parse() does; -errno if unreadable
 * (also described in out->diags). */
int kl_cfg_load(const char *path, const char *const *overrides,
		size_t nr_overrides, struct kl_cfg_result *out);

void kl_cfg_result_free(struct kl_cfg_result *out);

/* The error diag of a failed parse, or NULL. */
const struct kl_diag *kl_cfg_error(const struct kl_cfg_result *out);

/* Parses a cpus= list such as "0-3,^1", "all" or "5" into map:
 * 0 or -EINVAL (*bad set to the offending offset in s). */
int kl_cpumap_parse(const char *s, struct kl_cpumap *map, size_t *bad);

static inline bool kl_cpumap_test(const struct kl_cpumap *m, unsigned cpu)
{
	return cpu < KL_MAX_PCPUS && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

const char *kl_action_name(enum kl_action a);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * `kl info`: Keel's struct keel_platform_info (include/public/keel.h, as
 * keel.ko's KEEL_IOCTL_PLATFORM_INFO returns it) printed the way `xl info`
 * prints, or as one JSON object for scripts.
 */
#ifndef KL_PLATFORM_INFO_H
#define KL_PLATFORM_INFO_H

#include <stdio.h>

#include <public/keel.h>

/*
 * "key : value" lines, memory in MiB as xl prints it; `host` is Dom0's
 * host name.
 */
void kl_info_print_text(FILE *out, const char *host,
			const struct keel_platform_info *info);
/*
 * One JSON object on one line: host, keel_version ("MAJOR.MINOR"),
 * nr_cpus, scheduler, tsc_khz, total_memory_bytes, free_memory_bytes,
 * nr_domains. Strings are escaped.
 */
void kl_info_print_json(FILE *out, const char *host,
			const struct keel_platform_info *info);

#endif

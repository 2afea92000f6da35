/* SPDX-License-Identifier: MIT */
#ifndef KEEL_BOOT_DOMAINS_H
#define KEEL_BOOT_DOMAINS_H

#include <keel/bootinfo.h>

/* Starts every domu= domain of Keel's command line (after Dom0). */
void boot_domains_create(const struct boot_info *bi);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * What `kl list`, `vcpu-list` and the commands that name a domain share:
 * finding a domain by name or domid, and printing Keel's
 * struct keel_domain_info the way `xl list` does, or as JSON.
 */
#ifndef KL_DOMAINS_H
#define KL_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <public/keel.h>

/* "building", "running", "paused", "shutdown", "crashed" or "unknown". */
const char *kl_domain_state_name(uint32_t state);
/* xl's six-letter state column: r (running), b (being built), p (paused),
 * s (shut down), c (crashed); kl(1) names them. */
void kl_domain_state_letters(const struct keel_domain_info *d, char out[7]);
/* "poweroff", "reboot" or "" (none). */
const char *kl_shutdown_reason_name(uint32_t reason);

/*
 * The index in doms[0..nr) of the domain `arg` names: a domid when arg
 * is all digits and such a domain exists, else a name. -1 if none.
 */
long kl_domain_find(const struct keel_domain_info *doms, size_t nr,
		    const char *arg);

/* `xl list`: Name, ID, Mem (MiB), VCPUs, State, Time(s); long adds
 * the scheduler weight and cap and Keel's page-table memory. */
void kl_list_print_text(FILE *out, const struct keel_domain_info *doms,
			size_t nr, bool long_format);
/* One JSON array on one line, one object per domain. */
void kl_list_print_json(FILE *out, const struct keel_domain_info *doms,
			size_t nr);

/* `xl vcpu-list`'s line for one vCPU (the header first if header). */
void kl_vcpu_print(FILE *out, const struct keel_domain_info *d,
		   const struct keel_vcpu_info *v, bool header);
const char *kl_vcpu_state_name(uint32_t state);

/* Writes s as a JSON string (quoted, escaped). */
void kl_json_string(FILE *out, const char *s);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The toolstack's xl.cfg parser (toolstack/cfgfile.c, xlcfg.c, devspec.c,
 * cpumap.c): `kl create` reads a file a user wrote and KEY=VALUE
 * overrides from its command line.
 *
 * Input: the file's text, then overrides, separated by NUL bytes (the
 * first chunk is the file). Each chunk is handed over in a heap block of
 * exactly its length (the file is not NUL-terminated, as kl_cfg_parse
 * takes a length). LeakSanitizer checks kl_cfg_result_free frees all.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>

#include <kl/xlcfg.h>

FUZZ_SHIM_INIT()

#define MAX_OVERRIDES 8

static void check_config(const struct kl_domain_config *c)
{
	FUZZ_CHECK(c->name && c->kernel && c->cmdline);
	FUZZ_CHECK(c->memory_mib >= KL_MIN_MEMORY_MIB &&
		   c->memory_mib <= KL_MAX_MEMORY_MIB);
	FUZZ_CHECK(c->maxmem_mib >= c->memory_mib &&
		   c->maxmem_mib <= KL_MAX_MEMORY_MIB);
	FUZZ_CHECK(c->vcpus >= 1 && c->vcpus <= c->maxvcpus &&
		   c->maxvcpus <= KL_MAX_VCPUS);
	FUZZ_CHECK(c->cpu_weight <= KL_MAX_CPU_WEIGHT && c->cap <= KL_MAX_CAP);
	for (size_t i = 0; i < c->nr_disks; i++)
		FUZZ_CHECK(c->disks[i].target && c->disks[i].vdev);
	for (size_t i = 0; i < c->nr_vifs; i++) {
		FUZZ_CHECK(c->vifs[i].bridge);
		FUZZ_CHECK(!c->vifs[i].vifname ||
			   strlen(c->vifs[i].vifname) <= KL_MAX_IFNAME);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *chunks[1 + MAX_OVERRIDES];
	size_t lens[1 + MAX_OVERRIDES], n = 0, errors = 0;
	const uint8_t *p = data, *end = data + size;
	struct kl_cfg_result res;
	int rc;

	while (n < 1 + MAX_OVERRIDES) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));
		size_t len = (size_t)((nul ? nul : end) - p);

		/* Overrides are C strings; the file is a counted buffer. */
		chunks[n] = malloc(len + (n ? 1 : 0) + (len || n ? 0 : 1));
		FUZZ_CHECK(chunks[n]);
		memcpy(chunks[n], p, len);
		if (n)
			chunks[n][len] = '\0';
		lens[n++] = len;
		if (!nul)
			break;
		p = nul + 1;
	}

	memset(&res, 0, sizeof(res));
	rc = kl_cfg_parse("fuzz.cfg", chunks[0], lens[0],
			  (const char *const *)chunks + 1, n - 1, &res);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
	for (size_t i = 0; i < res.nr_diags; i++) {
		const struct kl_diag *d = &res.diags[i];

		FUZZ_CHECK(d->file && d->message && d->text);
		errors += d->level == KL_DIAG_ERROR;
	}
	if (rc == 0) {
		FUZZ_CHECK(errors == 0 && kl_cfg_error(&res) == NULL);
		check_config(&res.cfg);
	} else if (rc == -EINVAL) {
		FUZZ_CHECK(errors == 1 && kl_cfg_error(&res) != NULL);
	}
	kl_cfg_result_free(&res);
	for (size_t i = 0; i < n; i++)
		free(chunks[i]);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Multiboot2 boot information (Multiboot2 spec §3.6). The tags come from
 * the boot loader, so every size is checked against the total size.
 */
#include <keel/bootinfo.h>
#include <keel/errno.h>

#define MB2_TAG_END	 0
#define MB2_TAG_CMDLINE	 1
#define MB2_TAG_MODULE	 3
#define MB2_TAG_MMAP	 6
#define MB2_TAG_EFI64	 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15

struct mb2_tag {
	uint32_t type, size;
};

struct mb2_mmap_entry {
	uint64_t addr, len;
	uint32_t type, reserved;
};

static void copy_str(char *dst, const char *src, size_t max_src, size_t size)
{
	size_t n = strnlen(src, max_src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int mb2_parse(const void *mbi, struct boot_info *bi)
{
	const uint8_t *base = mbi;
	uint32_t total = *(const uint32_t *)mbi;
	uint32_t off = 8;

	memset(bi, 0, sizeof(*bi));
	if (total < 16 || total > MiB(16))
		return -EINVAL;
	while (off + sizeof(struct mb2_tag) <= total) {
		const struct mb2_tag *tag = (const void *)(base + off);
		const uint8_t *body = (const uint8_t *)(tag + 1);
		uint32_t body_len;

		if (tag->size < sizeof(*tag) || tag->size > total - off)
			return -EINVAL;
		body_len = tag->size - sizeof(*tag);
		switch (tag->type) {
		case MB2_TAG_END:
			return 0;
		case MB2_TAG_CMDLINE:
			copy_str(bi->cmdline, (const char *)body, body_len,
				 sizeof(bi->cmdline));
			break;
		case MB2_TAG_MODULE: {
			const uint32_t *m = (const uint32_t *)body;
			struct boot_module *mod;

			if (body_len < 8 || bi->nr_modules == BOOT_MAX_MODULES)
				break;
			mod = &bi->modules[bi->nr_modules++];
			mod->start = m[0];
			mod->end = m[1];
			if (mod->end < mod->start)
				return -EINVAL;
			copy_str(mod->cmdline, (const char *)(m + 2),
				 body_len - 8, sizeof(mod->cmdline));
			break;
		}
		case MB2_TAG_MMAP: {
			uint32_t esize;

			if (body_len < 8)
				return -EINVAL;
			esize = ((const uint32_t *)body)[0];
			if (esize < sizeof(struct mb2_mmap_entry))
				return -EINVAL;
			for (uint32_t p = 8;
			     p <= body_len && esize <= body_len - p;
			     p += esize) {
				struct mb2_mmap_entry e;

				if (bi->nr_mmap == BOOT_MAX_MMAP)
					break;
				/* An esize not a multiple of 8 misaligns e. */
				memcpy(&e, body + p, sizeof(e));
				bi->mmap[bi->nr_mmap++] =
				    (struct boot_mem_region){e.addr, e.len,
							     e.type};
			}
			break;
		}
		case MB2_TAG_EFI64:
			bi->efi = true;
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			/* Prefer the ACPI 2.0+ copy (XSDT) when both exist. */
			if (bi->has_rsdp && tag->type == MB2_TAG_ACPI_OLD)
				break;
			memset(bi->rsdp, 0, sizeof(bi->rsdp));
			memcpy(bi->rsdp, body, MIN(body_len, sizeof(bi->rsdp)));
			bi->has_rsdp = true;
			break;
		}
		off += ALIGN_UP(tag->size, 8);
	}
	return -EINVAL; /* no end tag */
}

/* SPDX-License-Identifier: MIT */
/* bzImage parsing for the Linux 64-bit boot protocol. */
#include <keel/errno.h>
#include <keel/linux_boot.h>

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

int bzimage_parse(const uint8_t *img, uint64_t len, struct bzimage_info *bz)
{
	unsigned sects;

	memset(bz, 0, sizeof(*bz));
	if (len < BP_INIT_SIZE + 4 ||
	    rd16(img + BP_BOOT_FLAG) != BOOT_FLAG_MAGIC ||
	    rd32(img + BP_HEADER) != HDRS_MAGIC)
		return -ENOEXEC;
	bz->version = rd16(img + BP_VERSION);
	/* 2.12 brought xloadflags, which announces the 64-bit entry. */
	if (bz->version < 0x020C ||
	    !(rd16(img + BP_XLOADFLAGS) & XLF_KERNEL_64))
		return -ENOEXEC;
	sects = img[BP_SETUP_SECTS] ? img[BP_SETUP_SECTS] : 4;
	bz->setup_size = (sects + 1) * 512;
	if (bz->setup_size >= len)
		return -EINVAL;
	/* syssize counts 16-byte units; signed kernels carry a trailer. */
	if (len - bz->setup_size < (uint64_t)rd32(img + BP_SYSSIZE) * 16)
		return -EINVAL;
	bz->payload = img + bz->setup_size;
	bz->payload_size = len - bz->setup_size;
	bz->relocatable = img[BP_RELOCATABLE];
	bz->alignment = rd32(img + BP_KERNEL_ALIGNMENT);
	bz->pref_address = rd64(img + BP_PREF_ADDRESS);
	bz->init_size = rd32(img + BP_INIT_SIZE);
	bz->cmdline_max = rd32(img + BP_CMDLINE_SIZE);
	bz->initrd_addr_max = rd32(img + BP_INITRD_ADDR_MAX);
	bz->initrd_above_4g =
	    rd16(img + BP_XLOADFLAGS) & XLF_CAN_BE_LOADED_ABOVE_4G;
	if (bz->alignment == 0 || (bz->alignment & (bz->alignment - 1)) ||
	    bz->init_size < bz->payload_size || bz->pref_address == 0)
		return -EINVAL;
	if (bz->cmdline_max == 0)
		bz->cmdline_max = 255;
	return 0;
}

void bzimage_setup_boot_params(const uint8_t *img, uint8_t *bp)
{
	/* The header ends at 0x202 + the byte at 0x201 (boot.rst). */
	unsigned end = BP_HEADER + img[BP_JUMP + 1];

	memset(bp, 0, BP_SIZE);
	memcpy(bp + BP_SETUP_SECTS, img + BP_SETUP_SECTS, end - BP_SETUP_SECTS);
}

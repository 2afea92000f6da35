/* SPDX-License-Identifier: MIT */
/*
 * A DomU's memory image, written by `kl create` into the guest RAM it
 * donates (a memfd mapping): kernel, initramfs, command line, zero page,
 * ACPI tables, and the GDT and page tables the 64-bit boot protocol
 * wants (Linux Documentation/arch/x86/boot.rst), plus the state vCPU 0
 * starts in. The same layout Keel's own loader gives boot-time domains
 * (hypervisor/arch/x86/guest/linux_loader.c).
 *
 * Guest RAM is one buffer: its first kl_domu_low_bytes() bytes are
 * guest-physical 0 onwards (the hole below 1 MiB included: its bytes are
 * the guest's, the e820 just does not offer them as RAM), the rest is
 * guest-physical KL_DOMU_4G onwards.
 */
#ifndef KL_DOMU_IMAGE_H
#define KL_DOMU_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include <kl/domu_boot.h>
#include <public/keel.h>

/* The ACPI tables' window in the hole below 1 MiB (the BIOS area). */
#define KL_DOMU_ACPI_GPA  0xE0000ULL
#define KL_DOMU_ACPI_SIZE 0x20000ULL

/*
 * The DomU's power button: an edge on this pin of its IOAPIC presses it
 * (`kl shutdown`). The ISA range's SCI line by habit; COM1 has 4.
 */
#define KL_DOMU_POWER_BUTTON_GSI 9

/* The boot GDT's selectors (boot.rst: __BOOT_CS and __BOOT_DS). */
#define KL_DOMU_BOOT_CS 0x10
#define KL_DOMU_BOOT_DS 0x18

struct kl_domu_image_in {
	const uint8_t *kernel; /* the whole bzImage */
	uint64_t kernel_len;
	const uint8_t *initrd; /* NULL: none */
	uint64_t initrd_len;
	const char *cmdline;
	uint64_t ram_bytes; /* page multiple, at least 2 MiB */
	uint32_t nr_vcpus;
};

struct kl_domu_image {
	struct kl_domu_boot_plan plan; /* where everything went */
	uint64_t acpi_gpa, acpi_size;  /* ACPI reclaimable in the e820 */
	uint64_t rsdp_gpa;
	struct keel_vcpu_boot_state boot; /* vCPU 0 */
};

/*
 * The kernel command line a DomU gets: the configured one, plus
 * "reboot=acpi" unless it has its own reboot= option. On a
 * hardware-reduced ACPI platform Linux (arch/x86/kernel/reboot.c,
 * reboot_init()) otherwise reboots through EFI, which a DomU lacks, and
 * falls through to jumping into a BIOS that is not there; the FADT's
 * reset register on Keel's port is what works. malloc'd, NULL without
 * memory.
 */
char *kl_domu_cmdline(const char *configured);

/* Bytes of guest RAM below the MMIO hole (mapped from guest-physical 0). */
uint64_t kl_domu_low_bytes(uint64_t ram_bytes);

/*
 * Checks that in describes a bootable DomU without touching any memory:
 * 0, -ENOEXEC (not a 64-bit bzImage), -EINVAL (malformed, or bad sizes),
 * -E2BIG (command line too long), -ENOSPC (kernel or initramfs does not
 * fit in the RAM).
 */
int kl_domu_image_check(const struct kl_domu_image_in *in);

/*
 * Writes the image into ram (in->ram_bytes bytes, zeroed by the caller)
 * and fills out. Same errors as kl_domu_image_check().
 */
int kl_domu_image_build(const struct kl_domu_image_in *in, uint8_t *ram,
			struct kl_domu_image *out);

#endif

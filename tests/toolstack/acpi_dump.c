/* SPDX-License-Identifier: MIT */
/*
 * kl-acpi-dump OUTDIR [VCPUS [VIRTIO]]: builds a DomU's ACPI tables with
 * kl_acpi_domu_build() and writes each to OUTDIR/<signature>.dat, the
 * form `iasl -d` disassembles (tests/toolstack/test_acpi_iasl.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kl/acpi_domu.h>

#define BASE_GPA 0xE0000ULL
#define BUF_SIZE (256 * 1024)

static int write_table(const char *dir, const char *name, const void *p,
		       size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, len, f) != len || fclose(f)) {
		perror(path);
		return 1;
	}
	return 0;
}

static uint32_t table_len(const uint8_t *t)
{
	uint32_t len;

	memcpy(&len, t + 4, 4);
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t buf[BUF_SIZE];
	struct kl_acpi_virtio virtio[KL_ACPI_MAX_VIRTIO];
	struct kl_acpi_domu p = {
	    .nr_vcpus = 2,
	    .ioapic_id = 0,
	    .ioapic_addr = KL_ACPI_IOAPIC_ADDR,
	    .ioapic_gsi_base = 0,
	    .ioapic_pins = 24,
	    .reset_port = 0x600,
	    .reset_value = 0x01,
	    .sleep_control_port = 0x604,
	    .sleep_status_port = 0x605,
	    .com1 = true,
	    .power_button = true,
	    .power_button_gsi = 23, /* clear of the windows' 5.. below */
	    .virtio = virtio,
	    .nr_virtio = 2,
	};
	struct kl_acpi_layout l;
	int rc;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: %s OUTDIR [VCPUS [VIRTIO]]\n", argv[0]);
		return 2;
	}
	if (argc > 2)
		p.nr_vcpus = (uint32_t)strtoul(argv[2], NULL, 0);
	if (argc > 3)
		p.nr_virtio = strtoul(argv[3], NULL, 0);
	p.max_vcpus = p.nr_vcpus;
	/* Windows 4 KiB apart below the IOAPIC, on GSIs 5, 6, ... 23. */
	for (size_t i = 0; i < p.nr_virtio && i < KL_ACPI_MAX_VIRTIO; i++) {
		virtio[i].base = 0xFEB00000ULL + i * 0x1000;
		virtio[i].size = 0x200;
		virtio[i].gsi = 5 + (uint32_t)(i % 19);
		virtio[i].edge = i % 2;
	}
	rc = kl_acpi_domu_build(&p, buf, sizeof(buf), BASE_GPA, &l);
	if (rc) {
		fprintf(stderr, "kl_acpi_domu_build: %s\n", strerror(-rc));
		return 1;
	}
	printf("rsdp 0x%llx size %zu\n", (unsigned long long)l.rsdp_gpa,
	       l.size);
	return write_table(argv[1], "rsdp", buf + l.rsdp, 36) |
	       write_table(argv[1], "xsdt", buf + l.xsdt,
			   table_len(buf + l.xsdt)) |
	       write_table(argv[1], "facp", buf + l.fadt,
			   table_len(buf + l.fadt)) |
	       write_table(argv[1], "apic", buf + l.madt,
			   table_len(buf + l.madt)) |
	       write_table(argv[1], "dsdt", buf + l.dsdt,
			   table_len(buf + l.dsdt));
}

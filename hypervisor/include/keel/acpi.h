/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables: the layouts Keel reads (ACPI 6.5 chapter 5.2), the parser
 * (drivers/acpi.c) and the builder of Dom0's root tables
 * (arch/x86/guest/acpi_dom0.c). Firmware tables can be broken: every length
 * and checksum is checked before a table is used.
 */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <keel/lib.h>

/* Longest table believed; anything longer is a corrupt length field. */
#define ACPI_MAX_TABLE_LEN MiB(16)

/* 5.2.5.3 Root System Description Pointer. */
#define ACPI_RSDP_SIGNATURE "RSD PTR "
#define ACPI_RSDP_V1_LEN    20 /* revision 0: up to rsdt_address */
struct acpi_rsdp {
	char signature[8];
	uint8_t checksum; /* over the first 20 bytes */
	char oem_id[6];
	uint8_t revision; /* 0: ACPI 1.0, 2: ACPI 2.0 and later */
	uint32_t rsdt_address;
	uint32_t length; /* revision >= 2 from here on */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* over length bytes */
	uint8_t reserved[3];
} __packed;

/* 5.2.6 System Description Table Header. */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length; /* whole table, header included */
	uint8_t revision;
	uint8_t checksum; /* all length bytes sum to 0 */
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/* 5.2.3.2 Generic Address Structure. */
#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO     1
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} __packed;

/* 5.2.12 Multiple APIC Description Table. */
#define ACPI_MADT_PCAT_COMPAT BIT(0)
struct acpi_madt {
	struct acpi_sdt_header hdr;
	uint32_t lapic_address;
	uint32_t flags;
	/* followed by subtables, each starting with struct acpi_madt_entry */
} __packed;

#define ACPI_MADT_LAPIC		 0
#define ACPI_MADT_IOAPIC	 1
#define ACPI_MADT_OVERRIDE	 2
#define ACPI_MADT_NMI_SOURCE	 3
#define ACPI_MADT_LAPIC_NMI	 4
#define ACPI_MADT_LAPIC_OVERRIDE 5
#define ACPI_MADT_X2APIC	 9
#define ACPI_MADT_X2APIC_NMI	 0xa

/* Local APIC flags (table 5.23). */
#define ACPI_MADT_ENABLED	 BIT(0)
#define ACPI_MADT_ONLINE_CAPABLE BIT(1)

struct acpi_madt_entry {
	uint8_t type;
	uint8_t length;
} __packed;

struct acpi_madt_lapic { /* 5.2.12.2 */
	struct acpi_madt_entry e;
	uint8_t processor_uid;
	uint8_t apic_id;
	uint32_t flags;
} __packed;

struct acpi_madt_ioapic { /* 5.2.12.3 */
	struct acpi_madt_entry e;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} __packed;

struct acpi_madt_override { /* 5.2.12.5 */
	struct acpi_madt_entry e;
	uint8_t bus; /* 0: ISA */
	uint8_t source_irq;
	uint32_t gsi;
	uint16_t flags; /* MPS INTI flags: polarity, trigger mode */
} __packed;

struct acpi_madt_nmi_source { /* 5.2.12.6 */
	struct acpi_madt_entry e;
	uint16_t flags;
	uint32_t gsi;
} __packed;

struct acpi_madt_lapic_nmi { /* 5.2.12.7 */
	struct acpi_madt_entry e;
	uint8_t processor_uid; /* 0xff: all processors */
	uint16_t flags;
	uint8_t lint;
} __packed;

struct acpi_madt_lapic_override { /* 5.2.12.8 */
	struct acpi_madt_entry e;
	uint16_t reserved;
	uint64_t address;
} __packed;

struct acpi_madt_x2apic { /* 5.2.12.12 */
	struct acpi_madt_entry e;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t processor_uid;
} __packed;

struct acpi_madt_x2apic_nmi { /* 5.2.12.13 */
	struct acpi_madt_entry e;
	uint16_t flags;
	uint32_t processor_uid; /* 0xffffffff: all processors */
	uint8_t lint;
	uint8_t reserved[3];
} __packed;

/* 5.2.9 Fixed ACPI Description Table (signature "FACP"). */
#define ACPI_FADT_TMR_VAL_EXT	  BIT(8)  /* PM timer is 32 bits wide */
#define ACPI_FADT_HW_REDUCED_ACPI BIT(20) /* no fixed hardware, no PM timer */
#define ACPI_FADT_V1_LEN	  116	  /* ACPI 1.0: up to flags */
struct acpi_fadt {
	struct acpi_sdt_header hdr;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable;
	uint8_t acpi_disable;
	uint8_t s4bios_req;
	uint8_t pstate_cnt;
	uint32_t pm1a_evt_blk;
	uint32_t pm1b_evt_blk;
	uint32_t pm1a_cnt_blk;
	uint32_t pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk;
	uint32_t gpe1_blk;
	uint8_t pm1_evt_len;
	uint8_t pm1_cnt_len;
	uint8_t pm2_cnt_len;
	uint8_t pm_tmr_len;
	uint8_t gpe0_blk_len;
	uint8_t gpe1_blk_len;
	uint8_t gpe1_base;
	uint8_t cst_cnt;
	uint16_t p_lvl2_lat;
	uint16_t p_lvl3_lat;
	uint16_t flush_size;
	uint16_t flush_stride;
	uint8_t duty_offset;
	uint8_t duty_width;
	uint8_t day_alrm;
	uint8_t mon_alrm;
	uint8_t century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk;
	struct acpi_gas x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk;
	struct acpi_gas x_gpe1_blk;
	struct acpi_gas sleep_control_reg;
	struct acpi_gas sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} __packed;

/* IA-PC HPET specification 1.0a, 3.2.4 "The ACPI 2.0 HPET Description
 * Table". */
struct acpi_hpet {
	struct acpi_sdt_header hdr;
	uint32_t event_timer_block_id;
	struct acpi_gas base_address;
	uint8_t hpet_number;
	uint16_t min_clock_tick;
	uint8_t page_protection;
} __packed;

/* Sum of len bytes modulo 256: 0 for a table with a valid checksum. */
uint8_t acpi_checksum(const void *p, size_t len);

/*
 * Finds the root table (XSDT, or the RSDT when there is no valid XSDT)
 * from the RSDP at rsdp_pa and validates both. 0, or -EINVAL for a broken
 * RSDP or root table. Replaces any earlier acpi_init().
 */
int acpi_init(uint64_t rsdp_pa);

/* The RSDP given to a successful acpi_init(), else 0. */
uint64_t acpi_rsdp_pa(void);

/* Number of entries in the root table. */
unsigned acpi_nr_tables(void);

/*
 * Entry index of the root table: its physical address and, if it passes
 * the length and checksum checks, its header. 0, -ENOENT past the end,
 * -EINVAL for a broken table (*pa still set).
 */
int acpi_table_entry(unsigned index, uint64_t *pa,
		     const struct acpi_sdt_header **table);

/* The instance-th valid table with that signature, or NULL. */
const struct acpi_sdt_header *acpi_find_table(const char sig[4],
					      unsigned instance);

/*
 * Checks a MADT's fixed part and that its subtables tile it exactly, each
 * at least as long as its type's structure: 0 or -EINVAL. After this,
 * walking the subtables by their length fields is safe.
 */
int acpi_madt_validate(const struct acpi_sdt_header *madt);

struct acpi_madt_info {
	uint32_t nr_cpus; /* enabled local (x2)APICs, duplicates dropped */
	uint32_t apic_ids[256];
	uint64_t lapic_pa;
	uint32_t nr_ioapics;
	struct {
		uint8_t id;
		uint64_t pa;
		uint32_t gsi_base;
	} ioapic[8];
	uint32_t nr_overrides;
	struct {
		uint8_t bus_irq;
		uint32_t gsi;
		uint16_t flags;
	} overrides[16];
};

/* 0, -ENOENT without a valid MADT, -EINVAL for a malformed one. */
int acpi_parse_madt(struct acpi_madt_info *out);

struct acpi_pm_timer {
	uint16_t port; /* 0 if absent (or not in I/O space) */
	bool ext32;    /* 32-bit counter, else 24-bit */
};
/* 0 (port may be 0), or -ENOENT without a valid FADT. */
int acpi_pm_timer(struct acpi_pm_timer *out);

/*
 * Physical address of the first HPET's registers: 0, -ENOENT without an
 * HPET table, -EINVAL if it is short or not in memory space.
 */
int acpi_hpet(uint64_t *base_pa);

/* Most vCPUs acpi_build_dom0() describes. */
#define ACPI_DOM0_MAX_VCPUS 4096

/* Keel's notification line to Dom0 (keel/notify.h), as ACPI shows it. */
struct acpi_notify_line {
	uint64_t ioapic_pa; /* a vIOAPIC of its own, below 4 GiB */
	uint32_t gsi;	    /* that vIOAPIC's pin 0 */
	uint8_t ioapic_id;
};

/*
 * Builds Dom0's ACPI root tables in buf, which Dom0 will see at guest-
 * physical buf_gpa (16-byte aligned; the caller reserves that range as
 * E820_ACPI in Dom0's map): an RSDP (revision 2), an XSDT listing every
 * valid firmware table except the MADT and the IOMMU tables (DMAR, IVRS,
 * VIOT), and a new MADT. The MADT lists nr_vcpus enabled CPUs with APIC
 * IDs and processor UIDs 0..nr_vcpus-1 (x2APIC entries for IDs above 254),
 * plus the firmware's IOAPIC, interrupt source override, NMI and LAPIC
 * address override entries unchanged. With a notification line, the MADT
 * also lists its IOAPIC and an SSDT declares \_SB.KEEL (KEEL_ACPI_HID in
 * public/keel.h) with the line's GSI as an edge, active-high interrupt. Returns
 * the bytes used, -ENOENT without acpi_init() or a valid MADT, -EINVAL for a
 * malformed MADT or bad arguments, -ENOSPC if buf is too small.
 */
int acpi_build_dom0(void *buf, size_t buf_size, uint64_t buf_gpa,
		    uint32_t nr_vcpus, const struct acpi_notify_line *notify,
		    uint64_t *rsdp_gpa_out);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * kvmclock: the pvclock_vcpu_time_info page a guest registers with
 * MSR_KVM_SYSTEM_TIME_NEW (Linux Documentation/virt/kvm/x86/msr.rst).
 * Guest time = system_time + ((tsc - tsc_timestamp) << shift) * mul >> 32.
 */
#include <keel/domain.h>
#include <keel/hvm_exit.h>
#include <keel/io.h>
#include <keel/irq.h>

#define PVCLOCK_TSC_STABLE (1u << 0)

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __packed;

static uint64_t boot_wallclock;

/* Picks shift so the 32.32 multiplier stays below 2^32. */
static void time_scale(uint64_t tsc_hz, uint32_t *mul, int8_t *shift)
{
	uint64_t hz = tsc_hz;
	int s = 0;

	while (hz <= 1000000000ULL) {
		hz <<= 1;
		s++;
	}
	*mul = (uint32_t)((1000000000ULL << 32) / hz);
	*shift = (int8_t)s;
}

void pvclock_update(struct vcpu *v)
{
	struct pvclock_vcpu_time_info ti = {0};
	uint64_t gpa = v->kvmclock_msr & ~1ULL;
	uint64_t tsc;
	uint32_t mul;
	int8_t shift;

	if (!(v->kvmclock_msr & 1))
		return;
	tsc = rdtsc();
	ti.version = 2;
	ti.tsc_timestamp = tsc + v->tsc_offset;
	ti.system_time = now_ns();
	time_scale(tsc_khz() * 1000, &mul, &shift);
	ti.tsc_to_system_mul = mul;
	ti.tsc_shift = shift;
	ti.flags = PVCLOCK_TSC_STABLE;
	if (guest_phys_write(v->dom, gpa, &ti, sizeof(ti)))
		domain_crash(v->dom, v, "kvmclock page %lx is not guest RAM",
			     gpa);
}

/* CMOS RTC at boot (MC146818), so kvmclock's wall clock is real time. */
static uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static unsigned bcd(uint8_t v, bool is_bcd)
{
	return is_bcd ? (v & 0xF) + (v >> 4) * 10 : v;
}

uint64_t pvclock_wallclock_sec(void)
{
	static const uint16_t mdays[] = {0,   31,  59,	90,  120, 151,
					 181, 212, 243, 273, 304, 334};
	unsigned sec, min, hour, day, mon, year;
	bool is_bcd;
	uint64_t days;

	if (boot_wallclock)
		return boot_wallclock;
	while (cmos_read(0x0A) & 0x80) /* update in progress */
		cpu_relax();
	is_bcd = !(cmos_read(0x0B) & 0x04);
	sec = bcd(cmos_read(0x00), is_bcd);
	min = bcd(cmos_read(0x02), is_bcd);
	hour = bcd(cmos_read(0x04) & 0x7F, is_bcd);
	day = bcd(cmos_read(0x07), is_bcd);
	mon = bcd(cmos_read(0x08), is_bcd);
	year = bcd(cmos_read(0x09), is_bcd) + 2000;
	if (mon < 1 || mon > 12 || day < 1 || day > 31)
		return 0;
	days = (year - 1970) * 365ULL + (year - 1969) / 4 + mdays[mon - 1] +
	       day - 1;
	if (mon > 2 && year % 4 == 0)
		days++;
	/* Seconds since the epoch at Keel's boot (now_ns() counts from it). */
	boot_wallclock = days * 86400 + hour * 3600 + min * 60 + sec -
			 now_ns() / 1000000000ULL;
	return boot_wallclock;
}

/* SPDX-License-Identifier: MIT */
/*
 * KVM paravirtual clock ("kvmclock") as Keel offers it: Linux
 * Documentation/virt/kvm/x86/msr.rst (MSR_KVM_SYSTEM_TIME_NEW,
 * MSR_KVM_WALL_CLOCK_NEW) and arch/x86/include/asm/pvclock-abi.h.
 */
#ifndef GUEST_PVCLOCK_H
#define GUEST_PVCLOCK_H

#include <stdint.h>

#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVM_SYSTEM_TIME_ENABLE	1

struct pvclock_vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct pvclock_wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI");

/* A consistent snapshot of the time info, taken under the version protocol
 * (an odd version means the hypervisor is updating the page). */
struct pvclock_snapshot {
	uint32_t version;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;
};

/* Returns 0 on success or -1 if the version never settled. */
int pvclock_snapshot(const volatile struct pvclock_vcpu_time_info *info,
		     struct pvclock_snapshot *out);
/* Nanoseconds for a TSC delta: (delta << shift) * mul >> 32. */
uint64_t pvclock_scale_delta(uint64_t delta, uint32_t mul, int8_t shift);
/* System time in ns at the given TSC value. */
uint64_t pvclock_ns_at(const struct pvclock_snapshot *s, uint64_t tsc);

#endif

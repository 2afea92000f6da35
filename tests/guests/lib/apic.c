/* SPDX-License-Identifier: MIT */
#include "apic.h"
#include "guest.h"

void apic_use_mode(enum apic_mode new_mode)
{
	this_cpu()->apic_mode = new_mode;
}

enum apic_mode apic_current_mode(void)
{
	return this_cpu()->apic_mode;
}

/* Plain 32-bit MOVs through a volatile pointer: this is what a hypervisor's
 * MMIO decoder has to handle. */
static volatile uint32_t *xapic_reg(unsigned int reg)
{
	return (volatile uint32_t *)(uintptr_t)(XAPIC_DEFAULT_BASE + reg);
}

uint32_t apic_read(unsigned int reg)
{
	if (apic_current_mode() == APIC_MODE_X2APIC)
		return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
	return *xapic_reg(reg);
}

void apic_write(unsigned int reg, uint32_t value)
{
	if (apic_current_mode() == APIC_MODE_X2APIC)
		wrmsr(X2APIC_MSR_BASE + (reg >> 4), value);
	else
		*xapic_reg(reg) = value;
}

uint32_t apic_id(void)
{
	uint32_t id = apic_read(APIC_ID);

	return apic_current_mode() == APIC_MODE_X2APIC ? id : id >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

void apic_software_enable(uint8_t spurious_vector)
{
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | spurious_vector);
}

uint32_t apic_enable_x2apic(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	uint32_t exinfo = wrmsr_safe(MSR_IA32_APIC_BASE,
				     base | APIC_BASE_EN | APIC_BASE_EXTD);

	if (!exinfo)
		apic_use_mode(APIC_MODE_X2APIC);
	return exinfo;
}

/* How long an xAPIC ICR may stay busy before the IPI is sent anyway. */
#define ICR_BUSY_POLL_LIMIT 1000000

void apic_send_ipi(uint32_t dest, uint32_t icr_low)
{
	if (apic_current_mode() == APIC_MODE_X2APIC) {
		/* ICR is one 64-bit MSR: destination in bits 63:32. */
		wrmsr(X2APIC_MSR_BASE + (APIC_ICR >> 4),
		      (uint64_t)dest << 32 | icr_low);
		return;
	}
	for (unsigned int i = 0; i < ICR_BUSY_POLL_LIMIT; i++) {
		if (!(apic_read(APIC_ICR) & APIC_ICR_BUSY))
			break;
		cpu_relax();
	}
	apic_write(APIC_ICR_HIGH, dest << 24);
	apic_write(APIC_ICR, icr_low);
}

/* SPDX-License-Identifier: MIT */
/*
 * What vintr.c and the devices it wires (vLAPIC, vIOAPIC, vUART) call in
 * the rest of Keel, for harnesses that build a vCPU's virtual platform:
 * no scheduler, console or physical interrupts behind them.
 */
#include <keel/console.h>
#include <keel/irq.h>
#include <keel/notify.h>
#include <keel/sched.h>

void dom0_notify(void)
{
}

uint64_t tsc_khz(void)
{
	return 2000000;
}

void vcpu_wake(struct vcpu *v)
{
	(void)v;
}

void vcpu_sleep(struct vcpu *v)
{
	(void)v;
}

void vcpu_init_signal(struct vcpu *v)
{
	(void)v;
}

void vcpu_startup_ipi(struct vcpu *v, uint8_t vector)
{
	(void)v;
	(void)vector;
}

void console_guest_putc(unsigned domid, char c)
{
	(void)domid;
	(void)c;
}

void console_guest_line(const char *name, const char *line, size_t len)
{
	(void)name;
	(void)line;
	(void)len;
}

void console_input_resume(struct domain *d)
{
	(void)d;
}

void gsi_guest_eoi(unsigned gsi)
{
	(void)gsi;
}

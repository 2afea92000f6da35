/* SPDX-License-Identifier: MIT */
/*
 * triple: causes a triple fault. With an IDT limit of 0, INT3 cannot be
 * delivered (#GP), nor can the #GP, nor the resulting #DF: the CPU shuts
 * down (Intel SDM vol. 3A §6.15, "Interrupt 8—Double Fault Exception").
 * Under Keel the domain must be stopped while Keel stays alive; the guest
 * never prints a result line of its own unless the fault did not happen.
 */
#include "guest.h"

const char test_name[] = "triple";

void test_main(void)
{
	printf("triple: faulting now\n");
	idt_load_empty();
	__asm__ volatile("int3");
	test_fail("execution continued after a triple fault");
}

/* SPDX-License-Identifier: MIT */
/*
 * hvmem: reads a physical address that belongs to the hypervisor (given as
 * addr=0x... on the command line; the harness passes Keel's load address).
 * Dom0 memory is identity-mapped except hypervisor memory (memmap.c,
 * dom0_build.c), so the read must end the domain in Keel's nested page fault
 * handler: the guest never sees it return.
 */
#include "guest.h"

const char test_name[] = "hvmem";

void test_main(void)
{
	uint64_t addr;

	if (!cmdline_u64("addr", &addr))
		test_fail("no addr=<physical address> on the command line");
	if (addr > 0xffffffffULL - sizeof(uint64_t))
		test_fail(
		    "addr=0x%lx is outside the guest's 4 GiB identity map",
		    addr);

	printf("hvmem: reading 0x%lx\n", addr);
	uint64_t value = *(const volatile uint64_t *)(uintptr_t)addr;
	test_fail("read returned 0x%lx", value);
}

/* SPDX-License-Identifier: MIT */
/* A violated Keel invariant stops every CPU with a clear message. */
#include <keel/lib.h>
#include <keel/io.h>
#include <keel/irq.h>
#include <keel/percpu.h>
#include <keel/traps.h>

static volatile bool panicking;

void smp_stop_others(void);

__noreturn void panic(const char *fmt, ...)
{
	va_list ap;
	uint64_t rbp;

	irq_disable();
	if (__atomic_exchange_n(&panicking, true, __ATOMIC_SEQ_CST))
		for (;;)
			__asm__ volatile("hlt");
	smp_stop_others();
	printk("\n****************************************\n");
	printk("Panic on cpu%u: ", this_cpu()->cpu);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	__asm__ volatile("mov %%rbp, %0" : "=r"(rbp));
	print_backtrace(rbp);
	printk("****************************************\n");
	printk("Keel halted.\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

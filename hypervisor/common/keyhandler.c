/* SPDX-License-Identifier: MIT */
/*
 * The serial console is shared like Xen's: input goes to Dom0's emulated
 * UART until Ctrl-A is pressed three times in a row, which switches it to
 * Keel's debug console (and back). Input arrives by the UART's receive
 * interrupt on the boot CPU.
 */
#include <keel/console.h>
#include <keel/domain.h>
#include <keel/irq.h>
#include <keel/mm.h>
#include <keel/notify.h>
#include <keel/percpu.h>
#include <keel/sched.h>
#include <keel/traps.h>

#define CTRL_A	       0x01
#define SWITCH_PRESSES 3

static bool keel_has_input;
static unsigned ctrl_a_run;
/*
 * The UART's receive interrupt is off while Dom0's receive FIFO is full;
 * Dom0 reading its UART turns it back on (console_input_resume()). Both
 * sides change it under Dom0's lock.
 */
static bool rx_throttled;

/* The letters follow Xen's where both have the key. */
static void show_help(void)
{
	printk("Keel debug console keys (Ctrl-A x3 returns input to Dom0):\n");
	printk("  h  this help\n");
	printk("  q  domains, vCPU state, exit counters and Keel's time per "
	       "exit reason\n");
	printk("  d  registers of every vCPU, as of its last exit\n");
	printk("  m  memory usage\n");
	printk("  t  time, timer and interrupt statistics\n");
	printk("  r  run queues: per-CPU vCPUs, runtime, weight\n");
}

static const char *const vcpu_state_names[] = {
    [VCPU_DOWN] = "down",
    [VCPU_RUNNABLE] = "runnable",
    [VCPU_BLOCKED] = "blocked",
    [VCPU_STOPPED] = "stopped",
};

/* The names `kl list` shows for the same states (public/keel.h). */
static const char *const dom_state_names[] = {
    [DOM_BUILDING] = "building", [DOM_RUNNING] = "running",
    [DOM_PAUSED] = "paused",	 [DOM_SHUTDOWN] = "shutdown",
    [DOM_CRASHED] = "crashed",
};

/*
 * The debug keys run in a pass of a CPU's vCPU loop, so they read
 * domains[] without domlist_lock: a destroyed domain is freed only after
 * every CPU began a new pass (domain_destroy()).
 */
static void show_domains(void)
{
	for (unsigned i = 0; i < MAX_DOMAINS; i++) {
		struct domain *d = domains[i];

		if (!d)
			continue;
		printk("d%u '%s': %s%s, %lu MiB RAM, %u vCPUs, p2m %lu pages\n",
		       d->id, d->name, dom_state_names[d->state],
		       d->privileged ? ", privileged" : "", d->ram_bytes >> 20,
		       d->nr_vcpus, d->p2m_pages);
		if (d->state == DOM_CRASHED)
			printk("  crashed: %s\n", d->crash_reason);
		if (d->state == DOM_SHUTDOWN)
			printk("  shut down: %s\n",
			       d->shutdown_reason == KEEL_SHUTDOWN_REBOOT
				   ? "reboot"
				   : "poweroff");
		for (unsigned j = 0; j < d->nr_vcpus; j++) {
			struct vcpu *v = d->vcpus[j];
			struct guest_state s;
			int vec = vlapic_pending_irq(&v->vlapic);

			hvm->get_state(v, &s);
			printk(
			    "  d%uv%u: %s on cpu%d, RIP %lx, runtime %lu ms, "
			    "pending vector %d\n",
			    d->id, v->id, vcpu_state_names[v->state], v->pcpu,
			    s.rip, v->runtime_ns / 1000000, vec);
			printk("    exits:");
			for (unsigned r = 0; r < EXIT_NR; r++)
				if (v->exits[r])
					printk(" %s=%lu", exit_reason_names[r],
					       v->exits[r]);
			printk("\n    keel time (kcycles):");
			for (unsigned r = 0; r < EXIT_NR; r++)
				if (v->exits[r])
					printk(" %s=%lu", exit_reason_names[r],
					       v->exit_cycles[r] / 1000);
			printk("\n");
		}
	}
}

static void show_registers(void)
{
	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		if (domains[i])
			for (unsigned j = 0; j < domains[i]->nr_vcpus; j++) {
				struct vcpu *v = domains[i]->vcpus[j];

				vcpu_dump_registers(v);
				vlapic_dump(&v->vlapic);
				hvm->dump_events(v);
			}
}

static void show_memory(void)
{
	uint64_t total = frames_total_pages(), free = frames_free_pages();

	printk("frame allocator: %lu MiB managed, %lu MiB free, %lu MiB used\n",
	       (total * PAGE_SIZE) >> 20, (free * PAGE_SIZE) >> 20,
	       ((total - free) * PAGE_SIZE) >> 20);
	printk("heap: %lu bytes in use\n", heap_bytes_in_use());
	for (unsigned i = 0; i < MAX_DOMAINS; i++)
		if (domains[i])
			printk(
			    "d%u: %lu MiB RAM, %lu KiB of nested page tables\n",
			    i, domains[i]->ram_bytes >> 20,
			    domains[i]->p2m_pages * 4);
}

static void show_timers(void)
{
	printk("time: TSC %lu kHz from the %s; uptime %lu ms\n", tsc_khz(),
	       time_source(), now_ns() / 1000000);
	printk("physical LAPIC timer: %s mode (%s)\n", lapic_timer_mode(),
	       lapic_x2apic() ? "x2APIC" : "xAPIC");
	for (unsigned c = 0; c < MAX_CPUS; c++) {
		struct percpu *p = &percpu_area[c];

		if (!p->online)
			continue;
		printk("cpu%u: timer interrupts %lu (up to %lu us late), kicks "
		       "%lu, loop passes %lu, longest between two %lu ms, "
		       "stalls %lu\n",
		       c, p->irq_count[TIMER_VECTOR],
		       p->timer_late_max * 1000 / tsc_khz(),
		       p->irq_count[IPI_KICK_VECTOR], p->loop_passes,
		       p->longest_gap / tsc_khz(), p->stalls);
	}
	for (unsigned g = 0; g < MAX_GSIS; g++)
		if (gsi_interrupt_count(g))
			printk("GSI %u: %lu interrupts forwarded to Dom0\n", g,
			       gsi_interrupt_count(g));
	printk("notification line: %lu edges raised to Dom0\n",
	       dom0_notify_count());
	printk("VM entries recovered from a lost guest state: %lu\n",
	       hvm_entries_recovered());
}

static void switch_input(void)
{
	keel_has_input = !keel_has_input;
	if (keel_has_input)
		printk("*** Keel debug console: input goes to Keel now "
		       "('h' for help, Ctrl-A x3 to return to Dom0) ***\n");
	else
		printk("*** input goes to Dom0 again ***\n");
}

static void keel_key(char c)
{
	switch (c) {
	case 'h':
		show_help();
		break;
	case 'q':
		show_domains();
		break;
	case 'd':
		show_registers();
		break;
	case 'm':
		show_memory();
		break;
	case 't':
		show_timers();
		break;
	case 'r':
		sched_dump();
		break;
	case '\r':
	case '\n':
		break;
	default:
		printk("unknown key '%c' ('h' for help)\n", c);
	}
}

/* Routes every byte waiting in the UART. */
static void console_input(void)
{
	int c;

	for (;;) {
		struct domain *d0 = domains[DOM0_ID];

		bool full;

		/* Leave bytes in the UART while Dom0's FIFO is full. */
		if (!keel_has_input && d0) {
			spin_lock(&d0->lock);
			full = !vuart_rx_space(&d0->vuart);
			if (full) {
				/* The bytes wait in the UART; its line drops.
				 */
				rx_throttled = true;
				uart_set_rx_irq(false);
			}
			spin_unlock(&d0->lock);
			if (full)
				break;
		}
		c = uart_getc();
		if (c < 0)
			break;
		if (c == CTRL_A) {
			if (++ctrl_a_run == SWITCH_PRESSES) {
				ctrl_a_run = 0;
				switch_input();
			}
			continue;
		}
		/* Fewer than three Ctrl-A in a row belong to Dom0. */
		if (keel_has_input) {
			ctrl_a_run = 0;
			keel_key((char)c);
		} else if (d0) {
			spin_lock(&d0->lock);
			for (; ctrl_a_run; ctrl_a_run--)
				vuart_rx_push(&d0->vuart, CTRL_A);
			vuart_rx_push(&d0->vuart, (uint8_t)c);
			spin_unlock(&d0->lock);
		}
	}
}

/* Runs where the vCPU loop opens an interrupt window: no lock is held. */
static void console_interrupt(struct cpu_regs *regs)
{
	(void)regs;
	console_input();
}

void console_input_init(uint32_t gsi)
{
	uint8_t vector = (uint8_t)(GSI_VECTOR_BASE + gsi);

	/* ISA IRQs are edge-triggered and active-high. */
	if (gsi >= MAX_GSIS ||
	    ioapic_route(gsi, vector, false, false, percpu_area[0].apic_id)) {
		printk("serial input disabled: GSI %u cannot be routed\n", gsi);
		return;
	}
	irq_set_handler(vector, console_interrupt);
	ioapic_mask(gsi, false);
	uart_set_rx_irq(true);
	/* Bytes typed before the line was armed raised no edge. */
	console_input();
}

void console_input_resume(struct domain *d)
{
	ASSERT_LOCKED(&d->lock);
	if (rx_throttled && d->id == DOM0_ID && vuart_rx_space(&d->vuart)) {
		rx_throttled = false;
		uart_set_rx_irq(true);
	}
}

/* SPDX-License-Identifier: MIT */
/*
 * Virtual 16550A UART, the guest's boot console: eight I/O ports whose
 * behaviour is enough for Linux's 8250 driver to autodetect a 16550A and
 * run it on interrupts. Transmission is instantaneous (THR and the shifter
 * are always empty again by the next access); reception is fed by the
 * hypervisor through a 16-byte FIFO.
 *
 * Locking: none inside; the integrator serialises calls on one vuart.
 * Callbacks run synchronously after the state change that caused them.
 */
#ifndef KEEL_VUART_H
#define KEEL_VUART_H

#include <stdbool.h>
#include <stdint.h>

#define VUART_NR_PORTS	8u
#define VUART_FIFO_SIZE 16u

struct vuart_env {
	/* A byte the guest transmitted (never called in loopback mode). */
	void (*tx)(void *ctx, uint8_t byte);
	/*
	 * The interrupt output changed level. It is the PC's gated line:
	 * asserted while an enabled interrupt is pending and MCR.OUT2 is set,
	 * never in loopback mode. The integrator drives a vIOAPIC pin.
	 */
	void (*irq)(void *ctx, bool level);
};

struct vuart {
	/* Set by vuart_init, constant afterwards. */
	const struct vuart_env *env;
	void *ctx;

	/* Registers (PC16550D datasheet §8), guarded by the integrator. */
	uint8_t ier;
	uint8_t fcr; /* FIFO enable and RX trigger bits as last written */
	uint8_t lcr;
	uint8_t mcr;
	uint8_t lsr_errors; /* overrun; cleared by reading LSR */
	uint8_t msr;	    /* modem status (7:4) and deltas (3:0) */
	uint8_t scr;
	uint8_t dll, dlm;
	bool thre_pending; /* THR-empty interrupt raised, not yet cleared */
	bool irq_level;	   /* last level passed to env->irq */

	uint8_t rx_fifo[VUART_FIFO_SIZE];
	uint8_t rx_head; /* index of the oldest byte */
	uint8_t rx_count;
};

/* Hardware reset state; the interrupt line starts (and is) deasserted. */
void vuart_init(struct vuart *u, const struct vuart_env *env, void *ctx);

/*
 * Guest port access at offset 0-7 from the UART's base; other offsets are
 * -EINVAL. Every 8-bit access to a valid offset succeeds: writes to the
 * read-only LSR and MSR are ignored.
 */
int vuart_io_read(struct vuart *u, unsigned offset, uint8_t *val);
int vuart_io_write(struct vuart *u, unsigned offset, uint8_t val);

/*
 * A byte arrives on the serial line. False (byte not taken) when the
 * receive buffer is full (16 bytes with FIFOs enabled, 1 without) or the
 * UART is in loopback mode, where the line is disconnected: keep the byte
 * and retry after the guest reads.
 */
bool vuart_rx_push(struct vuart *u, uint8_t byte);
/* Whether vuart_rx_push would take a byte now. */
bool vuart_rx_space(const struct vuart *u);

#endif

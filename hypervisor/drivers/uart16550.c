/* SPDX-License-Identifier: MIT */
/* The physical 16550 UART Keel owns for its console (polled transmit). */
#include <keel/console.h>
#include <keel/io.h>

#define UART_THR	      0
#define UART_RBR	      0
#define UART_DLL	      0
#define UART_IER	      1
#define UART_DLM	      1
#define UART_FCR	      2
#define UART_IIR	      2
#define UART_LCR	      3
#define UART_MCR	      4
#define UART_LSR	      5
#define UART_LSR_DR	      0x01
#define UART_LSR_THRE	      0x20
#define UART_LCR_DLAB	      0x80
#define UART_LCR_8N1	      0x03
#define UART_MCR_DTR_RTS_OUT2 0x0B
#define UART_IER_RX	      0x01
#define UART_IIR_FIFOS_ON     0xC0
#define UART_CLOCK	      115200
#define UART_TX_FIFO	      16

static uint16_t uart_base;
/*
 * Bytes THR takes before LSR must be polled again: with THRE seen, a
 * 16550A's transmit FIFO is empty and holds 16 (PC16550D §8.6.3), an
 * 8250/16450 holds one. Polling once per FIFO instead of once per byte
 * halves the port accesses of the console (slow on real UARTs, and each
 * one a round trip to the host hypervisor when Keel runs nested).
 */
static unsigned tx_fifo_size = 1, tx_room;

uint16_t uart_port(void)
{
	return uart_base;
}

void uart_init(uint16_t port, uint32_t baud)
{
	uint16_t div = baud ? UART_CLOCK / baud : 1;

	uart_base = port;
	outb(port + UART_IER, 0);
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DLL, div & 0xFF);
	outb(port + UART_DLM, div >> 8);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(port + UART_MCR, UART_MCR_DTR_RTS_OUT2);
	/* IIR bits 7:6 read 11b only where the FIFOs work (a 16550A). */
	if ((inb(port + UART_IIR) & UART_IIR_FIFOS_ON) == UART_IIR_FIFOS_ON)
		tx_fifo_size = UART_TX_FIFO;
	tx_room = 0;
}

void uart_set_rx_irq(bool on)
{
	if (uart_base)
		outb(uart_base + UART_IER, on ? UART_IER_RX : 0);
}

void uart_putc(char c)
{
	unsigned spins = 0;

	if (!uart_base)
		return;
	if (!tx_room) {
		/* Bounded wait: a missing UART must not hang the hypervisor. */
		while (!(inb(uart_base + UART_LSR) & UART_LSR_THRE) &&
		       ++spins < 100000)
			cpu_relax();
		tx_room = tx_fifo_size;
	}
	tx_room--;
	outb(uart_base + UART_THR, (uint8_t)c);
}

int uart_getc(void)
{
	if (!uart_base || !(inb(uart_base + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(uart_base + UART_RBR);
}

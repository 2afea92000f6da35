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
#define UART_LCR	      3
#define UART_MCR	      4
#define UART_LSR	      5
#define UART_LSR_DR	      0x01
#define UART_LSR_THRE	      0x20
#define UART_LCR_DLAB	      0x80
#define UART_LCR_8N1	      0x03
#define UART_MCR_DTR_RTS_OUT2 0x0B
#define UART_IER_RX	      0x01
#define UART_CLOCK	      115200

static uint16_t uart_base;

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
	/* Bounded wait: a missing UART must not hang the hypervisor. */
	while (!(inb(uart_base + UART_LSR) & UART_LSR_THRE) && ++spins < 100000)
		cpu_relax();
	outb(uart_base + UART_THR, (uint8_t)c);
}

int uart_getc(void)
{
	if (!uart_base || !(inb(uart_base + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(uart_base + UART_RBR);
}

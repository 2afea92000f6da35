/* SPDX-License-Identifier: MIT */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/lib.h>

/* The physical serial port Keel owns (COM1). */
void uart_init(uint16_t port, uint32_t baud);
void uart_putc(char c);
int uart_getc(void); /* -1 when nothing is waiting */
void uart_enable_rx_irq(void);
uint16_t uart_port(void);

/* A byte Dom0 wrote to its serial port: passed through as is. */
void console_guest_putc(unsigned domid, char c);
/* A whole line of another domain's output, tagged "(name) ". */
void console_guest_line(const char *name, const char *line, size_t len);
/* Copies the newest part of the log ring into buf; returns bytes copied. */
size_t console_ring_read(char *buf, size_t size);
/* Called from the serial interrupt and the idle loop: routes input. */
void console_poll_input(void);

#endif

/* SPDX-License-Identifier: MIT */
#ifndef KEEL_CONSOLE_H
#define KEEL_CONSOLE_H

#include <keel/lib.h>

struct domain;

/* The physical serial port Keel owns (COM1). */
void uart_init(uint16_t port, uint32_t baud);
void uart_putc(char c);
int uart_getc(void); /* -1 when nothing is waiting */
/* The receive-data interrupt: on while Keel wants input. */
void uart_set_rx_irq(bool on);
uint16_t uart_port(void);

/* A byte Dom0 wrote to its serial port: passed through as is. */
void console_guest_putc(unsigned domid, char c);
/* A whole line of another domain's output, tagged "(name) ". */
void console_guest_line(const char *name, const char *line, size_t len);
/*
 * KEEL_HC_DMESG: the newest whole lines of the log ring since the last
 * clear that fit in buf, oldest first; returns bytes copied. `clear`
 * then forgets everything up to the newest byte.
 */
size_t console_ring_read_lines(char *buf, size_t size, bool clear);
/* Copies the newest part of the log ring into buf; returns bytes copied. */
size_t console_ring_read(char *buf, size_t size);
/*
 * Takes serial input by interrupt, from the UART's ISA line on `gsi`
 * (routed to the boot CPU): to Dom0's vUART, or to the debug console.
 */
void console_input_init(uint32_t gsi);
/* Dom0 (d, whose lock the caller holds) accessed its vUART: input that
 * waited for room in its receive FIFO may flow again. */
void console_input_resume(struct domain *d);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Serial console on COM1 and a small printf.
 *
 * The UART is left as the firmware or the hypervisor configured it: the
 * guest only polls the Line Status Register's THR-empty bit and writes the
 * Transmitter Holding Register (16550 data sheet, registers 0 and 5).
 */
#include "guest.h"

#define COM1_BASE     0x3f8
#define UART_THR      0
#define UART_LSR      5
#define UART_LSR_THRE 0x20

/* A UART that never reports THR empty must not hang the guest silently:
 * after this many polls the byte is written anyway. */
#define UART_POLL_LIMIT 1000000

static void serial_putc(char c)
{
	for (unsigned int i = 0; i < UART_POLL_LIMIT; i++) {
		if (inb(COM1_BASE + UART_LSR) & UART_LSR_THRE)
			break;
		cpu_relax();
	}
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}

/* Formatter output: a bounded buffer that counts what did not fit. */
struct out_buf {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct out_buf *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_number(struct out_buf *o, uint64_t value, unsigned int base,
		       bool negative, bool upper, int width, char pad,
		       bool left)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[value % base];
		value /= base;
	} while (value);
	int total = n + (negative ? 1 : 0);

	if (negative && pad == '0')
		out_char(o, '-');
	if (!left)
		for (; width > total; width--)
			out_char(o, pad);
	if (negative && pad != '0')
		out_char(o, '-');
	while (n)
		out_char(o, tmp[--n]);
	if (left)
		for (; width > total; width--)
			out_char(o, ' ');
}

/*
 * Supports %c %s %d %i %u %x %X %p %%, the flags '-' and '0', a width, and
 * the length modifiers l, ll and z.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out_buf o = {buf, size, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		int width = 0;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		int longs = 0;
		while (*fmt == 'l' || *fmt == 'z') {
			longs++;
			fmt++;
		}
		if (left)
			pad = ' ';

		uint64_t u;
		int64_t s;
		switch (*fmt) {
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = (int)strlen(str);
			if (!left)
				for (; width > len; width--)
					out_char(&o, ' ');
			while (*str)
				out_char(&o, *str++);
			if (left)
				for (; width > len; width--)
					out_char(&o, ' ');
			break;
		}
		case 'd':
		case 'i':
			s = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? -(uint64_t)s : (uint64_t)s;
			out_number(&o, u, 10, s < 0, false, width, pad, left);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = longs ? va_arg(ap, uint64_t)
				  : va_arg(ap, unsigned int);
			out_number(&o, u, *fmt == 'u' ? 10 : 16, false,
				   *fmt == 'X', width, pad, left);
			break;
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (uintptr_t)va_arg(ap, void *), 16, false,
				   false, width, pad, left);
			break;
		case '%':
			out_char(&o, '%');
			break;
		case '\0':
			fmt--;
			break;
		default:
			out_char(&o, '%');
			out_char(&o, *fmt);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * One printf at a time goes out, so lines from several CPUs do not mix.
 * The owner is a CPU number + 1 (0: free); an exception or interrupt
 * handler that prints on the CPU already holding the lock goes ahead
 * instead of waiting for itself forever.
 */
static unsigned int console_owner;

static bool console_lock(void)
{
	unsigned int me = cpu_index() + 1, expected = 0;

	if (__atomic_load_n(&console_owner, __ATOMIC_RELAXED) == me)
		return false;
	while (!__atomic_compare_exchange_n(&console_owner, &expected, me,
					    false, __ATOMIC_ACQUIRE,
					    __ATOMIC_RELAXED)) {
		expected = 0;
		cpu_relax();
	}
	return true;
}

static void console_unlock(bool taken)
{
	if (taken)
		__atomic_store_n(&console_owner, 0, __ATOMIC_RELEASE);
}

int vprintf(const char *fmt, va_list ap)
{
	char line[256];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	bool taken = console_lock();

	console_write(line, strlen(line));
	console_unlock(taken);
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

/* SPDX-License-Identifier: MIT */
/* printf subset: %d %i %u %x %X %p %s %c %%, flags '-' '0', width, l/ll/z. */
#include <keel/lib.h>

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, uint64_t v, unsigned base, bool neg,
		    int width, bool zero, bool left, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, pad;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	pad = width - n - (neg ? 1 : 0);
	if (neg && zero)
		put(o, '-');
	if (!left)
		for (; pad > 0; pad--)
			put(o, zero ? '0' : ' ');
	if (neg && !zero)
		put(o, '-');
	while (n)
		put(o, tmp[--n]);
	for (; pad > 0; pad--)
		put(o, ' ');
}

static void put_str(struct out *o, const char *s, int width, bool left)
{
	int n = (int)strlen(s);

	if (!left)
		for (; width > n; width--)
			put(o, ' ');
	while (*s)
		put(o, *s++);
	for (; width > n; width--)
		put(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (; *fmt; fmt++) {
		bool zero = false, left = false;
		int width = 0, lng = 0;

		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) { /* C11 7.21.6.1: a '-' flag */
				left = true;
				width = -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);

			put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10,
				v < 0, width, zero, left, false);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = lng ? va_arg(ap, uint64_t)
					 : va_arg(ap, unsigned int);

			put_num(&o, v, *fmt == 'u' ? 10 : 16, false, width,
				zero, left, *fmt == 'X');
			break;
		}
		case 'p': {
			char tmp[24];
			struct out t = {tmp, sizeof(tmp), 0};

			put(&t, '0');
			put(&t, 'x');
			put_num(&t, (uintptr_t)va_arg(ap, void *), 16, false, 0,
				false, false, false);
			tmp[MIN(t.len, sizeof(tmp) - 1)] = '\0';
			put_str(&o, tmp, width, left);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);

			put_str(&o, s ? s : "(null)", width, left);
			break;
		}
		case 'c': {
			char c[2] = {(char)va_arg(ap, int), '\0'};

			if (!c[0]) { /* a NUL character still counts */
				for (; width > 1 && !left; width--)
					put(&o, ' ');
				put(&o, '\0');
				for (; width > 1; width--)
					put(&o, ' ');
				break;
			}
			put_str(&o, c, width, left);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			put(&o, '%');
			if (*fmt)
				put(&o, *fmt);
			else
				fmt--;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

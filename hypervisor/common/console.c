/* SPDX-License-Identifier: MIT */
/*
 * Keel's log: every line goes to a ring buffer (read by the debug console
 * and later by `kl dmesg`) and to the serial port, prefixed "(keel) " the
 * way Xen prefixes "(XEN) ", so hypervisor and guest output can be told apart.
 */
#include <keel/console.h>
#include <keel/spinlock.h>

#define LOG_RING_SIZE (64 * 1024)

static char log_ring[LOG_RING_SIZE];
static uint64_t log_head;    /* total bytes ever written */
static uint64_t log_cleared; /* KEEL_DMESG_CLEAR: nothing before this */
static spinlock_t log_lock = SPINLOCK_INIT;
static bool at_line_start = true;
static unsigned last_guest = ~0u; /* domain whose output is mid-line */

/*
 * Dom0's line as far as it went. When Keel's lines cut it, it is drawn
 * again before its next byte, the way a shell redraws its prompt after a
 * job's message: the line reads whole on the terminal and in logs.
 */
static char open_line[256];
static size_t open_len;		 /* SIZE_MAX: too long to keep, not redrawn */
static unsigned cut_guest = ~0u; /* domain whose line must be redrawn */

static void emit(char c)
{
	log_ring[log_head++ % LOG_RING_SIZE] = c;
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

static void emit_str(const char *s)
{
	while (*s)
		emit(*s++);
}

/* Guest output that was cut mid-line gets its line ended first. */
static void finish_guest_line(void)
{
	if (last_guest != ~0u) {
		emit('\n');
		cut_guest = last_guest;
		last_guest = ~0u;
	}
}

/* Draws a cut line again before its owner's next byte. */
static void redraw_open_line(void)
{
	if (open_len == SIZE_MAX)
		return;
	for (size_t i = 0; i < open_len; i++)
		emit(open_line[i]);
}

static void track_open_line(char c)
{
	if (c == '\n')
		open_len = 0;
	else if (open_len < sizeof(open_line))
		open_line[open_len++] = c;
	else
		open_len = SIZE_MAX;
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	uint64_t flags;
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	flags = spin_lock_irqsave(&log_lock);
	finish_guest_line();
	for (int i = 0; i < n; i++) {
		if (at_line_start) {
			emit_str("(keel) ");
			at_line_start = false;
		}
		emit(buf[i]);
		if (buf[i] == '\n')
			at_line_start = true;
	}
	spin_unlock_irqrestore(&log_lock, flags);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void console_guest_line(const char *name, const char *line, size_t len)
{
	uint64_t flags = spin_lock_irqsave(&log_lock);

	if (!at_line_start) {
		emit('\n');
		at_line_start = true;
	}
	finish_guest_line();
	emit('(');
	emit_str(name);
	emit_str(") ");
	/*
	 * A guest's bytes are shown, never obeyed: control characters and
	 * escape sequences could otherwise move the cursor or rewrite the
	 * line, and forge "(keel) " lines on the operator's terminal.
	 */
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)line[i];

		if ((c >= 0x20 && c < 0x7F) || c == '\t') {
			emit((char)c);
		} else {
			static const char hex[] = "0123456789abcdef";

			emit_str("\\x");
			emit(hex[c >> 4]);
			emit(hex[c & 0xF]);
		}
	}
	emit('\n');
	spin_unlock_irqrestore(&log_lock, flags);
}

void console_guest_putc(unsigned domid, char c)
{
	uint64_t flags = spin_lock_irqsave(&log_lock);

	if (!at_line_start) {
		emit('\n');
		at_line_start = true;
	}
	if (last_guest != domid && last_guest != ~0u) {
		emit('\n');
		last_guest = ~0u;
	}
	if (cut_guest == domid)
		redraw_open_line();
	else if (last_guest != domid)
		open_len = 0;
	cut_guest = ~0u;
	last_guest = c == '\n' ? ~0u : domid;
	track_open_line(c);
	emit(c);
	spin_unlock_irqrestore(&log_lock, flags);
}

size_t console_ring_read_lines(char *buf, size_t size, bool clear)
{
	uint64_t flags = spin_lock_irqsave(&log_lock);
	uint64_t oldest =
	    log_head > LOG_RING_SIZE ? log_head - LOG_RING_SIZE : 0;
	uint64_t start = MAX(oldest, log_cleared), n;

	/* The newest whole lines that fit: start after a line end. */
	if (log_head - start > size) {
		start = log_head - size;
		while (start < log_head &&
		       log_ring[(start - 1) % LOG_RING_SIZE] != '\n')
			start++;
	}
	n = log_head - start;
	for (uint64_t i = 0; i < n; i++)
		buf[i] = log_ring[(start + i) % LOG_RING_SIZE];
	if (clear)
		log_cleared = log_head;
	spin_unlock_irqrestore(&log_lock, flags);
	return n;
}

size_t console_ring_read(char *buf, size_t size)
{
	uint64_t flags = spin_lock_irqsave(&log_lock);
	uint64_t avail = MIN(log_head, (uint64_t)LOG_RING_SIZE);
	uint64_t n = MIN(avail, (uint64_t)size);
	uint64_t start = log_head - n;

	for (uint64_t i = 0; i < n; i++)
		buf[i] = log_ring[(start + i) % LOG_RING_SIZE];
	spin_unlock_irqrestore(&log_lock, flags);
	return n;
}

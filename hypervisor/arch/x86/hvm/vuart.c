/* SPDX-License-Identifier: MIT */
/*
 * Virtual 16550A UART (National Semiconductor PC16550D datasheet; register
 * names as in Linux's include/uapi/linux/serial_reg.h).
 *
 * What Linux's 8250 autoconfig() and startup probe rely on:
 *  - IER keeps bits 3:0 and reads 7:4 as zero (the scratch test, and the
 *    XScale UUE test must fail);
 *  - loopback wires DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD, so MCR = LOOP|0x0A
 *    reads MSR status 0x90;
 *  - with FIFOs enabled IIR bits 7:6 read 11b and bits 5:4 stay 0 (not a
 *    16750, not an NS SuperIO);
 *  - a 16-byte receive FIFO (size_fifo() counts 16 looped-back bytes);
 *  - the THRE interrupt is raised whenever IER.ETBEI goes 0→1 with the
 *    transmitter empty, and cleared by an IIR read that reports it.
 */
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vuart.h>

/* Port offsets. */
#define UART_RBR_THR 0 /* DLL when LCR.DLAB */
#define UART_IER     1 /* DLM when LCR.DLAB */
#define UART_IIR_FCR 2
#define UART_LCR     3
#define UART_MCR     4
#define UART_LSR     5
#define UART_MSR     6
#define UART_SCR     7

#define IER_RDI	     0x01u /* received data available */
#define IER_THRI     0x02u /* transmitter holding register empty */
#define IER_RLSI     0x04u /* receiver line status */
#define IER_MSI	     0x08u /* modem status */
#define IER_WRITABLE 0x0Fu

/* IIR interrupt identification, highest priority first (§8.6.3). */
#define IIR_NO_INT     0x01u
#define IIR_RLS	       0x06u
#define IIR_RDA	       0x04u
#define IIR_RX_TIMEOUT 0x0Cu
#define IIR_THRI       0x02u
#define IIR_MSI	       0x00u
#define IIR_FIFOS_ON   0xC0u

#define FCR_ENABLE	 0x01u
#define FCR_CLEAR_RX	 0x02u
#define FCR_TRIGGER_MASK 0xC0u

#define LCR_DLAB 0x80u

#define MCR_DTR	     0x01u
#define MCR_RTS	     0x02u
#define MCR_OUT1     0x04u
#define MCR_OUT2     0x08u
#define MCR_LOOP     0x10u
#define MCR_WRITABLE 0x1Fu

#define LSR_DR	 0x01u
#define LSR_OE	 0x02u
#define LSR_THRE 0x20u
#define LSR_TEMT 0x40u

#define MSR_DCTS   0x01u
#define MSR_DDSR   0x02u
#define MSR_TERI   0x04u
#define MSR_DDCD   0x08u
#define MSR_DELTAS 0x0Fu
#define MSR_CTS	   0x10u
#define MSR_DSR	   0x20u
#define MSR_RI	   0x40u
#define MSR_DCD	   0x80u
#define MSR_STATUS 0xF0u

/*
 * Outside loopback the modem inputs show a connected null-modem peer:
 * carrier, data set ready and clear to send, no ring.
 */
#define MSR_LINE_INPUTS (MSR_DCD | MSR_DSR | MSR_CTS)

static bool fifo_enabled(const struct vuart *u)
{
	return u->fcr & FCR_ENABLE;
}

static bool loopback(const struct vuart *u)
{
	return u->mcr & MCR_LOOP;
}

static unsigned rx_capacity(const struct vuart *u)
{
	return fifo_enabled(u) ? VUART_FIFO_SIZE : 1;
}

/* RX FIFO trigger levels for FCR bits 7:6 (§8.5). */
static unsigned rx_trigger(const struct vuart *u)
{
	static const uint8_t levels[4] = {1, 4, 8, 14};

	return levels[(u->fcr & FCR_TRIGGER_MASK) >> 6];
}

/*
 * The highest-priority enabled interrupt, as IIR bits 3:0. Received data
 * below the FIFO trigger level is reported as a character timeout at once:
 * with no line timing, waiting four character times would only add delay.
 */
static uint8_t pending_interrupt(const struct vuart *u)
{
	if ((u->ier & IER_RLSI) && u->lsr_errors)
		return IIR_RLS;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo_enabled(u) && u->rx_count < rx_trigger(u)
			   ? IIR_RX_TIMEOUT
			   : IIR_RDA;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && (u->msr & MSR_DELTAS))
		return IIR_MSI;
	return IIR_NO_INT;
}

/*
 * On a PC the chip's INTR output reaches the interrupt controller only
 * through a buffer enabled by OUT2, and loopback forces OUT2 inactive.
 */
static void update_irq(struct vuart *u)
{
	bool level = pending_interrupt(u) != IIR_NO_INT &&
		     (u->mcr & MCR_OUT2) && !loopback(u);

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	u->env->irq(u->ctx, level);
}

static void rx_clear(struct vuart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/* A character reaches the receiver: into the FIFO, or an overrun. */
static void rx_receive(struct vuart *u, uint8_t byte)
{
	if (u->rx_count < rx_capacity(u)) {
		u->rx_fifo[(u->rx_head + u->rx_count) % VUART_FIFO_SIZE] = byte;
		u->rx_count++;
		return;
	}
	/*
	 * Overrun (§8.6.4): without FIFOs the new character replaces the one
	 * in RBR; with FIFOs it is lost in the shift register.
	 */
	if (!fifo_enabled(u))
		u->rx_fifo[u->rx_head] = byte;
	u->lsr_errors |= LSR_OE;
}

static uint8_t rx_pop(struct vuart *u)
{
	uint8_t byte;

	/* An empty RBR reads as 0. */
	if (!u->rx_count)
		return 0;
	byte = u->rx_fifo[u->rx_head];
	u->rx_head = (u->rx_head + 1) % VUART_FIFO_SIZE;
	u->rx_count--;
	return byte;
}

/* Modem status inputs: the line's, or the looped-back MCR outputs. */
static uint8_t modem_inputs(const struct vuart *u)
{
	uint8_t status = 0;

	if (!loopback(u))
		return MSR_LINE_INPUTS;
	if (u->mcr & MCR_DTR)
		status |= MSR_DSR;
	if (u->mcr & MCR_RTS)
		status |= MSR_CTS;
	if (u->mcr & MCR_OUT1)
		status |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		status |= MSR_DCD;
	return status;
}

/* Latches MSR deltas for changed inputs; TERI on RI falling (§8.6.8). */
static void update_modem_status(struct vuart *u)
{
	uint8_t old = u->msr & MSR_STATUS, now = modem_inputs(u);
	uint8_t changed = old ^ now, deltas = 0;

	if (changed & MSR_CTS)
		deltas |= MSR_DCTS;
	if (changed & MSR_DSR)
		deltas |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		deltas |= MSR_TERI;
	if (changed & MSR_DCD)
		deltas |= MSR_DDCD;
	u->msr = now | (u->msr & MSR_DELTAS) | deltas;
}

void vuart_init(struct vuart *u, const struct vuart_env *env, void *ctx)
{
	u->env = env;
	u->ctx = ctx;
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr_errors = 0;
	u->msr = MSR_LINE_INPUTS;
	u->scr = 0;
	u->dll = 0;
	u->dlm = 0;
	u->thre_pending = false;
	u->irq_level = false;
	rx_clear(u);
}

bool vuart_rx_space(const struct vuart *u)
{
	return !loopback(u) && u->rx_count < rx_capacity(u);
}

bool vuart_rx_push(struct vuart *u, uint8_t byte)
{
	if (!vuart_rx_space(u))
		return false;
	rx_receive(u, byte);
	update_irq(u);
	return true;
}

static void transmit(struct vuart *u, uint8_t byte)
{
	/*
	 * Whole bytes whatever LCR's word length: the console is a byte
	 * stream, and guests that print without programming the UART (reset
	 * LCR selects 5 bits) must not lose the high bits.
	 */
	if (loopback(u))
		rx_receive(u, byte);
	else
		u->env->tx(u->ctx, byte);
	/* THR and the shifter are empty again at once. */
	u->thre_pending = true;
}

static void write_ier(struct vuart *u, uint8_t val)
{
	uint8_t old = u->ier;

	u->ier = val & IER_WRITABLE;
	/* Enabling ETBEI with THR empty raises THRE (Linux's THRE test). */
	if (!(old & IER_THRI) && (u->ier & IER_THRI))
		u->thre_pending = true;
}

static void write_fcr(struct vuart *u, uint8_t val)
{
	/* Toggling FIFO enable empties the FIFOs (§8.5). */
	if ((val ^ u->fcr) & FCR_ENABLE)
		rx_clear(u);
	/* The other bits are programmed only together with bit 0. */
	if (!(val & FCR_ENABLE)) {
		u->fcr = 0;
		return;
	}
	if (val & FCR_CLEAR_RX)
		rx_clear(u);
	u->fcr = val & (FCR_ENABLE | FCR_TRIGGER_MASK);
}

int vuart_io_read(struct vuart *u, unsigned offset, uint8_t *val)
{
	uint8_t iir;

	switch (offset) {
	case UART_RBR_THR:
		*val = (u->lcr & LCR_DLAB) ? u->dll : rx_pop(u);
		break;
	case UART_IER:
		*val = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case UART_IIR_FCR:
		iir = pending_interrupt(u);
		/* Reading IIR clears a THRE interrupt it reports (§8.6.3). */
		if (iir == IIR_THRI)
			u->thre_pending = false;
		*val = iir | (fifo_enabled(u) ? IIR_FIFOS_ON : 0);
		break;
	case UART_LCR:
		*val = u->lcr;
		break;
	case UART_MCR:
		*val = u->mcr;
		break;
	case UART_LSR:
		*val = (u->rx_count ? LSR_DR : 0) | u->lsr_errors | LSR_THRE |
		       LSR_TEMT;
		u->lsr_errors = 0;
		break;
	case UART_MSR:
		*val = u->msr;
		u->msr &= MSR_STATUS;
		break;
	case UART_SCR:
		*val = u->scr;
		break;
	default:
		return -EINVAL;
	}
	update_irq(u);
	return 0;
}

int vuart_io_write(struct vuart *u, unsigned offset, uint8_t val)
{
	switch (offset) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB)
			u->dll = val;
		else
			transmit(u, val);
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB)
			u->dlm = val;
		else
			write_ier(u, val);
		break;
	case UART_IIR_FCR:
		write_fcr(u, val);
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & MCR_WRITABLE;
		update_modem_status(u);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only here (the LSR write is a factory test mode). */
		break;
	case UART_SCR:
		u->scr = val;
		break;
	default:
		return -EINVAL;
	}
	update_irq(u);
	return 0;
}

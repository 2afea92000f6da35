/* SPDX-License-Identifier: MIT */
/* Virtual 16550A UART (hypervisor/arch/x86/hvm/vuart.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vuart.h>
#include "shim.h"

/* Register offsets and bits as Linux's serial_reg.h names them. */
#define RX  0
#define TX  0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define IER_RDI	 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI	 0x08

#define MCR_DTR	 0x01
#define MCR_RTS	 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10

#define LSR_DR	 0x01
#define LSR_OE	 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40

#define FCR_ENABLE   0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define FCR_TRIG_8   0x80

static struct vuart uart;
static uint8_t sent[512];
static unsigned nr_sent;
static bool irq_line;
static unsigned irq_changes;

static void fake_tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	assert_true(nr_sent < sizeof(sent));
	sent[nr_sent++] = byte;
}

static void fake_irq(void *ctx, bool level)
{
	(void)ctx;
	/* Only changes are reported. */
	assert_true(level != irq_line);
	irq_line = level;
	irq_changes++;
}

static const struct vuart_env env = {
    .tx = fake_tx,
    .irq = fake_irq,
};

static int setup(void **state)
{
	(void)state;
	nr_sent = 0;
	irq_line = false;
	irq_changes = 0;
	memset(&uart, 0xA5, sizeof(uart));
	vuart_init(&uart, &env, NULL);
	return 0;
}

static uint8_t port_in(unsigned off)
{
	uint8_t v = 0xEE;

	assert_int_equal(vuart_io_read(&uart, off, &v), 0);
	return v;
}

static void port_out(unsigned off, uint8_t v)
{
	assert_int_equal(vuart_io_write(&uart, off, v), 0);
}

/*
 * Linux 6.1 drivers/tty/serial/8250/8250_port.c, autoconfig() with
 * autoconfig_16550a() and size_fifo(), replayed step by step. Returns the
 * type the driver would settle on.
 */
enum port_type {
	NONE,
	P8250,
	UNKNOWN,
	P16550,
	P16550A,
	P16650,
	P16750,
	NS16550A,
	XSCALE,
	U6_16550A
};

static unsigned linux_size_fifo(void)
{
	uint8_t old_lcr = port_in(LCR), old_fcr, old_mcr, old_dll, old_dlm;
	unsigned count;

	port_out(LCR, 0);
	old_fcr = port_in(FCR); /* reads IIR, as the driver does */
	old_mcr = port_in(MCR);
	port_out(FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	port_out(MCR, MCR_LOOP);
	port_out(LCR, 0x80);
	old_dll = port_in(DLL);
	old_dlm = port_in(DLM);
	port_out(DLL, 1);
	port_out(DLM, 0);
	port_out(LCR, 0x03);
	for (count = 0; count < 256; count++)
		port_out(TX, (uint8_t)count);
	for (count = 0; (port_in(LSR) & LSR_DR) && count < 256; count++)
		port_in(RX);
	port_out(FCR, old_fcr);
	port_out(MCR, old_mcr);
	port_out(LCR, 0x80);
	port_out(DLL, old_dll);
	port_out(DLM, old_dlm);
	port_out(LCR, old_lcr);
	return count;
}

static enum port_type linux_autoconfig_16550a(void)
{
	uint8_t status1, status2, iersave;

	/* EFR at LCR=0x80 (ST16C650V1): reads IIR here, must be non-zero. */
	port_out(LCR, 0x80);
	if (port_in(IIR) == 0)
		return P16650;
	/* EFR at LCR=0xBF (ST16C650V2, TI16C752). */
	port_out(LCR, 0xBF);
	if (port_in(IIR) == 0)
		return P16650;
	/* NS SuperIO: EXCR1 bit 4 follows MCR.LOOP. */
	port_out(LCR, 0);
	status1 = port_in(MCR);
	port_out(LCR, 0xE0);
	status2 = port_in(2);
	if (!((status2 ^ status1) & MCR_LOOP)) {
		port_out(LCR, 0);
		port_out(MCR, status1 ^ MCR_LOOP);
		port_out(LCR, 0xE0);
		status2 = port_in(2);
		port_out(LCR, 0);
		port_out(MCR, status1);
		if ((status2 ^ status1) & MCR_LOOP)
			return NS16550A;
	}
	/* TI16750: IIR bit 5 with the 64-byte FIFO bit only under DLAB. */
	port_out(LCR, 0);
	port_out(FCR, FCR_ENABLE | 0x20);
	status1 = port_in(IIR) >> 5;
	port_out(FCR, FCR_ENABLE);
	port_out(LCR, 0x80);
	port_out(FCR, FCR_ENABLE | 0x20);
	status2 = port_in(IIR) >> 5;
	port_out(FCR, FCR_ENABLE);
	port_out(LCR, 0);
	if (status1 == 6 && status2 == 7)
		return P16750;
	/* XScale: IER bit 6 (UUE) writable. */
	iersave = port_in(IER);
	port_out(IER, iersave & ~0x40);
	if (!(port_in(IER) & 0x40)) {
		port_out(IER, iersave | 0x40);
		if (port_in(IER) & 0x40)
			return XSCALE;
	}
	port_out(IER, iersave);
	if (linux_size_fifo() == 64)
		return U6_16550A;
	return P16550A;
}

static enum port_type linux_autoconfig(void)
{
	uint8_t scratch, scratch2, scratch3, status1, save_mcr, save_lcr;
	enum port_type type = UNKNOWN;

	scratch = port_in(IER);
	port_out(IER, 0);
	scratch2 = port_in(IER) & 0x0F;
	port_out(IER, 0x0F);
	scratch3 = port_in(IER) & 0x0F;
	port_out(IER, scratch);
	if (scratch2 != 0 || scratch3 != 0x0F)
		return NONE;

	save_mcr = port_in(MCR);
	save_lcr = port_in(LCR);
	port_out(MCR, MCR_LOOP | 0x0A);
	status1 = port_in(MSR) & 0xF0;
	port_out(MCR, save_mcr);
	if (status1 != 0x90)
		return NONE;

	port_out(LCR, 0xBF);
	port_out(2, 0); /* EFR: on a 16550A this is FCR */
	port_out(LCR, 0);
	port_out(FCR, FCR_ENABLE);
	scratch = port_in(IIR);
	switch (scratch >> 6) {
	case 0:
		type = P8250;
		break;
	case 1:
		type = UNKNOWN;
		break;
	case 2:
		type = P16550;
		break;
	case 3:
		type = linux_autoconfig_16550a();
		break;
	}
	port_out(LCR, save_lcr);
	/* Reset: MCR, clear FIFOs, drain RX, IER off. */
	port_out(MCR, save_mcr);
	port_out(FCR, FCR_ENABLE);
	port_out(FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX);
	port_out(FCR, 0);
	port_in(RX);
	port_out(IER, 0);
	return type;
}

static void test_linux_autoconfig_finds_16550a(void **state)
{
	(void)state;
	assert_int_equal(linux_autoconfig(), P16550A);
	/* Everything looped back: nothing reached the console. */
	assert_int_equal(nr_sent, 0);
	assert_false(irq_line);
	/* The port is left quiet and usable. */
	assert_int_equal(port_in(IIR), 0x01);
	assert_int_equal(port_in(LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(port_in(MCR), 0);
	assert_int_equal(port_in(LCR), 0);
	assert_int_equal(port_in(MSR) & 0xF0, 0xB0);
	assert_true(vuart_rx_space(&uart));
}

static void test_scratch_and_ier_bits(void **state)
{
	(void)state;
	port_out(SCR, 0x5A);
	assert_int_equal(port_in(SCR), 0x5A);
	port_out(IER, 0xFF);
	assert_int_equal(port_in(IER), 0x0F);
	assert_int_equal(vuart_io_read(&uart, 8, &(uint8_t){0}), -EINVAL);
	assert_int_equal(vuart_io_write(&uart, 8, 0), -EINVAL);
	assert_int_equal(vuart_io_write(&uart, 1000, 0), -EINVAL);
	/* LSR and MSR ignore writes. */
	port_out(LSR, 0xFF);
	port_out(MSR, 0x0F);
	assert_int_equal(port_in(LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(port_in(MSR), 0xB0);
}

static void test_thre_interrupt(void **state)
{
	uint8_t iir1, iir2;

	(void)state;
	port_out(FCR, FCR_ENABLE | FCR_TRIG_8);
	port_out(MCR, MCR_DTR | MCR_RTS | MCR_OUT2);
	assert_false(irq_line);

	/* Linux's startup THRE test: re-enabling ETBEI re-raises THRE. */
	port_out(IER, IER_THRI);
	assert_true(irq_line);
	iir1 = port_in(IIR);
	port_out(IER, 0);
	port_out(IER, IER_THRI);
	iir2 = port_in(IIR);
	port_out(IER, 0);
	assert_int_equal(iir1, 0xC2);
	assert_int_equal(iir2, 0xC2);
	assert_false(irq_line);

	/* Reading IIR clears THRE; a write raises it again. */
	port_out(IER, IER_THRI);
	assert_int_equal(port_in(IIR), 0xC2);
	assert_false(irq_line);
	assert_int_equal(port_in(IIR), 0xC1);
	port_out(TX, 'k');
	assert_int_equal(nr_sent, 1);
	assert_int_equal(sent[0], 'k');
	assert_true(irq_line);
	assert_int_equal(port_in(LSR), LSR_THRE | LSR_TEMT);
	/* Rewriting IER with ETBEI already set raises nothing new. */
	assert_int_equal(port_in(IIR), 0xC2);
	port_out(IER, IER_THRI);
	assert_false(irq_line);

	/* Without OUT2 the PC's interrupt line stays quiet. */
	port_out(MCR, MCR_DTR | MCR_RTS);
	port_out(TX, 'l');
	assert_false(irq_line);
	assert_int_equal(port_in(IIR), 0xC2);
}

static void test_rx_fifo_and_interrupt(void **state)
{
	const char *msg = "0123456789abcdefXYZ";

	(void)state;
	port_out(FCR, FCR_ENABLE | FCR_TRIG_8);
	port_out(MCR, MCR_OUT2);
	port_out(IER, IER_RDI);
	assert_int_equal(port_in(IIR), 0xC1);

	assert_true(vuart_rx_push(&uart, msg[0]));
	assert_true(irq_line);
	assert_int_equal(port_in(LSR) & LSR_DR, LSR_DR);
	/* Below the trigger level: a character timeout. */
	assert_int_equal(port_in(IIR), 0xCC);
	for (unsigned i = 1; i < 8; i++)
		assert_true(vuart_rx_push(&uart, msg[i]));
	assert_int_equal(port_in(IIR), 0xC4);
	for (unsigned i = 8; i < VUART_FIFO_SIZE; i++)
		assert_true(vuart_rx_push(&uart, msg[i]));
	/* Full: the byte is refused, not lost, and no overrun is flagged. */
	assert_false(vuart_rx_space(&uart));
	assert_false(vuart_rx_push(&uart, msg[16]));
	assert_int_equal(port_in(LSR), LSR_DR | LSR_THRE | LSR_TEMT);

	for (unsigned i = 0; i < VUART_FIFO_SIZE; i++)
		assert_int_equal(port_in(RX), (uint8_t)msg[i]);
	assert_int_equal(port_in(LSR), LSR_THRE | LSR_TEMT);
	assert_int_equal(port_in(IIR), 0xC1);
	assert_false(irq_line);
	/* An empty RBR reads 0. */
	assert_int_equal(port_in(RX), 0);

	/* Wrap-around keeps the order. */
	assert_true(vuart_rx_push(&uart, 'p'));
	assert_true(vuart_rx_push(&uart, 'q'));
	assert_int_equal(port_in(RX), 'p');
	assert_true(vuart_rx_push(&uart, 'r'));
	assert_int_equal(port_in(RX), 'q');
	assert_int_equal(port_in(RX), 'r');

	/* FCR can flush the receiver. */
	assert_true(vuart_rx_push(&uart, 's'));
	port_out(FCR, FCR_ENABLE | FCR_TRIG_8 | FCR_CLEAR_RX);
	assert_int_equal(port_in(LSR) & LSR_DR, 0);
	assert_false(irq_line);
}

static void test_rx_without_fifo(void **state)
{
	(void)state;
	port_out(IER, IER_RDI);
	port_out(MCR, MCR_OUT2);
	assert_true(vuart_rx_push(&uart, 'a'));
	assert_false(vuart_rx_space(&uart));
	assert_false(vuart_rx_push(&uart, 'b'));
	assert_int_equal(port_in(IIR), 0x04);
	assert_int_equal(port_in(RX), 'a');
	assert_int_equal(port_in(IIR), 0x01);
	/* Enabling the FIFO empties the receiver. */
	assert_true(vuart_rx_push(&uart, 'c'));
	port_out(FCR, FCR_ENABLE);
	assert_int_equal(port_in(LSR) & LSR_DR, 0);
	/* FCR bits other than 0 are not programmed without bit 0. */
	port_out(FCR, FCR_TRIG_8);
	assert_int_equal(port_in(IIR), 0x01);
}

static void test_dlab(void **state)
{
	(void)state;
	port_out(IER, IER_RDI | IER_RLSI);
	port_out(LCR, 0x83);
	port_out(DLL, 0x01);
	port_out(DLM, 0x02);
	assert_int_equal(port_in(DLL), 0x01);
	assert_int_equal(port_in(DLM), 0x02);
	/* No transmission, IER untouched. */
	assert_int_equal(nr_sent, 0);
	assert_int_equal(port_in(LCR), 0x83);
	port_out(LCR, 0x03);
	assert_int_equal(port_in(IER), IER_RDI | IER_RLSI);
	port_out(TX, 'z');
	assert_int_equal(nr_sent, 1);
	port_out(LCR, 0x80);
	assert_int_equal(port_in(DLL), 0x01);
	assert_int_equal(port_in(DLM), 0x02);
}

static void test_whole_bytes_from_reset_state(void **state)
{
	(void)state;
	/* Reset LCR selects 5-bit words; guests may print without setup. */
	assert_int_equal(port_in(LSR) & LSR_THRE, LSR_THRE);
	port_out(TX, 0xFF);
	port_out(LCR, 0x02);
	port_out(TX, 0xC3);
	assert_int_equal(nr_sent, 2);
	assert_int_equal(sent[0], 0xFF);
	assert_int_equal(sent[1], 0xC3);
}

static void test_loopback(void **state)
{
	(void)state;
	port_out(FCR, FCR_ENABLE);
	port_out(IER, IER_RDI | IER_MSI | IER_RLSI);
	port_out(MCR, MCR_LOOP | MCR_OUT2);
	/* Looped-back bytes never reach the console. */
	port_out(TX, 'x');
	port_out(TX, 'y');
	assert_int_equal(nr_sent, 0);
	assert_int_equal(port_in(LSR) & LSR_DR, LSR_DR);
	/* Interrupts are pending but the PC's line is gated off. */
	assert_int_equal(port_in(IIR), 0xC4);
	assert_false(irq_line);
	/* The serial input is disconnected. */
	assert_false(vuart_rx_space(&uart));
	assert_false(vuart_rx_push(&uart, 'n'));
	assert_int_equal(port_in(RX), 'x');
	assert_int_equal(port_in(RX), 'y');

	/* MCR outputs appear as MSR inputs, with deltas. */
	port_out(MCR, MCR_LOOP);
	port_in(MSR);
	port_out(MCR, MCR_LOOP | MCR_DTR);
	assert_int_equal(port_in(IIR), 0xC0); /* modem status */
	assert_int_equal(port_in(MSR), 0x20 | 0x02);
	assert_int_equal(port_in(MSR), 0x20);
	port_out(MCR, MCR_LOOP | MCR_RTS | MCR_OUT1 | MCR_OUT2);
	assert_int_equal(port_in(MSR), 0xD0 | 0x01 | 0x02 | 0x08);
	/* RI falling sets TERI; rising does not. */
	port_out(MCR, MCR_LOOP);
	assert_int_equal(port_in(MSR), 0x00 | 0x01 | 0x04 | 0x08);

	/* Overrun: the 17th byte is lost and LSR reports it once. */
	for (unsigned i = 0; i < VUART_FIFO_SIZE + 1; i++)
		port_out(TX, (uint8_t)('A' + i));
	assert_int_equal(port_in(IIR), 0xC6);
	assert_int_equal(port_in(LSR), LSR_OE | LSR_DR | LSR_THRE | LSR_TEMT);
	assert_int_equal(port_in(LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	for (unsigned i = 0; i < VUART_FIFO_SIZE; i++)
		assert_int_equal(port_in(RX), 'A' + i);
	assert_int_equal(port_in(LSR) & LSR_DR, 0);

	/* Leaving loopback: the line inputs return, the line ungates. */
	port_out(MCR, MCR_OUT2 | MCR_DTR | MCR_RTS);
	assert_int_equal(port_in(MSR), 0xB0 | 0x01 | 0x02 | 0x08);
	assert_true(vuart_rx_push(&uart, 'n'));
	assert_true(irq_line);
	assert_int_equal(port_in(RX), 'n');
	assert_false(irq_line);
}

static void test_interrupt_priority(void **state)
{
	(void)state;
	port_out(FCR, FCR_ENABLE);
	port_out(MCR, MCR_LOOP);
	port_out(IER, 0x0F);
	/* A modem status change, THRE, data, and an overrun, all at once. */
	port_out(MCR, MCR_LOOP | MCR_DTR);
	for (unsigned i = 0; i < VUART_FIFO_SIZE + 1; i++)
		port_out(TX, 0);
	assert_int_equal(port_in(IIR), 0xC6); /* line status first */
	port_in(LSR);
	assert_int_equal(port_in(IIR), 0xC4); /* then received data */
	port_out(FCR, FCR_ENABLE | FCR_CLEAR_RX);
	assert_int_equal(port_in(IIR),
			 0xC2); /* then THRE, cleared by the read */
	assert_int_equal(port_in(IIR), 0xC0); /* then modem status */
	port_in(MSR);
	assert_int_equal(port_in(IIR), 0xC1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_linux_autoconfig_finds_16550a, setup),
	    cmocka_unit_test_setup(test_scratch_and_ier_bits, setup),
	    cmocka_unit_test_setup(test_thre_interrupt, setup),
	    cmocka_unit_test_setup(test_rx_fifo_and_interrupt, setup),
	    cmocka_unit_test_setup(test_rx_without_fifo, setup),
	    cmocka_unit_test_setup(test_dlab, setup),
	    cmocka_unit_test_setup(test_whole_bytes_from_reset_state, setup),
	    cmocka_unit_test_setup(test_loopback, setup),
	    cmocka_unit_test_setup(test_interrupt_priority, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

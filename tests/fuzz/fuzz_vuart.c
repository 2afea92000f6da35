/* SPDX-License-Identifier: MIT */
/*
 * The virtual 16550A UART (hypervisor/arch/x86/hvm/vuart.c): port reads
 * and writes of any offset and value from the guest, interleaved with
 * bytes arriving from the console.
 *
 * Input: operations, each an opcode byte and its operands. The harness
 * checks what the header promises: the interrupt callback only reports
 * changes, loopback never transmits, the receive buffer never holds more
 * than its capacity.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vuart.h>

FUZZ_SHIM_INIT()

#define MCR_LOOP   0x10
#define FCR_ENABLE 0x01

static struct vuart uart;
static bool irq_line;

static void fake_tx(void *ctx, uint8_t byte)
{
	(void)ctx;
	(void)byte;
	FUZZ_CHECK(!(uart.mcr & MCR_LOOP));
}

static void fake_irq(void *ctx, bool level)
{
	(void)ctx;
	FUZZ_CHECK(level != irq_line);
	irq_line = level;
}

static const struct vuart_env env = {
    .tx = fake_tx,
    .irq = fake_irq,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input fi = fuzz_input(data, size);
	unsigned ops = 0;

	irq_line = false;
	memset(&uart, 0xA5, sizeof(uart));
	vuart_init(&uart, &env, NULL);

	while (fi.left && ops++ < 512) {
		uint8_t op = fuzz_u8(&fi), val;
		unsigned off;
		bool space;
		int rc;

		switch (op % 4) {
		case 0: /* OUT; offsets past 7 must be refused */
			off = fuzz_u8(&fi) % 10;
			rc = vuart_io_write(&uart, off, fuzz_u8(&fi));
			FUZZ_CHECK(off < 8 ? rc == 0 : rc == -EINVAL);
			break;
		case 1: /* IN */
			off = fuzz_u8(&fi) % 10;
			rc = vuart_io_read(&uart, off, &val);
			FUZZ_CHECK(off < 8 ? rc == 0 : rc == -EINVAL);
			break;
		case 2: /* the console has bytes for the guest */
		case 3:
			space = vuart_rx_space(&uart);
			FUZZ_CHECK(vuart_rx_push(&uart, fuzz_u8(&fi)) == space);
			break;
		}
		FUZZ_CHECK(uart.rx_count <=
			   ((uart.fcr & FCR_ENABLE) ? VUART_FIFO_SIZE : 1));
		FUZZ_CHECK(uart.rx_head < VUART_FIFO_SIZE);
		FUZZ_CHECK(uart.irq_level == irq_line);
	}
	return 0;
}

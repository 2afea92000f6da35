/* SPDX-License-Identifier: MIT */
/*
 * The MMIO instruction decoder (hypervisor/arch/x86/hvm/decode.c): every
 * byte it sees comes from guest memory.
 *
 * Input: a mode byte, an "available bytes" byte, up to 15 instruction
 * bytes, then 16 guest registers and the value an MMIO load returns. The
 * instruction is handed over in a heap block of exactly the available
 * length, so AddressSanitizer sees any read past it.
 */
#include "fuzz.h"

#include <stdbool.h>

#include <keel/decode.h>
#include <keel/errno.h>
#include <keel/lib.h>

FUZZ_SHIM_INIT()

static bool valid_size(unsigned s)
{
	return s == 1 || s == 2 || s == 4 || s == 8;
}

static void check_decoded(const struct mmio_insn *in, size_t avail)
{
	FUZZ_CHECK(in->len >= 1 && in->len <= INSN_MAX_LEN);
	FUZZ_CHECK(in->len <= avail);
	FUZZ_CHECK(valid_size(in->size));
	FUZZ_CHECK(in->reg < 16);
	FUZZ_CHECK(!in->high_byte || (in->size == 1 && in->reg < 4));
	FUZZ_CHECK(!in->has_imm || in->write);
	if (in->write)
		FUZZ_CHECK(in->dst_size == 0 && !in->sign_extend);
	else
		FUZZ_CHECK(valid_size(in->dst_size) &&
			   in->dst_size >= in->size);
	if (in->has_imm && in->size < 8)
		FUZZ_CHECK(in->imm < BIT(in->size * 8));
}

/* A load writes its destination register and no other. */
static void check_load(const struct mmio_insn *in, const uint64_t gpr[16],
		       uint64_t value)
{
	uint64_t after[16];

	memcpy(after, gpr, sizeof(after));
	insn_mmio_load_result(in, after, value);
	for (unsigned r = 0; r < 16; r++)
		if (in->write || r != (in->reg & 15u))
			FUZZ_CHECK(after[r] == gpr[r]);
	if (!in->write && in->dst_size == 4)
		FUZZ_CHECK(after[in->reg] >> 32 == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input fi = fuzz_input(data, size);
	enum insn_cpu_mode mode = (enum insn_cpu_mode)(fuzz_u8(&fi) % 3);
	size_t want = fuzz_u8(&fi) % (INSN_MAX_LEN + 1);
	uint8_t bytes[INSN_MAX_LEN];
	uint64_t gpr[16], value, stored;
	struct mmio_insn in, again;
	size_t avail;
	uint8_t *heap;
	int rc;

	avail = fuzz_bytes(&fi, bytes, want);
	fuzz_bytes(&fi, gpr, sizeof(gpr));
	value = fuzz_u64(&fi);

	/* malloc(0) may return NULL: keep one byte, pass a length of 0. */
	heap = malloc(avail ? avail : 1);
	FUZZ_CHECK(heap);
	memcpy(heap, bytes, avail);
	rc = insn_decode_mmio(heap, avail, mode, &in);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -EAGAIN);
	if (rc == -EAGAIN)
		FUZZ_CHECK(avail < INSN_MAX_LEN);
	if (rc == 0) {
		check_decoded(&in, avail);
		/* The instruction's own bytes decode the same on their own. */
		FUZZ_CHECK(insn_decode_mmio(heap, in.len, mode, &again) == 0);
		FUZZ_CHECK(memcmp(&in, &again, sizeof(in)) == 0);
		stored = insn_mmio_store_value(&in, gpr);
		if (in.size < 8)
			FUZZ_CHECK(stored < BIT(in.size * 8));
		check_load(&in, gpr, value);
	}
	free(heap);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * Decoder for the MOV instructions guests use on emulated MMIO pages (xAPIC,
 * IOAPIC). The faulting guest-physical address is known from the exit, so
 * the decoder only finds what is moved, in which direction, how wide, and
 * the instruction's length to advance RIP past it.
 *
 * Supported (Intel SDM vol. 2, ch. 2 and the MOV/MOVZX/MOVSX pages):
 *   legacy prefixes 66, 67, 2E/36/3E/26/64/65, F2/F3 on one-byte MOVs only
 *   (they are ignored there); REX in 64-bit mode;
 *   88/89 store reg, 8A/8B load reg, C6/C7 /0 store immediate,
 *   0F B6/B7 movzx, 0F BE/BF movsx, A0-A3 moffs forms;
 *   every ModRM/SIB/displacement form of 16-, 32- and 64-bit addressing.
 */
#ifndef KEEL_DECODE_H
#define KEEL_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Architectural maximum instruction length (SDM vol. 2, 2.3.11). */
#define INSN_MAX_LEN 15

/* Code segment mode: 64 is long mode with CS.L=1, else CS.D picks 32/16. */
enum insn_cpu_mode { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

struct mmio_insn {
	uint8_t len;  /* total instruction length */
	uint8_t size; /* memory access size in bytes: 1, 2, 4 or 8 */
	bool write;   /* true: the instruction writes memory */
	bool has_imm; /* store of an immediate (C6/C7) */
	uint64_t imm; /* the immediate, masked to size (C7 with REX.W:
			 imm32 sign-extended to 64 bits) */
	/*
	 * Index into gpr[] (hardware encoding: 0=RAX 1=RCX 2=RDX 3=RBX 4=RSP
	 * 5=RBP 6=RSI 7=RDI 8..15=R8..R15) of the register loaded or stored.
	 * For AH/CH/DH/BH it is the register holding the byte (0..3) and
	 * high_byte is set.
	 */
	uint8_t reg;
	bool high_byte;	  /* bits 15:8 of gpr[reg] (8-bit access, no REX) */
	uint8_t dst_size; /* loads: destination register width in bytes
			     (wider than size for movzx/movsx); 0 for stores */
	bool sign_extend; /* movsx */
};

/* What an instruction's prefixes say (SDM vol. 2, 2.1.1 and 2.2.1). */
struct insn_prefixes {
	uint8_t len;   /* prefix bytes, the opcode follows */
	uint8_t rex;   /* 0 without one; counts only right before the opcode */
	bool opsize;   /* 66 */
	bool addrsize; /* 67 */
	bool rep;      /* F2 or F3 */
	bool lock;     /* F0 */
};

/*
 * Reads the legacy and (in 64-bit mode) REX prefixes at bytes[0..avail).
 * Returns 0, -EAGAIN when the bytes end inside them, or -EINVAL when they
 * run past the 15-byte limit. Shared by the MMIO decoder and by the
 * instruction-length checks of intercepted instructions (hvm/exit.c).
 */
int insn_prefixes(const uint8_t *bytes, size_t avail, enum insn_cpu_mode mode,
		  struct insn_prefixes *p);

/*
 * Decodes the instruction at bytes[0..avail). Returns 0, -EINVAL for an
 * unsupported or invalid instruction (including one longer than 15 bytes),
 * or -EAGAIN when it continues past avail (fetch more bytes and retry).
 */
int insn_decode_mmio(const uint8_t *bytes, size_t avail,
		     enum insn_cpu_mode mode, struct mmio_insn *out);

/* The value a store writes, masked to its size. */
uint64_t insn_mmio_store_value(const struct mmio_insn *in,
			       const uint64_t gpr[16]);

/*
 * Writes the value a load read (low in->size bytes of value) to its
 * destination register with architectural semantics: a 32-bit destination
 * zero-extends to 64 bits, 8- and 16-bit destinations keep the other bits,
 * movzx/movsx extend first. Does nothing for stores.
 */
void insn_mmio_load_result(const struct mmio_insn *in, uint64_t gpr[16],
			   uint64_t value);

#endif

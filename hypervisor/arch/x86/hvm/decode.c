/* SPDX-License-Identifier: MIT */
/*
 * MMIO MOV decoder (keel/decode.h). The encoding rules cited below are from
 * the Intel SDM vol. 2, chapter 2 ("Instruction Format"); AMD APM vol. 3
 * chapter 1 says the same.
 */
#include <keel/decode.h>
#include <keel/errno.h>
#include <keel/lib.h>

#define PREFIX_OPSIZE	0x66
#define PREFIX_ADDRSIZE 0x67
#define PREFIX_LOCK	0xf0
#define PREFIX_REPNE	0xf2
#define PREFIX_REP	0xf3
#define OPCODE_ESCAPE	0x0f

#define REX_W 0x8
#define REX_R 0x4

#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m)  ((m)&7)
#define SIB_BASE(s)  ((s)&7)

/* Reads the instruction byte by byte, enforcing both limits. */
struct insn_cursor {
	const uint8_t *bytes;
	size_t avail;
	size_t pos;
};

static int fetch(struct insn_cursor *c, uint8_t *v)
{
	if (c->pos >= INSN_MAX_LEN)
		return -EINVAL;
	if (c->pos >= c->avail)
		return -EAGAIN;
	*v = c->bytes[c->pos++];
	return 0;
}

static int skip(struct insn_cursor *c, unsigned n)
{
	uint8_t unused;
	int rc;

	while (n--) {
		rc = fetch(c, &unused);
		if (rc)
			return rc;
	}
	return 0;
}

int insn_prefixes(const uint8_t *bytes, size_t avail, enum insn_cpu_mode mode,
		  struct insn_prefixes *p)
{
	struct insn_cursor c = {bytes, avail, 0};
	uint8_t b;
	int rc;

	memset(p, 0, sizeof(*p));
	for (;;) {
		rc = fetch(&c, &b);
		if (rc)
			return rc;
		if (mode == INSN_MODE_64 && (b & 0xf0) == 0x40) {
			p->rex = b;
			continue;
		}
		switch (b) {
		case PREFIX_OPSIZE:
			p->opsize = true;
			break;
		case PREFIX_ADDRSIZE:
			p->addrsize = true;
			break;
		case 0x26: /* ES, CS, SS, DS, FS, GS overrides */
		case 0x2e:
		case 0x36:
		case 0x3e:
		case 0x64:
		case 0x65:
			break;
		case PREFIX_REPNE:
		case PREFIX_REP:
			p->rep = true;
			break;
		case PREFIX_LOCK:
			p->lock = true;
			break;
		default:
			p->len = (uint8_t)(c.pos - 1);
			return 0;
		}
		p->rex = 0; /* a REX not directly before the opcode */
	}
}

/* Little-endian immediate of n bytes. */
static int fetch_imm(struct insn_cursor *c, unsigned n, uint64_t *v)
{
	uint8_t b;
	int rc;

	*v = 0;
	for (unsigned i = 0; i < n; i++) {
		rc = fetch(c, &b);
		if (rc)
			return rc;
		*v |= (uint64_t)b << (8 * i);
	}
	return 0;
}

/*
 * Consumes a ModRM byte with a memory operand and whatever SIB and
 * displacement follow (SDM vol. 2, tables 2-1 to 2-3; in 64-bit mode
 * mod=00 rm=101 is RIP-relative with a disp32, 2.2.1.6). REX.B and REX.X
 * never change these lengths: only the low three bits are looked at.
 */
static int fetch_modrm_memory(struct insn_cursor *c, unsigned addr_size,
			      uint8_t *reg_field)
{
	uint8_t modrm, sib;
	unsigned mod, rm, disp;
	int rc;

	rc = fetch(c, &modrm);
	if (rc)
		return rc;
	mod = MODRM_MOD(modrm);
	rm = MODRM_RM(modrm);
	*reg_field = MODRM_REG(modrm);
	if (mod == 3)
		return -EINVAL; /* a register operand: no memory access */

	if (addr_size == 2) {
		/* 16-bit forms: mod=00 rm=110 is a bare disp16. */
		if (mod == 1)
			disp = 1;
		else if (mod == 2 || rm == 6)
			disp = 2;
		else
			disp = 0;
		return skip(c, disp);
	}

	if (mod == 1)
		disp = 1;
	else if (mod == 2 || rm == 5)
		disp = 4;
	else
		disp = 0;
	if (rm == 4) {
		rc = fetch(c, &sib);
		if (rc)
			return rc;
		/* SIB base=101 with mod=00: no base register, disp32. */
		if (mod == 0 && SIB_BASE(sib) == 5)
			disp = 4;
	}
	return skip(c, disp);
}

/*
 * An 8-bit register operand: without REX, encodings 4..7 are AH, CH, DH,
 * BH; with any REX they are SPL, BPL, SIL, DIL (SDM vol. 2, 3.1.1.1).
 */
static void set_byte_reg(struct mmio_insn *out, unsigned reg, uint8_t rex)
{
	if (!rex && reg >= 4 && reg < 8) {
		out->reg = reg - 4;
		out->high_byte = true;
	} else {
		out->reg = reg;
	}
}

int insn_decode_mmio(const uint8_t *bytes, size_t avail,
		     enum insn_cpu_mode mode, struct mmio_insn *out)
{
	struct insn_cursor c = {bytes, avail, 0};
	struct insn_prefixes pfx;
	unsigned op_size, addr_size, reg;
	uint8_t rex, opcode, reg_field;
	bool opsize_prefix, addrsize_prefix, rep;
	uint64_t imm;
	int rc;

	if (mode != INSN_MODE_16 && mode != INSN_MODE_32 &&
	    mode != INSN_MODE_64)
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	rc = insn_prefixes(bytes, avail, mode, &pfx);
	if (rc)
		return rc;
	if (pfx.lock)
		return -EINVAL; /* LOCK MOV is #UD */
	rex = pfx.rex;
	opsize_prefix = pfx.opsize;
	addrsize_prefix = pfx.addrsize;
	rep = pfx.rep;
	c.pos = pfx.len;
	rc = fetch(&c, &opcode);
	if (rc)
		return rc;

	/* Operand and address size (SDM vol. 1, 3.6 and table 3-4). */
	if (mode == INSN_MODE_16)
		op_size = opsize_prefix ? 4 : 2;
	else
		op_size = opsize_prefix ? 2 : 4;
	if (rex & REX_W)
		op_size = 8;
	if (mode == INSN_MODE_64)
		addr_size = addrsize_prefix ? 4 : 8;
	else if (mode == INSN_MODE_32)
		addr_size = addrsize_prefix ? 2 : 4;
	else
		addr_size = addrsize_prefix ? 4 : 2;

	switch (opcode) {
	case 0x88: /* MOV r/m8, r8 */
	case 0x89: /* MOV r/m, r */
	case 0x8a: /* MOV r8, r/m8 */
	case 0x8b: /* MOV r, r/m */
		rc = fetch_modrm_memory(&c, addr_size, &reg_field);
		if (rc)
			return rc;
		reg = reg_field | (rex & REX_R ? 8 : 0);
		out->write = opcode == 0x88 || opcode == 0x89;
		out->size = (opcode & 1) ? op_size : 1;
		if (out->size == 1)
			set_byte_reg(out, reg, rex);
		else
			out->reg = reg;
		if (!out->write)
			out->dst_size = out->size;
		break;

	case 0xc6: /* MOV r/m8, imm8 */
	case 0xc7: /* MOV r/m, imm16/32 */
		rc = fetch_modrm_memory(&c, addr_size, &reg_field);
		if (rc)
			return rc;
		if (reg_field != 0)
			return -EINVAL; /* only /0 is MOV */
		out->write = true;
		out->has_imm = true;
		out->size = opcode == 0xc6 ? 1 : op_size;
		rc = fetch_imm(&c, MIN(out->size, 4), &imm);
		if (rc)
			return rc;
		/* With REX.W the imm32 is sign-extended to 64 bits. */
		if (out->size == 8 && (imm & BIT(31)))
			imm |= 0xffffffff00000000ULL;
		out->imm = imm;
		break;

	case 0xa0: /* MOV AL, moffs8 */
	case 0xa1: /* MOV rAX, moffs */
	case 0xa2: /* MOV moffs8, AL */
	case 0xa3: /* MOV moffs, rAX */
		/* The offset is address-size wide: 8 bytes in 64-bit mode. */
		rc = skip(&c, addr_size);
		if (rc)
			return rc;
		out->write = opcode >= 0xa2;
		out->size = (opcode & 1) ? op_size : 1;
		out->reg = 0;
		if (!out->write)
			out->dst_size = out->size;
		break;

	case OPCODE_ESCAPE:
		/* F2/F3 select other instructions in the 0F map. */
		if (rep)
			return -EINVAL;
		rc = fetch(&c, &opcode);
		if (rc)
			return rc;
		if (opcode != 0xb6 && opcode != 0xb7 && opcode != 0xbe &&
		    opcode != 0xbf)
			return -EINVAL;
		rc = fetch_modrm_memory(&c, addr_size, &reg_field);
		if (rc)
			return rc;
		out->reg = reg_field | (rex & REX_R ? 8 : 0);
		out->size = (opcode & 1) ? 2 : 1;
		out->dst_size = op_size;
		out->sign_extend = opcode >= 0xbe;
		break;

	default:
		return -EINVAL;
	}
	out->len = c.pos;
	return 0;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ULL : BIT(size * 8) - 1;
}

uint64_t insn_mmio_store_value(const struct mmio_insn *in,
			       const uint64_t gpr[16])
{
	uint64_t v;

	if (in->has_imm)
		v = in->imm;
	else if (in->high_byte)
		v = gpr[in->reg & 15] >> 8;
	else
		v = gpr[in->reg & 15];
	return v & size_mask(in->size);
}

void insn_mmio_load_result(const struct mmio_insn *in, uint64_t gpr[16],
			   uint64_t value)
{
	uint64_t *r = &gpr[in->reg & 15];
	uint64_t v = value & size_mask(in->size);

	if (in->write)
		return;
	if (in->sign_extend && in->size < 8 && (v & BIT(in->size * 8 - 1)))
		v |= ~size_mask(in->size);

	switch (in->dst_size) {
	case 1:
		if (in->high_byte)
			*r = (*r & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			*r = (*r & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		*r = (*r & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		/* 32-bit results zero-extend (SDM vol. 1, 3.4.1.1). */
		*r = (uint32_t)v;
		break;
	case 8:
		*r = v;
		break;
	}
}

/* SPDX-License-Identifier: MIT */
/* MMIO instruction decoder (hypervisor/arch/x86/hvm/decode.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <keel/decode.h>
#include <keel/errno.h>
#include <keel/lib.h>

struct decode_case {
	const char *what;
	enum insn_cpu_mode mode;
	uint8_t bytes[INSN_MAX_LEN + 2];
	size_t nbytes;
	int rc;
	struct mmio_insn want;
};

#define M64	   INSN_MODE_64
#define M32	   INSN_MODE_32
#define M16	   INSN_MODE_16
#define BYTES(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})
#define ST(l, s, r)                                                            \
	{                                                                      \
		.len = l, .size = s, .write = true, .reg = r                   \
	}
#define LD(l, s, r)                                                            \
	{                                                                      \
		.len = l, .size = s, .reg = r, .dst_size = s                   \
	}

static const struct decode_case cases[] = {
    /* 64-bit mode: stores of registers */
    {"mov [rax],ecx", M64, BYTES(0x89, 0x08), 0, ST(2, 4, 1)},
    {"mov [rax],rcx", M64, BYTES(0x48, 0x89, 0x08), 0, ST(3, 8, 1)},
    {"mov [rax],r8", M64, BYTES(0x4c, 0x89, 0x00), 0, ST(3, 8, 8)},
    {"mov [rax],cx", M64, BYTES(0x66, 0x89, 0x08), 0, ST(3, 2, 1)},
    {"REX.W beats 66", M64, BYTES(0x66, 0x48, 0x89, 0x08), 0, ST(4, 8, 1)},
    {"REX before 66 is dropped", M64, BYTES(0x48, 0x66, 0x89, 0x08), 0,
     ST(4, 2, 1)},
    {"last REX counts", M64, BYTES(0x4c, 0x41, 0x89, 0x08), 0, ST(4, 4, 1)},
    {"mov [rbx+rcx*4],r8d", M64, BYTES(0x44, 0x89, 0x04, 0x8b), 0, ST(4, 4, 8)},
    {"mov [r12+r9*4],eax (REX.XB)", M64, BYTES(0x43, 0x89, 0x04, 0x8c), 0,
     ST(4, 4, 0)},
    {"mov [r12],eax needs SIB", M64, BYTES(0x41, 0x89, 0x04, 0x24), 0,
     ST(4, 4, 0)},
    {"mov [r13+0],eax disp8", M64, BYTES(0x41, 0x89, 0x45, 0x00), 0,
     ST(4, 4, 0)},
    {"mov [r12*1+disp32],eax SIB no base", M64,
     BYTES(0x42, 0x89, 0x04, 0x25, 0x44, 0x33, 0x22, 0x11), 0, ST(8, 4, 0)},
    {"mov [r13*2+disp32] REX.B on SIB base 101", M64,
     BYTES(0x43, 0x89, 0x04, 0x6d, 0x00, 0x00, 0x00, 0x80), 0, ST(8, 4, 0)},
    {"mov [rsp+8],eax", M64, BYTES(0x89, 0x44, 0x24, 0x08), 0, ST(4, 4, 0)},
    {"mov [rsp+0x100],eax", M64,
     BYTES(0x89, 0x84, 0x24, 0x00, 0x01, 0x00, 0x00), 0, ST(7, 4, 0)},
    {"mov [rax+rcx*4+0x1000],rcx", M64,
     BYTES(0x48, 0x89, 0x8c, 0x88, 0x00, 0x10, 0x00, 0x00), 0, ST(8, 8, 1)},
    {"mov [rip+disp32],eax", M64, BYTES(0x89, 0x05, 0x78, 0x56, 0x34, 0x12), 0,
     ST(6, 4, 0)},
    {"mov [rax+0xfee00300],edx", M64, BYTES(0x89, 0x90, 0x00, 0x03, 0xe0, 0xfe),
     0, ST(6, 4, 2)},
    {"mov [eax],ecx addr32", M64, BYTES(0x67, 0x89, 0x08), 0, ST(3, 4, 1)},
    {"mov fs:[rax],ecx", M64, BYTES(0x64, 0x89, 0x08), 0, ST(3, 4, 1)},
    {"all segment overrides", M64,
     BYTES(0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x89, 0x08), 0, ST(8, 4, 1)},
    {"rep mov is harmless", M64, BYTES(0xf3, 0x89, 0x08), 0, ST(3, 4, 1)},
    {"xrelease mov is harmless", M64, BYTES(0xf2, 0x88, 0x08), 0, ST(3, 1, 1)},
    /* byte registers */
    {"mov [rax],ah",
     M64,
     BYTES(0x88, 0x20),
     0,
     {.len = 2, .size = 1, .write = true, .reg = 0, .high_byte = true}},
    {"mov [rax],spl", M64, BYTES(0x40, 0x88, 0x20), 0, ST(3, 1, 4)},
    {"mov [rax],r12b", M64, BYTES(0x44, 0x88, 0x20), 0, ST(3, 1, 12)},
    {"mov bh,[rsi]",
     M64,
     BYTES(0x8a, 0x3e),
     0,
     {.len = 2, .size = 1, .reg = 3, .high_byte = true, .dst_size = 1}},
    {"mov dil,[rsi]", M64, BYTES(0x40, 0x8a, 0x3e), 0, LD(3, 1, 7)},
    {"mov r15b,[rsi]", M64, BYTES(0x44, 0x8a, 0x3e), 0, LD(3, 1, 15)},
    {"mov dl,[rax] 66 ignored", M64, BYTES(0x66, 0x8a, 0x10), 0, LD(3, 1, 2)},
    /* loads */
    {"mov ecx,[rip+0x1000]", M64, BYTES(0x8b, 0x0d, 0x00, 0x10, 0x00, 0x00), 0,
     LD(6, 4, 1)},
    {"mov r11,[rdi+8]", M64, BYTES(0x4c, 0x8b, 0x5f, 0x08), 0, LD(4, 8, 11)},
    {"mov ax,[rbp]", M64, BYTES(0x66, 0x8b, 0x45, 0x00), 0, LD(4, 2, 0)},
    /* immediates */
    {"mov dword [rax],imm32",
     M64,
     BYTES(0xc7, 0x00, 0x44, 0x33, 0x22, 0x11),
     0,
     {.len = 6, .size = 4, .write = true, .has_imm = true, .imm = 0x11223344}},
    {"mov word [rax],imm16",
     M64,
     BYTES(0x66, 0xc7, 0x00, 0x34, 0x12),
     0,
     {.len = 5, .size = 2, .write = true, .has_imm = true, .imm = 0x1234}},
    {"mov qword [rax],-1",
     M64,
     BYTES(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0xff),
     0,
     {.len = 7, .size = 8, .write = true, .has_imm = true, .imm = ~0ULL}},
    {"mov qword [rax+0x300],0x80000000 sign-extends",
     M64,
     BYTES(0x48, 0xc7, 0x80, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80),
     0,
     {.len = 11,
      .size = 8,
      .write = true,
      .has_imm = true,
      .imm = 0xffffffff80000000ULL}},
    {"mov dword [rax],0x80000000 stays 32-bit",
     M64,
     BYTES(0xc7, 0x00, 0x00, 0x00, 0x00, 0x80),
     0,
     {.len = 6, .size = 4, .write = true, .has_imm = true, .imm = 0x80000000}},
    {"mov byte [rip+0x10],0x7f",
     M64,
     BYTES(0xc6, 0x05, 0x10, 0x00, 0x00, 0x00, 0x7f),
     0,
     {.len = 7, .size = 1, .write = true, .has_imm = true, .imm = 0x7f}},
    {"mov byte [r12+rax*8+1],0xaa",
     M64,
     BYTES(0x41, 0xc6, 0x44, 0xc4, 0x01, 0xaa),
     0,
     {.len = 6, .size = 1, .write = true, .has_imm = true, .imm = 0xaa}},
    /* movzx / movsx */
    {"movzx ecx,byte [rax]",
     M64,
     BYTES(0x0f, 0xb6, 0x08),
     0,
     {.len = 3, .size = 1, .reg = 1, .dst_size = 4}},
    {"movzx rcx,word [rax]",
     M64,
     BYTES(0x48, 0x0f, 0xb7, 0x08),
     0,
     {.len = 4, .size = 2, .reg = 1, .dst_size = 8}},
    {"movzx cx,byte [rax]",
     M64,
     BYTES(0x66, 0x0f, 0xb6, 0x08),
     0,
     {.len = 4, .size = 1, .reg = 1, .dst_size = 2}},
    {"movzx esi,byte [rax] no high byte",
     M64,
     BYTES(0x0f, 0xb6, 0x30),
     0,
     {.len = 3, .size = 1, .reg = 6, .dst_size = 4}},
    {"movsx ecx,byte [rax]",
     M64,
     BYTES(0x0f, 0xbe, 0x08),
     0,
     {.len = 3, .size = 1, .reg = 1, .dst_size = 4, .sign_extend = true}},
    {"movsx r9,word [rax+0x10]",
     M64,
     BYTES(0x4c, 0x0f, 0xbf, 0x48, 0x10),
     0,
     {.len = 5, .size = 2, .reg = 9, .dst_size = 8, .sign_extend = true}},
    /* moffs */
    {"movabs rax,[moffs64]", M64, BYTES(0x48, 0xa1, 1, 2, 3, 4, 5, 6, 7, 8), 0,
     LD(10, 8, 0)},
    {"movabs [moffs64],eax", M64, BYTES(0xa3, 1, 2, 3, 4, 5, 6, 7, 8), 0,
     ST(9, 4, 0)},
    {"movabs [moffs64],al", M64, BYTES(0xa2, 1, 2, 3, 4, 5, 6, 7, 8), 0,
     ST(9, 1, 0)},
    {"mov eax,[moffs32] addr32", M64, BYTES(0x67, 0xa1, 1, 2, 3, 4), 0,
     LD(6, 4, 0)},
    /* longest legal: 13 prefixes + 2 bytes = 15 */
    {"15 bytes", M64,
     BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	   0x66, 0x66, 0x89, 0x08),
     0, ST(15, 2, 1)},

    /* rejected */
    {"16 bytes",
     M64,
     BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	   0x66, 0x66, 0x66, 0x89, 0x08),
     -EINVAL,
     {0}},
    {"16 bytes via displacement",
     M64,
     BYTES(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x89,
	   0x80, 0, 0, 0, 0),
     -EINVAL,
     {0}},
    {"lock mov", M64, BYTES(0xf0, 0x89, 0x08), -EINVAL, {0}},
    {"register operand", M64, BYTES(0x89, 0xc8), -EINVAL, {0}},
    {"c7 /1", M64, BYTES(0xc7, 0x08, 0, 0, 0, 0), -EINVAL, {0}},
    {"xbegin", M64, BYTES(0xc7, 0xf8, 0, 0, 0, 0), -EINVAL, {0}},
    {"syscall", M64, BYTES(0x0f, 0x05), -EINVAL, {0}},
    {"add [rax],ecx", M64, BYTES(0x01, 0x08), -EINVAL, {0}},
    {"rep movzx is another opcode",
     M64,
     BYTES(0xf3, 0x0f, 0xb6, 0x08),
     -EINVAL,
     {0}},
    {"popcnt", M64, BYTES(0xf3, 0x0f, 0xb8, 0x08), -EINVAL, {0}},
    {"vex", M64, BYTES(0xc5, 0xf9, 0x7e, 0x00), -EINVAL, {0}},
    {"movs string", M64, BYTES(0xa5), -EINVAL, {0}},
    {"stack push", M64, BYTES(0xff, 0x30), -EINVAL, {0}},

    /* truncated */
    {"no bytes", M64, BYTES(0x89), -EAGAIN, {0}}, /* nbytes fixed below */
    {"opcode only", M64, BYTES(0x89), -EAGAIN, {0}},
    {"half a displacement", M64, BYTES(0x89, 0x05, 0x78, 0x56), -EAGAIN, {0}},
    {"missing SIB", M64, BYTES(0x89, 0x04), -EAGAIN, {0}},
    {"missing immediate", M64, BYTES(0xc7, 0x00, 0x44, 0x33), -EAGAIN, {0}},
    {"missing 0F opcode", M64, BYTES(0x0f), -EAGAIN, {0}},
    {"prefixes only", M64, BYTES(0x66, 0x48), -EAGAIN, {0}},

    /* 32-bit mode */
    {"32: mov [eax],ecx", M32, BYTES(0x89, 0x08), 0, ST(2, 4, 1)},
    {"32: mov [eax],cx", M32, BYTES(0x66, 0x89, 0x08), 0, ST(3, 2, 1)},
    {"32: mov [disp32],eax is absolute", M32,
     BYTES(0x89, 0x05, 0x00, 0x03, 0xe0, 0xfe), 0, ST(6, 4, 0)},
    {"32: 48 is dec eax", M32, BYTES(0x48, 0x89, 0x08), -EINVAL, {0}},
    {"32: mov eax,[moffs32]", M32, BYTES(0xa1, 0x00, 0x03, 0xc0, 0xfe), 0,
     LD(5, 4, 0)},
    {"32: mov [esp],ah",
     M32,
     BYTES(0x88, 0x24, 0x24),
     0,
     {.len = 3, .size = 1, .write = true, .reg = 0, .high_byte = true}},
    {"32: mov word [eax],imm16",
     M32,
     BYTES(0x66, 0xc7, 0x00, 0x34, 0x12),
     0,
     {.len = 5, .size = 2, .write = true, .has_imm = true, .imm = 0x1234}},
    {"32: mov [bx],eax addr16", M32, BYTES(0x67, 0x89, 0x07), 0, ST(3, 4, 0)},
    {"32: mov [disp16],eax addr16", M32, BYTES(0x67, 0x89, 0x06, 0x34, 0x12), 0,
     ST(5, 4, 0)},
    {"32: mov ax,[moffs16] addr16", M32, BYTES(0x66, 0x67, 0xa1, 0x34, 0x12), 0,
     LD(5, 2, 0)},

    /* 16-bit mode: ModRM table 2-1 */
    {"16: mov [bx],ax", M16, BYTES(0x89, 0x07), 0, ST(2, 2, 0)},
    {"16: mov [si],ax", M16, BYTES(0x89, 0x04), 0, ST(2, 2, 0)},
    {"16: mov [disp16],ax", M16, BYTES(0x89, 0x06, 0x34, 0x12), 0, ST(4, 2, 0)},
    {"16: mov [bp+0],ax", M16, BYTES(0x89, 0x46, 0x00), 0, ST(3, 2, 0)},
    {"16: mov [bx+0x10],ax", M16, BYTES(0x89, 0x47, 0x10), 0, ST(3, 2, 0)},
    {"16: mov [bx+si+disp16],dx", M16, BYTES(0x89, 0x90, 0x34, 0x12), 0,
     ST(4, 2, 2)},
    {"16: mov [bx],eax", M16, BYTES(0x66, 0x89, 0x07), 0, ST(3, 4, 0)},
    {"16: mov word [0x300],imm16",
     M16,
     BYTES(0xc7, 0x06, 0x00, 0x03, 0x34, 0x12),
     0,
     {.len = 6, .size = 2, .write = true, .has_imm = true, .imm = 0x1234}},
    {"16: mov dword [0x300],imm32",
     M16,
     BYTES(0x66, 0xc7, 0x06, 0x00, 0x03, 0x78, 0x56, 0x34, 0x12),
     0,
     {.len = 9, .size = 4, .write = true, .has_imm = true, .imm = 0x12345678}},
    {"16: mov [esp],ax addr32 SIB", M16, BYTES(0x67, 0x89, 0x04, 0x24), 0,
     ST(4, 2, 0)},
    {"16: mov [disp32],ax addr32", M16,
     BYTES(0x67, 0x89, 0x05, 0x44, 0x33, 0x22, 0x11), 0, ST(7, 2, 0)},
    {"16: mov ax,[moffs16]", M16, BYTES(0xa1, 0x34, 0x12), 0, LD(3, 2, 0)},
    {"16: movzx ax,byte [bx]",
     M16,
     BYTES(0x0f, 0xb6, 0x07),
     0,
     {.len = 3, .size = 1, .reg = 0, .dst_size = 2}},
    {"16: mov ah,[bx]",
     M16,
     BYTES(0x8a, 0x27),
     0,
     {.len = 2, .size = 1, .reg = 0, .high_byte = true, .dst_size = 1}},
};

static void test_decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct decode_case *t = &cases[i];
		size_t avail = strcmp(t->what, "no bytes") ? t->nbytes : 0;
		struct mmio_insn got;
		int rc;

		rc = insn_decode_mmio(t->bytes, avail, t->mode, &got);
		if (rc != t->rc)
			fail_msg("%s: rc %d, want %d", t->what, rc, t->rc);
		if (rc)
			continue;
		if (memcmp(&got, &t->want, sizeof(got)) != 0)
			fail_msg("%s: got len %u size %u write %d imm %d/%#llx "
				 "reg %u high %d dst %u sx %d",
				 t->what, got.len, got.size, got.write,
				 got.has_imm, (unsigned long long)got.imm,
				 got.reg, got.high_byte, got.dst_size,
				 got.sign_extend);
		/* The bytes decoded are exactly the instruction. */
		assert_int_equal(got.len, t->nbytes);
	}
}

/* Any prefix of a valid instruction needs more bytes, never succeeds. */
static void test_truncation_asks_for_more(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct decode_case *t = &cases[i];
		struct mmio_insn got;

		if (t->rc)
			continue;
		for (size_t n = 0; n < t->nbytes; n++)
			assert_int_equal(
			    insn_decode_mmio(t->bytes, n, t->mode, &got),
			    -EAGAIN);
		/* Extra bytes after the instruction are not consumed. */
		uint8_t padded[32];

		memset(padded, 0x90, sizeof(padded));
		memcpy(padded, t->bytes, t->nbytes);
		assert_int_equal(
		    insn_decode_mmio(padded, sizeof(padded), t->mode, &got), 0);
		assert_int_equal(got.len, t->nbytes);
	}
}

static void test_bad_mode(void **state)
{
	static const uint8_t insn[] = {0x89, 0x08};
	struct mmio_insn got;

	(void)state;
	assert_int_equal(
	    insn_decode_mmio(insn, sizeof(insn), (enum insn_cpu_mode)3, &got),
	    -EINVAL);
}

static struct mmio_insn decode(enum insn_cpu_mode mode, const uint8_t *b,
			       size_t n)
{
	struct mmio_insn in;

	assert_int_equal(insn_decode_mmio(b, n, mode, &in), 0);
	return in;
}

#define DECODE64(...)                                                          \
	decode(M64, (const uint8_t[]){__VA_ARGS__},                            \
	       sizeof((uint8_t[]){__VA_ARGS__}))

static void test_store_values(void **state)
{
	uint64_t gpr[16];
	struct mmio_insn in;

	(void)state;
	for (int i = 0; i < 16; i++)
		gpr[i] =
		    0x1111111111111111ULL * (uint64_t)i + 0x0102030405060708ULL;

	gpr[0] = 0x1234;
	in = DECODE64(0x88, 0x20); /* mov [rax],ah */
	assert_int_equal(insn_mmio_store_value(&in, gpr), 0x12);
	in = DECODE64(0x88, 0x00); /* mov [rax],al */
	assert_int_equal(insn_mmio_store_value(&in, gpr), 0x34);
	gpr[4] = 0xabcd;
	in = DECODE64(0x40, 0x88, 0x20); /* mov [rax],spl */
	assert_int_equal(insn_mmio_store_value(&in, gpr), 0xcd);
	gpr[1] = 0x1122334455667788ULL;
	in = DECODE64(0x66, 0x89, 0x08);
	assert_int_equal(insn_mmio_store_value(&in, gpr), 0x7788);
	in = DECODE64(0x89, 0x08);
	assert_int_equal(insn_mmio_store_value(&in, gpr), 0x55667788);
	in = DECODE64(0x48, 0x89, 0x08);
	assert_int_equal(insn_mmio_store_value(&in, gpr),
			 0x1122334455667788ULL);
	in = DECODE64(0x4c, 0x89, 0x38); /* mov [rax],r15 */
	assert_int_equal(insn_mmio_store_value(&in, gpr), gpr[15]);
	in = DECODE64(0x48, 0xc7, 0x00, 0xfe, 0xff, 0xff, 0xff);
	assert_int_equal(insn_mmio_store_value(&in, gpr),
			 0xfffffffffffffffeULL);
	in = DECODE64(0xc6, 0x00, 0x5a);
	assert_int_equal(insn_mmio_store_value(&in, gpr), 0x5a);
}

static void test_load_results(void **state)
{
	uint64_t gpr[16] = {0};
	struct mmio_insn in;

	(void)state;
	/* 32-bit destination: zero-extends, upper bus bits ignored. */
	gpr[1] = ~0ULL;
	in = DECODE64(0x8b, 0x08);
	insn_mmio_load_result(&in, gpr, 0x123456789ULL);
	assert_int_equal(gpr[1], 0x23456789);
	/* 16-bit destination merges. */
	gpr[1] = ~0ULL;
	in = DECODE64(0x66, 0x8b, 0x08);
	insn_mmio_load_result(&in, gpr, 0xaa1234);
	assert_int_equal(gpr[1], 0xffffffffffff1234ULL);
	/* 8-bit, low and high byte. */
	gpr[1] = 0x1111;
	in = DECODE64(0x8a, 0x28); /* mov ch,[rax] */
	insn_mmio_load_result(&in, gpr, 0xab);
	assert_int_equal(gpr[1], 0xab11);
	in = DECODE64(0x8a, 0x08); /* mov cl,[rax] */
	insn_mmio_load_result(&in, gpr, 0xcd);
	assert_int_equal(gpr[1], 0xabcd);
	gpr[6] = 0x7777;
	in = DECODE64(0x40, 0x8a, 0x30); /* mov sil,[rax] */
	insn_mmio_load_result(&in, gpr, 0x99);
	assert_int_equal(gpr[6], 0x7799);
	/* 64-bit. */
	in = DECODE64(0x4c, 0x8b, 0x00); /* mov r8,[rax] */
	insn_mmio_load_result(&in, gpr, 0x8877665544332211ULL);
	assert_int_equal(gpr[8], 0x8877665544332211ULL);
	/* movzx / movsx. */
	gpr[1] = ~0ULL;
	in = DECODE64(0x48, 0x0f, 0xb7, 0x08); /* movzx rcx,word */
	insn_mmio_load_result(&in, gpr, 0xffff8000);
	assert_int_equal(gpr[1], 0x8000);
	in = DECODE64(0x0f, 0xbe, 0x08); /* movsx ecx,byte */
	insn_mmio_load_result(&in, gpr, 0x80);
	assert_int_equal(gpr[1], 0xffffff80);
	in = DECODE64(0x48, 0x0f, 0xbf, 0x08); /* movsx rcx,word */
	insn_mmio_load_result(&in, gpr, 0x8000);
	assert_int_equal(gpr[1], 0xffffffffffff8000ULL);
	in = DECODE64(0x48, 0x0f, 0xbf, 0x08);
	insn_mmio_load_result(&in, gpr, 0x7fff);
	assert_int_equal(gpr[1], 0x7fff);
	gpr[1] = 0xaaaaaaaaaaaaaaaaULL;
	in = DECODE64(0x66, 0x0f, 0xbe, 0x08); /* movsx cx,byte */
	insn_mmio_load_result(&in, gpr, 0x80);
	assert_int_equal(gpr[1], 0xaaaaaaaaaaaaff80ULL);
	/* A store leaves registers alone. */
	gpr[1] = 5;
	in = DECODE64(0x89, 0x08);
	insn_mmio_load_result(&in, gpr, 0x1234);
	assert_int_equal(gpr[1], 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_table),
	    cmocka_unit_test(test_truncation_asks_for_more),
	    cmocka_unit_test(test_bad_mode),
	    cmocka_unit_test(test_store_values),
	    cmocka_unit_test(test_load_results),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

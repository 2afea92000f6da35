/* SPDX-License-Identifier: MIT */
/*
 * AML encodings from ACPI 6.5 chapter 20 (grammar in section 20.2) and the
 * resource descriptors of section 6.4. Section numbers below are ACPI 6.5.
 */
#include <errno.h>
#include <string.h>

#include <kl/aml.h>

/* 20.2.5.x opcodes and 20.2.2/20.2.3 prefixes. */
#define AML_ZERO_OP	       0x00
#define AML_ONE_OP	       0x01
#define AML_NAME_OP	       0x08
#define AML_BYTE_PREFIX	       0x0A
#define AML_WORD_PREFIX	       0x0B
#define AML_DWORD_PREFIX       0x0C
#define AML_STRING_PREFIX      0x0D
#define AML_QWORD_PREFIX       0x0E
#define AML_SCOPE_OP	       0x10
#define AML_METHOD_OP	       0x14
#define AML_NOTIFY_OP	       0x86
#define AML_BUFFER_OP	       0x11
#define AML_PACKAGE_OP	       0x12
#define AML_DUAL_NAME_PREFIX   0x2E
#define AML_MULTI_NAME_PREFIX  0x2F
#define AML_EXT_OP_PREFIX      0x5B
#define AML_DEVICE_OP	       0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR	       '\\'
#define AML_PARENT_PREFIX_CHAR '^'
#define AML_NULL_NAME	       0x00

/* 6.4.2 small and 6.4.3 large resource descriptor tags. */
#define RES_IRQ_NOFLAGS	   0x22 /* type 0x04, length 2 */
#define RES_IO		   0x47 /* type 0x08, length 7 */
#define RES_END_TAG	   0x79 /* type 0x0F, length 1 */
#define RES_MEMORY32_FIXED 0x86
#define RES_EXT_IRQ	   0x89
#define RES_IO_DECODE16	   0x01
#define RES_MEM_RW	   0x01

static void fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

long aml_finish(struct aml *a)
{
	if (!a->err && a->depth)
		fail(a, -EINVAL);
	return a->err ? a->err : (long)a->len;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void emit(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void emit_le(struct aml *a, uint64_t v, unsigned n)
{
	uint8_t b[8];

	for (unsigned i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/*
 * 20.2.4: the PkgLength counts itself. One byte holds up to 63 in bits
 * 0-5; otherwise bits 6-7 of the lead byte give the number of following
 * bytes (1-3), the lead byte's bits 0-3 hold the low nibble and each
 * following byte the next 8 bits.
 */
int aml_pkglength_encode(size_t body_len, uint8_t out[4])
{
	for (unsigned n = 1; n <= 4; n++) {
		uint64_t total = (uint64_t)body_len + n;
		uint64_t limit =
		    n == 1 ? 0x3F : (1ULL << (4 + 8 * (n - 1))) - 1;

		if (total > limit)
			continue;
		if (n == 1) {
			out[0] = (uint8_t)total;
			return 1;
		}
		out[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0F));
		for (unsigned i = 1; i < n; i++)
			out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
		return (int)n;
	}
	return -ERANGE;
}

static bool seg_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* 20.2.2 Name Objects Encoding. */
void aml_name_string(struct aml *a, const char *path)
{
	const char *p = path;
	uint8_t segs[255][4];
	unsigned n = 0;
	size_t prefix;

	while (*p == AML_ROOT_CHAR || *p == AML_PARENT_PREFIX_CHAR) {
		/* One root char, or any number of parent prefixes. */
		if (*p == AML_ROOT_CHAR && p != path)
			goto bad;
		if (*p == AML_PARENT_PREFIX_CHAR && *path == AML_ROOT_CHAR)
			goto bad;
		p++;
	}
	prefix = (size_t)(p - path);
	while (*p) {
		unsigned len = 0;

		if (n == 255)
			goto bad;
		memset(segs[n], '_', 4);
		while (*p && *p != '.') {
			if (len == 4 || !seg_char(*p, len == 0))
				goto bad;
			segs[n][len++] = (uint8_t)*p++;
		}
		if (len == 0)
			goto bad;
		n++;
		if (*p == '.' && !*++p)
			goto bad;
	}
	aml_bytes(a, path, prefix);
	if (n == 0)
		emit(a, AML_NULL_NAME);
	else if (n == 2)
		emit(a, AML_DUAL_NAME_PREFIX);
	else if (n > 2) {
		emit(a, AML_MULTI_NAME_PREFIX);
		emit(a, (uint8_t)n);
	}
	for (unsigned i = 0; i < n; i++)
		aml_bytes(a, segs[i], 4);
	return;
bad:
	fail(a, -EINVAL);
}

/* 20.2.3 Data Objects Encoding: the shortest form that holds v. */
void aml_integer(struct aml *a, uint64_t v)
{
	if (v == 0)
		emit(a, AML_ZERO_OP);
	else if (v == 1)
		emit(a, AML_ONE_OP);
	else if (v <= 0xFF) {
		emit(a, AML_BYTE_PREFIX);
		emit_le(a, v, 1);
	} else if (v <= 0xFFFF) {
		emit(a, AML_WORD_PREFIX);
		emit_le(a, v, 2);
	} else if (v <= 0xFFFFFFFF) {
		emit(a, AML_DWORD_PREFIX);
		emit_le(a, v, 4);
	} else {
		emit(a, AML_QWORD_PREFIX);
		emit_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p > 0x7F) {
			fail(a, -EINVAL);
			return;
		}
	emit(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

/*
 * The compressed EISA ID iasl's EisaId() makes: three letters of five
 * bits each ('A' is 1) and four hex digits, stored big-endian.
 */
void aml_eisaid(struct aml *a, const char *id)
{
	uint32_t v = 0;

	if (strlen(id) != 7) {
		fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			fail(a, -EINVAL);
			return;
		}
		v = v << 5 | (uint32_t)(id[i] - 'A' + 1);
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d;

		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else {
			fail(a, -EINVAL);
			return;
		}
		v = v << 4 | d;
	}
	/* 15 bits of letters and 16 of digits, with bit 31 clear. */
	emit(a, AML_DWORD_PREFIX);
	emit(a, (uint8_t)(v >> 24));
	emit(a, (uint8_t)(v >> 16));
	emit(a, (uint8_t)(v >> 8));
	emit(a, (uint8_t)v);
}

void aml_name(struct aml *a, const char *path)
{
	emit(a, AML_NAME_OP);
	aml_name_string(a, path);
}

static void open_pkg(struct aml *a, bool buffer)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		fail(a, -EINVAL);
		return;
	}
	a->open[a->depth].start = a->len;
	a->open[a->depth].buffer = buffer;
	a->open[a->depth].restemplate = 0;
	a->depth++;
}

/* 20.2.5.1 DefScope := ScopeOp PkgLength NameString TermList */
void aml_scope_begin(struct aml *a, const char *path)
{
	emit(a, AML_SCOPE_OP);
	open_pkg(a, false);
	aml_name_string(a, path);
}

/* 20.2.5.2 DefDevice := DeviceOp PkgLength NameString TermList */
void aml_device_begin(struct aml *a, const char *path)
{
	emit(a, AML_EXT_OP_PREFIX);
	emit(a, AML_DEVICE_OP);
	open_pkg(a, false);
	aml_name_string(a, path);
}

/* 20.2.5.2 DefMethod := MethodOp PkgLength NameString MethodFlags TermList
 * MethodFlags: ArgCount in bits 0-2, not serialized, SyncLevel 0. */
void aml_method_begin(struct aml *a, const char *path, unsigned nr_args)
{
	if (nr_args > 7) {
		fail(a, -EINVAL);
		return;
	}
	emit(a, AML_METHOD_OP);
	open_pkg(a, false);
	aml_name_string(a, path);
	emit(a, (uint8_t)nr_args);
}

/* 20.2.5.3 DefNotify := NotifyOp NotifyObject NotifyValue */
void aml_notify(struct aml *a, const char *path, uint64_t value)
{
	emit(a, AML_NOTIFY_OP);
	aml_name_string(a, path);
	aml_integer(a, value);
}

/* 20.2.5.4 DefPackage := PackageOp PkgLength NumElements PackageElementList */
void aml_package_begin(struct aml *a, unsigned nr_elements)
{
	if (nr_elements > 255) {
		fail(a, -EINVAL);
		return;
	}
	emit(a, AML_PACKAGE_OP);
	open_pkg(a, false);
	emit(a, (uint8_t)nr_elements);
}

/* 20.2.5.4 DefBuffer := BufferOp PkgLength BufferSize ByteList; the
 * BufferSize is inserted with the PkgLength, when the size is known. */
void aml_buffer_begin(struct aml *a)
{
	emit(a, AML_BUFFER_OP);
	open_pkg(a, true);
}

void aml_restemplate_begin(struct aml *a)
{
	aml_buffer_begin(a);
	if (!a->err)
		a->open[a->depth - 1].restemplate = a->len + 1;
}

/*
 * 6.4.2.9 End Tag: its checksum byte makes the template's bytes sum to
 * zero (a zero checksum would also be accepted, but a real one lets tests
 * and OSPMs that check it catch a corrupt template).
 */
static void end_restemplate(struct aml *a, size_t first)
{
	uint8_t sum = RES_END_TAG;

	for (size_t i = first; i < a->len; i++)
		sum = (uint8_t)(sum + a->buf[i]);
	emit(a, RES_END_TAG);
	emit(a, (uint8_t)(0x100 - sum));
}

void aml_end(struct aml *a)
{
	uint8_t head[4 + 9];
	size_t start, body, n = 0;
	int plen;

	if (a->err)
		return;
	if (a->depth == 0) {
		fail(a, -EINVAL);
		return;
	}
	if (a->open[a->depth - 1].restemplate)
		end_restemplate(a, a->open[a->depth - 1].restemplate - 1);
	if (a->err)
		return;
	a->depth--;
	start = a->open[a->depth].start;
	body = a->len - start;
	if (a->open[a->depth].buffer) {
		/* BufferSize: the same integer encoding as aml_integer(). */
		struct aml tmp;
		uint8_t size[9];

		aml_init(&tmp, size, sizeof(size));
		aml_integer(&tmp, body);
		plen = aml_pkglength_encode(body + tmp.len, head);
		if (plen > 0) {
			memcpy(head + plen, size, tmp.len);
			n = (size_t)plen + tmp.len;
		}
	} else {
		plen = aml_pkglength_encode(body, head);
		n = plen > 0 ? (size_t)plen : 0;
	}
	if (plen < 0 || body + n > AML_MAX_PKGLENGTH) {
		fail(a, -ERANGE);
		return;
	}
	if (n > a->cap - a->len) {
		fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, head, n);
	a->len += n;
	/* Offsets recorded by enclosing objects lie before start: unmoved. */
}

static bool in_restemplate(struct aml *a)
{
	if (a->depth && a->open[a->depth - 1].restemplate)
		return true;
	fail(a, -EINVAL);
	return false;
}

/* 6.4.2.5 I/O Port Descriptor, 16-bit decode. */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len)
{
	if (!in_restemplate(a))
		return;
	emit(a, RES_IO);
	emit(a, RES_IO_DECODE16);
	emit_le(a, min, 2);
	emit_le(a, max, 2);
	emit(a, align);
	emit(a, len);
}

/* 6.4.2.1 IRQ Descriptor without the information byte: edge-triggered,
 * active-high, exclusive, as an ISA serial port's interrupt is. */
void aml_res_irq_noflags(struct aml *a, unsigned irq)
{
	if (irq > 15) {
		fail(a, -EINVAL);
		return;
	}
	if (!in_restemplate(a))
		return;
	emit(a, RES_IRQ_NOFLAGS);
	emit_le(a, 1u << irq, 2);
}

/* 6.4.3.4 32-Bit Fixed Memory Range Descriptor. */
void aml_res_memory32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	if (!in_restemplate(a))
		return;
	emit(a, RES_MEMORY32_FIXED);
	emit_le(a, 9, 2);
	emit(a, rw ? RES_MEM_RW : 0);
	emit_le(a, base, 4);
	emit_le(a, len, 4);
}

/* 6.4.3.6 Extended Interrupt Descriptor with one interrupt and no
 * resource source. */
void aml_res_ext_irq(struct aml *a, unsigned flags, uint32_t gsi)
{
	if (flags & ~0x0Fu) {
		fail(a, -EINVAL);
		return;
	}
	if (!in_restemplate(a))
		return;
	emit(a, RES_EXT_IRQ);
	emit_le(a, 6, 2);
	emit(a, (uint8_t)flags);
	emit(a, 1);
	emit_le(a, gsi, 4);
}

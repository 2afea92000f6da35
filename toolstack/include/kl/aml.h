/* SPDX-License-Identifier: MIT */
/*
 * A small emitter of ACPI Machine Language (ACPI 6.5 chapter 20, "ACPI
 * Machine Language Specification"): enough to write a DomU's DSDT without
 * running iasl. Output goes into a caller's buffer; errors are sticky, so a
 * builder emits everything and checks aml_finish() once.
 *
 * Objects with a PkgLength (Scope, Device, Package, Buffer) are opened with
 * aml_*_begin() and closed, innermost first, with aml_end(): their length
 * is only known at the end, and the 1 to 4 bytes it takes are inserted
 * there.
 */
#ifndef KL_AML_H
#define KL_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16
/* A PkgLength holds 28 bits (ACPI 6.5 section 20.2.4). */
#define AML_MAX_PKGLENGTH 0x0FFFFFFFu

/* Resource descriptor flags for aml_res_ext_irq() (ACPI 6.5 6.4.3.6). */
#define AML_IRQ_CONSUMER   (1u << 0)
#define AML_IRQ_EDGE	   (1u << 1) /* else level-triggered */
#define AML_IRQ_ACTIVE_LOW (1u << 2) /* else active-high */
#define AML_IRQ_SHARED	   (1u << 3)

struct aml {
	uint8_t *buf;
	size_t cap, len;
	int err; /* 0, or the first -ENOSPC / -EINVAL / -ERANGE */
	unsigned depth;
	struct {
		size_t start; /* where the PkgLength goes */
		bool buffer;  /* a Buffer: BufferSize follows the PkgLength */
		size_t restemplate; /* offset of its first descriptor, or 0 */
	} open[AML_MAX_DEPTH];
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* Bytes emitted, or the sticky error; -EINVAL if an object is still open. */
long aml_finish(struct aml *a);

/*
 * Encodes a PkgLength for an object whose bytes after the PkgLength
 * number body_len: returns its size (1-4) and fills out, or -ERANGE.
 */
int aml_pkglength_encode(size_t body_len, uint8_t out[4]);

void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameString: "\_SB.COM1", "_S5", "^PCI0.LPC". Segments shorter than
 * four characters are padded with '_', as iasl does. */
void aml_name_string(struct aml *a, const char *path);
/* Integer with the shortest encoding: ZeroOp, OneOp, Byte/Word/DWord/QWord. */
void aml_integer(struct aml *a, uint64_t v);
/* String: ASCII 0x01-0x7F. */
void aml_string(struct aml *a, const char *s);
/* A compressed EISA ID ("PNP0501") as a DWordConst. */
void aml_eisaid(struct aml *a, const char *id);

/* Name (path, <object>): the caller emits the object next. */
void aml_name(struct aml *a, const char *path);
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *path);
/* Package of nr_elements (at most 255) data objects emitted next. */
/* Method (path, nr_args) { ... }: not serialized; closed by aml_end(). */
void aml_method_begin(struct aml *a, const char *path, unsigned nr_args);
/* Notify (path, value), a statement inside a method. */
void aml_notify(struct aml *a, const char *path, uint64_t value);
void aml_package_begin(struct aml *a, unsigned nr_elements);
void aml_buffer_begin(struct aml *a);
/* A Buffer of resource descriptors; aml_end() adds the End Tag. */
void aml_restemplate_begin(struct aml *a);
void aml_end(struct aml *a);

/* Resource descriptors (ACPI 6.5 section 6.4), inside a resource template. */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
void aml_res_irq_noflags(struct aml *a, unsigned irq);
void aml_res_memory32_fixed(struct aml *a, bool rw, uint32_t base,
			    uint32_t len);
void aml_res_ext_irq(struct aml *a, unsigned flags, uint32_t gsi);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * What the ioreq DomU (payload.S, mode DOMU_SEQUENCE) asks its device
 * model, in order, and what it must have stored in RESULT at the end.
 * Shared by the freestanding Dom0 (ioreq.c) and the Dom0 Linux one
 * (tests/toolstack/ioreq_dm.c), which serve the same requests.
 */
#ifndef IOREQ_SCRIPT_H
#define IOREQ_SCRIPT_H

#include <stdint.h>

#include "payload.h"
#include "../../../hypervisor/include/public/keel.h"

/* A read's answer: ANSWER + the read's index (masking shows in RESULT). */
#define IOREQ_ANSWER	0xF1E2D3C4B5A69780ULL
#define IOREQ_MARK_ADDR (DOMU_MMIO_BASE + DOMU_MARK_OFFSET)

struct ioreq_expect {
	uint8_t type, dir, size;
	uint64_t addr, data; /* data: a write's value */
};

#define MMIO_ KEEL_IOREQ_TYPE_MMIO
#define PIO_  KEEL_IOREQ_TYPE_PIO
#define RD_   KEEL_IOREQ_READ
#define WR_   KEEL_IOREQ_WRITE

static const struct ioreq_expect ioreq_script[] = {
    {MMIO_, WR_, 1, DOMU_MMIO_BASE + 0x10, 0x11},
    {MMIO_, WR_, 2, DOMU_MMIO_BASE + 0x20, 0x2233},
    {MMIO_, WR_, 4, DOMU_MMIO_BASE + 0x30, 0x44556677},
    {MMIO_, WR_, 8, DOMU_MMIO_BASE + 0x38, 0x8899AABBCCDDEEFFULL},
    {MMIO_, RD_, 1, DOMU_MMIO_BASE + 0x10, 0},
    {MMIO_, RD_, 2, DOMU_MMIO_BASE + 0x20, 0},
    {MMIO_, RD_, 4, DOMU_MMIO_BASE + 0x30, 0},
    {MMIO_, RD_, 8, DOMU_MMIO_BASE + 0x38, 0},
    {MMIO_, RD_, 2, DOMU_MMIO_BASE + 0x22, 0},
    {PIO_, WR_, 1, DOMU_PORT_BASE, 0x5A},
    {PIO_, WR_, 2, DOMU_PORT_BASE + 2, 0x6B7C},
    {PIO_, WR_, 4, DOMU_PORT_BASE + 4, 0x8D9EAFB0},
    {PIO_, RD_, 1, DOMU_PORT_BASE, 0},
    {PIO_, RD_, 2, DOMU_PORT_BASE + 2, 0},
    {PIO_, RD_, 4, DOMU_PORT_BASE + 4, 0},
    {MMIO_, WR_, 8, IOREQ_MARK_ADDR, DOMU_MARK_DOORBELLS},
    {MMIO_, WR_, 8, IOREQ_MARK_ADDR, DOMU_MARK_IRQ},
    {MMIO_, WR_, 8, IOREQ_MARK_ADDR, DOMU_MARK_REMOVED},
};

#define IOREQ_SCRIPT_LEN (sizeof(ioreq_script) / sizeof(ioreq_script[0]))

/* RESULT[i] after the power-off, and what it shows. */
static const struct {
	const char *what;
	uint64_t want;
} ioreq_results[DOMU_NR_RESULTS] = {
    {"8-bit MMIO load merges", ~0xFFULL | ((IOREQ_ANSWER + 0) & 0xFF)},
    {"16-bit MMIO load merges", ~0xFFFFULL | ((IOREQ_ANSWER + 1) & 0xFFFF)},
    {"32-bit MMIO load zero-extends", (IOREQ_ANSWER + 2) & 0xFFFFFFFF},
    {"64-bit MMIO load into R9", IOREQ_ANSWER + 3},
    {"movzx of 16 bits", (IOREQ_ANSWER + 4) & 0xFFFF},
    {"IN of 8 bits merges", ~0xFFULL | ((IOREQ_ANSWER + 5) & 0xFF)},
    {"IN of 16 bits merges", ~0xFFFFULL | ((IOREQ_ANSWER + 6) & 0xFFFF)},
    {"IN of 32 bits zero-extends", (IOREQ_ANSWER + 7) & 0xFFFFFFFF},
    {"a doorbell reads all-ones", 0xFFFFFFFF},
    {"unregistered MMIO reads all-ones", ~0ULL},
    {"an unregistered port reads all-ones", 0xFFFFFFFF},
    {"one interrupt taken", 1},
    {"a removed port range reads all-ones", 0xFFFFFFFF},
};

#endif

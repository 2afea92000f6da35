#!/usr/bin/python3
"""Write the seed corpora in tests/fuzz/corpus/<harness>/.

Each seed is a small input in the harness's own format (see the comment at
the top of tests/fuzz/fuzz_<harness>.c) that reaches the interesting paths:
the fuzzer mutates from there. Inputs the fuzzer found (crashes turned unit
tests, interesting coverage) sit beside these under their own names and are
not touched by this script.

  tests/fuzz/make_corpus.py [HARNESS...]
"""

import os
import struct
import sys

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# ---- decode: mode, available bytes, instruction, 16 registers, load value
def decode():
    seeds = {}
    regs = b"".join(u64(0x1111111111111111 * (i + 1)) for i in range(16))
    insns = {
        "mov-store-ecx": (2, "89 08"),
        "mov-imm64-sx": (2, "48 c7 80 00 03 00 00 00 00 00 80"),
        "movzx-load": (2, "0f b6 08"),
        "movsx-r9-word": (2, "4c 0f bf 48 10"),
        "moffs-addr32": (2, "67 a1 01 02 03 04"),
        "sib-rip-rel": (2, "43 89 04 6d 00 00 00 80"),
        "mode32-disp32": (1, "89 05 00 03 e0 fe"),
        "mode16-imm32": (0, "66 c7 06 00 03 78 56 34 12"),
        "mode16-ah": (0, "8a 27"),
        "truncated": (2, "89 05 78"),
    }
    for name, (mode, text) in insns.items():
        b = bytes.fromhex(text)
        seeds[name] = u8(mode) + u8(len(b)) + b + regs + u64(0xfedcba9876543210)
    return seeds


# ---- vlapic: ID selector and ID, BSP, TSC and bus kHz, start TSC, ops
def vlapic():
    def header():
        return u8(0) + u8(3) + u8(1) + u32(1999999) + u32(999999) + u64(10 ** 6)

    def mmio_wr(off, val):
        return u8(0) + u16(off) + u8(0) + u8(2) + u32(val)

    def mmio_rd(off):
        return u8(1) + u16(off) + u8(0)

    def msr_wr(msr, val):
        return u8(2) + u8(3) + u32(msr) + u8(3) + u64(val)

    def msr_rd(msr):
        return u8(4) + u8(3) + u32(msr)

    def later(ticks):
        return u8(5) + u32(ticks)

    expire, inject = u8(9) + u8(1), u8(8)
    eoi = mmio_wr(0xB0, 0)
    seeds = {
        "xapic-oneshot-timer": header() + mmio_wr(0xF0, 0x1FF)
        + mmio_wr(0x3E0, 0xB) + mmio_wr(0x320, 0x30) + mmio_wr(0x380, 1000)
        + later(500) + mmio_rd(0x390) + later(5000) + expire + inject + eoi,
        "xapic-periodic-divide": header() + mmio_wr(0xF0, 0x1FF)
        + mmio_wr(0x320, 0x20031) + mmio_wr(0x380, 100) + later(1234)
        + mmio_wr(0x3E0, 0x3) + later(99999) + expire + mmio_rd(0x390),
        "xapic-icr-self-level": header() + mmio_wr(0xF0, 0x1FF)
        + mmio_wr(0x310, 0x03000000) + mmio_wr(0x300, 0xC041) + inject
        + mmio_rd(0x100) + mmio_rd(0x180) + eoi + mmio_wr(0x280, 0)
        + mmio_rd(0x280),
        "x2apic-tsc-deadline": header()
        + msr_wr(0x1B, 0xFEE00000 | 0xD00) + msr_wr(0x80F, 0x1FF)
        + msr_wr(0x832, 0x40040) + msr_wr(0x6E0, 10 ** 6 + 5000)
        + later(6000) + expire + inject + msr_wr(0x80B, 0) + msr_rd(0x6E0),
        "x2apic-icr-self-ipi": header()
        + msr_wr(0x1B, 0xFEE00000 | 0xD00) + msr_wr(0x80F, 0x1FF)
        + msr_wr(0x830, (3 << 32) | 0x50) + msr_wr(0x83F, 0x60) + inject
        + msr_rd(0x80A) + msr_wr(0x808, 0x70) + msr_wr(0x1B, 0),
        "xapic-error-lvt": header() + mmio_wr(0xF0, 0x1FF)
        + mmio_wr(0x370, 0x33) + u8(7) + u8(3) + u8(0) + inject
        + mmio_wr(0x280, 0) + mmio_rd(0x280) + u8(10),
    }
    return seeds


# ---- vioapic: flags, ID, ops
def vioapic():
    def reg_wr(reg, val):
        # IOREGSEL = reg, then IOWIN = val (32-bit values)
        return (u8(0) + u8(0) + u8(0) + u8(0) + u8(1) + u32(reg)
                + u8(0) + u8(0) + u8(1) + u8(0) + u8(1) + u32(val))

    def reg_rd(reg):
        return (u8(0) + u8(0) + u8(0) + u8(0) + u8(1) + u32(reg)
                + u8(1) + u8(0) + u8(1) + u8(0))

    def pin(n, level):
        return u8(2) + u8(n) + u8(level)

    def eoi_reg(vector):
        return u8(0) + u8(0) + u8(4) + u8(0) + u8(1) + u32(vector)

    return {
        "level-pin-eoi": u8(1) + u8(2) + reg_wr(0x12, 0xA030)
        + reg_wr(0x13, 0x01000000) + pin(1, 1) + u8(4) + u8(0x30)
        + pin(1, 0) + reg_rd(0x12),
        "edge-pins-and-id": u8(0) + u8(2) + reg_wr(0x00, 0x0F000000)
        + reg_rd(0x00) + reg_rd(0x01) + reg_wr(0x20, 0x41) + pin(8, 1)
        + pin(8, 0) + pin(8, 1) + reg_rd(0x20),
        "eoi-register-reentry": u8(3) + u8(0) + reg_wr(0x10, 0x8031)
        + pin(0, 1) + eoi_reg(0x31) + reg_wr(0x10, 0x31) + reg_rd(0x10),
    }


# ---- vuart: ops
def vuart():
    def out(off, val):
        return u8(0) + u8(off) + u8(val)

    def inp(off):
        return u8(1) + u8(off)

    def rx(b):
        return u8(2) + u8(b)

    linux_probe = (out(7, 0xA5) + inp(7) + out(1, 0) + inp(1) + out(1, 0xF)
                   + inp(1) + out(4, 0x1A) + inp(6) + out(4, 0)
                   + out(2, 0xC7) + inp(2) + out(3, 0x83) + out(0, 1)
                   + out(1, 0) + out(3, 0x03))
    return {
        "linux-probe": linux_probe,
        "rx-fifo-interrupts": out(2, 0xC7) + out(4, 0x0B) + out(1, 0x0F)
        + b"".join(rx(0x41 + i) for i in range(18)) + inp(2) + inp(5)
        + b"".join(inp(0) for i in range(17)) + inp(2),
        "loopback-size-fifo": out(2, 0x07) + out(4, 0x1F)
        + b"".join(out(0, i) for i in range(20)) + inp(5) + inp(6)
        + b"".join(inp(0) for i in range(20)) + out(4, 0x08) + inp(6),
        "thre-interrupt": out(4, 0x08) + out(1, 0x02) + inp(2) + out(0, 0x58)
        + inp(2) + out(1, 0) + out(1, 0x02) + inp(2) + inp(2),
    }


# ---- multiboot2: the information structure (Multiboot2 spec 3.6)
def mb2_tag(tag_type, body):
    size = 8 + len(body)
    pad = (-size) % 8
    return u32(tag_type) + u32(size) + body + b"\0" * pad


def mb2(tags):
    body = b"".join(tags) + mb2_tag(0, b"")
    return u32(8 + len(body)) + u32(0) + body


def multiboot2():
    rsdp = b"RSD PTR " + u8(0) + b"BOCHS " + u8(2) + u32(0x7ffe1000) \
        + u32(36) + u64(0x7ffe2000) + u8(0) + b"\0" * 3
    mmap = u32(24) + u32(0) + b"".join(
        u64(a) + u64(l) + u32(t) + u32(0) for a, l, t in [
            (0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
            (0x100000, 0x7fee0000, 1), (0x7ffe0000, 0x20000, 2),
            (0xfffc0000, 0x40000, 2), (0x100000000, 0x80000000, 1)])
    grub = mb2([
        mb2_tag(1, b"console=com1 dom0_mem=2G loglvl=all maxcpus=4\0"),
        mb2_tag(2, b"GRUB 2.06\0"),
        mb2_tag(3, u32(0x1000000) + u32(0x1800000)
                + b"/boot/vmlinuz console=ttyS0 quiet\0"),
        mb2_tag(3, u32(0x2000000) + u32(0x4000000) + b"/boot/initrd.img\0"),
        mb2_tag(4, u32(639) + u32(2096000)),
        mb2_tag(6, mmap),
        mb2_tag(15, rsdp),
    ])
    uefi = mb2([
        mb2_tag(1, b"dom0_mem=512M\0"),
        mb2_tag(12, u64(0x7f9e5018)),
        mb2_tag(14, rsdp[:20]),
        mb2_tag(6, u32(32) + u32(0) + u64(0) + u64(0xa0000) + u32(1)
                + u32(0) + u64(0)),
        mb2_tag(21, u32(0x200000)),
    ])
    return {"grub-bios": grub, "grub-efi": uefi,
            "modules-no-cmdline": mb2([mb2_tag(3, u32(0x1000) + u32(0x2000))
                                       for _ in range(3)])}


# ---- acpi: flags, nr_vcpus, buffer, RSDP, root entries, tables
def sdt(sig, body, revision=1):
    length = 36 + len(body)
    return (sig + u32(length) + u8(revision) + u8(0) + b"BOCHS " + b"BXPC    "
            + u32(1) + b"BXPC" + u32(1) + body)


def madt_entries():
    e = b""
    for i in range(3):  # LAPICs, the third not enabled
        e += u8(0) + u8(8) + u8(i) + u8(i) + u32(0 if i == 2 else 1)
    e += u8(9) + u8(16) + u16(0) + u32(300) + u32(1) + u32(3)  # x2APIC
    e += u8(9) + u8(16) + u16(0) + u32(1) + u32(1) + u32(1)  # duplicate
    for i in range(2):  # IOAPICs
        e += u8(1) + u8(12) + u8(i) + u8(0) + u32(0xfec00000 + i * 0x1000) \
            + u32(i * 24)
    e += u8(2) + u8(10) + u8(0) + u8(0) + u32(2) + u16(0)  # IRQ0 -> GSI2
    e += u8(2) + u8(10) + u8(0) + u8(9) + u32(9) + u16(0xd)
    e += u8(3) + u8(8) + u16(0) + u32(30)  # NMI source
    e += u8(4) + u8(6) + u8(0xff) + u16(5) + u8(1)  # LAPIC NMI
    e += u8(0xa) + u8(12) + u16(0) + u32(0xffffffff) + u8(1) + b"\0" * 3
    e += u8(5) + u8(12) + u16(0) + u64(0xfee00000)  # LAPIC override
    e += u8(0xb) + u8(80) + b"\0" * 78  # GIC CPU interface: skipped
    return e


def acpi_input(flags, nr_vcpus, buffer, tables, entries=None):
    rsdp = b"RSD PTR " + u8(0) + b"BOCHS " + u8(2) + u32(0) + u32(36) \
        + u64(0) + u8(0) + b"\0" * 3
    if entries is None:
        entries = list(range(len(tables)))
    out = u8(flags) + u16(nr_vcpus) + u16(buffer) + rsdp
    out += u8(len(entries)) + bytes(entries)
    out += u8(len(tables)) + b"".join(u16(len(t)) + t for t in tables)
    return out


def acpi():
    fadt = bytearray(276 - 36)
    struct.pack_into("<H", fadt, 46 - 36, 9)  # SCI
    struct.pack_into("<I", fadt, 76 - 36, 0x608)  # PM_TMR_BLK
    fadt[91 - 36] = 4
    struct.pack_into("<I", fadt, 112 - 36, 1 << 8)  # TMR_VAL_EXT
    fadt[208 - 36:220 - 36] = u8(1) + u8(32) + u8(0) + u8(3) + u64(0x608)
    facp = sdt(b"FACP", bytes(fadt), 6)
    madt = sdt(b"APIC", u32(0xfee00000) + u32(1) + madt_entries(), 5)
    hpet = sdt(b"HPET", u32(0x8086a201) + u8(0) + u8(64) + u8(0) + u8(0)
               + u64(0xfed00000) + u8(0) + u16(0x80) + u8(0))
    dmar, ivrs = sdt(b"DMAR", b"\0" * 12), sdt(b"IVRS", b"\0" * 12)
    ssdt = sdt(b"SSDT", b"\0" * 4)
    qemu = [facp, madt, dmar, hpet, ivrs, ssdt, ssdt]
    return {
        "qemu-like-4-vcpus": acpi_input(0x01, 4, 400, qemu),
        "qemu-like-300-vcpus-x2apic": acpi_input(0x01, 300, 1000, qemu),
        "rsdt-only-acpi1": acpi_input(0x08, 2, 100, [facp, madt]),
        "broken-xsdt-falls-back-to-rsdt": acpi_input(0x21, 3, 300,
                                                     [madt, facp, hpet]),
        "buffer-too-small": acpi_input(0x01, 64, 4, qemu),
        "broken-entries": acpi_input(0x01, 1, 200, [madt, hpet],
                                     [0, 2, 3, 1, 0]),
        "fadt-v1-no-madt": acpi_input(0x11, 1, 50, [sdt(b"FACP", bytes(
            fadt[:116 - 36]))]),
    }


# ---- bzimage: command line, e820 entry count, image
def bzimage_image(setup_sects=1, payload=1024, version=0x020F,
                  cmdline_size=2047, relocatable=1, jump=0x6A):
    setup = (setup_sects or 4) + 1
    img = bytearray(b"\xCC" * (setup * 512 + payload))

    def put(off, data):
        img[off:off + len(data)] = data
    put(0x1F1, u8(setup_sects))
    put(0x1F4, u32(payload // 16))
    put(0x1FE, u16(0xAA55))
    put(0x200, u8(0xEB) + u8(jump))
    put(0x202, b"HdrS")
    put(0x206, u16(version))
    put(0x210, u8(0) + u8(1))
    put(0x218, u32(0) + u32(0))
    put(0x228, u32(0) + u32(0x7FFFFFFF) + u32(0x200000) + u8(relocatable))
    put(0x236, u16(3))  # XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
    put(0x238, u32(cmdline_size))
    put(0x258, u64(0x1000000))
    put(0x260, u32(payload * 4))
    return bytes(img)


def bzimage():
    def inp(cmdline, nr_e820, img):
        return u16(len(cmdline)) + cmdline + u8(nr_e820) + img
    return {
        "linux-6.1-like": inp(b"root=/dev/sda1 console=ttyS0", 7,
                              bzimage_image()),
        "cmdline-longer-than-kernel-takes": inp(
            b"x" * 300, 128, bzimage_image(cmdline_size=255, setup_sects=0)),
        "not-relocatable-2.12": inp(b"", 200, bzimage_image(
            version=0x020C, relocatable=0)),
        "old-protocol": inp(b"quiet", 1, bzimage_image(version=0x0206)),
    }


# ---- e820: entries (addr, size, type), then operations
def e820():
    def addr(v):
        return u8(0x80) + u64(v)

    def page(n):
        return u8(0) + u8(n)

    def mib(n):
        return u8(0x40) + u8(n)

    def entries(es):
        return u8(len(es)) + b"".join(a + l + u8(t) for a, l, t in es)

    def set_type(a, l, t):
        return u8(1) + a + l + u8(t)

    def limit(keep, t):
        return u8(2) + keep + u8(t)

    sanitize = u8(0)
    seabios = [(addr(0), addr(0x9fc00), 1), (addr(0x9fc00), addr(0x400), 2),
               (addr(0xf0000), addr(0x10000), 2),
               (addr(0x100000), addr(0x7fee0000), 1),
               (addr(0x7ffe0000), addr(0x20000), 2),
               (addr(0xfffc0000), addr(0x40000), 2),
               (addr(0x100000000), addr(0x80000000), 1)]
    overlapping = [(mib(0), mib(64), 1), (mib(16), mib(1), 2),
                   (mib(16), page(16), 3), (mib(63), mib(2), 4),
                   (page(0), page(160), 1), (page(159), page(1), 2),
                   (addr(0xfffffffffffff000), addr(0x2000), 2)]
    many = [(mib(2 * i), mib(1), 1 + i % 2) for i in range(130)]
    return {
        "memmap-init-seabios": entries(seabios) + sanitize
        + set_type(mib(2), mib(4), 2) + limit(addr(1 << 30), 5)
        + u8(4) + mib(1) + mib(1) + u8(1),
        "overlaps-and-wrap": entries(overlapping) + sanitize
        + set_type(page(8), page(8), 3) + limit(mib(20), 5) + sanitize,
        "full-map": entries(many) + sanitize + set_type(page(1), page(1), 4)
        + limit(mib(3), 5) + u8(3) + mib(200) + mib(1) + u8(1),
        "dom0-acpi-area": entries(seabios) + set_type(
            addr(0x7fef0000), page(16), 3) + u8(4) + addr(0x7fef0000)
        + page(16) + u8(3),
    }


# ---- guest_walk: mode, CR3, CS base, RIP, fetch length, table writes, GVAs
def guest_walk():
    PG, PAE, PSE, LMA, LA57, L = 1, 2, 4, 8, 16, 32

    def walk(mode, cr3, base, rip, writes, gvas, length=15):
        out = u8(mode) + u64(cr3) + u64(base) + u64(rip) + u8(length - 1)
        out += u8(len(writes))
        for page, slot, kind, value in writes:
            out += u8(page) + u16(slot) + u8(kind)
            if kind & 1:
                out += u8(value[0]) + u8(value[1])
            else:
                out += u64(value)
        return out + b"".join(u64(g) for g in gvas)

    code = (10, 0, 0, 0x0000000100908b48)  # mov rcx,[rax+0x10]; ...
    gva = 0x401000
    return {
        "long-4-level": walk(PG | PAE | LMA | L, 0x1000, 0, gva, [
            (1, 0, 1, (2, 3)), (2, 0, 1, (3, 3)), (3, 2, 1, (4, 3)),
            (4, 1, 1, (10, 3)), code], [gva, gva + 0x123, 0x7fff0000]),
        "long-5-level-2m-page": walk(PG | PAE | LMA | LA57 | L, 0x1000, 0,
                                     gva, [
            (1, 0, 1, (2, 3)), (2, 0, 1, (3, 3)), (3, 0, 1, (4, 3)),
            (4, 2, 1, (0, 0x83)), code], [gva, 1 << 48]),
        "pae": walk(PG | PAE, 0x1000, 0, gva, [
            (1, 0, 1, (2, 1)), (2, 2, 1, (3, 1)), (3, 1, 1, (10, 1)), code],
            [gva, 0xc0000000]),
        "32-bit-pse": walk(PG | PSE, 0x1000, 0x400000, 0xff8, [
            (1, 1, 3, (2, 1)), (2, 0, 3, (10, 1)), (2, 1, 3, (11, 1)),
            (1, 2, 3, (0, 0x81)), code], [0x400000, 0x800000, 0xfffff000]),
        "real-mode": walk(0, 0, 0xa000, 0xfff8, [code], [0x1234]),
        "foreign-page": walk(PG | PAE | LMA | L, 0x1000, 0, gva, [
            (1, 0, 1, (2, 3)), (2, 0, 1, (3, 3)), (3, 2, 1, (4, 3)),
            (4, 1, 1, (64, 3))], [gva]),
    }


# ---- mmio: setup flags, then exits (RIP, instruction, registers, target)
def mmio():
    def exit_(rip, insn, target, off, regs=None):
        regs = regs or {}
        insn = bytes.fromhex(insn).ljust(15, b"\x90")
        return (u16(rip) + insn
                + b"".join(u64(regs.get(i, 0)) for i in range(16))
                + u8(target) + u16(off))

    LAPIC, IOAPIC, DEVICE, RAM = 0, 1, 2, 3
    PRIV, SW_ENABLE, X2APIC = 1, 2, 4
    M16, M32, M64 = 0x00, 0x10, 0x20
    return {
        "xapic-tpr-ppr-eoi-32bit": u8(M32 | SW_ENABLE)
        + exit_(0x1000, "89 08", LAPIC | 0x80, 0x80, {1: 0x20})
        + exit_(0x1002, "8b 08", LAPIC, 0xA0)
        + exit_(0x1004, "c7 00 00 00 00 00", LAPIC | 0x80, 0xB0)
        + exit_(0x1010, "0f b6 08", LAPIC, 0x30),
        "ioapic-rte-long-mode": u8(M64 | SW_ENABLE)
        + exit_(0x2000, "c7 00 12 00 00 00", IOAPIC | 0x80, 0x00)
        + exit_(0x2006, "89 08", IOAPIC | 0x80, 0x10, {1: 0xA031})
        + exit_(0x2008, "48 8b 08", IOAPIC, 0x10)
        + exit_(0x200b, "89 08", IOAPIC | 0x80, 0x40, {1: 0x31}),
        "dom0-device-mmio-and-ram": u8(M64 | PRIV)
        + exit_(0x3000, "8b 08", DEVICE, 0x10)
        + exit_(0x3002, "89 08", RAM | 0x80, 0x100),
        "real-mode-lapic-and-junk": u8(M16 | SW_ENABLE)
        + exit_(0x100, "8b 07", LAPIC, 0x20)
        + exit_(0x102, "0f 05", LAPIC, 0x20)
        + exit_(0x104, "89 07", 4, 0x0),
        "x2apic-page-not-decoded": u8(M32 | SW_ENABLE | X2APIC | PRIV)
        + exit_(0x1000, "89 08", LAPIC | 0x80, 0x300),
    }


# ---- xlcfg: the file, then NUL-separated KEY=VALUE overrides
def xlcfg():
    full = (b"# a Debian guest\n"
            b"name = \"deb1\"\n"
            b"type = 'pvh'\n"
            b"kernel = \"/srv/keel/vmlinuz\"\n"
            b"ramdisk = \"/srv/keel/initrd.img\"\n"
            b"memory = 1024\n"
            b"maxmem = 2048\n"
            b"vcpus = 2; maxvcpus = 4\n"
            b"cpus = \"0-3,^1\"\n"
            b"cpu_weight = 512\n"
            b"cap = 150\n"
            b"on_poweroff = \"destroy\"\n"
            b"on_reboot = \"restart\"\n"
            b"on_crash = \"preserve\"\n"
            b"root = \"/dev/vda1 ro\"\n"
            b"extra = \"console=ttyS0\"\n"
            b"disk = [ 'format=raw, vdev=xvda, access=rw, "
            b"target=/srv/keel/deb1.img',\n"
            b"         '/srv/keel/data.img,raw,xvdb,ro', ]\n"
            b"vif = [ 'mac=00:16:3e:12:34:56, bridge=br1, model=virtio' ]\n")
    minimal = b'name="a"\nkernel="/k"\n'
    return {
        "full": full,
        "minimal-with-overrides": minimal + b"\0memory=2048\0name=\"b\"\0"
        b"vif=['bridge=br0,vifname=tap0']",
        "lists-appends-comments": minimal
        + b"cpus = [\"2\", \"3-5\", 'all']\nvcpus=3\n"
        b"disk = ['/a.img,qcow2,xvdaa,rw',]\ndisk += ['/b,,hdc']\n"
        b"vif = [ '', 'mac=00:16:3e:00:00:01,mtu=9000' ] # two\n",
        "errors": b"name = [\"x\"\nkernel = \"unterminated\n",
    }

# ---- virtio: header (flags, features, queue size, raw ring addresses),
# then operations (tests/fuzz/fuzz_virtio.c)
def virtio():
    def header(flags=0, features=0, num=16, rings=None):
        h = u8(flags) + u64(features) + u16(num)
        if rings:
            h += b"".join(u64(r) for r in rings)
        return h

    def desc(idx, addr, length, flags, nxt):
        return u8(1) + u16(idx) + u64(addr) + u32(length) + u16(flags) + \
            u16(nxt)

    def publish(head):
        return u8(2) + u16(head)

    def kick(q=0, doorbell=False):
        return u8(4) + u32(q | (0x80000000 if doorbell else 0))

    def reg_wr(off, val, size=4):
        return u8(5) + u16(off) + u8(size) + u32(val)

    def request(kind, sector, length, flags=0):
        return u8(7) + u32(kind) + u64(sector) + u16(length) + u8(flags)

    def tap_frame(length, gso=0):
        # vnet header (flags, gso_type, hdr_len, gso_size, csum_start,
        # csum_offset, num_buffers), then the frame's bytes
        hdr = u8(1 if gso else 0) + u8(gso) + u16(54) + u16(1448) \
            + u16(34) + u16(16) + u16(0)
        return u8(9) + u16(12 + length) + hdr + bytes(
            (i * 7) & 0xFF for i in range(length))

    IN, OUT, FLUSH, GET_ID = 0, 1, 4, 8
    NEXT, WRITE, INDIRECT = 1, 2, 4
    NET, VERSION_1 = 16, 1 << 32
    return {
        # virtio-net, every feature: a GSO frame over merged buffers
        "net-merge": header(flags=NET) + desc(0, 0x8000, 1024, WRITE, 0)
        + publish(0) + desc(1, 0x9000, 1024, WRITE, 0) + publish(1)
        + desc(2, 0xA000, 1024, WRITE, 0) + publish(2) + kick()
        + tap_frame(2500, gso=1) + tap_frame(100) + u8(8),
        # no MRG_RXBUF and no offloads: a chain of two buffers, a frame
        # too big for it, a GSO frame not negotiated, one that fits
        "net-single": header(flags=NET | 8, features=VERSION_1)
        + desc(0, 0x8000, 12, NEXT | WRITE, 1)
        + desc(1, 0x9000, 1500, WRITE, 0) + publish(0) + kick()
        + tap_frame(2000) + tap_frame(100, gso=1) + tap_frame(1400),
        "read-write": header() + request(OUT, 3, 1024, 0x42)
        + request(IN, 3, 1024) + kick() + u8(8),
        "flush-getid-indirect": header() + request(FLUSH, 0, 0, 1)
        + request(GET_ID, 0, 20, 1) + request(IN, 63, 512, 1)
        + kick(0, True),
        "readonly-past-end": header(flags=1) + request(OUT, 0, 512)
        + request(IN, 64, 512) + request(IN, 2 ** 63, 512) + kick(),
        "loop": header() + desc(0, 0x8000, 16, NEXT, 1)
        + desc(1, 0x9000, 1, NEXT | WRITE, 0) + publish(0) + kick(),
        "indirect-table": header() + u8(0) + u32(0x6000) + u8(32)
        + u64(0x8000) + u32(16) + u16(NEXT) + u16(1)
        + u64(0x9000) + u32(1) + u16(WRITE) + u16(0)
        + desc(0, 0x6000, 32, INDIRECT, 0) + publish(0) + kick(),
        "avail-jump": header(num=8) + u8(3) + u8(200) + kick(),
        "raw-rings": header(flags=2, num=4, rings=[0x3fff0, 0x40002,
                                                    0x100000000]),
        "reset-and-reuse": header() + request(IN, 0, 512) + reg_wr(0x70, 0)
        + kick() + reg_wr(0x70, 1) + reg_wr(0x70, 3) + reg_wr(0x24, 1)
        + reg_wr(0x20, 1) + reg_wr(0x70, 11) + reg_wr(0x38, 16)
        + reg_wr(0x44, 1) + reg_wr(0x70, 15) + kick(),
    }


def cpu_policy():
    """Real CPUs' dumps (tests/unit/data/cpuid/), each with some queries."""
    import re
    dumps = os.path.join(os.path.dirname(CORPUS), "..", "unit", "data",
                         "cpuid")
    queries = b"".join(u8(kind) + u32(leaf) + u32(sub) + u64(cr4) + u64(xcr0)
                       for kind, leaf, sub, cr4, xcr0 in [
                           (0, 0, 0, 0, 1), (0, 1, 0, 1 << 18, 3),
                           (0, 7, 0, 0, 7), (3, 0, 0, 1 << 18, 7),
                           (0x83, 0, 2, 1 << 18, 0xE7),
                           (2, 8, 0, 0, 0x207), (0, 0x80000000, 0, 0, 1)])
    seeds = {}
    for name in sorted(n for n in os.listdir(dumps) if n.endswith(".txt")):
        entries, prev, nsub = [], None, 0
        for line in open(os.path.join(dumps, name)):
            m = re.match(r"CPUID ([0-9a-f]+): ([0-9a-f]+)-([0-9a-f]+)-"
                         r"([0-9a-f]+)-([0-9a-f]+)(.*\[SL ([0-9a-f]+)\])?",
                         line.strip(), re.I)
            if not m:
                continue
            leaf = int(m.group(1), 16)
            nsub = nsub + 1 if leaf == prev else 0
            prev = leaf
            sub = int(m.group(7), 16) if m.group(7) else nsub
            low = leaf & 0x7FFFFFFF
            if leaf >> 16 not in (0, 0x8000) or low > 0x3F or sub > 0xFF:
                continue
            sel = (0x80 if leaf & 0x80000000 else 0) | low
            entries.append(u8(sel) + u8(sub) + b"".join(
                u32(int(m.group(i), 16)) for i in range(2, 6)))
        entries = entries[:64]
        seeds[name.rsplit(".", 1)[0]] = (u8(0) + u8(len(entries)) +
                                         b"".join(entries) + queries)
    return seeds


# ---- msr: flags, SPEC_CTRL mask, host MSRs, accesses (op, MSR, value)
def msr():
    def m(index):
        return u8(3) + u32(index)

    def rd(index):
        return u8(0) + m(index) + u8(0) + u8(0)

    def wr(index, val):
        return u8(1) + m(index) + u8(3) + u64(val)

    def host(msrs):
        return u8(len(msrs)) + b"".join(m(i) + u64(v) for i, v in msrs)

    dom0, spec, ibpb, l1d, caps, aux, paging, long_mode = (
        1 << i for i in range(8))
    host_msrs = host([(0x10A, 0x0C0000EB), (0x8B, 0x0A201205),
                      (0xFE, 0x508), (0x2FF, 0xC06), (0xCE, 0x80838F1012800),
                      (0xC0011029, 0x2), (0x200, 0x6), (0x17, 0)])
    linux_dom0 = (rd(0x8B) + rd(0x17) + rd(0x10A) + rd(0xFE) + rd(0x2FF)
                  + rd(0xCE) + rd(0xC0011029) + rd(0xC0010015)
                  + rd(0x1A0) + rd(0x179) + rd(0xC0000080)
                  + wr(0xC0000080, 0xD01) + wr(0x277, 0x0407050600070106)
                  + rd(0x277) + wr(0xC0000103, 1) + wr(0x48, 1)
                  + wr(0x49, 1) + wr(0x10B, 1) + wr(0x4B564D01, 0x1001)
                  + wr(0x4B564D00, 0x2000) + wr(0x1B, 0xFEE00D00)
                  + rd(0x802) + wr(0x80F, 0x1FF) + wr(0xC0011029, 0x2)
                  + wr(0x200, 0x6) + wr(0x10, 1 << 40) + rd(0x10))
    domu_refused = (rd(0xCE) + rd(0xC0011029) + rd(0xC0010058)
                    + wr(0x200, 0x6) + wr(0xC0010114, 0) + rd(0xC0010114)
                    + wr(0xC0010117, 0x1000) + wr(0xC0000080, 0x100)
                    + wr(0x277, 0x02) + wr(0xC0000103, 1 << 32)
                    + wr(0x48, 0x80) + wr(0x49, 2) + wr(0x10A, 0)
                    + wr(0x4B564D00, 0x40000 - 12)
                    + wr(0x4B564D00, 0x40000 - 11) + rd(0x3A) + rd(0x1D9))
    early_boot = (wr(0xC0000080, 0x100) + rd(0xC0000080) + wr(0x10, 0)
                  + rd(0x10) + wr(0x6E0, 5) + rd(0x6E0) + wr(0x1B, 0)
                  + rd(0x1B) + wr(0x8B, 0) + rd(0x8B))
    return {
        "linux-dom0": u8(dom0 | spec | ibpb | l1d | caps | aux | paging
                         | long_mode) + u64(0x7) + host_msrs + linux_dom0,
        "domu-refused": u8(spec | ibpb | caps | aux | paging | long_mode)
        + u64(0x3) + host_msrs + domu_refused,
        "domu-no-policy": u8(paging | long_mode) + u64(0) + host_msrs
        + linux_dom0,
        "early-boot": u8(0) + u64(0) + host([]) + early_boot,
    }


# ---- hypercall: calls (selector, argument buffer blocks, five arguments)
def hypercall():
    names = ["VERSION", "PLATFORM_INFO", "DOMAIN_CREATE", "DOMAIN_DESTROY",
             "DOMAIN_PAUSE", "DOMAIN_UNPAUSE", "DOMAIN_START", "DOMAIN_INFO",
             "MEMORY_MAP", "VCPU_BOOT_STATE", "VCPU_AFFINITY", "VCPU_INFO",
             "SCHED_SET", "CONSOLE_SETUP", "CONSOLE_KICK", "DMESG",
             "IOREQ_SETUP", "IOREQ_RANGE", "IOREQ_DONE", "IRQ_LINE", "TRACE"]
    block = 128

    def small(v):
        return u8(0) + u8(v)

    def domu(n):
        return u8(1) + u8(n - 1)

    def buf(off=0):
        return u8(2) + u8(off)

    def donor(page):
        return u8(3) + u8(page)

    def n32(v):
        return u8(6) + u32(v)

    def n64(v):
        return u8(7) + u64(v)

    def call(name, args, data=b"", from_domu=False):
        blocks = (len(data) + block - 1) // block
        assert blocks <= 3
        args = list(args) + [small(0)] * (5 - len(args))
        return (u8(names.index(name) | (0x20 if from_domu else 0)
                   | blocks << 6)
                + data.ljust(blocks * block, b"\0") + b"".join(args))

    def create(name, nr_vcpus, flags=0):
        c = name.encode().ljust(32, b"\0") + u32(nr_vcpus) + u32(flags)
        return call("DOMAIN_CREATE", [buf(), n32(40)], c)

    def extents(*ex):
        return b"".join(u64(g) + u64(0x400000 + p * 4096) + u64(n)
                        for g, p, n in ex)

    boot = (u32(1) + u16(0x10) + u16(0x18) + u64(0x1000) + u64(0x27)
            + u64(0x80000011) + u64(0x2000) + u64(0x20) + u64(0x500)
            + u64(0x100000) + u64(0x8000) + u64(2) + b"\0" * 120)
    build = (create("guest-1", 2)
             + call("MEMORY_MAP", [domu(1), buf(), small(2)],
                    extents((0, 0, 0x10000), (0x100000, 16, 0x10000)))
             + call("VCPU_BOOT_STATE", [domu(1), small(0), buf(), n32(200)],
                    boot)
             + call("CONSOLE_SETUP", [domu(1), donor(64), n32(4096)])
             + call("IOREQ_SETUP", [domu(1), donor(72), n32(4096)])
             + call("IOREQ_RANGE", [domu(1), small(1), small(0),
                                    n64(0xD0000000), n32(0x1000)])
             + call("IOREQ_RANGE", [domu(1), small(1), small(3),
                                    n32(0x1000), n32(8)]))
    run = (call("DOMAIN_START", [domu(1)])
           + call("IRQ_LINE", [domu(1), small(5), small(3)])
           + call("DOMAIN_INFO", [small(0), buf(), n32(184)])
           + call("VCPU_INFO", [domu(1), small(1), buf(), n32(56)])
           + call("VCPU_AFFINITY", [domu(1), small(0), small(5)])
           + call("SCHED_SET", [domu(1), n32(512), n32(50)])
           + call("DOMAIN_PAUSE", [domu(1)])
           + call("DOMAIN_UNPAUSE", [domu(1)])
           + call("CONSOLE_KICK", [domu(1)])
           + call("IOREQ_DONE", [domu(1), small(0)])
           + call("IOREQ_RANGE", [domu(1), small(2), small(0),
                                  n64(0xD0000000), n32(0x1000)]))
    return {
        "build-start-destroy": build + run
        + call("DOMAIN_DESTROY", [domu(1)]),
        "platform-dmesg-trace": call("PLATFORM_INFO", [buf(), n32(56)])
        + call("DMESG", [buf(), n32(64), small(1)])
        + call("TRACE", [small(1), small(1)])
        + call("TRACE", [small(3), buf(), n32(4096)])
        + create("traced", 1) + call("DOMAIN_DESTROY", [domu(1)])
        + call("TRACE", [small(2)]),
        "domu-caller": create("victim", 1) + b"".join(
            call(n, [domu(1), buf(), n32(4096)], from_domu=True)
            for n in names),
        "two-domains-one-page": build + create("guest-2", 1)
        + call("MEMORY_MAP", [domu(2), buf(), small(1)],
               extents((0, 8, 0x10000)))
        + call("CONSOLE_SETUP", [domu(2), donor(64), n32(4096)])
        + call("IOREQ_SETUP", [domu(2), donor(72), n32(4096)])
        + call("MEMORY_MAP", [domu(2), buf(), small(1)],
               extents((0, 64, 0x1000)))
        + call("CONSOLE_SETUP", [domu(2), donor(128), n32(4096)])
        + call("MEMORY_MAP", [domu(2), buf(), small(1)],
               extents((0, 128, 0x1000))),
        "refused": create("bad name", 1) + create("x" * 32, 1)
        + create("ok", 0) + create("ok", 65) + create("ok", 1, 1)
        + create("dup", 1) + create("dup", 1)
        + call("MEMORY_MAP", [domu(1), buf(), small(2)],
               extents((0, 0, 0x10000), (0x10000, 8, 0x10000)))
        + call("MEMORY_MAP", [domu(1), buf(), small(1)],
               extents((0x1000, 0, 0x2000)))
        + call("DOMAIN_START", [domu(1)])
        + call("DOMAIN_DESTROY", [small(0)])
        + call("IRQ_LINE", [domu(1), small(4), small(1)])
        + call("CONSOLE_SETUP", [domu(1), donor(1), n32(3000)])
        + call("VCPU_BOOT_STATE", [domu(1), small(1), buf(), n32(200)]),
    }


GENERATORS = {
    "hypercall": hypercall,
    "msr": msr,
    "cpu_policy": cpu_policy,
    "xlcfg": xlcfg,
    "virtio": virtio,
    "mmio": mmio,
    "guest_walk": guest_walk,
    "e820": e820,
    "bzimage": bzimage,
    "acpi": acpi,
    "multiboot2": multiboot2,
    "decode": decode,
    "vlapic": vlapic,
    "vioapic": vioapic,
    "vuart": vuart,
}


def main():
    names = sys.argv[1:] or sorted(GENERATORS)
    for name in names:
        d = os.path.join(CORPUS, name)
        os.makedirs(d, exist_ok=True)
        for seed, data in sorted(GENERATORS[name]().items()):
            with open(os.path.join(d, "seed-" + seed), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (name, len(GENERATORS[name]())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

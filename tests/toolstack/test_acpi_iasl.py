#!/usr/bin/python3
"""DomU ACPI tables through ACPICA's disassembler.

Builds the tables with $(OUT)/toolstack/kl-acpi-dump (libkl's
kl_acpi_domu_build()), disassembles the DSDT, FADT, MADT and XSDT with
`iasl -d` and checks what iasl reads back: no complaints (bad checksums,
truncated structures, unknown opcodes), the objects a DomU needs (_S5_,
COM1, the virtio-mmio devices), and a recompile of the disassembled DSDT
without errors.
Prints TAP; skips everything if iasl (Debian acpica-tools) is missing.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
OUT = os.environ.get("OUT", "out")
DUMP = os.path.join(OUT if os.path.isabs(OUT) else os.path.join(REPO, OUT),
                    "toolstack", "kl-acpi-dump")

# (vCPUs, virtio windows): the small case, and one past the xAPIC IDs.
CASES = [(2, 2), (300, 8)]
TABLES = ["dsdt", "facp", "apic", "xsdt"]
# What iasl prints when a table is malformed.
COMPLAINTS = re.compile(r"error|warning|incorrect|invalid|unknown|"
                        r"terminates in the middle|too short|\*\*\*\*",
                        re.IGNORECASE)

results = []


def check(ok, name, detail=""):
    results.append((ok, name, detail))


def disassemble(workdir, table):
    proc = subprocess.run(["iasl", "-d", table + ".dat"], cwd=workdir,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    dsl_path = os.path.join(workdir, table + ".dsl")
    text = open(dsl_path).read() if os.path.exists(dsl_path) else ""
    return proc.returncode, proc.stdout, text


def check_dsdt(tag, text, nr_virtio, workdir):
    check(re.search(r"Name \(\\_S5, Package \(0x04\)\s*// _S5_: S5 System "
                    r"State\s*\{\s*0x05,\s*0x05,\s*Zero,\s*Zero\s*\}\)",
                    text) is not None, tag + " DSDT \\_S5_ is {5, 5, 0, 0}")
    com1 = re.search(r"Device \(COM1\)\s*\{\s*Name \(_HID, EisaId "
                     r"\(\"PNP0501\"\).*?IO \(Decode16,\s*0x03F8,.*?0x03F8,"
                     r".*?0x08,.*?IRQNoFlags \(\)\s*\{4\}", text, re.S)
    check(com1 is not None, tag + " DSDT \\_SB.COM1 is PNP0501 at 0x3F8 "
          "IRQ 4")
    hids = re.findall(r'Name \(_HID, "LNRO0005"\)', text)
    check(len(hids) == nr_virtio, tag + " DSDT has one LNRO0005 per "
          "virtio-mmio window", "found %d, want %d" % (len(hids), nr_virtio))
    ok = True
    for i in range(nr_virtio):
        dev = re.search(r"Device \(VR%02X\)\s*\{\s*Name \(_HID, \"LNRO0005\"\)"
                        r".*?Name \(_UID, (\w+)\).*?Memory32Fixed \(ReadWrite,"
                        r"\s*0x([0-9A-F]{8}),.*?0x00000200,.*?Interrupt "
                        r"\(ResourceConsumer, (Level|Edge), ActiveHigh, "
                        r"Exclusive, ,, \)\s*\{\s*0x([0-9A-F]{8}),"
                        % i, text, re.S)
        uid = {"Zero": 0, "One": 1}.get(dev.group(1)) if dev else None
        if uid is None and dev:
            uid = int(dev.group(1), 16)
        if not dev or uid != i or \
                int(dev.group(2), 16) != 0xFEB00000 + i * 0x1000 or \
                dev.group(3) != ("Edge" if i % 2 else "Level") or \
                int(dev.group(4), 16) != 5 + i % 19:
            ok = False
            check(False, tag + " DSDT VR%02X resources" % i,
                  dev.group(0) if dev else "device missing")
    if ok:
        check(True, tag + " DSDT virtio-mmio _UID, Memory32Fixed, Interrupt")
    button = re.search(r"Device \(PWRB\)\s*\{\s*Name \(_HID, EisaId "
                       r"\(\"PNP0C0C\"\)", text)
    ged = re.search(r"Device \(GED0\)\s*\{\s*Name \(_HID, \"ACPI0013\""
                    r".*?Interrupt \(ResourceConsumer, Edge, ActiveHigh, "
                    r"Exclusive, ,, \)\s*\{\s*0x00000017,.*?Method \(_EVT, 1, "
                    r"NotSerialized\)\s*//[^\n]*\n\s*\{\s*Notify "
                    r"\(\\_SB\.PWRB, 0x80\)", text, re.S)
    check(button is not None and ged is not None,
          tag + " DSDT power button: PNP0C0C notified by the GED's _EVT "
          "on GSI 23")
    # The disassembly must compile back: names, lengths and resource
    # descriptors that iasl accepts as source too.
    proc = subprocess.run(["iasl", "-p", "recompiled", "dsdt.dsl"],
                          cwd=workdir, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    check(proc.returncode == 0 and
          re.search(r"\b0 Errors\b", proc.stdout) is not None,
          tag + " disassembled DSDT recompiles without errors",
          proc.stdout[-500:])


def field(text, name):
    """A field's value, from a "[off len] Name : value" line or from a
    decoded flag line "  Name : value"."""
    m = re.search(r"^(?:\[[^]]*\])?\s*%s : (.+)$" % re.escape(name), text,
                  re.M)
    return m.group(1).strip() if m else None


def check_facp(tag, text):
    want = {
        "Revision": "06",
        "FADT Minor Revision": "05",
        "Hardware Reduced (V5)": "1",
        "Reset Register Supported (V2)": "1",
        "Value to cause reset": "01",
        "FACS Address": "00000000",
        "SCI Interrupt": "0000",
        "CMOS RTC Not Present (V5)": "1",
        "8042 Present on ports 60/64 (V2)": "0",
    }
    bad = ["%s=%r" % (k, field(text, k)) for k, v in want.items()
           if field(text, k) != v]
    check(not bad, tag + " FADT is hardware-reduced revision 6.5 with "
          "reset support", ", ".join(bad))
    regs = re.findall(r"\] +(Reset Register|Sleep Control Register|"
                      r"Sleep Status Register) : \[Generic Address Structure\]"
                      r"\s*\[.*?Space ID : 01 \[SystemIO\]\s*\[.*?Bit Width :"
                      r" 08\s*\[.*?Bit Offset : 00\s*\[.*?Encoded Access Width"
                      r" : 01 \[Byte Access:8\]\s*\[.*?Address : "
                      r"([0-9A-F]{16})", text)
    got = {name: int(addr, 16) for name, addr in regs}
    check(got == {"Reset Register": 0x600, "Sleep Control Register": 0x604,
                  "Sleep Status Register": 0x605},
          tag + " FADT reset and sleep registers are byte ports 0x600, "
          "0x604, 0x605", repr(got))
    dsdt = re.findall(r"DSDT Address : ([0-9A-F]+)", text)
    check(len(dsdt) == 2 and int(dsdt[0], 16) == int(dsdt[1], 16) != 0,
          tag + " FADT DSDT and X_DSDT agree", repr(dsdt))


def check_apic(tag, text, vcpus):
    # One line each: ".*" never leaves the subtable it started in.
    lapic = re.findall(r"Subtable Type : 00 \[Processor Local APIC\]\n"
                       r".*Length : 08\n.*Processor ID : ([0-9A-F]+)\n"
                       r".*Local Apic ID : ([0-9A-F]+)\n"
                       r".*Flags \(decoded below\) : ([0-9A-F]+)", text)
    x2 = re.findall(r"Subtable Type : 09 \[Processor Local x2APIC\]\n"
                    r".*Length : 10\n.*Reserved : 0000\n"
                    r".*Processor x2Apic ID : ([0-9A-F]+)\n"
                    r".*Flags \(decoded below\) : ([0-9A-F]+)\n"
                    r".*Processor Enabled : 1\n"
                    r".*Processor UID : ([0-9A-F]+)", text)
    ids = [int(a, 16) for _, a, _ in lapic] + [int(a, 16) for a, _, _ in x2]
    enabled = all(int(f, 16) == 1 for _, _, f in lapic) and \
        all(int(f, 16) == 1 for _, f, _ in x2)
    check(ids == list(range(vcpus)) and enabled and
          all(int(u, 16) == int(a, 16) for u, a, _ in lapic) and
          all(int(u, 16) == int(a, 16) for a, _, u in x2) and
          len(lapic) == min(vcpus, 255),
          tag + " MADT lists each vCPU once, xAPIC up to ID 254, x2APIC "
          "beyond", "%d xAPIC, %d x2APIC entries" % (len(lapic), len(x2)))
    io = re.search(r"Subtable Type : 01 \[I/O APIC\]\n.*Length : 0C\n"
                   r".*I/O Apic ID : 00\n.*Reserved : 00\n"
                   r".*Address : FEC00000\n.*Interrupt : 00000000", text)
    check(io is not None and field(text, "PC-AT Compatibility") == "0",
          tag + " MADT has the IOAPIC at 0xFEC00000, GSI base 0, no 8259")


def main():
    if not shutil.which("iasl"):
        print("1..1")
        print("ok 1 - iasl disassembly # SKIP iasl not installed "
              "(Debian acpica-tools; scripts/deps.sh installs it)")
        return 0
    if not os.access(DUMP, os.X_OK):
        print("1..1")
        print("not ok 1 - %s is missing: make unit builds it" % DUMP)
        return 1
    for vcpus, nr_virtio in CASES:
        tag = "%d vCPUs, %d virtio:" % (vcpus, nr_virtio)
        with tempfile.TemporaryDirectory(prefix="kl-iasl-") as workdir:
            proc = subprocess.run([DUMP, workdir, str(vcpus), str(nr_virtio)],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
            check(proc.returncode == 0, tag + " kl-acpi-dump builds the "
                  "tables", proc.stdout.strip())
            if proc.returncode:
                continue
            texts = {}
            for table in TABLES:
                rc, log, text = disassemble(workdir, table)
                complaints = [line for line in (log + text).splitlines()
                              if COMPLAINTS.search(line)
                              and "Unknown" not in line.split(":")[0]]
                check(rc == 0 and text and not complaints,
                      "%s iasl -d %s.dat without complaints" % (tag, table),
                      "; ".join(complaints[:5]) or "exit %d" % rc)
                texts[table] = text
            check_dsdt(tag, texts["dsdt"], nr_virtio, workdir)
            check_facp(tag, texts["facp"])
            check_apic(tag, texts["apic"], vcpus)
    print("1..%d" % len(results))
    for n, (ok, name, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
        if not ok and detail:
            for line in detail.splitlines():
                print("#   " + line)
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())

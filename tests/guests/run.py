#!/usr/bin/python3
"""Boot each freestanding test guest and report TAP.

Under Keel (the default part): a GRUB ISO loads out/keel.elf with the guest
as the only module (Dom0's kernel), and QEMU TCG boots it (`-cpu max -m
512M`; the timer guest also with `-smp 2`, the ipi guest only so; with N
CPUs Keel gets `maxcpus=N dom0_max_vcpus=N`, so Dom0 has N vCPUs, and the
timer guest `late_ms=2000`).
Expected:

  cpuid, timer, e820,  the guest prints `TEST <name>: PASS`
  ipi, domctl, ioreq
  hvmem, triple        Keel stops the domain (`(keel) d0: domain crashed:
                       <reason>`) and stays alive: after three Ctrl-A its
                       debug console answers, and its `q` command lists d0

Without Keel (`bare/...` results): the same guests booted by GRUB's
`linux` command on the emulated machine alone. This proves the guests'
boot path and runtime work, and that their checks reject a platform that
is not Keel: there cpuid, timer and e820 must report FAIL for the expected
reason, hvmem must read the memory, and triple must reset the machine.
The ipi guest runs with `-smp 2`: its APs start and its xAPIC and NMI
ping-pong pass, and it fails for the x2APIC that QEMU 7.2's TCG lacks.

  tests/guests/run.py [--keel-only | --bare-only] [--only NAME]...
"""
# suite-timeout: 2400

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
import pexpect  # noqa: E402

# Keel's own load address: hypervisor memory that Dom0 must not reach.
HYPERVISOR_ADDR = "0x200000"
MEMORY = "512M"
BOOT_TIMEOUT = 180
CRASH_LINE = r"d0[^\r\n]*(crash|stopped)[^\r\n]*"
# Keel itself died: no point waiting for the guest.
KEEL_DIED = r"Keel halted|Panic on cpu\d+[^\r\n]*"
DEBUG_CONSOLE_ESCAPE = "\x01\x01\x01"
# QEMU's emulated LAPIC timer counts at 1 GHz (one tick per ns).
QEMU_LAPIC_KHZ = 1000000


class Guest:
    def __init__(self, name, cmdline="", smp=(1,), crashes_domain=False,
                 announce=None, bare_expect=(), bare_result=None,
                 bare_smp=1, smp_cmdline=""):
        self.name = name
        self.cmdline = cmdline
        # Added to the command line when the guest has several vCPUs.
        self.smp_cmdline = smp_cmdline
        self.smp = smp
        self.bare_smp = bare_smp
        # True: Keel must stop the domain after `announce` is printed.
        self.crashes_domain = crashes_domain
        self.announce = announce
        # Without Keel: lines that must appear, then the result line (a
        # regex), or None when the machine must reset instead.
        self.bare_expect = bare_expect
        self.bare_result = bare_result


GUESTS = [
    Guest("cpuid",
          bare_expect=[r"cpuid: FAILED: CPUID.40000000h signature is "
                       r"KeelKeelKeel"],
          bare_result=r"TEST cpuid: FAIL "),
    # Several emulated CPUs on a busy host stall for up to ~2 s: with two,
    # the timer guest lets its interrupts be that late (late_ms=).
    Guest("timer", smp=(1, 2), smp_cmdline="late_ms=2000",
          bare_expect=[r"timer: FAILED: CPUID 0x40000000 is Keel's",
                       r"timer: ok: xAPIC one-shot: interrupt arrived",
                       r"timer: FAILED: kvmclock: the hypervisor filled in"],
          bare_result=r"TEST timer: FAIL CPUID 0x40000000 is Keel's"),
    Guest("e820", cmdline="addr=" + HYPERVISOR_ADDR,
          bare_expect=[r"e820: ok: the guest's image \[0x1000000-"],
          bare_result=r"TEST e820: FAIL hypervisor memory at %s is not "
                      r"inside a RAM entry" % HYPERVISOR_ADDR),
    Guest("hvmem", cmdline="addr=" + HYPERVISOR_ADDR, crashes_domain=True,
          announce=r"hvmem: reading %s" % HYPERVISOR_ADDR,
          bare_result=r"TEST hvmem: FAIL read returned 0x"),
    Guest("triple", crashes_domain=True, announce=r"triple: faulting now"),
    # Dom0 creates, runs and destroys DomUs through the domain-control
    # hypercalls; with two CPUs a running DomU is destroyed on the other.
    Guest("domctl", cmdline="addr=" + HYPERVISOR_ADDR, smp=(1, 2),
          bare_result=r"TEST domctl: FAIL "),
    # Dom0 is the device model of a DomU: it serves the DomU's I/O
    # requests from the ioreq page; with two CPUs it answers from the
    # other CPU.
    Guest("ioreq", smp=(1, 2), bare_result=r"TEST ioreq: FAIL "),
    Guest("ipi", smp=(2,), bare_smp=2,
          bare_expect=[r"ipi: 2 CPUs from the ACPI MADT",
                       r"ipi: 2 of 2 CPUs online",
                       r"ipi: ok: xAPIC physical: 1000 of 1000 rounds",
                       r"ipi: ok: xAPIC logical: 200 of 200 rounds",
                       r"ipi: ok: NMI: 20 of 20 rounds"],
          bare_result=r"TEST ipi: FAIL CPUID shows x2APIC"),
]

# Guests that need the TSC and LAPIC timer frequencies, which Keel's CPUID
# leaf 0x40000010 gives; without Keel they come from the command line.
TIMING_GUESTS = ("timer", "ipi")


def guest_binary(guest):
    return keeltest.out_path("guests", guest.name + ".bin")


def iso_path(name):
    return keeltest.out_path("guests", "iso", name + ".iso")


def expect_from_keel(machine, pattern, timeout=None):
    """machine.expect(pattern), failing at once if Keel panics."""
    match = machine.expect([pattern, KEEL_DIED], timeout)
    if match.re.pattern == KEEL_DIED:
        raise keeltest.TestFailure(
            "Keel died (%s) while waiting for %r:\n%s"
            % (match.group(0).strip(), pattern, machine.tail()))
    return match


def result_line(machine, name, timeout):
    """Wait for the guest's result line or a domain crash; return
    (passed, text)."""
    result = r"TEST %s: (PASS|FAIL[^\r\n]*)\r*\n" % name
    match = expect_from_keel(machine, "%s|%s" % (result, CRASH_LINE),
                             timeout)
    if match.group(0).startswith("TEST"):
        return match.group(1) == "PASS", match.group(0).strip()
    return False, "Keel stopped the domain: " + match.group(0).strip()


def discard_pending_output(machine, quiet=1.0):
    """Read until the console stays quiet for `quiet` seconds and forget it
    (it stays in the log): Keel's crash report mentions the debug console,
    and only the banner that answers the escape may match."""
    while True:
        try:
            machine.child.read_nonblocking(65536, timeout=quiet)
        except pexpect.TIMEOUT:
            break
        except pexpect.EOF:
            raise keeltest.TestFailure("the emulator exited after the "
                                       "crash:\n" + machine.tail())
    machine.child.buffer = machine.child.string_type()


def check_keel_alive(machine):
    """After a domain crash: Keel's debug console must still answer."""
    discard_pending_output(machine)
    machine.send(DEBUG_CONSOLE_ESCAPE)
    expect_from_keel(machine, r"debug console[^\r\n]*", 30)
    machine.send("q")
    expect_from_keel(machine, r"d0", 30)


def run_under_keel(suite, guest, keel_elf):
    for smp in guest.smp:
        iso = iso_path("%s-smp%d" % (guest.name, smp))
        keel_cmdline = ("maxcpus=%d dom0_max_vcpus=%d" % (smp, smp)
                        if smp > 1 else "")
        cmdline = guest.cmdline
        if smp > 1:
            cmdline = (cmdline + " " + guest.smp_cmdline).strip()
        keeltest.build_iso(iso, keel_elf, [(guest_binary(guest), cmdline)],
                           keel_cmdline=keel_cmdline)
        label = "keel/%s (smp=%d)" % (guest.name, smp)
        machine = keeltest.Machine("guest-%s-smp%d" % (guest.name, smp),
                                   iso=iso, cpu="max", smp=smp, mem=MEMORY,
                                   timeout=BOOT_TIMEOUT)
        with machine:
            try:
                if guest.crashes_domain:
                    expect_from_keel(machine, guest.announce)
                    passed, text = result_line(machine, guest.name, 60)
                    if not text.startswith("Keel stopped the domain"):
                        suite.fail(label, "the guest went on: %s\n%s"
                                   % (text, machine.tail()))
                        continue
                    check_keel_alive(machine)
                    suite.ok(label + ": Keel stops the domain and stays "
                             "alive")
                else:
                    passed, text = result_line(machine, guest.name,
                                               BOOT_TIMEOUT)
                    if passed:
                        suite.ok(label)
                    else:
                        suite.fail(label, "%s\n%s" % (text, machine.tail()))
            except keeltest.TestFailure as e:
                suite.fail(label, e)


def host_tsc_khz():
    """QEMU TCG's TSC runs at the host's TSC rate; /proc/cpuinfo's first
    "cpu MHz" is close enough for the bare run, which checks that timer
    interrupts arrive, not their accuracy."""
    with open("/proc/cpuinfo") as f:
        for line in f:
            m = re.match(r"cpu MHz\s*:\s*([\d.]+)", line)
            if m:
                return int(float(m.group(1)) * 1000)
    return 1000000


def bare_iso(guest):
    cmdline = guest.cmdline
    if guest.name in TIMING_GUESTS:
        cmdline = "tsc_khz=%d lapic_khz=%d" % (host_tsc_khz(),
                                               QEMU_LAPIC_KHZ)
    grub_cfg = (keeltest.GRUB_SERIAL_PREAMBLE +
                "set timeout=0\nset default=0\n"
                "menuentry \"%s\" {\n\tlinux /boot/%s.bin %s\n\tboot\n}\n"
                % (guest.name, guest.name, cmdline))
    iso = iso_path("bare-" + guest.name)
    keeltest.make_grub_iso(iso, {"boot/%s.bin" % guest.name:
                                 guest_binary(guest)}, grub_cfg)
    return iso


def run_bare(suite, guest):
    label = "bare/%s" % guest.name
    iso = bare_iso(guest)
    machine = keeltest.Machine("guest-bare-%s" % guest.name, iso=iso,
                               cpu="max", smp=guest.bare_smp, mem=MEMORY,
                               timeout=BOOT_TIMEOUT)
    with machine:
        try:
            machine.expect(r"%s: entered via 32-bit entry" % guest.name)
            if guest.announce:
                machine.expect(guest.announce)
            for line in guest.bare_expect:
                machine.expect(line, 60)
            if guest.bare_result:
                machine.expect(guest.bare_result, 60)
            else:
                # -no-reboot: a triple fault resets, so QEMU exits.
                index = machine.child.expect(
                    [pexpect.EOF, r"TEST %s: [^\r\n]*" % guest.name], 60)
                if index != 0:
                    suite.fail(label, "the machine did not reset:\n" +
                               machine.tail())
                    return
            suite.ok(label + ": runs and rejects a platform without Keel")
        except (keeltest.TestFailure, pexpect.TIMEOUT) as e:
            suite.fail(label, e)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--keel-only", action="store_true")
    group.add_argument("--bare-only", action="store_true")
    parser.add_argument("--only", action="append", default=[],
                        metavar="NAME", help="run only this guest")
    args = parser.parse_args()

    suite = keeltest.Suite("test guests")
    guests = [g for g in GUESTS if not args.only or g.name in args.only]
    keel_elf = keeltest.out_path("keel.elf")
    for guest in guests:
        if not os.path.exists(guest_binary(guest)):
            suite.fail(guest.name, "%s is missing (make guests)"
                       % guest_binary(guest))
            continue
        if not args.keel_only:
            run_bare(suite, guest)
        if args.bare_only:
            continue
        if not os.path.exists(keel_elf):
            suite.fail("keel/" + guest.name,
                       "%s is missing (make keel)" % keel_elf)
            continue
        run_under_keel(suite, guest, keel_elf)
    suite.finish()


if __name__ == "__main__":
    main()

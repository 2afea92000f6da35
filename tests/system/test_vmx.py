#!/usr/bin/python3
"""Keel's Intel VT-x backend under Bochs (the VMX test bed, TESTING.md).

For each test guest, a GRUB ISO loads out/keel.elf with the guest from
out/guests/ as Dom0's kernel, and Bochs (model corei7_haswell_4770: VMX
with EPT and unrestricted guest) boots it. Checked:

  every boot        the banner `Keel hypervisor` and `virtualization: Intel
                    VMX ...` (Keel chose its VMX backend)
  cpuid, e820,      the guest prints `TEST <name>: PASS` (it ran under
  timer             VMX: CPUID, MSR, port I/O and HLT exits, EPT)
  domctl            Dom0 creates, builds, runs, pauses and destroys DomUs
                    through the domain-control hypercalls (VMCALL), 5
                    create/destroy cycles instead of 50 to keep it short
  ioreq             Dom0 is a DomU's device model: MMIO and port I/O
                    requests of every width through the ioreq page,
                    doorbells, IRQ_LINE, and the refusals (VMCALL, EPT
                    violations decoded by Keel's own page walk)
  hvmem, triple     Keel prints `d0: domain crashed:` (an EPT violation
                    outside Dom0's memory; a triple-fault exit)
  smp               two physical CPUs: Dom0 is the ipi guest with 2 vCPUs
                    (its AP starts by INIT/SIPI from the other CPU; IPIs
                    and an NMI between them), beside a timer DomU with 2
                    unpinned vCPUs; both bring all vCPUs online and pass.
                    VMCSs move between CPUs: every vCPU is created on
                    cpu0, and DomU vCPUs migrate.
  missing           CPUs with VMX but without what Keel needs: Keel names
                    each missing feature (`VMX lacks ...`) and halts with
                    `Keel cannot run on this CPU`, not choosing VMX.
                    core2_penryn_t9600 has neither EPT nor unrestricted
                    guest; corei5_lynnfield_750 has EPT but no unrestricted
                    guest.
  preemption        one CPU: Keel reports the VMX-preemption timer in use;
                    two busy DomUs share the CPU and both progress, and the
                    debug console's exit counters (Ctrl-A x3, 'q') show
                    that their runs ended by the preemption timer
                    (`deadline` exits), not by the LAPIC timer (`extint`).

Bochs runs about 50M instructions per second, so every boot takes tens of
seconds; the emulator is killed as soon as the result line is seen.

  tests/system/test_vmx.py [--only NAME]...   (NAME: a guest, missing,
                                               smp or preemption)
"""
# suite-timeout: 2400
# suite-parallel: yes

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

# Keel's load address: hypervisor memory that Dom0 must not reach (the
# guests' command lines match tests/guests/run.py).
HYPERVISOR_ADDR = "0x200000"
MEMORY = "512M"
BOOT_TIMEOUT = 300
RESULT_TIMEOUT = 300
BANNER = r"Keel hypervisor \d+\.\d+"
VIRT_LINE = r"virtualization: ([^\r\n]*)\r*\n"
CRASH_LINE = r"d0: domain crashed: ([^\r\n]*)\r*\n"
NO_VIRT = r"Keel cannot run on this CPU"


class Guest:
    def __init__(self, name, cmdline="", crashes_domain=False):
        self.name = name
        self.cmdline = cmdline
        self.crashes_domain = crashes_domain


GUESTS = [
    Guest("cpuid"),
    Guest("e820", "addr=" + HYPERVISOR_ADDR),
    Guest("timer"),
    Guest("hvmem", "addr=" + HYPERVISOR_ADDR, crashes_domain=True),
    Guest("triple", crashes_domain=True),
    Guest("domctl", "addr=%s cycles=5" % HYPERVISOR_ADDR),
    Guest("ioreq"),
]


def run_guest(suite, guest, keel_elf, model="max", backend="Intel VMX",
              prefix="vmx"):
    """Boots guest as Dom0 on the Bochs CPU `model` ("max": the VMX
    reference model) and checks its verdict; also used by
    test_cpu_models.py for the other models."""
    label = "%s/%s" % (prefix, guest.name)
    binary = keeltest.out_path("guests", guest.name + ".bin")
    if not os.path.exists(binary):
        suite.fail(label, "%s is missing (make guests)" % binary)
        return
    iso = keeltest.out_path(prefix, guest.name + ".iso")
    keeltest.build_iso(iso, keel_elf, [(binary, guest.cmdline)])
    machine = keeltest.Machine("%s-%s" % (prefix, guest.name), iso=iso,
                               cpu=model, smp=1, mem=MEMORY,
                               timeout=BOOT_TIMEOUT, backend="bochs")
    with machine:
        try:
            machine.expect(BANNER)
            index = machine.child.expect([VIRT_LINE, NO_VIRT],
                                         timeout=BOOT_TIMEOUT)
            if index != 0 or backend not in machine.child.match.group(1):
                suite.fail(label, "Keel did not choose %s:\n%s"
                           % (backend, machine.tail()))
                return
            machine.expect([r"TEST %s: (PASS|FAIL[^\r\n]*)\r*\n" % guest.name,
                            CRASH_LINE], RESULT_TIMEOUT)
            text = machine.child.match.group(0)
            if guest.crashes_domain:
                suite.check(label + ": Keel stops the domain",
                            "domain crashed" in text,
                            "the guest went on: %s\n%s"
                            % (text, machine.tail()))
            else:
                suite.check(label + ": guest passes",
                            machine.child.match.group(1) == "PASS",
                            "%s\n%s" % (text, machine.tail()))
        except keeltest.TestFailure as e:
            suite.fail(label, e)


# Bochs CPU models with VMX but without a feature Keel needs, and the
# features Keel must name for each.
MISSING = [
    ("core2_penryn_t9600", ["EPT", "unrestricted guest"]),
    ("corei5_lynnfield_750", ["unrestricted guest"]),
]
LACKS_LINE = r"VMX lacks ([^:\r\n]*): Keel needs it"


def run_missing(suite, keel_elf):
    binary = keeltest.out_path("guests", "cpuid.bin")
    if not os.path.exists(binary):
        suite.fail("vmx/missing", "%s is missing (make guests)" % binary)
        return
    iso = keeltest.out_path("vmx", "missing.iso")
    keeltest.build_iso(iso, keel_elf, [(binary, "")])
    for model, features in MISSING:
        label = "vmx/missing: %s" % model
        machine = keeltest.Machine("vmx-missing-" + model, iso=iso, smp=1,
                                   cpu=model, mem=MEMORY,
                                   timeout=BOOT_TIMEOUT, backend="bochs")
        with machine:
            try:
                machine.expect(BANNER)
                index = machine.child.expect([NO_VIRT, VIRT_LINE],
                                             timeout=BOOT_TIMEOUT)
            except keeltest.TestFailure as e:
                suite.fail(label + ": Keel refuses the CPU", e)
                continue
            log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
        named = re.findall(LACKS_LINE, log)
        suite.check(label + ": Keel refuses the CPU and halts", index == 0,
                    "Keel went on: %s\n%s" % (machine.child.match.group(0),
                                              machine.tail()))
        for feature in features:
            suite.check("%s: Keel names the missing %s" % (label, feature),
                        any(feature in name for name in named),
                        "features Keel named: %s\n%s"
                        % (named, machine.tail()))


# Two physical CPUs (Bochs `cpu: count=2`): Dom0 = ipi guest, one DomU =
# timer guest; the DomU takes its CPU count from cpus= (no ACPI for DomUs).
SMP_KEEL_CMDLINE = ("maxcpus=2 dom0_max_vcpus=2 dom0_mem=256M "
                    "domu=timer:1,mem=32M,vcpus=2")
SMP_TIMEOUT = 400


def run_smp(suite, keel_elf):
    label = "vmx/smp"
    binaries = [keeltest.out_path("guests", name + ".bin")
                for name in ("ipi", "timer")]
    missing = keeltest.missing_files(binaries)
    if missing:
        suite.fail(label, "missing: %s (make guests)" % ", ".join(missing))
        return
    iso = keeltest.out_path("vmx", "smp.iso")
    keeltest.build_iso(iso, keel_elf, [(binaries[0], ""),
                                       (binaries[1], "cpus=2")],
                       keel_cmdline=SMP_KEEL_CMDLINE)
    machine = keeltest.Machine("vmx-smp", iso=iso, smp=2, mem=MEMORY,
                               timeout=SMP_TIMEOUT, backend="bochs")

    def dom0(log):
        return keeltest.dom0_stream(log)

    def domu(log):
        text = keeltest.ANSI_ESCAPE.sub("", log).replace("\r", "")
        return "\n".join(line[len("(timer) "):] for line in text.split("\n")
                         if line.startswith("(timer) "))

    def finished(log):
        return (re.search(r"TEST ipi: (PASS|FAIL)", dom0(log)) and
                re.search(r"TEST timer: (PASS|FAIL)", domu(log)) or
                re.search(r"Panic on cpu|domain crashed", log))

    with machine:
        view = None
        try:
            machine.wait_until(finished, "both verdicts", SMP_TIMEOUT)
        except keeltest.TestFailure as e:
            # Each missing verdict fails below with Keel's view of both
            # domains first (a report is shown from its beginning), to
            # tell a waiting guest from a stopped CPU, then the log's end.
            view = str(machine.with_keel_view(e))
        log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
    tail = view or machine.tail()
    online = re.search(r"SMP: (\d+) of (\d+) CPUs online", log)
    suite.check(label + ": Keel runs on 2 physical CPUs",
                online and online.group(1) == "2",
                "Keel's SMP line: %s\n%s"
                % (online.group(0) if online else "missing", tail))
    for name, stream, where in [("ipi", dom0(log), "Dom0"),
                                ("timer", domu(log), "DomU")]:
        suite.check("%s: %s %s starts 2 vCPUs" % (label, where, name),
                    "%s: 2 of 2 CPUs online" % name in stream,
                    "no `%s: 2 of 2 CPUs online`\n%s" % (name, tail))
        verdict = re.search(r"TEST %s: (PASS|FAIL[^\n]{0,200})" % name,
                            stream)
        suite.check("%s: %s %s passes" % (label, where, name),
                    verdict and verdict.group(1) == "PASS",
                    "%s\n%s" % (verdict.group(0) if verdict else
                                "no verdict within %d s" % SMP_TIMEOUT,
                                tail))


# One CPU: Dom0 = e820 guest (finishes and halts), two busy DomUs that
# never stop; their progress is compared over the same TSC seconds.
PREEMPT_KEEL_CMDLINE = ("maxcpus=1 dom0_mem=128M "
                        "domu=left:1,mem=32M domu=right:2,mem=32M")
PREEMPT_TIMEOUT = 400
PREEMPT_FIRST, PREEMPT_LAST = 2, 6  # busy seconds compared
# Runs on cpu0 end at least every 20 ms (Keel's console poll), so each
# busy DomU gets many runs per second; the floor is far below that.
MIN_DEADLINE_EXITS = 20
CTRL_A = "\x01"


def busy_progress(log, name, t):
    m = re.search(r"\(%s\) busy: t=%d progress=(\d+)\s" % (name, t), log)
    return int(m.group(1)) if m else None


def vcpu_exits(log, dom_id):
    """The exit counters the debug console's 'q' printed last for dNv0."""
    found = re.findall(r"d%dv0: [^\n]*\n[^\n]*exits:([^\n]*)\n" % dom_id,
                       log)
    if not found:
        return None
    return {k: int(v) for k, v in re.findall(r"([-\w]+)=(\d+)", found[-1])}


def run_preemption(suite, keel_elf):
    label = "vmx/preemption"
    binaries = [keeltest.out_path("guests", name + ".bin")
                for name in ("e820", "busy")]
    missing = keeltest.missing_files(binaries)
    if missing:
        suite.fail(label, "missing: %s (make guests)" % ", ".join(missing))
        return
    iso = keeltest.out_path("vmx", "preemption.iso")
    keeltest.build_iso(iso, keel_elf,
                       [(binaries[0], "addr=" + HYPERVISOR_ADDR),
                        (binaries[1], "seconds=0"),
                        (binaries[1], "seconds=0")],
                       keel_cmdline=PREEMPT_KEEL_CMDLINE)
    machine = keeltest.Machine("vmx-preemption", iso=iso, smp=1, mem=MEMORY,
                               timeout=PREEMPT_TIMEOUT, backend="bochs")
    with machine:
        try:
            features = machine.expect(r"VMX: VMCS revision[^\r\n]*\r*\n",
                                      BOOT_TIMEOUT).group(0).strip()
            suite.check(label + ": Keel uses the VMX-preemption timer",
                        "preemption-timer" in features,
                        "Keel's VMX line: %s" % features)
            for name in ("left", "right"):
                machine.expect(r"\(%s\) busy: t=%d progress=\d+\s"
                               % (name, PREEMPT_LAST), RESULT_TIMEOUT)
            log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
            ids = dict((name, int(i)) for i, name in
                       re.findall(r"d(\d+) '(left|right)': module", log))
            if len(ids) != 2:
                suite.fail(label, "Keel did not report both DomUs:\n" +
                           machine.tail())
                return
            machine.send(CTRL_A * 3)
            machine.expect(r"Keel debug console", 60)
            machine.send("q")
            # 'q' lists the domains in id order: wait for the last one.
            machine.expect(r"d%dv0: [^\n]*\n[^\n]*exits:[^\n]*\n"
                           % max(ids.values()), 60)
        except keeltest.TestFailure as e:
            suite.fail(label, e)
            return
        log = keeltest.ANSI_ESCAPE.sub("", machine.log_text()).replace(
            "\r", "")
    for name in ("left", "right"):
        a = busy_progress(log, name, PREEMPT_FIRST)
        b = busy_progress(log, name, PREEMPT_LAST)
        rate = (b - a) / float(PREEMPT_LAST - PREEMPT_FIRST) \
            if a is not None and b is not None else 0
        print("# %s: %.0f iterations/s (t=%d..%d)"
              % (name, rate, PREEMPT_FIRST, PREEMPT_LAST))
        suite.check("%s: busy DomU %s progresses on the shared CPU"
                    % (label, name), rate > 0,
                    "progress t=%d: %s, t=%d: %s"
                    % (PREEMPT_FIRST, a, PREEMPT_LAST, b))
        exits = vcpu_exits(log, ids[name])
        print("# %s exits: %s" % (name, exits))
        deadline = exits.get("deadline", 0) if exits else 0
        extint = exits.get("extint", 0) if exits else 0
        suite.check("%s: %s's runs end by the preemption timer "
                    "(deadline exits %d >= %d, more than extint %d)"
                    % (label, name, deadline, MIN_DEADLINE_EXITS, extint),
                    deadline >= MIN_DEADLINE_EXITS and deadline > extint,
                    "debug console exit counters: %s\n%s"
                    % (exits, machine.tail()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[],
                        metavar="NAME", help="run only this guest")
    args = parser.parse_args()

    suite = keeltest.Suite("Intel VMX under Bochs")
    keel_elf = keeltest.out_path("keel.elf")
    guests = [g for g in GUESTS if not args.only or g.name in args.only]
    if not os.path.exists(keel_elf):
        suite.fail("vmx", "%s is missing (make keel)" % keel_elf)
    else:
        for guest in guests:
            run_guest(suite, guest, keel_elf)
        if not args.only or "missing" in args.only:
            run_missing(suite, keel_elf)
        if not args.only or "smp" in args.only:
            run_smp(suite, keel_elf)
        if not args.only or "preemption" in args.only:
            run_preemption(suite, keel_elf)
    suite.finish()


if __name__ == "__main__":
    main()

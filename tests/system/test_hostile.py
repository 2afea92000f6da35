#!/usr/bin/python3
"""The hostile-guest suite (tests/guests/hostile): attackers beside a neighbour.

Each boot runs Keel on one CPU with the e820 guest as Dom0, the busy guest
as the DomU 'nb' (the neighbour, reporting its progress every second) and
one or more hostile guests as DomUs, each running a list of cases (one
surface each) in order. The attackers sleep first (wait=), so the
neighbour's progress alone is the baseline. Each case passes when:

- the attacker's verdict line for it is PASS (it got the architectural
  answer), or, for the cases Keel must answer by stopping the domain,
  Keel logs that it stopped that domain, for the stated reason;
- Keel's debug console answers right after it ('q' lists the vCPUs);
- where the case lasts two neighbour reports or more, the neighbour's
  rate during it is at least 40% of its rate alone (a plain CPU hog, the
  case 'hog', leaves it about 50%).

After the last case the neighbour must keep running, and after 'clihlt'
(an attacker halted with interrupts off) it must get back at least 80% of
its rate alone.

Under QEMU TCG (AMD SVM, -cpu max, with -icount so that rates measure the
emulated CPU and not the host's load) four boots cover every case (the
last one with Dom0 attacking too). A subset runs under Bochs: exceptions
with #AC and ICEBP, NMI nesting, INIT/SIPI storms, LOCK, CR and
virtualization instructions and the debug-register leak on the VMX
model, and the exceptions on ryzen (SVM with ICEBP, which QEMU 7.2
compiles out). Boots run two at a time, the Bochs ones beside the QEMU
ones. `--qemu` or `--bochs` runs one half, `--only BOOT` one boot.
"""
# suite-timeout: 2400

import argparse
import functools
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402

HYPERVISOR_ADDR = "0x200000"
CTRL_A = "\x01"
FAIR_SHARE = 0.40
HALTED_SHARE = 0.80
# QEMU counts instructions for its clock (16 ns each): the neighbour's rate
# then measures its share of the emulated CPU, not the host's load, which
# other emulators on the machine change from second to second.
ICOUNT = ("-icount", "shift=4,sleep=off")
WAIT_S = 5
ATTACK_S = 4

# Every case, the surface it attacks, and for those Keel must answer by
# stopping the domain, the reason Keel logs.
SURFACES = {
    "hog": "control: a plain CPU hog",
    "clihlt": "a vCPU that never yields interrupts (CLI; HLT)",
    "exceptions": "#DB (and #AC, ICEBP) intercepted and reflected",
    "triple": "triple fault beside a neighbour",
    "drread": "debug registers do not leak between domains",
    "auxread": "TSC_AUX does not leak between domains",
    "nmi": "NMI nesting: no NMI before the handler's IRET",
    "nmistorm": "self-NMI storm",
    "ctlregs": "CR0/CR4/EFER/XCR0 invalid combinations",
    "virtinsns": "SVM and VMX instructions in the guest",
    "lock": "LOCK where it is #UD; split locks",
    "timer-period": "LAPIC timer periodic count 1, divide by 1",
    "timer-divide": "LAPIC timer every divide value, counts 1 and 2^32-1",
    "deadline-max": "TSC deadline 2^64-1 after TSC := 0",
    "deadline-past": "TSC deadline in the past",
    "hypercall": "hypercalls at CPL0: every number, garbage arguments",
    "hypercall-user": "hypercalls at CPL3",
    "msr": "MSR sweep: reads and write-backs",
    "cpuid": "CPUID sweep: leaves and subleaves",
    "ports": "port I/O sweep",
    "initsipi": "INIT/SIPI storms at itself and a sibling vCPU",
    "icr": "ICR: every delivery mode and destination",
    "selfipi": "self-IPI storms",
    "eoi": "EOI without ISR",
    "lapicregs": "garbage in every LAPIC register",
    "x2apic": "x2APIC MSR fuzzing",
    "ioapic": "vIOAPIC out-of-range indices, garbage redirections",
    "prefixes": "decoder: MMIO MOV under every prefix combination",
    "insn15": "decoder: a 15-byte MMIO MOV",
    "insn16": "decoder: a 16-byte instruction is #GP",
    "fetchcross": "decoder: an MMIO MOV across a page boundary",
    "fetchend": "decoder: a fetch across the end of RAM",
    "mmio-movs": "decoder: MMIO by MOVS",
    "mmio-stos": "decoder: MMIO by REP STOS",
    "mmio-unknown": "decoder: MMIO by an instruction it does not know",
    "kvmclock-pagecross": "kvmclock system time across a page end",
    "kvmclock-lowmem": "kvmclock system time at Keel's host address",
    "kvmclock-tscwrite": "kvmclock system time across a TSC write",
    "wallclock": "kvmclock wall clock across a page end, at MMIO, beyond "
                 "RAM",
    "kvmclock-mmio": "kvmclock system time at MMIO",
    "kvmclock-beyond": "kvmclock system time beyond RAM (another "
                       "domain's memory on the host)",
    "kvmclock-ramend": "kvmclock system time across the end of RAM",
    "mmiodrain": "Dom0's on-demand MMIO mappings: a quota, not Keel's "
                 "whole frame pool",
}
STOPS = {  # case: (Keel's reason, in a regular expression; in words)
    "triple": (r"triple fault \(shutdown\)", "a triple fault"),
    "fetchend": (r"execute access to \w+ outside its memory",
                 "an execute access outside its memory"),
    "mmio-movs": (r"cannot emulate MMIO at fee00030", "cannot emulate"),
    "mmio-stos": (r"cannot emulate MMIO at fee00080", "cannot emulate"),
    "mmio-unknown": (r"cannot emulate MMIO at fee00080", "cannot emulate"),
    "kvmclock-mmio": (r"kvmclock page fee00000 is not guest RAM",
                      "not guest RAM"),
    "kvmclock-beyond": (r"kvmclock page 40000000 is not guest RAM",
                        "not guest RAM"),
    "kvmclock-ramend": (r"kvmclock page \w+ff0 is not guest RAM",
                        "not guest RAM"),
    "mmiodrain": (r"MMIO \w+: over Dom0's quota of 1024 page-table pages",
                  "over its quota of MMIO page tables"),
}
# Writers that never finish: their partner's verdict is the case's.
WRITERS = ("drwrite", "auxwrite")


def exceptions_exits(exits):
    """#DB and #AC exit to Keel, which reflects them: before Keel
    intercepted them there were no such exits."""
    exc = exits.get("exception", 0)
    return (exc >= 20000,
            "Keel intercepted and reflected them (exception exits %d >= "
            "20000)" % exc)


EXITS = {"exceptions": exceptions_exits}


class Attacker:
    def __init__(self, dom, cases, cmdline="", vcpus=1, mem=32):
        self.dom = dom
        self.cases = cases
        self.cmdline = cmdline
        self.vcpus = vcpus
        self.mem = mem


class Boot:
    def __init__(self, name, attackers, mem="512M", dom0=None,
                 wait=WAIT_S):
        self.name = name
        self.attackers = attackers
        self.mem = mem
        self.dom0 = dom0  # a case Dom0 runs instead of the e820 guest
        # Seconds the attackers sleep first: the neighbour's baseline.
        self.wait = wait


def stop(dom, case):
    return Attacker(dom, [case], mem=24)


QEMU_BOOTS = [
    # Timed attacks, one after the other, each judged for fairness.
    Boot("timed", [Attacker("atk", [
        "hog", "timer-period", "deadline-max", "nmistorm", "selfipi",
        "timer-divide", "deadline-past", "clihlt"])]),
    # QEMU 7.2 compiles ICEBP out (#UD before any intercept, WANT_ICEBP in
    # target/i386/tcg/translate.c), never raises #AC and does not check CR
    # writes under SVM (insns.c): Bochs runs those.
    Boot("surfaces", [Attacker("atk", [
        "exceptions", "nmi", "ctlregs", "virtinsns", "lock", "hypercall",
        "hypercall-user", "icr", "eoi", "lapicregs", "ioapic", "prefixes",
        "insn15", "insn16", "fetchcross", "kvmclock-pagecross",
        "kvmclock-lowmem", "kvmclock-tscwrite", "wallclock", "cpuid",
        "x2apic", "msr", "ports"],
        "icebp=0 ac=0 cr=0")]),
    Boot("leaks", [Attacker("drw", ["drwrite"]),
                   Attacker("drr", ["drread"], "wait=0"),
                   Attacker("auxw", ["auxwrite"]),
                   Attacker("auxr", ["auxread"], "wait=0"),
                   Attacker("sip", ["initsipi"], "cpus=2", vcpus=2)]),
    Boot("stops", [stop("tf", "triple"), stop("fe", "fetchend"),
                   stop("mv", "mmio-movs"), stop("st", "mmio-stos"),
                   stop("un", "mmio-unknown"), stop("km", "kvmclock-mmio"),
                   stop("kb", "kvmclock-beyond"),
                   stop("ke", "kvmclock-ramend")], mem="768M",
         dom0="mmiodrain"),
]
# Under Bochs: the VMX reference model, and the SVM model with next-RIP
# (ryzen) for ICEBP's SVM intercept.
BOCHS_BOOTS = [
    # Not the NMI storm: Bochs 2.7 carries the virtual-NMI blocking of a
    # vCPU preempted in its NMI handler across VM entries into other
    # guests, which then take no NMI until an IRET (docs/testing-notes.md).
    ("max", Boot("vmx", [Attacker("atk", [
        "exceptions", "nmi", "lock", "ctlregs", "virtinsns"],
        "icebp=1 ac=1 cr=1"),
        Attacker("sip", ["initsipi"], "cpus=2", vcpus=2),
        Attacker("drw", ["drwrite"]),
        Attacker("drr", ["drread"], "wait=0")], wait=2)),
    # Bochs 2.7's SVM takes the #DB intercept before it writes DR6
    # (cpu/exception.cc), where AMD CPUs, QEMU and KVM's use of the VMCB's
    # DR6 have it written: the DR6 bits are checked elsewhere.
    ("ryzen", Boot("ryzen", [Attacker("atk", ["exceptions"],
                                      "icebp=1 ac=1 dr6=0")])),
]


def clean_text(text):
    return keeltest.ANSI_ESCAPE.sub("", text).replace("\r", "")


def clean(machine):
    return clean_text(machine.log_text())


def progress_lines(log, name="nb"):
    """(position, t, progress) of each of name's busy reports."""
    return [(m.start(), int(m.group(1)), int(m.group(2)))
            for m in re.finditer(r"\(%s\) busy: t=(\d+) progress=(\d+)\s"
                                 % name, log)]


def rate(lines):
    if len(lines) < 2 or lines[-1][1] == lines[0][1]:
        return None
    return (lines[-1][2] - lines[0][2]) / float(lines[-1][1] - lines[0][1])


def vcpu_exits(text, dom_id):
    found = re.findall(r"d%dv0: [^\n]*\n[^\n]*exits:([^\n]*)\n" % dom_id,
                       text)
    if not found:
        return None
    return {k: int(v) for k, v in re.findall(r"([-\w]+)=(\d+)", found[-1])}


def search_from(machine, regex, start, what, timeout):
    """Waits for regex in the cleaned log at or after start; the match."""
    found = []

    def seen(log):
        m = re.compile(regex).search(clean_text(log), start)
        if m:
            found.append(m)
        return bool(m)
    machine.wait_until(seen, what, timeout)
    return found[0]


def console_answers(machine, last_dom, timeout):
    """Keel's debug console: 'q' must list the last domain's vCPU 0.
    Returns the dump."""
    start = len(clean(machine))
    machine.send(CTRL_A * 3)
    search_from(machine, r"Keel debug console", start, "the debug console",
                timeout)
    machine.send("q")
    m = search_from(machine, r"d%dv0: [^\n]*\n[^\n]*exits:[^\n]*\n"
                    % last_dom, start, "the vCPU dump", timeout)
    machine.send(CTRL_A * 3)
    search_from(machine, r"input goes to Dom0 again", m.end(),
                "the console's exit", timeout)
    return clean(machine)[start:]


def run_boot(suite, boot, backend, prefix, timeout, cpu="max"):
    label = "%s/%s" % (prefix, boot.name)
    binaries = {g: keeltest.out_path("guests", g + ".bin")
                for g in ("e820", "busy", "hostile")}
    missing = keeltest.missing_files(list(binaries.values()))
    if missing:
        suite.fail(label, "missing: %s (make guests)" % ", ".join(missing))
        return
    modules = [(binaries["hostile"], "case=" + boot.dom0) if boot.dom0
               else (binaries["e820"], "addr=" + HYPERVISOR_ADDR),
               (binaries["busy"], "seconds=0")]
    domus = ["domu=nb:1,mem=32M"]
    for i, atk in enumerate(boot.attackers):
        modules.append((binaries["hostile"],
                        "case=%s wait=%d seconds=%d %s"
                        % (",".join(atk.cases), boot.wait, ATTACK_S,
                           atk.cmdline)))
        domus.append("domu=%s:%d,mem=%dM,vcpus=%d"
                     % (atk.dom, i + 2, atk.mem, atk.vcpus))
    iso = keeltest.out_path(prefix.split("-")[0], boot.name + ".iso")
    keeltest.build_iso(iso, keeltest.out_path("keel.elf"), modules,
                       keel_cmdline="maxcpus=1 dom0_mem=128M " +
                       " ".join(domus))
    machine = keeltest.Machine("%s-%s" % (prefix, boot.name), iso=iso,
                               cpu=cpu, smp=1, mem=boot.mem, timeout=timeout,
                               backend=backend,
                               extra_args=ICOUNT if backend == "qemu" else ())
    with machine:
        try:
            ids = judge_boot(suite, machine, boot, label, timeout)
        except keeltest.TestFailure as e:
            suite.fail(label, e)
            return
    judge_rates(suite, clean(machine), boot, label, ids)


def judge_boot(suite, machine, boot, label, timeout):
    """Each case's verdict (and the console after it), in order."""
    m = search_from(machine, r"d\d+ '%s': module" % boot.attackers[-1].dom,
                    0, "the attackers' domains", timeout)
    ids = dict((n, int(i)) for i, n in re.findall(
        r"d(\d+) '(\w+)': module", clean(machine)))
    last_dom = max(ids.values())
    judged = [(atk.dom, ids[atk.dom], case) for atk in boot.attackers
              for case in atk.cases if case not in WRITERS]
    if boot.dom0:
        judged.append((None, 0, boot.dom0))  # its output is not prefixed
    pos = {}
    for dom, dom_id, case in judged:
        out = r"\(%s\) " % dom if dom else ""
        crash = r"\(keel\) d%d: domain crashed: ([^\n]*)\n" % dom_id
        verdict = (r"%shostile: verdict %s: (PASS|FAIL[^\n]*)\n|%s|"
                   r"%sTEST hostile: (FAIL[^\n]*)\n"
                   % (out, re.escape(case), crash, out))
        m = search_from(machine, verdict, pos.get(dom, 0),
                        "the verdict of %s" % case, timeout)
        pos[dom] = m.end()
        name = "%s/%s: %s" % (label, case, SURFACES[case])
        if case in STOPS:
            suite.check("%s: Keel stops the domain: %s"
                        % (name, STOPS[case][1]),
                        m.group(2) and re.search(STOPS[case][0], m.group(2)),
                        "%s\n%s" % (m.group(0).strip(), machine.tail(40)))
        else:
            suite.check("%s: the attacker's verdict is PASS" % name,
                        m.group(1) == "PASS",
                        "%s\n%s" % (m.group(0).strip(), machine.tail(40)))
        dump = console_answers(machine, last_dom, timeout)
        suite.ok("%s: Keel's debug console answers after it" % name)
        if case in EXITS:
            ok, what = EXITS[case](vcpu_exits(dump, dom_id) or {})
            suite.check("%s: %s" % (name, what), ok,
                        "exit counters of the attacker: %s"
                        % vcpu_exits(dump, dom_id))
    end = len(clean(machine))
    machine.wait_until(
        lambda log: len([p for p in progress_lines(clean_text(log))
                         if p[0] > end]) >= 3,
        "three neighbour reports after the last case", timeout)
    suite.ok("%s: the neighbour keeps running after every case" % label)
    return ids


def judge_rates(suite, log, boot, label, ids):
    if len(boot.attackers) > 1:
        return  # several attackers share the CPU: only progress counts
    atk = boot.attackers[0]
    lines = progress_lines(log)
    first = log.find("(%s) hostile: case" % atk.dom)
    alone = rate([p for p in lines if p[0] < first and p[1] >= 2])
    if alone is None:
        suite.fail("%s: the neighbour's rate alone" % label,
                   "no neighbour baseline:\n%s" % log[-3000:])
        return
    suite.note("%s: neighbour %.0f iterations/s alone" % (label, alone))
    for case in atk.cases:
        start = log.find("(%s) hostile: case %s:" % (atk.dom, case))
        end = log.find("(%s) hostile: verdict %s:" % (atk.dom, case), start)
        if case == "clihlt":
            after = rate([p for p in lines if p[0] > end])
            suite.check("%s/clihlt: the neighbour gets >= %d%% of its rate "
                        "alone back beside a halted attacker (%.0f%%)"
                        % (label, HALTED_SHARE * 100,
                           100 * (after or 0) / alone),
                        after is not None and after >= HALTED_SHARE * alone,
                        "alone %.0f/s, after CLI; HLT %s/s" % (alone, after))
            continue
        during = rate([p for p in lines if start < p[0] < end])
        if during is None:
            continue  # too short to measure: progress is judged above
        suite.check("%s/%s: the neighbour keeps >= %d%% of its rate alone "
                    "(%.0f%%)" % (label, case, FAIR_SHARE * 100,
                                  100 * during / alone),
                    during >= FAIR_SHARE * alone,
                    "alone %.0f/s, during the attack %.0f/s"
                    % (alone, during))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[],
                        metavar="BOOT", help="run only this boot")
    parser.add_argument("--qemu", action="store_true",
                        help="only the QEMU (SVM) boots")
    parser.add_argument("--bochs", action="store_true",
                        help="only the Bochs boots (VMX, and ryzen's SVM)")
    args = parser.parse_args()
    both = not args.qemu and not args.bochs
    suite = keeltest.Suite("hostile guests")
    if not os.path.exists(keeltest.out_path("keel.elf")):
        suite.fail("hostile", "keel.elf is missing (make keel)")
        suite.finish()
    covered = sorted(set([c for b in QEMU_BOOTS for a in b.attackers
                          for c in a.cases if c not in WRITERS] +
                         [b.dom0 for b in QEMU_BOOTS if b.dom0]))
    suite.note("surfaces under SVM (%d): %s" % (len(covered),
                                                 ", ".join(covered)))
    runs = []  # (cost, boot): a Bochs boot takes about ten QEMU ones
    if both or args.bochs:
        runs += [(10, functools.partial(run_boot, suite, b, "bochs",
                                        "hostile-bochs", 1200, cpu=model))
                 for model, b in BOCHS_BOOTS
                 if not args.only or b.name in args.only]
    if both or args.qemu:
        runs += [(1, functools.partial(run_boot, suite, b, "qemu", "hostile",
                                       300))
                 for b in QEMU_BOOTS if not args.only or b.name in args.only]
    # Two lanes of boots side by side (each boot keeps one host CPU
    # busy), the longest first, each to the lane with less to do.
    lanes = [[], []]
    for cost, run in runs:
        min(lanes, key=lambda lane: sum(c for c, _ in lane)).append(
            (cost, run))
    keeltest.concurrently(*(functools.partial(
        lambda lane: [run() for _, run in lane], lane) for lane in lanes))
    suite.finish()


if __name__ == "__main__":
    main()

"""Boots of Keel with freestanding test guests as Dom0 and boot-time DomUs.

A Boot names Keel's command line, the multiboot2 modules (guest binary and
its command line; the first is Dom0) and the Guests whose verdicts it
checks. run_boot() builds the ISO, boots it under QEMU TCG, waits for
every guest's verdict and records in the suite: Keel's CPU count, each
guest's vCPUs online, and its PASS; lines matching the guest's entry in
`measures` are printed.
"""

import re

import keeltest

DOM0 = None  # the `domain` of a guest that runs as Dom0


class Guest:
    """One test guest in a boot: `domain` is the DomU name Keel tags its
    lines with, or DOM0; `cpus` the vCPUs it must bring online."""

    def __init__(self, binary, domain, cpus):
        self.binary = binary
        self.domain = domain
        self.cpus = cpus

    def label(self):
        where = "Dom0" if self.domain is DOM0 else "DomU"
        return "%s %s (%d vCPUs)" % (where, self.binary, self.cpus)

    def output(self, log):
        """What this guest printed, without Keel's tags. Dom0's lines can
        be cut by a DomU's line, so its text is the joined Dom0 stream;
        each guest's own `<name>: ` prefix still separates its lines."""
        if self.domain is DOM0:
            return keeltest.dom0_stream(log)
        text = keeltest.ANSI_ESCAPE.sub("", log).replace("\r", "")
        prefix = "(%s) " % self.domain
        return "\n".join(line[len(prefix):] for line in text.split("\n")
                         if line.startswith(prefix))

    def domain_id(self, log):
        """Keel's number for the domain, from its creation line."""
        if self.domain is DOM0:
            return "0"
        m = re.search(r"d(\d+) '%s': module" % re.escape(self.domain), log)
        return m.group(1) if m else None

    def verdict(self, log):
        """"PASS", "FAIL <reason>", "Keel stopped the domain: ..." or None
        (no verdict yet)."""
        out = self.output(log)
        m = re.search(r"TEST %s: (PASS|FAIL)" % self.binary, out)
        if m:
            if m.group(1) == "PASS":
                return "PASS"
            # The reason is complete once the line has ended in the log.
            if not re.search(r"TEST %s: FAIL[^\n]*\n" % self.binary, log):
                return None
            # A Dom0 line has no end in the joined stream: cut at the next
            # line's prefix.
            reason = out[m.end():].split("\n")[0]
            return "FAIL" + reason.split("%s: " % self.binary)[0][:200]
        number = self.domain_id(log)
        crash = number and re.search(r"\(keel\) d%s: domain crashed[^\r\n]*"
                                     % number, log)
        return "Keel stopped the domain: " + crash.group(0) if crash else None


class Boot:
    """One boot: `modules` are (guest binary, its command line), Dom0's
    first."""

    def __init__(self, name, pcpus, keel_cmdline, modules, guests):
        self.name = name
        self.pcpus = pcpus
        self.keel_cmdline = keel_cmdline
        self.modules = modules  # (guest binary, module command line)
        self.guests = guests


def binary_path(name):
    return keeltest.out_path("guests", name + ".bin")


def failed_checks(guest, out):
    return [m.group(0) for m in
            re.finditer(r"%s: FAILED: [^\n]*?(?=%s: |\n|$)"
                        % (guest.binary, guest.binary), out)]


def run_boot(suite, tag, boot, measures, timeout, mem="512M"):
    """Boots `boot` as test-<tag>; `timeout` bounds the wait for the
    verdicts, in seconds."""
    iso = keeltest.out_path("test-%s.iso" % tag)
    keeltest.build_iso(iso, keeltest.out_path("keel.elf"),
                       [(binary_path(b), c) for b, c in boot.modules],
                       keel_cmdline=boot.keel_cmdline)
    machine = keeltest.Machine(tag, iso=iso, cpu="max", smp=boot.pcpus,
                               mem=mem, timeout=timeout,
                               mttcg=boot.pcpus > 1)
    with machine:
        try:
            machine.wait_until(
                lambda log: all(g.verdict(log) for g in boot.guests),
                "every guest's verdict")
        except keeltest.TestFailure:
            pass  # each guest without a verdict fails below
        log = keeltest.ANSI_ESCAPE.sub("", machine.log_text())
    tail = machine.tail()

    online = re.search(r"SMP: (\d+) of (\d+) CPUs online", log)
    suite.check("%s: Keel runs on %d physical CPU%s" % (
        boot.name, boot.pcpus, "s" if boot.pcpus > 1 else ""),
        online and int(online.group(1)) == boot.pcpus,
        "Keel's SMP line: %s\n%s"
        % (online.group(0) if online else "missing", tail))

    for guest in boot.guests:
        label = "%s: %s" % (boot.name, guest.label())
        out = guest.output(log)
        for m in re.finditer(measures.get(guest.binary, r"(?!)"), out):
            print("# %s: %s" % (label, m.group(0)), flush=True)
        m = re.search(r"%s: (\d+) of (\d+) CPUs online" % guest.binary, out)
        if guest.cpus > 1:
            suite.check("%s starts all its vCPUs" % label,
                        m and m.group(1) == m.group(2) == str(guest.cpus),
                        "expected %d CPUs online: %s\n%s"
                        % (guest.cpus,
                           m.group(0) if m else "no start-up report", tail))
        verdict = guest.verdict(log)
        if verdict == "PASS":
            suite.ok("%s passes" % label)
            continue
        detail = "\n".join(failed_checks(guest, out))
        suite.fail("%s passes" % label, "%s\n%s\n%s" % (
            verdict or "no verdict within %d s" % timeout,
            detail, tail))

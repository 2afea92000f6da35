#!/usr/bin/python3
"""Linux DomUs created, watched and destroyed from Dom0 with `kl`.

Boots out/keel-test.iso under QEMU TCG (-cpu max, Keel's test entry with
one CPU, 2 GiB) and, at Dom0's shell:

1. Bad input changes nothing: a missing kernel, a file that is not a
   bzImage, more memory than Dom0 can donate (the message says how much
   is free), too many vCPUs, a malformed file (named file:line); each
   fails with its message and leaves Dom0 the only domain.
2. `kl create -c /etc/keel/examples/debian.cfg` (Debian's kernel and a
   busybox initramfs) reaches the DomU's shell, whose `uname -r` is the
   6.1 kernel Dom0 runs; a second create of the same name is refused.
3. `kl list --json` parses with Python's json module and shows the DomU
   running with its memory and vCPU.
4. `kl pause` stops the DomU's progress (a counter it prints every
   second, read back through `kl console`) and `kl unpause` resumes it.
5. Two DomUs at once: a 2-vCPU one (`nproc` 2) boots beside the first;
   each shell echoes its own marker, and each one's `kl console` shows
   its own marker and never the other's.
6. Hostile DomUs beside them (freestanding test guests, tests/guests/,
   created with kl): a triple fault (on_crash = preserve: `kl list`
   shows it crashed) and a read outside its memory (on_crash = destroy:
   it is gone) are stopped, while Dom0 and both Linux DomUs' shells
   still answer.
7. `poweroff` inside the first DomU ends it (on_poweroff = destroy);
   `reboot` inside the 2-vCPU one restarts it (on_reboot = restart: a new
   domid); `kl destroy` ends it.
8. SIGKILL of the owning kl process, or of kl create while it builds,
   leaves no domain behind.
9. `kl create -p` starts nothing of the guest: Keel starts it paused,
   its console stays empty and it has used no CPU time until
   `kl unpause`.
10. 50 create/destroy cycles of a small DomU (the busy test guest):
    Keel's free memory (`kl info`) and Dom0's MemFree before, every 10
    cycles and after (figures printed) never fall below where they
    started.
11. With huge pages in Dom0's pool, a DomU's RAM comes from them, and
    they go back to the pool when it is destroyed.
12. At the end Keel's free memory and Dom0's MemFree are back to their
    baseline of before the first DomU.
"""
# suite-timeout: 2400
# suite-parallel: yes

import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
import keeltest  # noqa: E402
from kldom0 import (DOMU_BANNER, DOMU_DEADLINE, DOMU_PROMPT,  # noqa: E402
                    CTRL_RIGHT_BRACKET, console_text, detach, domains,
                    find, forget_output, parse_json, wait_gone)

BOOT_DEADLINE = 300
CONFIG = "/etc/keel/examples/debian.cfg"
NAME = "debian"  # the sample's domain name
# The freestanding test guests the test ISO's Dom0 carries.
GUESTS = "/usr/share/keel/guests"
CYCLES = 50
CYCLES_PER_ROUND = 10
# Dom0's MemFree moves by what the page cache, slabs and per-CPU page
# lists (freed pages parked there are not counted free) do meanwhile;
# one DomU is 128 MiB.
MEMFREE_SLACK = 16 << 20
# A round of cycles that leaked would lose a whole guest (32 MiB) per
# cycle, ten a round; Dom0's own churn over a round has reached 20 MiB.
ROUND_SLACK = 64 << 20


def free_figures(machine):
    """(Keel's free bytes, Dom0's MemFree bytes) after dropping caches."""
    info = parse_json(machine.run("kl info --json", timeout=60))
    machine.run("sync; echo 3 > /proc/sys/vm/drop_caches", timeout=60)
    memfree = machine.run("sed -n 's/^MemFree: *\\([0-9]*\\) kB/\\1/p' "
                          "/proc/meminfo", timeout=30)
    memfree = keeltest.dom0_stream(memfree).strip()
    return info["free_memory_bytes"], int(memfree) * 1024


def diagnostics(machine, suite, name):
    """Keel's view of its domains, Keel's log and the owner's log, for a
    failure's context."""
    suite.note("Keel's debug keys q, d and r:\n" + machine.keel_snapshot())
    try:
        machine.send(CTRL_RIGHT_BRACKET)
        machine.sendline()
        machine.expect(keeltest.DOM0_PROMPT, timeout=30)
        # Keel's log holds Dom0's console too: its own lines only.
        suite.note("kl dmesg (last lines):\n" + machine.run(
            "kl dmesg | grep -a '^(keel) ' | tail -n 25", timeout=60))
        suite.note("owner log:\n" + machine.run(
            "cat /var/log/keel/kl-%s.log 2>&1 | tail -n 10" % name,
            timeout=30))
        suite.note("dmesg (keel):\n" + machine.run(
            "dmesg | grep -i keel | tail -n 10", timeout=30))
    except keeltest.TestFailure as e:
        suite.note("no diagnostics: %s" % e)


def check_bad_input(suite, machine):
    machine.run("printf 'name = \"bad\"\\nmemory = = 5\\n' > /tmp/bad.cfg")
    cases = [
        ("a missing kernel", "'kernel=\"/nonexistent/vmlinuz\"'",
         r"kernel '/nonexistent/vmlinuz': No such file or directory"),
        ("a kernel that is not a bzImage", "'kernel=\"/bin/busybox\"'",
         r"is not a bzImage"),
        ("more memory than Dom0 can donate", "memory=1000000",
         r"more than Dom0 can donate: \d+ MiB free"),
        ("vCPUs above Keel's limit", "vcpus=65", r"vcpus"),
    ]
    for what, override, pattern in cases:
        out = machine.run("kl create -q %s %s; echo status=$?"
                          % (CONFIG, override), timeout=120)
        doms = domains(machine)
        suite.check("kl create refuses %s, and nothing is created" % what,
                    re.search(r"status=[1-9]", out) and
                    re.search(pattern, out) and len(doms) == 1,
                    "output %r, domains %r" % (out, doms))
    out = machine.run("kl create /tmp/bad.cfg; echo status=$?", timeout=60)
    suite.check("a malformed configuration is refused naming file:line",
                re.search(r"status=[1-9]", out) and "/tmp/bad.cfg:2" in out
                and len(domains(machine)) == 1, "output %r" % out)


def check_pause(suite, machine):
    """The DomU prints tick-N every second; paused, N stops growing."""
    machine.run("(i=0; while :; do i=$((i+1)); echo tick-$i; sleep 1; "
                "done) & true", timeout=60)
    drain(machine, 3)
    detach(machine)
    out = machine.run("kl pause %s; echo status=$?" % NAME, timeout=60)
    doms = domains(machine)
    suite.check("kl pause: the DomU is paused",
                "status=0" in out and
                (find(doms, NAME) or {}).get("state") == "paused",
                "output %r, list %r" % (out, doms))
    # The ring still holds the ticks from before the pause.
    machine.sendline("kl console " + NAME)
    drain(machine, 5)
    before = max_tick(machine.log_text())
    drain(machine, 8)
    after = max_tick(machine.log_text())
    suite.check("paused, the DomU's counter does not move",
                before is not None and before == after,
                "counter %r, then %r 8 s later" % (before, after))
    detach(machine)
    out = machine.run("kl unpause %s; echo status=$?" % NAME, timeout=60)
    suite.check("kl unpause exits 0", "status=0" in out, "output %r" % out)
    machine.sendline("kl console " + NAME)
    try:
        machine.wait_until(lambda log: (max_tick(log) or 0) > (after or 0),
                           "tick beyond %r" % after, timeout=120)
        suite.ok("unpaused, the counter moves on (from %s to %s)"
                 % (after, max_tick(machine.log_text())))
    except keeltest.TestFailure as e:
        suite.fail("unpaused, the counter moves on", e)


def drain(machine, seconds):
    """Reads (and logs) the console for this long."""
    end = time.monotonic() + seconds
    machine.wait_until(lambda log: time.monotonic() >= end,
                       "%d s of output" % seconds, timeout=seconds + 30)
    forget_output(machine)


def max_tick(log):
    ticks = [int(n) for n in re.findall(r"tick-(\d+)", log)]
    return max(ticks) if ticks else None


def boot_domu(suite, machine, command, what):
    """Runs a `kl create -c` command line and waits for the DomU's shell."""
    machine.sendline(command)
    try:
        domid = int(machine.expect(r"Started domain \S+ \(id=(\d+)\)",
                                   timeout=120).group(1))
        machine.expect(re.escape(DOMU_BANNER), timeout=DOMU_DEADLINE)
        machine.expect(DOMU_PROMPT, timeout=120)
        suite.ok(what)
        return domid
    except keeltest.TestFailure as e:
        suite.fail(what, e)
        return None


def main():
    suite = keeltest.Suite("kl: Linux DomUs from Dom0")
    iso = keeltest.out_path("keel-test.iso")
    if not os.path.exists(iso):
        suite.fail("out/keel-test.iso exists", "run 'make test-iso' first")
        suite.finish()
    machine = keeltest.Machine("kl-domu", iso=iso, cpu="max", smp=2,
                               mem="2G", timeout=BOOT_DEADLINE)
    with machine:
        try:
            machine.wait_for_shell()
        except keeltest.TestFailure as e:
            suite.fail("Dom0 shell", e)
            suite.finish()
        try:
            run_checks(suite, machine)
        except (keeltest.TestFailure, ValueError, KeyError) as e:
            suite.fail("kl and the DomU answer", e)
            diagnostics(machine, suite, NAME)
    suite.finish()


def run_checks(suite, machine):
    base_keel, base_dom0 = free_figures(machine)
    suite.note("baseline: Keel free %d KiB, Dom0 MemFree %d KiB"
               % (base_keel >> 10, base_dom0 >> 10))
    check_bad_input(suite, machine)
    write_guest_configs(machine)

    release = keeltest.expected_kernel_release()
    if boot_domu(suite, machine, "kl create -c " + CONFIG,
                 "kl create -c %s reaches the DomU's shell"
                 % CONFIG) is None:
        diagnostics(machine, suite, NAME)
        return
    out = machine.run("uname -r", timeout=60)
    suite.check("the DomU runs Linux 6.1 (uname -r)",
                out.strip().startswith("6.1") and release in out,
                "uname -r says %r" % out)
    detach(machine)
    doms = domains(machine)
    dom = find(doms, NAME)
    suite.check("kl list --json shows the DomU running, 128 MiB, 1 vCPU",
                dom is not None and dom["state"] == "running" and
                dom["memory_bytes"] >= 128 << 20 and dom["vcpus"] == 1,
                "kl list --json: %r" % doms)
    out = machine.run("kl create -q %s; echo status=$?" % CONFIG,
                      timeout=60)
    suite.check("a second domain named %s is refused" % NAME,
                re.search(r"status=[1-9]", out) and
                "already exists" in out and len(domains(machine)) == 2,
                "output %r" % out)
    forget_output(machine)
    machine.sendline("kl console " + NAME)
    machine.sendline()
    machine.expect(DOMU_PROMPT, timeout=60)
    check_pause(suite, machine)
    machine.sendline()
    detach(machine)
    out = machine.run("grep -w keel /proc/interrupts")
    counts = [int(f) for f in out.split()[1:] if f.isdigit()]
    suite.check("the DomU's console woke Dom0 through Keel's notification "
                "interrupt (/proc/interrupts: keel %d)" % sum(counts),
                sum(counts) > 0, "output %r" % out)

    # The second DomU boots beside the first, which keeps printing its
    # counter (check_pause).
    second = boot_domu(suite, machine,
                       "kl create -c %s 'name=\"bb2\"' vcpus=2" % CONFIG,
                       "a 2-vCPU DomU reaches its shell beside the first")
    if second is not None:
        out = machine.run("nproc", timeout=60)
        suite.check("the 2-vCPU DomU's nproc is 2", out.strip() == "2",
                    "nproc says %r" % out)
        detach(machine)
        check_two_consoles(suite, machine, [NAME, "bb2"])
        check_hostile(suite, machine, [NAME, "bb2"])
    else:
        diagnostics(machine, suite, "bb2")

    forget_output(machine)
    machine.sendline("kl console " + NAME)
    machine.sendline()
    machine.expect(DOMU_PROMPT, timeout=60)
    forget_output(machine)
    machine.sendline("poweroff")
    try:
        machine.expect(keeltest.DOM0_PROMPT, timeout=180)
        suite.check("poweroff inside the DomU ends it",
                    wait_gone(machine, NAME),
                    "kl list still shows it: %r" % domains(machine))
    except keeltest.TestFailure as e:
        suite.fail("poweroff inside the DomU ends it", e)
        diagnostics(machine, suite, NAME)
    keel, dom0 = free_figures(machine)
    suite.note("after the first DomU: Keel free %d KiB, Dom0 MemFree %d KiB"
               % (keel >> 10, dom0 >> 10))
    if second is not None:
        check_reboot(suite, machine, second)

    check_sigkill(suite, machine)
    check_create_paused(suite, machine)
    check_cycles(suite, machine)
    keel, dom0 = free_figures(machine)
    suite.check("Keel's free memory is back to its baseline",
                keel == base_keel,
                "Keel free %d bytes, baseline %d (%+d)"
                % (keel, base_keel, keel - base_keel))
    suite.check("Dom0's MemFree is back to its baseline",
                dom0 >= base_dom0 - MEMFREE_SLACK,
                "MemFree %d KiB, baseline %d KiB (%+d KiB)"
                % (dom0 >> 10, base_dom0 >> 10, (dom0 - base_dom0) >> 10))
    check_hugetlb(suite, machine)


def write_guest_configs(machine):
    """Configurations of the freestanding test guests: `busy` prints a
    line a second (`seconds=` of them, 0: for ever), `triple` triple-
    faults, `hvmem` reads addr=, here 1 GiB: outside its 32 MiB and
    outside the MMIO holes (keel.h), so Keel must stop it."""
    for name, guest, cmdline, on_crash in (
            ("cycle", "busy", "seconds=1", "destroy"),
            ("early", "busy", "seconds=0", "destroy"),
            ("racer", "busy", "seconds=0", "destroy"),
            ("triple", "triple", "", "preserve"),
            ("outside", "hvmem", "addr=0x40000000", "destroy")):
        lines = ['name = "%s"' % name,
                 'kernel = "%s/%s.bin"' % (GUESTS, guest),
                 "memory = 32", 'on_crash = "%s"' % on_crash]
        if cmdline:
            lines.append('cmdline = "%s"' % cmdline)
        machine.run("printf '%s\\n' > /tmp/%s.cfg"
                    % ("\\n".join(lines), name), timeout=30, check=True)


def check_two_consoles(suite, machine, names):
    """Each DomU's shell echoes a marker of its own every second (the
    typed command line does not contain it: the shell computes it); a
    few seconds of each one's console show its own marker and never the
    other's. (`kl console` shows what comes after it attaches: an
    earlier reader consumed the ring's backlog.)"""
    markers = {}
    for number, name in enumerate(names):
        markers[name] = "marker-%s-%d" % (name, 40 + number)
        forget_output(machine)
        machine.sendline("kl console " + name)
        machine.sendline()
        machine.expect(DOMU_PROMPT, timeout=60)
        machine.sendline("(while :; do echo marker-%s-$((%d+%d)); sleep 1; "
                         "done) &" % (name, 40, number))
        machine.expect(re.escape(markers[name]), timeout=60)
        detach(machine)
    for name in names:
        out = console_text(machine, name, seconds=4)
        others = [m for n, m in markers.items() if n != name and m in out]
        suite.check("two DomUs at once: kl console %s shows its own marker "
                    "and not the other's" % name,
                    "status=0" in out and markers[name] in out and
                    not others, "console output %r" % out)


def check_hostile(suite, machine, neighbours):
    """A triple-faulting DomU and one reading outside its memory are
    stopped; Dom0 and the neighbours' shells still answer."""
    out = machine.run("kl create -q /tmp/triple.cfg; echo status=$?; "
                      "kl create -q /tmp/outside.cfg; echo status=$?",
                      timeout=120)
    suite.check("kl creates the two hostile DomUs (test guests)",
                out.count("status=0") == 2, "output %r" % out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doms = domains(machine)
        triple = find(doms, "triple")
        if triple and triple["state"] == "crashed" and \
                find(doms, "outside") is None:
            break
        time.sleep(2)
    suite.check("the triple-faulting DomU is stopped: kl list shows it "
                "crashed (on_crash = preserve)",
                triple and triple["state"] == "crashed" and
                "triple fault" in triple["crash_reason"],
                "kl list --json: %r" % doms)
    log = machine.run("cat /var/log/keel/kl-outside.log", timeout=60)
    suite.check("the DomU reading outside its memory is stopped and, "
                "on_crash = destroy, gone",
                wait_gone(machine, "outside") and
                re.search(r"crashed: read access to 40000000 outside its "
                          r"memory", log), "owner log: %r" % log)
    for number, name in enumerate(neighbours):
        doms = domains(machine)
        forget_output(machine)
        machine.sendline("kl console " + name)
        machine.sendline()
        try:
            machine.expect(DOMU_PROMPT, timeout=60)
            machine.sendline("echo alive-$((%d+%d))" % (len(name), number))
            machine.expect(r"alive-%d\r*\n" % (len(name) + number),
                           timeout=60)
            machine.expect(DOMU_PROMPT, timeout=60)
            suite.check("after the hostile DomUs, %s's shell answers and "
                        "it runs" % name,
                        (find(doms, name) or {}).get("state") == "running",
                        "kl list --json: %r" % doms)
        except keeltest.TestFailure as e:
            suite.fail("after the hostile DomUs, %s's shell answers and "
                       "it runs" % name, e)
        detach(machine)
    out = machine.run("kl destroy triple; echo status=$?", timeout=60)
    suite.check("kl destroy removes the preserved crashed DomU",
                "status=0" in out and wait_gone(machine, "triple"),
                "output %r, list %r" % (out, domains(machine)))


def check_reboot(suite, machine, domid):
    """`reboot` inside the 2-vCPU DomU: on_reboot = restart, the old
    domain goes (the console ends), its owner builds it again (Keel may
    hand out the same domid)."""
    forget_output(machine)
    machine.sendline("kl console bb2")
    machine.sendline()
    machine.expect(DOMU_PROMPT, timeout=60)
    forget_output(machine)
    machine.sendline("reboot")
    machine.expect(keeltest.DOM0_PROMPT, timeout=180)
    deadline = time.monotonic() + 60
    log = again = ""
    while time.monotonic() < deadline:
        log = machine.run("cat /var/log/keel/kl-bb2.log", timeout=30)
        again = find(domains(machine), "bb2")
        if "restarted" in log and again and again["state"] == "running":
            break
        time.sleep(2)
    suite.check("reboot inside the DomU restarts it (on_reboot)",
                "(%d) rebooted" % domid in log and "restarted" in log
                and again and again["state"] == "running",
                "owner log %r; kl list: %r" % (log, again))
    out = machine.run("kl vcpu-list bb2", timeout=60)
    suite.check("kl vcpu-list shows its two vCPUs",
                len(re.findall(r"^bb2 ", out, re.M)) == 2,
                "output %r" % out)
    out = machine.run("kl destroy bb2; echo status=$?", timeout=60)
    suite.check("kl destroy ends the 2-vCPU DomU",
                "status=0" in out and wait_gone(machine, "bb2"),
                "output %r, list %r" % (out, domains(machine)))


def check_sigkill(suite, machine):
    out = machine.run("kl create -q %s 'name=\"victim\"'; echo status=$?; "
                      "sleep 3; kill -9 $(cat /run/keel/kl-victim.pid); "
                      "echo killed=$?" % CONFIG, timeout=120)
    suite.check("SIGKILL of the owning kl leaves no domain",
                "status=0" in out and "killed=0" in out and
                wait_gone(machine, "victim", timeout=30),
                "output %r, list %r" % (out, domains(machine)))

    # Mid-build: kill kl create as soon as Keel lists the domain (still
    # being built, or just started by a kl that has not forked yet).
    out = machine.run("kl create -q %s 'name=\"midway\"' & "
                      "until kl list midway >/dev/null 2>&1; do :; done; "
                      "kill -9 $!; wait $!; echo status=$?" % CONFIG,
                      timeout=120)
    # kl prints "Started" just before it forks the owner: without that
    # line the kill surely came before the owner existed.
    if "status=137" in out and "Started domain" not in out:
        suite.check("SIGKILL of kl create while it builds leaves no domain",
                    wait_gone(machine, "midway"),
                    "output %r, list %r" % (out, domains(machine)))
    else:
        suite.skip("SIGKILL of kl create while it builds leaves no domain",
                   "kl create was done before the kill: %r" % out)
    if find(domains(machine), "midway"):
        machine.run("kl destroy midway", timeout=60)
        wait_gone(machine, "midway")


def check_create_paused(suite, machine):
    """`kl create -p`: Keel starts the domain paused; the busy guest's
    first instructions print a line, so an empty console and no CPU time
    show that nothing of it ran until `kl unpause`."""
    out = machine.run("kl create -p -q /tmp/early.cfg; echo status=$?; "
                      "sleep 2", timeout=60)
    doms = domains(machine)
    early = find(doms, "early") or {}
    suite.check("kl create -p: the domain exists, paused, with no CPU time",
                "status=0" in out and early.get("state") == "paused" and
                early.get("cpu_time_ns") == 0,
                "output %r, kl list --json %r" % (out, doms))
    # Keel's log holds Dom0's console too (this command line among it):
    # Keel's own lines only.
    out = machine.run("kl dmesg | grep -a '^(keel) ' | "
                      "grep -a \"'early': started\" | tail -n 1", timeout=60)
    suite.check("Keel started it paused (kl dmesg)",
                "'early': started paused" in out, "kl dmesg: %r" % out)
    out = console_text(machine, "early", seconds=2)
    suite.check("kl create -p: its console is empty before kl unpause",
                "status=0" in out and "busy:" not in out,
                "console output %r" % out)
    out = machine.run("kl unpause early; echo status=$?", timeout=60)
    try:
        machine.sendline("kl console early")
        machine.expect(r"busy: t=1 ", timeout=60)
        suite.check("kl unpause runs it: its first lines come",
                    "status=0" in out, "output %r" % out)
    except keeltest.TestFailure as e:
        suite.fail("kl unpause runs it: its first lines come", e)
    detach(machine)
    machine.run("kl destroy early", timeout=60)
    wait_gone(machine, "early")


def busy_progress(machine, name):
    """The last progress count a running busy guest printed, or None."""
    counts = re.findall(r"busy: t=\d+ progress=(\d+)",
                        console_text(machine, name))
    return int(counts[-1]) if counts else None


def check_cycles(suite, machine):
    """CYCLES creates and destroys of the small busy guest, each waiting
    for its owner to exit (then its memory is Dom0's again), in rounds
    inside Dom0's shell; the free figures after each round. A neighbour
    (racer) runs throughout: every create maps and every destroy unmaps
    and flushes on all CPUs while it runs (the p2m race of the hostile
    cases)."""
    machine.run("kl create -q /tmp/racer.cfg", timeout=120)
    first = busy_progress(machine, "racer")
    before = free_figures(machine)
    figures = [before]
    suite.note("before %d cycles: Keel free %d KiB, Dom0 MemFree %d KiB"
               % (CYCLES, before[0] >> 10, before[1] >> 10))
    started = time.monotonic()
    done = 0
    while done < CYCLES:
        out = machine.run(
            "i=0; while [ $i -lt %d ]; do "
            "kl create -q /tmp/cycle.cfg >/dev/null || break; "
            "kl destroy cycle || break; "
            "while [ -e /run/keel/kl-cycle.pid ]; do sleep 0.1; done; "
            "i=$((i+1)); done; echo cycles=$i" % CYCLES_PER_ROUND,
            timeout=600)
        m = re.search(r"cycles=(\d+)", keeltest.dom0_stream(out))
        done += int(m.group(1)) if m else 0
        figures.append(free_figures(machine))
        suite.note("after %d cycles: Keel free %d KiB, Dom0 MemFree %d KiB"
                   % (done, figures[-1][0] >> 10, figures[-1][1] >> 10))
        if not m or int(m.group(1)) != CYCLES_PER_ROUND:
            break
    suite.note("%d cycles took %.0f s" % (done, time.monotonic() - started))
    suite.check("%d kl create/destroy cycles" % CYCLES, done == CYCLES,
                "%d done; last output %r, kl list %r"
                % (done, out, domains(machine)))
    suite.check("no round of cycles leaves Keel's free memory or Dom0's "
                "MemFree below where they started",
                all(k == before[0] and d >= before[1] - ROUND_SLACK
                    for k, d in figures),
                "figures %r" % figures)
    last = busy_progress(machine, "racer")
    racer = find(domains(machine), "racer")
    suite.check("the neighbour ran on through the cycles (progress %s, "
                "then %s)" % (first, last),
                first is not None and last is not None and last > first and
                racer is not None and racer.get("state") == "running",
                "kl list %r" % domains(machine))
    machine.run("kl destroy racer", timeout=60)
    wait_gone(machine, "racer")


def huge_pages(machine):
    """(HugePages_Total, HugePages_Free) of Dom0."""
    out = keeltest.dom0_stream(machine.run(
        "sed -n 's/^HugePages_\\(Total\\|Free\\): *//p' /proc/meminfo "
        "| tr '\\n' ' '", timeout=30))
    numbers = [int(n) for n in out.split()]
    return tuple(numbers) if len(numbers) == 2 else (None, None)


def check_hugetlb(suite, machine):
    """With 2 MiB pages in Dom0's pool, the guest's RAM comes from them
    (64 pages for 128 MiB) and goes back when the domain does."""
    machine.run("echo 64 > /proc/sys/vm/nr_hugepages", timeout=60)
    total, free = huge_pages(machine)
    if total != 64 or free != 64:
        suite.skip("a DomU in hugetlb memory",
                   "Dom0 could not reserve 64 huge pages: %r" % ((total,
                                                                   free),))
        return
    if boot_domu(suite, machine, "kl create -c %s 'name=\"huge\"'" % CONFIG,
                 "a DomU in hugetlb memory reaches its shell") is not None:
        detach(machine)
        suite.check("its 128 MiB are Dom0's 64 huge pages",
                    huge_pages(machine) == (64, 0),
                    "HugePages Total, Free: %r" % (huge_pages(machine),))
        machine.run("kl destroy huge", timeout=60)
        suite.check("kl destroy gives the huge pages back",
                    wait_gone(machine, "huge") and
                    huge_pages(machine) == (64, 64),
                    "HugePages Total, Free: %r" % (huge_pages(machine),))
    machine.run("echo 0 > /proc/sys/vm/nr_hugepages", timeout=60)


if __name__ == "__main__":
    main()

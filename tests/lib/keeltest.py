"""Shared helpers for Keel's boot tests.

Every test that boots something in an emulator uses this module:

  build_iso()   a hybrid BIOS+UEFI GRUB ISO that loads a multiboot2 kernel
                (Keel or a test guest) with its modules
  Machine       one emulator run whose serial console is driven by pexpect
  Suite         a TAP reporter (ok / not ok / skip lines, exit status)
  TestFailure   raised by Machine when the expected output does not come
  concurrently()  runs independent boots side by side, one thread each
  check_system_state()  records whether systemd finished booting

Run tests with Debian's /usr/bin/python3: python3-pexpect lives there.
"""

import hashlib
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty

import pexpect
import pexpect.fdpexpect

REPO_ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("OUT", "out")
BUILD = os.environ.get("BUILD", "build")
OVMF_IMAGE = "/usr/share/ovmf/OVMF.fd"
# Lines of serial output quoted in a TestFailure message.
FAILURE_CONTEXT_LINES = 60
CTRL_A = "\x01"
# Keel's boot line naming the way to its debug console.
KEEL_CONSOLE_HINT = "Ctrl-A three times switches"
# Printed by the Dom0 test initramfs (dom0-rootfs/initramfs/init) just
# before its root shell, whose prompt comes from dom0-rootfs/initramfs/profile.
DOM0_BANNER = "Keel Dom0 ready"
DOM0_PROMPT = r"dom0:[^\r\n]*# "
# Debian's bash prompt in a systemd Dom0 (out/keel.iso, out/keel.qcow2):
# user@host:dir# for root, $ for others.
SYSTEM_PROMPT = r"@[-\w]+:[^\r\n]*[#$] "
ANSI_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|[@-Z\\-_])")


class TestFailure(Exception):
    """A boot test did not see what it expected."""


def out_path(*parts):
    """Path of a build output under $(OUT), relative to the repository."""
    base = OUT if os.path.isabs(OUT) else os.path.join(REPO_ROOT, OUT)
    return os.path.join(base, *parts)


def build_path(*parts):
    """Path of an intermediate build product under $(BUILD)."""
    base = BUILD if os.path.isabs(BUILD) else os.path.join(REPO_ROOT, BUILD)
    return os.path.join(base, *parts)


def expected_kernel_release():
    """`uname -r` of the Dom0 kernel in the image (scripts/fetch-kernel.sh
    records it)."""
    with open(build_path("kernel", "release")) as f:
        return f.read().strip()


# --------------------------------------------------------------------------
# ISO images
# --------------------------------------------------------------------------

GRUB_SERIAL_PREAMBLE = """\
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
"""


def _check_cmdline(text):
    # grub.cfg is a script: a newline would end the command and let the
    # rest of the string run as GRUB commands.
    if "\n" in text or "\r" in text:
        raise ValueError("command line contains a newline: %r" % text)
    return text


def make_grub_iso(iso_path, files, grub_cfg):
    """Write a hybrid BIOS+UEFI ISO.

    files: dict mapping a path inside the ISO (e.g. "boot/keel.elf") to a
    host file; grub_cfg: the text of /boot/grub/grub.cfg. The ISO is built
    in a private temporary directory and renamed into place, so several
    tests can build ISOs at the same time.
    """
    iso_path = os.path.abspath(iso_path)
    iso_dir = os.path.dirname(iso_path)
    os.makedirs(iso_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".iso-", dir=iso_dir)
    try:
        root = os.path.join(work, "root")
        os.makedirs(os.path.join(root, "boot", "grub"))
        for dest, src in files.items():
            target = os.path.join(root, dest)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # Hard links avoid copying a large kernel; fall back to a copy
            # across file systems.
            try:
                os.link(src, target)
            except OSError:
                shutil.copyfile(src, target)
        with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
            f.write(grub_cfg)
        tmp_iso = os.path.join(work, "image.iso")
        env = dict(os.environ, TMPDIR=work)
        proc = subprocess.run(["grub-mkrescue", "-o", tmp_iso, root],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, env=env)
        if proc.returncode != 0:
            raise RuntimeError("grub-mkrescue failed:\n" +
                               proc.stdout.decode(errors="replace"))
        os.replace(tmp_iso, iso_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_iso(iso_path, keel_elf, modules, keel_cmdline="", timeout_menu=0):
    """Build a GRUB ISO with one entry booting keel_elf via multiboot2.

    modules: list of (file_path, cmdline_string) loaded with module2 in this
    order; the first is the Dom0 kernel. Inside the ISO each module is
    /boot/<basename>. GRUB hands the module exactly the text that follows
    its path as the module's command line.
    """
    files = {"boot/keel.elf": keel_elf}
    lines = [GRUB_SERIAL_PREAMBLE,
             "set timeout=%d\n" % timeout_menu,
             "set default=0\n",
             "menuentry \"Keel\" {\n",
             "\tmultiboot2 /boot/keel.elf %s\n" % _check_cmdline(keel_cmdline)]
    for index, (path, cmdline) in enumerate(modules):
        name = os.path.basename(path)
        if "boot/" + name in files:
            name = "%d-%s" % (index, name)
        files["boot/" + name] = path
        lines.append("\tmodule2 /boot/%s %s\n" % (name, _check_cmdline(cmdline)))
    lines.append("\tboot\n}\n")
    make_grub_iso(iso_path, files, "".join(lines))


# --------------------------------------------------------------------------
# Disk images
# --------------------------------------------------------------------------

def dom0_modules():
    """The test ISO's Dom0 as build_iso() modules: Debian's kernel with the
    command line of image/grub.cfg, then the busybox initramfs."""
    return [(build_path("kernel", "vmlinuz"),
             "console=ttyS0,115200 pci=nomsi"),
            (out_path("dom0-initramfs.cpio.gz"), "")]


def missing_files(paths):
    """The paths among paths that do not exist (things to build first)."""
    return [p for p in paths if not os.path.exists(p)]


def make_pattern_disk(path, size=1024 * 1024, seed="keel"):
    """Create a raw disk image of `size` bytes of reproducible, non-trivial
    content (a SHA-256 chain of `seed`) and return that content's SHA-256 in
    hex, so a guest can prove it read the right bytes."""
    block = hashlib.sha256(seed.encode()).digest()
    data = bytearray()
    while len(data) < size:
        data += block
        block = hashlib.sha256(block).digest()
    data = bytes(data[:size])
    with open(path, "wb") as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------
# Emulator runs
# --------------------------------------------------------------------------

class _SerialLog:
    """pexpect logfile_read sink: keeps the text and mirrors it to a file."""

    def __init__(self, path):
        self.chunks = []
        self.file = open(path, "w", encoding="utf-8", errors="replace")

    def write(self, text):
        self.chunks.append(text)
        self.file.write(text)

    def flush(self):
        self.file.flush()

    def close(self):
        self.file.close()

    def text(self):
        return "".join(self.chunks)


class Machine:
    """One emulator run whose serial console is the pexpect child.

    The backend is chosen by `backend`; each backend is a `_launch_<name>`
    method returning (pexpect child, command line): "qemu" (QEMU TCG) or
    "bochs" (Bochs, the Intel VMX test bed; see _launch_bochs).
    """

    def __init__(self, name, iso=None, cpu="max", smp=1, mem="1G",
                 uefi=False, extra_args=(), timeout=120,
                 logdir=None, backend="qemu", mttcg=False):
        self.name = name
        # QEMU runs the emulated CPUs in one thread unless a test needs
        # them truly in parallel (SMP races, per-CPU rates): its
        # multi-threaded TCG can hold a due LAPIC timer back until
        # another event wakes its main loop, which stalled an idle Keel
        # for minutes (docs/testing-notes.md).
        self.mttcg = mttcg
        self.iso = iso
        self.cpu = cpu
        self.smp = smp
        self.mem = mem
        self.uefi = uefi
        self.extra_args = list(extra_args)
        self.timeout = timeout
        self.logdir = logdir if logdir is not None else out_path("test-logs")
        self.backend = backend
        self.log_path = os.path.join(self.logdir, name + ".log")
        self.child = None
        self.command = None
        self.last_status = None
        self._log = None
        self._run_serial = 0
        if not hasattr(self, "_launch_" + backend):
            raise ValueError("unknown emulator backend %r" % backend)

    # -- life cycle -----------------------------------------------------

    def qemu_argv(self):
        accel = "tcg" if self.mttcg else "tcg,thread=single"
        argv = ["qemu-system-x86_64", "-accel", accel, "-machine", "q35",
                "-cpu", self.cpu, "-smp", str(self.smp), "-m", str(self.mem),
                "-nographic", "-no-reboot", "-monitor", "none",
                # A raw stdio chardev without the mux: QEMU's Ctrl-A escape
                # would otherwise swallow the Ctrl-A bytes Keel uses to
                # switch its console between domains.
                "-chardev", "stdio,id=s0,mux=off,signal=off",
                "-serial", "chardev:s0"]
        if self.uefi:
            argv += ["-bios", OVMF_IMAGE]
        if self.iso:
            argv += ["-cdrom", self.iso]
        return argv + self.extra_args

    def _launch_qemu(self):
        argv = self.qemu_argv()
        child = pexpect.spawn(argv[0], argv[1:], encoding="utf-8",
                              codec_errors="replace", timeout=self.timeout,
                              maxread=65536, dimensions=(50, 200))
        return child, argv

    def bochsrc(self, com1_tty, log_path):
        """The Bochs configuration for this run (TESTING.md's headless
        recipe). `cpu` names a Bochs CPU model; QEMU's default "max" means
        BOCHS_CPU_MODEL. extra_args are appended as bochsrc lines."""
        if self.uefi:
            raise ValueError("the Bochs backend boots BIOS only")
        model = BOCHS_CPU_MODEL if self.cpu == "max" else self.cpu
        megs = _megabytes(self.mem)
        # ignore_bad_msrs=0: Bochs's default reads unknown MSRs as 0 where
        # hardware raises #GP, which hides MSR policy errors.
        lines = [
            "megs: %d" % megs,
            "cpu: model=%s, count=%d, ips=%d, reset_on_triple_fault=1, "
            "ignore_bad_msrs=0"
            % (model, self.smp, BOCHS_IPS),
            "romimage: file=/usr/share/bochs/BIOS-bochs-latest",
            "vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest",
            "display_library: term",
            "pci: enabled=1, chipset=i440fx",
            "ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14",
        ]
        if self.iso:
            lines += ["ata0-master: type=cdrom, path=%s, status=inserted"
                      % os.path.abspath(self.iso),
                      "boot: cdrom"]
        lines += [
            "com1: enabled=1, mode=term, dev=%s" % com1_tty,
            "clock: sync=none, time0=local",
            "log: %s" % log_path,
            "panic: action=fatal",
            "error: action=report",
            "info: action=report",
            "debug: action=ignore",
        ]
        return "\n".join(lines + self.extra_args) + "\n"

    def _launch_bochs(self):
        """Bochs with COM1 on a pseudo-terminal that this process owns: its
        master side is the pexpect child. The `term` display needs TERM and
        a stdout (/dev/null); the built-in debugger is told to continue by
        an -rc file; the screen is drained (_drain_bochs_screen). Files of
        the run: <logdir>/<name>.bochs/."""
        workdir = os.path.join(self.logdir, self.name + ".bochs")
        os.makedirs(workdir, exist_ok=True)
        master, slave = pty.openpty()
        tty.setraw(slave)
        rc_path = os.path.join(workdir, "debugger.rc")
        with open(rc_path, "w") as f:
            f.write("c\n")
        config = os.path.join(workdir, "bochsrc")
        with open(config, "w") as f:
            f.write(self.bochsrc(os.ttyname(slave),
                                 os.path.join(workdir, "bochs.log")))
        argv = ["bochs", "-q", "-f", config, "-rc", rc_path]
        env = dict(os.environ, TERM="xterm")
        stderr_path = os.path.join(workdir, "stderr.log")
        with open(os.devnull, "r+b") as null, open(stderr_path, "wb") as err:
            proc = subprocess.Popen(argv, stdin=null, stdout=null,
                                    stderr=err, cwd=workdir, env=env,
                                    start_new_session=True)
        threading.Thread(target=_drain_bochs_screen,
                         args=(proc, stderr_path), daemon=True).start()
        child = _BochsConsole(proc, master, slave, timeout=self.timeout,
                              encoding="utf-8", codec_errors="replace",
                              maxread=65536)
        return child, argv

    def start(self):
        os.makedirs(self.logdir, exist_ok=True)
        self._log = _SerialLog(self.log_path)
        self.child, self.command = getattr(self, "_launch_" + self.backend)()
        self.child.logfile_read = self._log
        self.started_at = time.monotonic()
        return self

    def stop(self):
        if self.child is not None:
            if self.child.isalive():
                self.child.terminate(force=True)
            self.child.close(force=True)
        if self._log is not None:
            self._log.flush()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- console --------------------------------------------------------

    def log_text(self):
        if self._log is None:
            return ""
        self._log.flush()
        return self._log.text()

    def tail(self, lines=FAILURE_CONTEXT_LINES, text=None):
        """The last lines of the serial log (or of text) without terminal
        control sequences (GRUB's menu is drawn with them) or blank
        lines."""
        if text is None:
            text = self.log_text()
        text = ANSI_ESCAPE.sub("", text).replace("\r", "")
        kept = [line.rstrip() for line in text.split("\n") if line.strip()]
        return "\n".join(kept[-lines:])

    def emulator_signal(self):
        """The signal that killed the emulator, or None (still running, or
        it exited by itself)."""
        if self.child is None or self.child.isalive():
            return None
        return self.child.signalstatus

    def _exit_description(self):
        try:
            self.child.wait()
        except pexpect.ExceptionPexpect:
            pass
        if self.child.signalstatus is not None:
            return "killed by signal %d" % self.child.signalstatus
        return "status %s" % self.child.exitstatus

    def _failure(self, what):
        elapsed = time.monotonic() - self.started_at
        return TestFailure("%s: %s after %.1f s; last serial lines (%s):\n%s"
                           % (self.name, what, elapsed, self.log_path,
                              self.tail()))

    def expect(self, pattern, timeout=None):
        """Wait for a regular expression (str or list of str) on the serial
        console and return the match object."""
        if timeout is None:
            timeout = self.timeout
        try:
            self.child.expect(pattern, timeout=timeout)
        except pexpect.TIMEOUT:
            raise self._failure("timed out waiting for %r" % (pattern,))
        except pexpect.EOF:
            raise self._failure("emulator exited (%s) while waiting for %r"
                                % (self._exit_description(), pattern))
        finally:
            self._log.flush()
        return self.child.match

    def wait_until(self, predicate, what, timeout=None):
        """Wait until predicate(serial log text) holds, for output a single
        regular expression cannot match (see dom0_stream)."""
        if timeout is None:
            timeout = self.timeout
        deadline = time.monotonic() + timeout
        while not predicate(self.log_text()):
            if time.monotonic() > deadline:
                raise self._failure("timed out waiting for " + what)
            try:
                # Only reads (and logs) whatever arrives meanwhile.
                self.child.expect(pexpect.TIMEOUT, timeout=0.05)
            except pexpect.EOF:
                raise self._failure("emulator exited (%s) while waiting for %s"
                                    % (self._exit_description(), what))

    def send(self, s):
        if self.backend != "bochs":
            self.child.send(s)
            return
        # Bochs's 16550 takes bytes from its pty as fast as they come and
        # has no flow control: past its 16-byte FIFO they are lost while
        # Keel holds input back for a Dom0 that has not read its own
        # FIFO yet ("com1: receive FIFO overflow" in bochs.log). Type.
        for i in range(0, len(s), BOCHS_TYPE_CHUNK):
            self.child.send(s[i:i + BOCHS_TYPE_CHUNK])
            time.sleep(BOCHS_TYPE_PAUSE)

    def sendline(self, s=""):
        # A bare CR is what a terminal sends for Enter; the guest's tty
        # turns it into a newline.
        self.send(s + "\r")

    def wait_for_shell(self, timeout=None):
        """Wait for the Dom0 initramfs banner and its first shell prompt;
        a boot that stops on the way gets Keel's view in its failure."""
        try:
            self.expect(re.escape(DOM0_BANNER), timeout)
            self.expect(DOM0_PROMPT, timeout)
        except TestFailure as e:
            raise self.with_keel_view(e)

    def login(self, user, password, timeout=None):
        """Log in at a getty on the serial console (a systemd Dom0 such as
        out/keel.qcow2's) and wait for the shell prompt. A CR first makes
        the getty print a fresh prompt if boot messages scrolled it away."""
        self.sendline()
        self.expect(r"login: ", timeout)
        self.sendline(user)
        self.expect(r"Password: ", timeout)
        self.sendline(password)
        self.expect(SYSTEM_PROMPT, timeout)

    def system_state(self, timeout=600):
        """Wait until systemd has finished booting; return (state, failed
        units): state is `systemctl is-system-running`'s answer (running
        when every unit started, degraded when some failed)."""
        state = self.run("systemctl is-system-running --wait", timeout)
        state = state.strip().splitlines()[-1] if state.strip() else ""
        failed = self.run("systemctl --failed --no-legend --plain "
                          "--no-pager | cut -d' ' -f1", 60)
        return state, [u for u in failed.split() if u]

    def keel_snapshot(self):
        """Keel's own view of its domains (debug key q: vCPU state, RIP,
        pending vector, exits), each vCPU's registers and interrupt state
        (d), the run queues (r) and each CPU's timer and loop statistics
        (t), pressed on its debug console: the
        serial log's last lines before them and everything after, or ""
        when the machine does not run Keel."""
        before = self.log_text()
        if KEEL_CONSOLE_HINT not in before:
            return ""
        try:
            self.send(CTRL_A * 3)
            self.expect(r"Keel debug console", 20)
            self.send("q")
            self.expect(r"exits:", 20)
            self.send("d")
            self.expect(r"(SVM|VMX): [^\n]*\n", 20)
            self.send("r")
            self.expect(r"cpu0: (running|idle)", 20)
            self.send("t")
            self.expect(r"VM entries recovered", 20)
            self.send(CTRL_A * 3)
            self.expect(r"input goes to Dom0 again", 20)
        except (TestFailure, OSError, pexpect.ExceptionPexpect):
            pass  # Keel's console did not answer (or the emulator is gone)
        after = self.log_text()[len(before):]
        return "%s\n%s" % (self.tail(20, before), self.tail(1000, after))

    def with_keel_view(self, failure):
        """A shell that stopped answering under Keel: Keel's view goes into
        the failure, to tell a guest that waits from one that runs or was
        stopped."""
        view = self.keel_snapshot()
        if not view:
            return failure
        headline, _, rest = str(failure).partition("\n")
        # What tells a waiting guest from a stopped CPU comes first: a
        # report that cuts long output keeps the beginning.
        summary = [line for line in self.tail(5000).split("\n")
                   if SNAPSHOT_SUMMARY.search(line)][-SNAPSHOT_SUMMARY_LINES:]
        return TestFailure("%s\nKeel's view (debug keys q, d, r and t):\n%s"
                           "\n%s\nthen the keys; last serial lines:\n%s"
                           % (headline, "\n".join(summary), rest, view))

    def run(self, shell_cmd, timeout=30, check=False):
        """Run shell_cmd at a root shell prompt and return its output with
        CR removed and the trailing newline stripped. The exit status is in
        self.last_status; check=True raises TestFailure if it is not 0."""
        if "\n" in shell_cmd:
            raise ValueError("run() takes one command line: %r" % shell_cmd)
        self._run_serial += 1
        tag = "%x%d" % (os.getpid(), self._run_serial)
        # One line, so nothing is typed ahead while the command runs (the
        # tty would echo it into the output). The markers are split by
        # quotes, so the echo of the command line never matches them.
        self.sendline("echo '@@KEEL-BEGIN-''%s@@'; %s; echo \"@@KEEL-END-\"\"%s:$?@@\""
                      % (tag, shell_cmd, tag))
        try:
            self.expect(re.escape("@@KEEL-BEGIN-%s@@" % tag) + r"\r*\n",
                        timeout)
            self.expect(re.escape("@@KEEL-END-%s:" % tag) + r"(\d+)@@",
                        timeout)
        except TestFailure as e:
            raise self.with_keel_view(e)
        self.last_status = int(self.child.match.group(1))
        output = self.child.before.replace("\r", "")
        if check and self.last_status != 0:
            raise self._failure("command %r exited with status %d:\n%s"
                                % (shell_cmd, self.last_status, output))
        return output.rstrip("\n")


# The Bochs model with VMX, EPT and unrestricted guest (TESTING.md), and its
# speed: emulated time runs at this many instructions per second.
BOCHS_CPU_MODEL = "corei7_haswell_4770"
BOCHS_IPS = 50000000
# Input typed into a Bochs serial console: bytes at a time, and the pause
# after each (Machine.send).
BOCHS_TYPE_CHUNK = 8
BOCHS_TYPE_PAUSE = 0.1


# The lines of Keel's debug keys that a failure report leads with: stall
# reports, each vCPU's state and interrupt controls, the run queues.
SNAPSHOT_SUMMARY = re.compile(
    r"^\(keel\) (cpu\d+: (in d|not in a guest|running|idle|timer interrupts"
    r"|its previous pass)"
    r"|  d\d+v\d+: |d\d+ v\d+: RIP|  vLAPIC: |  (SVM|VMX): "
    r"|  d\d+v\d+ (running|queued|moving|asleep)|d\d+: domain crashed"
    r"|VM entries recovered)")
SNAPSHOT_SUMMARY_LINES = 40

TAGGED_LINE = re.compile(r"\r*\([-\w]+\) ")


def _trailing_crs(line):
    return len(line) - len(line.rstrip("\r"))


def dom0_stream(log):
    """Dom0's own console output in a serial log: Keel prints its lines and
    the DomUs' lines tagged "(name) ", and ends a Dom0 line early when one
    of them has to go out, so drop the tagged lines and all line breaks.
    Keel draws the cut part again before the line goes on
    (hypervisor/common/console.c), so a cut part is dropped too. It ends
    with as many CRs as the tagged line after it, one fewer than Dom0's
    own line ends: Dom0 sends CR LF, and Keel sends every LF as CR LF."""
    lines = ANSI_ESCAPE.sub("", log).split("\n")
    kept, cut = [], False
    for i, line in enumerate(lines):
        if TAGGED_LINE.match(line):
            continue
        text = line.replace("\r", "")
        if cut and text.startswith(kept[-1]):
            kept.pop()
        after = lines[i + 1] if i + 1 < len(lines) else ""
        cut = bool(text and TAGGED_LINE.match(after) and
                   _trailing_crs(line) <= _trailing_crs(after))
        kept.append(text)
    return "".join(kept)


def _megabytes(size):
    """"512M", "1G" or a number of MiB as an int of MiB."""
    text = str(size).upper()
    if text.endswith("G"):
        return int(text[:-1]) * 1024
    if text.endswith("M"):
        return int(text[:-1])
    return int(text)


def _drain_bochs_screen(proc, stderr_path):
    """Bochs built with its debugger draws the `term` display on a
    pseudo-terminal of its own (stderr: `Bochs connected to screen
    "/dev/pts/N"`). Nobody reads that terminal, so after some minutes its
    buffer is full, Bochs blocks in a write and the machine stops: read the
    screen in raw mode (no echo back into Bochs's keyboard input) and drop
    it until Bochs exits."""
    screen = None
    while screen is None and proc.poll() is None:
        with open(stderr_path, errors="replace") as f:
            m = re.search(r'connected to screen "([^"]+)"', f.read())
        if m:
            screen = m.group(1)
        else:
            time.sleep(0.2)
    if screen is None:
        return
    try:
        fd = os.open(screen, os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return
    try:
        tty.setraw(fd)
        while os.read(fd, 65536):
            pass
    except OSError:
        pass  # EIO once Bochs has exited and closed its side
    finally:
        os.close(fd)


class _BochsConsole(pexpect.fdpexpect.fdspawn):
    """The master side of Bochs's COM1 pty, with the process's life cycle.

    This process keeps the slave open (Bochs opens it by name), so the end of
    Bochs is seen through the process, not the pty: reads report EOF once
    Bochs has exited. Bochs ignores SIGTERM, so terminate() sends SIGKILL.
    """

    def __init__(self, proc, master, slave, **kwargs):
        super().__init__(master, **kwargs)
        self.proc = proc
        self.slave = slave

    def isalive(self):
        return self.proc.poll() is None

    def terminate(self, force=False):
        if self.isalive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.wait()
        return True

    def wait(self):
        code = self.proc.wait()
        self.exitstatus = code if code >= 0 else None
        self.signalstatus = -code if code < 0 else None
        return code

    def close(self, force=True):
        self.terminate(force)
        if self.slave is not None:
            os.close(self.slave)
            self.slave = None
        super().close()

    def read_nonblocking(self, size=1, timeout=-1):
        if timeout == -1:
            timeout = self.timeout
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = 0.5 if deadline is None else \
                max(0.0, min(0.5, deadline - time.monotonic()))
            try:
                return super().read_nonblocking(size, step)
            except pexpect.TIMEOUT:
                if self.proc.poll() is not None:
                    raise pexpect.EOF("Bochs exited (%s)"
                                      % self.proc.returncode)
                if deadline is not None and time.monotonic() >= deadline:
                    raise


def check_system_state(suite, machine, variant):
    """Records in suite whether systemd on machine finished booting
    (running, or degraded with its failed units and their last log lines
    noted); `variant` prefixes the result names."""
    state, failed = machine.system_state()
    if state not in ("running", "degraded"):
        suite.fail("%s: systemctl is-system-running is running or degraded"
                   % variant, "state %r, failed units: %s" % (state, failed))
        return
    suite.ok("%s: systemctl is-system-running is %s" % (variant, state))
    for unit in failed:
        status = machine.run("systemctl status --no-pager -n 5 %s | "
                             "tail -n 5 | tr '\\n' '|'" % unit, 60)
        suite.note("%s: failed unit %s: %s" % (variant, unit, status))


def check_toolstack(suite, machine, variant, sudo=""):
    """Records in suite whether Dom0 on machine loaded keel.ko at boot and
    `kl info` reaches Keel through it (run as root, through `sudo` if
    given); `variant` prefixes the result names."""
    out = machine.run("grep -c '^keel ' /proc/modules; ls -l /dev/keel", 60)
    suite.check("%s: keel.ko is loaded at boot and /dev/keel is root's"
                % variant,
                re.search(r"^1\s*$", out, re.M) and
                re.search(r"^crw------- +\d+ root +root ", out, re.M),
                "/proc/modules and ls say:\n%s" % out)
    out = machine.run("%skl info; echo status=$?" % sudo, 60)
    suite.check("%s: kl info reaches Keel" % variant,
                "status=0" in out and
                re.search(r"^keel_version +: \d+\.\d+$", out, re.M) and
                re.search(r"^nr_cpus +: [1-9]", out, re.M),
                "kl info printed:\n%s" % out)
    out = machine.run("MANPAGER=cat MANWIDTH=80 man kl 2>&1 | head -n 8", 60)
    suite.check("%s: man kl shows the toolstack's page" % variant,
                re.search(r"kl\s+-\s+create, watch and destroy Keel", out),
                "man kl printed:\n%s" % out)
    # Completions load on first use, in login shells (profile.d).
    out = machine.run("bash -lic '_completion_loader kl; complete -p kl' "
                      "2>&1", 60)
    suite.check("%s: bash completes kl's commands" % variant,
                "complete -F _kl kl" in out, "bash printed:\n%s" % out)


# QEMU's address for the first NIC of a machine when -nic gives none.
QEMU_NIC_MAC = "52:54:00:12:34:56"


# How long Dom0's br0 may take to get its port and address. networkd
# starts after udev has settled (the overlay's udev-settle.conf), which
# under a loaded emulator has taken the settle's whole 120 s; if networkd
# then lost br0 to a netlink timeout, keel-br0-ports.service restarts it a
# minute later; the DHCP lease comes after that.
BR0_WAIT_SECONDS = 240


def br0_wait_loop(condition):
    """A shell loop that waits, BR0_WAIT_SECONDS of Dom0's clock at most
    (a count of tries would take far longer on a slow guest), until the
    shell command `condition` succeeds."""
    return ("end=$(($(date +%%s) + %d)); until %s; do "
            "[ $(date +%%s) -ge $end ] && break; sleep 1; done"
            % (BR0_WAIT_SECONDS, condition))


def br0_wait_command(address):
    """A shell loop that waits until Dom0's br0 has `address`."""
    return br0_wait_loop("ip -4 -o addr show br0 | grep -q %s" % address)


def check_br0_mac(suite, machine, variant, mac=QEMU_NIC_MAC):
    """Records in suite whether Dom0's bridge br0 carries its port's MAC
    address `mac` (DHCP servers and clouds that filter by MAC know only
    the NIC's), as the kernel and networkd both report it."""
    # The kernel gives br0 its port's address once the NIC has joined.
    out = machine.run(br0_wait_loop("ls /sys/class/net/br0/brif 2>/dev/null "
                                    "| grep -q .") +
                      "; cat /sys/class/net/br0/address; "
                      "networkctl --no-pager status br0 | "
                      "grep 'Hardware Address:'; ls /sys/class/net/br0/brif",
                      BR0_WAIT_SECONDS + 60)
    # A line of its own (sysfs) rather than the first: Dom0's kernel may
    # log a line of its own meanwhile.
    suite.check("%s: br0 has the NIC's MAC address %s" % (variant, mac),
                re.search(r"^%s$" % mac, out, re.M) and
                re.search(r"^\s*Hardware Address: %s" % mac, out, re.M),
                "br0's address, networkctl and br0's ports:\n%s" % out)


def concurrently(*calls):
    """Call each of calls in a thread of its own; return their results in
    order once all have returned.

    A TCG boot with one vCPU keeps one host CPU busy, so on a machine with
    two CPUs two independent boots side by side take about as long as one.
    Each Machine must be driven by the one thread that started it; results
    go through a Suite, which prints each line whole. An exception from a
    call is raised here (the first, in call order) once all have returned,
    so every boot has stopped its emulator before the test ends.
    """
    results = [None] * len(calls)
    errors = [None] * len(calls)

    def run(index, call):
        try:
            results[index] = call()
        except BaseException as e:  # raised again in the caller's thread
            errors[index] = e

    # Daemon threads: an interrupted test exits without waiting for the
    # boots; their emulators go with the closed consoles.
    threads = [threading.Thread(target=run, args=(index, call), daemon=True)
               for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return results


# --------------------------------------------------------------------------
# TAP reporting
# --------------------------------------------------------------------------

class Suite:
    """Prints TAP (version 12 style) results and exits with their verdict.

    Boots run by concurrently() report through the same Suite: a result
    and the comments under it are printed whole, under a lock, so lines of
    two boots never mix and the numbers stay in sequence.
    """

    def __init__(self, name=None):
        self.name = name
        self.count = 0
        self.failed = 0
        self._lock = threading.RLock()
        if name:
            print("# %s" % name, flush=True)

    def _result(self, ok, name, directive=""):
        with self._lock:
            self.count += 1
            line = "%sok %d - %s" % ("" if ok else "not ", self.count, name)
            if directive:
                line += " # " + directive
            print(line, flush=True)

    def ok(self, name):
        self._result(True, name)

    def fail(self, name, why):
        with self._lock:
            self.failed += 1
            self._result(False, name)
            for text in str(why).rstrip("\n").split("\n"):
                print("  # " + text, flush=True)

    def note(self, text):
        """Print text as TAP comment lines, whole."""
        with self._lock:
            for line in str(text).rstrip("\n").split("\n"):
                print("# " + line, flush=True)

    def skip(self, name, why):
        self._result(True, name, "SKIP " + str(why))

    def check(self, name, condition, why=""):
        """ok(name) if condition holds, else fail(name, why)."""
        if condition:
            self.ok(name)
        else:
            self.fail(name, why or "condition not met")
        return condition

    def finish(self):
        print("1..%d" % self.count, flush=True)
        sys.exit(1 if self.failed else 0)

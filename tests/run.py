#!/usr/bin/python3
"""Run every Keel test suite and aggregate their TAP results.

Suites, in this order:
  build           (with --build) `make -k all test-iso unit`: one result
  unit/test_*     each host unit test binary in $(OUT)/unit, run with
                  CMOCKA_MESSAGE_OUTPUT=TAP
  toolstack/test_*  each toolstack host test: the binaries in
                  $(OUT)/toolstack (as unit tests are run), then each
                  tests/toolstack/test_*.py
  fuzz            tests/fuzz/run.py --replay, if it exists: every libFuzzer
                  harness runs its corpus once
  guests          tests/guests/run.py, if it exists (freestanding test guests)
  system/test_*   each tests/system/test_*.py

Every suite prints TAP on stdout; its output is shown as it runs. A suite
fails as a whole (one extra failed result) if it times out, exits non-zero
without reporting a failure, or reports fewer results than its plan. A
Python suite can set its own time limit with a line `# suite-timeout: SECONDS`.

A system suite that declares `# suite-parallel: yes` may run beside
another such suite (`-j`, default 2 on a machine with two or more CPUs,
KEEL_TEST_JOBS overrides): on a 2-core machine most boots keep one core
busy, so two of them take about as long as one. Suites that measure
rates or latencies (scheduler shares, a neighbour's progress, timer
lateness), or that already run two boots at once, do not declare it and
run alone, after the others. A suite run
beside another prints its output whole when it ends.

The last line printed is `N passed, N failed` (`, N skipped` when some were
skipped). The exit status is 1 if anything failed.

  tests/run.py [--build] [--only PATTERN]... [-j JOBS] [--list]
PATTERN is a regular expression searched in suite names such as
`unit/test_vlapic`, `guests`, `system/test_rescue`.
"""

import argparse
import glob
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.environ.get("OUT", "out")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") \
    else sys.executable

DEFAULT_TIMEOUTS = {"build": 1800, "unit": 300, "fuzz": 900,
                    "guests": 3600, "system": 1200}

TAP_RESULT = re.compile(r"^(not )?ok\b(.*)$")
TAP_PLAN = re.compile(r"^1\.\.(\d+)")
TAP_DIRECTIVE = re.compile(r"#\s*(SKIP|TODO)\b", re.IGNORECASE)


class Suite:
    def __init__(self, name, argv, timeout, env=None, parallel=False):
        self.name = name
        self.argv = argv
        self.timeout = timeout
        self.env = env
        self.parallel = parallel


class Tally:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.skipped = 0
        self.failures = []
        # Suites running side by side count and print through it.
        self.lock = threading.Lock()

    def summary(self):
        text = "%d passed, %d failed" % (self.passed, self.failed)
        if self.skipped:
            text += ", %d skipped" % self.skipped
        return text


def out_dir():
    return OUT if os.path.isabs(OUT) else os.path.join(REPO, OUT)


def declared(path, key):
    """The value of a `# suite-KEY: VALUE` line in a suite's script."""
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"#\s*suite-%s:\s*(\S+)" % key, line)
            if m:
                return m.group(1)
    return None


def declared_timeout(path, default):
    value = declared(path, "timeout")
    return int(value) if value else default


def discover():
    suites = []
    for binary in sorted(glob.glob(os.path.join(out_dir(), "unit", "test_*"))):
        if os.path.isfile(binary) and os.access(binary, os.X_OK):
            env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
            suites.append(Suite("unit/" + os.path.basename(binary), [binary],
                                DEFAULT_TIMEOUTS["unit"], env))
    for binary in sorted(glob.glob(os.path.join(out_dir(), "toolstack",
                                                "test_*"))):
        if os.path.isfile(binary) and os.access(binary, os.X_OK):
            env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
            suites.append(Suite("toolstack/" + os.path.basename(binary),
                                [binary], DEFAULT_TIMEOUTS["unit"], env))
    for script in sorted(glob.glob(os.path.join(REPO, "tests", "toolstack",
                                                "test_*.py"))):
        suites.append(Suite("toolstack/" + os.path.basename(script)[:-3],
                            [PYTHON, script],
                            declared_timeout(script,
                                             DEFAULT_TIMEOUTS["unit"])))
    fuzz = os.path.join(REPO, "tests", "fuzz", "run.py")
    if os.path.exists(fuzz):
        suites.append(Suite("fuzz", [PYTHON, fuzz, "--replay"],
                            DEFAULT_TIMEOUTS["fuzz"]))
    guests = os.path.join(REPO, "tests", "guests", "run.py")
    if os.path.exists(guests):
        suites.append(Suite("guests", [PYTHON, guests],
                            declared_timeout(guests,
                                             DEFAULT_TIMEOUTS["guests"])))
    for script in sorted(glob.glob(os.path.join(REPO, "tests", "system",
                                                "test_*.py"))):
        name = "system/" + os.path.basename(script)[:-3]
        suites.append(Suite(name, [PYTHON, script],
                            declared_timeout(script,
                                             DEFAULT_TIMEOUTS["system"]),
                            parallel=declared(script, "parallel") == "yes"))
    return suites


def run_process(suite, on_line):
    """Run the suite, calling on_line for each output line; return
    (exit status or None on timeout)."""
    proc = subprocess.Popen(suite.argv, cwd=REPO, env=suite.env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + suite.timeout
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    pending = b""
    timed_out = False
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        if not selector.select(timeout=min(remaining, 5)):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            on_line(line.decode(errors="replace").rstrip("\r"))
    if pending:
        on_line(pending.decode(errors="replace").rstrip("\r"))
    if timed_out:
        # The suite's own children (emulators) share its session.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    status = proc.wait()
    proc.stdout.close()
    return None if timed_out else status


def run_suite(suite, tally, buffered=False):
    """Run one suite and count its results. Buffered (beside another
    suite), its output is printed whole at its end."""
    lines = []
    emit = lines.append if buffered else \
        (lambda line: print(line, flush=True))
    emit("# ---- %s" % suite.name)
    counts = {"results": 0, "failed": 0, "planned": 0}

    def on_line(line):
        emit(line)
        result = TAP_RESULT.match(line)
        if result:
            counts["results"] += 1
            directive = TAP_DIRECTIVE.search(result.group(2))
            with tally.lock:
                if directive:
                    tally.skipped += 1
                elif result.group(1):
                    counts["failed"] += 1
                    tally.failed += 1
                    tally.failures.append("%s:%s" % (suite.name,
                                                     result.group(2)))
                else:
                    tally.passed += 1
            return
        plan = TAP_PLAN.match(line)
        if plan:
            counts["planned"] += int(plan.group(1))

    started = time.monotonic()
    try:
        status = run_process(suite, on_line)
    except OSError as e:
        status = "cannot start: %s" % e
    elapsed = time.monotonic() - started

    problem = None
    if status is None:
        problem = "timed out after %d s" % suite.timeout
    elif isinstance(status, str):
        problem = status
    elif status != 0 and counts["failed"] == 0:
        problem = "exited with status %d without a failed result" % status
    elif counts["planned"] and counts["results"] < counts["planned"]:
        problem = "reported %d of %d planned results" % (counts["results"],
                                                         counts["planned"])
    if problem:
        with tally.lock:
            tally.failed += 1
            tally.failures.append("%s: %s" % (suite.name, problem))
        emit("not ok - %s %s" % (suite.name, problem))
    emit("# ---- %s: done in %.0f s%s" % (suite.name, elapsed,
                                          " (beside others)" if buffered
                                          else ""))
    if buffered:
        with tally.lock:
            print("\n".join(lines), flush=True)


def run_side_by_side(suites, tally, jobs):
    """Run suites, at most `jobs` at once, in order of start."""
    pending = list(suites)
    running = []
    while pending or running:
        while pending and len(running) < jobs:
            suite = pending.pop(0)
            with tally.lock:
                print("# ---- %s: started" % suite.name, flush=True)
            thread = threading.Thread(target=run_suite,
                                      args=(suite, tally, True))
            thread.start()
            running.append(thread)
        running[0].join(timeout=1)
        running = [t for t in running if t.is_alive()]


def main():
    ap = argparse.ArgumentParser(
        description="Run Keel's test suites and aggregate TAP.")
    ap.add_argument("--build", action="store_true",
                    help="first build everything (make -k all test-iso unit) "
                    "and count the build as one result")
    ap.add_argument("--only", action="append", default=[],
                    metavar="PATTERN",
                    help="run only suites whose name matches (repeatable)")
    ap.add_argument("-j", "--jobs", type=int,
                    default=int(os.environ.get(
                        "KEEL_TEST_JOBS",
                        "2" if (os.cpu_count() or 1) >= 2 else "1")),
                    help="suites declaring `suite-parallel: yes` run this "
                    "many at a time (default 2; KEEL_TEST_JOBS)")
    ap.add_argument("--list", action="store_true",
                    help="list the suites and exit")
    args = ap.parse_args()

    tally = Tally()
    if args.build and not args.list:
        build = Suite("build", ["make", "-k", "all", "test-iso", "unit"],
                      DEFAULT_TIMEOUTS["build"])
        print("# ---- build", flush=True)
        status = run_process(build, lambda line: print(line, flush=True))
        if status == 0:
            tally.passed += 1
            print("ok - build", flush=True)
        else:
            tally.failed += 1
            tally.failures.append("build: make -k all test-iso unit: %s" % (
                "timed out" if status is None else "status %d" % status))
            print("not ok - build", flush=True)

    # Discovered after the build, so freshly built unit tests are included.
    suites = discover()
    if args.only:
        patterns = [re.compile(p) for p in args.only]
        suites = [s for s in suites
                  if any(p.search(s.name) for p in patterns)]
    if args.list:
        for s in suites:
            print(s.name + ("  (parallel)" if s.parallel else ""))
        return 0
    # The side-by-side suites first, longest declared time limit first so
    # that the last one to finish is a short one; then the others alone.
    alone = [s for s in suites if not s.parallel or args.jobs < 2]
    beside = sorted((s for s in suites if s.parallel and args.jobs >= 2),
                    key=lambda s: -s.timeout)
    for suite in [s for s in alone if not s.name.startswith("system/")]:
        run_suite(suite, tally)
    run_side_by_side(beside, tally, args.jobs)
    for suite in [s for s in alone if s.name.startswith("system/")]:
        run_suite(suite, tally)

    if tally.failures:
        print("# failures:")
        for f in tally.failures:
            print("#   " + f)
    print(tally.summary(), flush=True)
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())

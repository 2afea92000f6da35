#!/usr/bin/python3
"""Run Keel's libFuzzer harnesses (tests/fuzz/fuzz_*.c).

  tests/fuzz/run.py --seconds N [--nice N] [NAME...]
      fuzz each harness for N seconds in turn, starting from its corpus in
      tests/fuzz/corpus/NAME plus what earlier runs found in
      $(OUT)/fuzz/corpus/NAME; crashes go to $(OUT)/fuzz/crashes/NAME and
      the log to $(OUT)/fuzz/logs/NAME.log. Ends with a table: harness,
      executions, coverage (libFuzzer's final "cov:"), crashes. Exit status
      1 if any harness crashed. `make fuzz` builds the harnesses first.

  tests/fuzz/run.py --replay [NAME...]
      the regression mode `make test` runs (suite "fuzz"): builds the
      harnesses (make fuzz-build), runs every corpus file of each harness
      once and prints TAP, one result per harness. Reports a skip when
      clang or its libFuzzer runtime is missing.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FUZZ_DIR = os.path.join(REPO, "tests", "fuzz")
OUT = os.environ.get("OUT", "out")
OUT_DIR = OUT if os.path.isabs(OUT) else os.path.join(REPO, OUT)

# Inputs slower than this are reported as a hang (libFuzzer's -timeout).
INPUT_TIMEOUT = 25

STATUS_LINE = re.compile(r"^#(\d+)\s+\S+\s+cov: (\d+)")
EXECUTED = re.compile(r"^stat::number_of_executed_units: (\d+)")
ARTIFACT = re.compile(r"^(crash|leak|timeout|oom|slow-unit)-")


def harnesses(only):
    names = sorted(os.path.basename(p)[len("fuzz_"):-len(".c")]
                   for p in glob.glob(os.path.join(FUZZ_DIR, "fuzz_*.c")))
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            sys.exit("fuzz: no harness named %s (have: %s)" % (
                ", ".join(unknown), ", ".join(names)))
        names = [n for n in names if n in only]
    return names


def binary(name):
    return os.path.join(OUT_DIR, "fuzz", "fuzz_" + name)


def corpus_files(name):
    d = os.path.join(FUZZ_DIR, "corpus", name)
    return sorted(p for p in glob.glob(os.path.join(d, "*"))
                  if os.path.isfile(p))


def artifacts(d):
    if not os.path.isdir(d):
        return set()
    return {f for f in os.listdir(d) if ARTIFACT.match(f)}


def fuzz_one(name, seconds, nice):
    """Fuzzes one harness; returns (executions, coverage, crash files)."""
    work = os.path.join(OUT_DIR, "fuzz", "corpus", name)
    crashes = os.path.join(OUT_DIR, "fuzz", "crashes", name)
    logs = os.path.join(OUT_DIR, "fuzz", "logs")
    for d in (work, crashes, logs):
        os.makedirs(d, exist_ok=True)
    log_path = os.path.join(logs, name + ".log")
    before = artifacts(crashes)
    argv = ["nice", "-n", str(nice), binary(name),
            "-max_total_time=%d" % seconds, "-print_final_stats=1",
            "-timeout=%d" % INPUT_TIMEOUT,
            # The hypervisor code logs through printk to stderr: drop it,
            # libFuzzer's own output and crash reports still come through.
            "-close_fd_mask=2",
            "-artifact_prefix=" + crashes + "/",
            work, os.path.join(FUZZ_DIR, "corpus", name)]
    print("# fuzz %s for %d s (log %s)" % (name, seconds,
                                           os.path.relpath(log_path, REPO)),
          flush=True)
    with open(log_path, "w") as log:
        status = subprocess.call(argv, cwd=REPO, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=subprocess.STDOUT)
    execs, cov = 0, 0
    with open(log_path, errors="replace") as log:
        for line in log:
            m = STATUS_LINE.match(line)
            if m:
                execs, cov = int(m.group(1)), int(m.group(2))
            m = EXECUTED.match(line)
            if m:
                execs = int(m.group(1))
    new = sorted(artifacts(crashes) - before)
    if status != 0 and not new:
        new = ["(exit status %d, no artifact: see the log)" % status]
    return execs, cov, [os.path.join(crashes, f) if not f.startswith("(")
                        else f for f in new]


def fuzz(names, seconds, nice):
    rows = []
    for name in names:
        if not os.access(binary(name), os.X_OK):
            sys.exit("fuzz: %s is not built (make fuzz-build)" %
                     binary(name))
        execs, cov, crashes = fuzz_one(name, seconds, nice)
        rows.append((name, execs, cov, crashes))
        for c in crashes:
            print("# %s: crash %s" % (name, os.path.relpath(c, REPO)
                                      if os.path.isabs(c) else c),
                  flush=True)

    width = max([len("harness")] + [len(r[0]) for r in rows])
    print()
    print("%-*s  %12s  %8s  %7s" % (width, "harness", "executions",
                                    "coverage", "crashes"))
    for name, execs, cov, crashes in rows:
        print("%-*s  %12d  %8d  %7d" % (width, name, execs, cov,
                                        len(crashes)))
    total = sum(len(r[3]) for r in rows)
    print("%d harnesses, %d s each, %d crashes" % (len(rows), seconds,
                                                   total))
    return 1 if total else 0


def fuzzer_runtime_missing():
    """Why clang cannot build a libFuzzer program, or None if it can."""
    cc = os.environ.get("FUZZ_CC", "clang")
    if not shutil.which(cc):
        return "%s not installed (scripts/deps.sh installs clang)" % cc
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("#include <stddef.h>\n#include <stdint.h>\n"
                    "int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)"
                    "\n{ (void)d; (void)n; return 0; }\n")
        r = subprocess.run([cc, "-fsanitize=fuzzer,address,undefined", src,
                            "-o", os.path.join(tmp, "probe")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            lines = r.stdout.decode(errors="replace").strip().splitlines()
            return ("%s cannot link -fsanitize=fuzzer (libclang-rt-14-dev "
                    "missing?): %s" % (cc, lines[-1] if lines else "?"))
    return None


def tap_diag(text, last=40):
    for line in text.splitlines()[-last:]:
        print("# " + line)


def replay(names):
    missing = fuzzer_runtime_missing()
    if missing:
        print("1..1")
        print("ok 1 - fuzz corpus replay # SKIP %s" % missing)
        return 0
    build = subprocess.run(["make", "--no-print-directory", "fuzz-build"],
                           cwd=REPO, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    print("1..%d" % (len(names) + 1))
    if build.returncode != 0:
        print("not ok 1 - make fuzz-build")
        tap_diag(build.stdout.decode(errors="replace"))
    else:
        print("ok 1 - make fuzz-build")
    failed = build.returncode != 0
    for i, name in enumerate(names, 2):
        files = corpus_files(name)
        what = "fuzz/%s: %d corpus inputs" % (name, len(files))
        if not files:
            print("not ok %d - %s (the corpus is empty)" % (i, what))
            failed = True
            continue
        if not os.access(binary(name), os.X_OK):
            print("not ok %d - %s (not built)" % (i, what))
            failed = True
            continue
        # Given files, libFuzzer runs each once and exits; no fuzzing.
        r = subprocess.run([binary(name), "-timeout=%d" % INPUT_TIMEOUT]
                           + files, cwd=REPO, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=dict(os.environ, CMOCKA_TEST_ABORT="1"))
        if r.returncode == 0:
            print("ok %d - %s" % (i, what), flush=True)
        else:
            print("not ok %d - %s (status %d)" % (i, what, r.returncode))
            tap_diag(r.stdout.decode(errors="replace"))
            failed = True
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=60,
                    help="fuzzing time per harness")
    ap.add_argument("--nice", type=int, default=10,
                    help="niceness of the fuzzer processes")
    ap.add_argument("--replay", action="store_true",
                    help="run each corpus once, print TAP")
    ap.add_argument("names", nargs="*", help="harnesses (default: all)")
    args = ap.parse_args()
    names = harnesses(args.names)
    if args.seconds < 1:
        # libFuzzer reads -max_total_time=0 as "no limit".
        ap.error("--seconds must be at least 1")
    if args.replay:
        return replay(names)
    return fuzz(names, args.seconds, args.nice)


if __name__ == "__main__":
    sys.exit(main())

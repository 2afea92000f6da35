# Benchmarks: figures printed as tables with their configuration, never
# pass/fail (tests/bench/bench.py).
#
#   make bench                 Dom0 boot under Keel against bare, interleaved
#                              (BENCH_ROUNDS=3), with Dom0's exit profile
#
# Run them on an otherwise idle machine: the emulator's speed is the
# machine's.

BENCH_ROUNDS ?= 3

.PHONY: bench
bench: all test-iso
	/usr/bin/python3 tests/bench/bench.py --rounds $(BENCH_ROUNDS)

# Benchmarks: figures printed as tables with their configuration, never
# pass/fail (tests/bench/bench.py).
#
#   make bench                 Dom0 boot under Keel against bare, interleaved
#                              (BENCH_ROUNDS=3), with Dom0's exit profile;
#                              then, in one more boot, BENCH_ROUNDS times
#                              `kl create -c` of the sample DomU to its
#                              shell, split into phases (kl create -t,
#                              Keel's boot timer port), beside that boot's
#                              Dom0 boot time; then (--only io) virtio-blk
#                              MB/s and random reads in a DomU beside Dom0,
#                              the ioreq round trip beside a vIOAPIC read,
#                              and the DomU's ping RTT to Dom0; then
#                              (--only trace) Dom0 boot and a busy DomU's
#                              loop rate with Keel's tracing off and on
#
# Run them on an otherwise idle machine: the emulator's speed is the
# machine's.

BENCH_ROUNDS ?= 3

.PHONY: bench
bench: all test-iso
	/usr/bin/python3 tests/bench/bench.py --rounds $(BENCH_ROUNDS)

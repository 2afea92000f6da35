# libFuzzer harnesses: like the host unit tests, each compiles the real
# hypervisor sources (with clang, AddressSanitizer and UBSan) against
# tests/unit/shim.c.
#
#   tests/fuzz/fuzz_<name>.c      the harness (LLVMFuzzerTestOneInput)
#   tests/fuzz/fuzz_<name>.srcs   the sources it links, one a line
#   tests/fuzz/fuzz_<name>.cflags optional extra compiler flags (as the unit
#                                 tests' .cflags), e.g. include paths
#   tests/fuzz/corpus/<name>/     its seed corpus, kept in the repository
#
#   make fuzz                     build every harness and run each for
#                                 FUZZ_SECONDS (default 60) in turn, then
#                                 print harness, executions, coverage,
#                                 crashes; fails if any harness crashed
#   make fuzz FUZZ_ONLY=decode    only the harnesses named (space separated)
#   make fuzz-build               only build them ($(OUT)/fuzz/fuzz_<name>)
#   make fuzz-replay              run every corpus file once (TAP); what
#                                 `make test` runs as the suite "fuzz"
#
# New inputs the fuzzer finds go to $(OUT)/fuzz/corpus/<name>/ and crashes
# to $(OUT)/fuzz/crashes/<name>/; copy the ones worth keeping (every crash)
# into tests/fuzz/corpus/<name>/. The fuzzers run under `nice -n
# $(FUZZ_NICE)` (default 10) so they share the machine politely.

OUT ?= out

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_NICE ?= 10
FUZZ_ONLY ?=
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Ihypervisor/include -Itests/unit -Itests/fuzz
FUZZ_LDLIBS := -lcmocka

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS := $(addprefix $(OUT)/fuzz/fuzz_,$(FUZZ_NAMES))
FUZZ_HEADERS := $(shell find hypervisor/include tests/unit tests/fuzz \
	toolstack tests/toolstack -name '*.h')

define fuzz_rule
FUZZ_SRCS_$(1) := $$(strip $$(shell cat tests/fuzz/fuzz_$(1).srcs 2>/dev/null))
FUZZ_EXTRA_CFLAGS_$(1) := $$(strip $$(shell cat tests/fuzz/fuzz_$(1).cflags 2>/dev/null))
$(OUT)/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c tests/unit/shim.c \
		$$(FUZZ_SRCS_$(1)) $$(wildcard tests/fuzz/fuzz_$(1).srcs) \
		$$(wildcard tests/fuzz/fuzz_$(1).cflags) \
		$(FUZZ_HEADERS) tests/fuzz/fuzz.mk
	@mkdir -p $$(dir $$@)
	$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(FUZZ_EXTRA_CFLAGS_$(1)) -o $$@ \
		tests/fuzz/fuzz_$(1).c tests/unit/shim.c $$(FUZZ_SRCS_$(1)) \
		$$(FUZZ_LDLIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_rule,$(n))))

.PHONY: fuzz fuzz-build fuzz-replay
fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	/usr/bin/python3 tests/fuzz/run.py --seconds $(FUZZ_SECONDS) \
		--nice $(FUZZ_NICE) $(FUZZ_ONLY)

fuzz-replay:
	/usr/bin/python3 tests/fuzz/run.py --replay $(FUZZ_ONLY)

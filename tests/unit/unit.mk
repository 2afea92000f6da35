# Host unit tests: the real hypervisor sources compiled with the host gcc and
# run under AddressSanitizer and UBSan with cmocka.
#
#   tests/unit/test_<name>.c     the test program
#   tests/unit/test_<name>.srcs  the hypervisor sources it links, one a line
#   tests/unit/test_<name>.cflags  optional extra compiler flags for the whole
#                                test (its .c, shim.c and its sources), e.g.
#                                -Dvsnprintf=keel_vsnprintf to link hypervisor
#                                code whose names collide with the host libc
#   tests/unit/shim.c            printk/panic/phys_to_virt for the host, linked
#                                into every test
#
#   make unit        build $(OUT)/unit/test_<name> for every test
#   make unit-test   run them all, TAP output

OUT ?= out

UNIT_CC ?= gcc
UNIT_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer -Ihypervisor/include \
	-Itests/unit
UNIT_LDLIBS := -lcmocka

UNIT_NAMES := $(patsubst tests/unit/test_%.c,%,$(sort $(wildcard tests/unit/test_*.c)))
UNIT_BINS := $(addprefix $(OUT)/unit/test_,$(UNIT_NAMES))
UNIT_HEADERS := $(shell find hypervisor/include tests/unit -name '*.h')

# One link rule per test: its sources are read from test_<name>.srcs.
define unit_test_rule
UNIT_SRCS_$(1) := $$(strip $$(shell cat tests/unit/test_$(1).srcs 2>/dev/null))
UNIT_EXTRA_CFLAGS_$(1) := $$(strip $$(shell cat tests/unit/test_$(1).cflags 2>/dev/null))
$(OUT)/unit/test_$(1): tests/unit/test_$(1).c tests/unit/shim.c \
		$$(UNIT_SRCS_$(1)) $$(wildcard tests/unit/test_$(1).srcs) \
		$$(wildcard tests/unit/test_$(1).cflags) \
		$(UNIT_HEADERS) tests/unit/unit.mk
	@mkdir -p $$(dir $$@)
	$$(UNIT_CC) $$(UNIT_CFLAGS) $$(UNIT_EXTRA_CFLAGS_$(1)) -o $$@ \
		tests/unit/test_$(1).c \
		tests/unit/shim.c $$(UNIT_SRCS_$(1)) $$(UNIT_LDLIBS)
endef
$(foreach n,$(UNIT_NAMES),$(eval $(call unit_test_rule,$(n))))

.PHONY: unit unit-test
unit: $(UNIT_BINS)

# Every test runs even if an earlier one fails; the target fails if any did.
unit-test: $(UNIT_BINS)
	@status=0; for t in $(UNIT_BINS); do \
		echo "# $$t"; \
		CMOCKA_MESSAGE_OUTPUT=TAP $$t || status=1; \
	done; exit $$status

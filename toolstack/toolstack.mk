# Keel toolstack: Dom0 user space (C11, hosted) -> $(OUT)/toolstack/
#
#   make toolstack       $(OUT)/toolstack/libkl.a: the xl.cfg parser, the
#                        AML emitter and DomU ACPI tables, the DomU e820
#                        and boot_params builder, the virtio-mmio back ends
#                        (toolstack/virtio/virtio.h: blk, net, TAP)
#   make kl              $(OUT)/toolstack/kl: the `kl` command (toolstack/kl/),
#                        linked statically (the Dom0 test initramfs has no
#                        libc); it talks to Keel through keel.ko's /dev/keel
#   make toolstack-test  build and run the toolstack's host tests (TAP);
#                        they are also built by `make unit` and run by
#                        `make test` (tests/run.py)
#
# The DomU builder shares the hypervisor's freestanding e820 and bzImage
# code (the README's toolstack section): those files are compiled here with the host
# compiler, unmodified, against their own headers.

OUT ?= out

TS_CC ?= gcc
TS_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-Itoolstack/include -MMD -MP
TS_TEST_CFLAGS := -std=c11 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -Itoolstack/include -Itoolstack
# The hypervisor's headers: for its shared sources and for the toolstack
# code that uses their types (struct e820_map, the boot_params offsets).
TS_HV_CFLAGS := -Ihypervisor/include

TS_SRCS := $(sort $(wildcard toolstack/*.c toolstack/virtio/*.c))
TS_HV_SRCS := hypervisor/arch/x86/boot/e820.c hypervisor/arch/x86/guest/bzimage.c
TS_OBJS := $(patsubst toolstack/%.c,$(OUT)/toolstack/obj/%.o,$(TS_SRCS)) \
	$(addprefix $(OUT)/toolstack/obj/hv/,$(notdir $(TS_HV_SRCS:.c=.o)))

TS_TEST_NAMES := $(patsubst tests/toolstack/test_%.c,%,\
	$(sort $(wildcard tests/toolstack/test_*.c)))
TS_TEST_BINS := $(addprefix $(OUT)/toolstack/test_,$(TS_TEST_NAMES))
TS_HEADERS := $(wildcard toolstack/*.h toolstack/include/kl/*.h \
	toolstack/virtio/*.h tests/toolstack/*.h) \
	dom0-rootfs/kmod/keel_ring.h

.PHONY: toolstack toolstack-tests toolstack-test kl
toolstack: $(OUT)/toolstack/libkl.a $(OUT)/toolstack/kl
kl: $(OUT)/toolstack/kl
all: toolstack
unit: toolstack-tests

$(OUT)/toolstack/libkl.a: $(TS_OBJS)
	@echo "  AR      $@"
	@rm -f $@
	@ar rcs $@ $^

$(OUT)/toolstack/obj/%.o: toolstack/%.c toolstack/toolstack.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(TS_CC) $(TS_CFLAGS) -Itoolstack $(TS_HV_CFLAGS) -c $< -o $@

# One object per shared hypervisor source, named after the file.
$(foreach src,$(TS_HV_SRCS),$(eval \
$(OUT)/toolstack/obj/hv/$(notdir $(src:.c=.o)): $(src) toolstack/toolstack.mk))
$(OUT)/toolstack/obj/hv/%.o:
	@mkdir -p $(dir $@)
	@echo "  CC      $(filter %.c,$^)"
	@$(TS_CC) $(TS_CFLAGS) $(TS_HV_CFLAGS) -c $(filter %.c,$^) -o $@

# Tests link the library's sources rebuilt with the sanitizers.
$(OUT)/toolstack/test_%: tests/toolstack/test_%.c $(TS_SRCS) $(TS_HV_SRCS) \
		$(TS_HEADERS) toolstack/toolstack.mk
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(TS_CC) $(TS_TEST_CFLAGS) $(TS_HV_CFLAGS) -o $@ $< $(TS_SRCS) \
		$(TS_HV_SRCS) -lcmocka

KL_SRCS := $(sort $(wildcard toolstack/kl/*.c))

$(OUT)/toolstack/kl: $(KL_SRCS) $(OUT)/toolstack/libkl.a $(TS_HEADERS) \
		$(wildcard hypervisor/include/public/*.h) toolstack/toolstack.mk
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(TS_CC) $(filter-out -MMD -MP,$(TS_CFLAGS)) $(TS_HV_CFLAGS) -static \
		-o $@ $(KL_SRCS) $(OUT)/toolstack/libkl.a

toolstack-tests: $(TS_TEST_BINS) $(OUT)/toolstack/kl-acpi-dump

# The ioreq guest's DomU served from Dom0 Linux (tests/toolstack/ioreq_dm.c):
# static, for the Dom0 test initramfs; the DomU payload is the freestanding
# guest's own.
$(OUT)/toolstack/kl-ioreq-dm: tests/toolstack/ioreq_dm.c \
		tests/guests/ioreq/payload.S tests/guests/ioreq/payload.h \
		tests/guests/ioreq/script.h $(OUT)/toolstack/libkl.a $(TS_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(TS_CC) $(filter-out -MMD -MP,$(TS_CFLAGS)) $(TS_HV_CFLAGS) -static \
		-o $@ tests/toolstack/ioreq_dm.c tests/guests/ioreq/payload.S \
		$(OUT)/toolstack/libkl.a

$(OUT)/toolstack/kl-acpi-dump: tests/toolstack/acpi_dump.c \
		$(OUT)/toolstack/libkl.a $(TS_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(TS_CC) $(TS_CFLAGS) -o $@ $< $(OUT)/toolstack/libkl.a

toolstack-test: toolstack-tests
	@status=0; for t in $(TS_TEST_BINS); do \
		echo "# $$t"; \
		CMOCKA_MESSAGE_OUTPUT=TAP $$t || status=1; \
	done; \
	/usr/bin/python3 tests/toolstack/test_acpi_iasl.py || status=1; \
	exit $$status

# No rule makes a .d file: without this, make looks for one through the
# hv/%.o pattern and the built-in link rule and runs an empty compile.
$(TS_OBJS:.o=.d): ;
-include $(TS_OBJS:.o=.d)

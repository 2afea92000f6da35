# Freestanding test guests: minimal bzImage-format kernels that Keel boots
# as Dom0 (and GRUB's `linux` command boots on bare hardware), each checking
# one feature and printing "TEST <name>: PASS|FAIL <reason>" on COM1.
#
#   make guests        out/guests/<name>.bin (and .elf with symbols)
#   make test-guests   boot each guest under Keel in QEMU (tests/guests/run.py)

GUESTS := cpuid timer hvmem triple e820 busy ipi fpu domctl hostile ioreq vqhostile tracework

GUEST_DIR := tests/guests
GUEST_OUT := $(OUT)/guests
GUEST_CC ?= gcc
GUEST_LD ?= ld
GUEST_OBJCOPY ?= objcopy
PYTHON ?= /usr/bin/python3

GUEST_CPPFLAGS := -I$(GUEST_DIR)/lib -MMD -MP
GUEST_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g \
	-ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns \
	-fno-pie -fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small
GUEST_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments

GUEST_LIB_SRCS := $(filter-out %/link.ld.S,$(wildcard $(GUEST_DIR)/lib/*.c $(GUEST_DIR)/lib/*.S))
GUEST_LIB_OBJS := $(patsubst $(GUEST_DIR)/%,$(GUEST_OUT)/obj/%.o,$(GUEST_LIB_SRCS))
GUEST_LINK_SCRIPT := $(GUEST_OUT)/link.ld

.PHONY: guests test-guests
guests: $(foreach g,$(GUESTS),$(GUEST_OUT)/$(g).bin)

test-guests: guests
	$(PYTHON) $(GUEST_DIR)/run.py

$(GUEST_OUT)/obj/%.c.o: $(GUEST_DIR)/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj/%.S.o: $(GUEST_DIR)/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CPPFLAGS) -D__ASSEMBLY__ -c $< -o $@

$(GUEST_LINK_SCRIPT): $(GUEST_DIR)/lib/link.ld.S $(GUEST_DIR)/lib/layout.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) -E -P -x c -I$(GUEST_DIR)/lib $< -o $@

# guest_rules(name): link lib + <name>/*.c and *.S at the link address, then strip
# to the flat file a boot loader reads.
define guest_rules
$(1)_OBJS := $$(patsubst $(GUEST_DIR)/%,$(GUEST_OUT)/obj/%.o,$$(wildcard $(GUEST_DIR)/$(1)/*.c $(GUEST_DIR)/$(1)/*.S))

$(GUEST_OUT)/$(1).elf: $$($(1)_OBJS) $(GUEST_LIB_OBJS) $(GUEST_LINK_SCRIPT)
	$(GUEST_LD) $(GUEST_LDFLAGS) -T $(GUEST_LINK_SCRIPT) -o $$@ $$($(1)_OBJS) $(GUEST_LIB_OBJS)

$(GUEST_OUT)/$(1).bin: $(GUEST_OUT)/$(1).elf
	$(GUEST_OBJCOPY) -O binary $$< $$@
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rules,$(g))))

-include $(shell find $(GUEST_OUT)/obj -name '*.d' 2>/dev/null)

# Keel hypervisor: freestanding C11 + assembly -> $(OUT)/keel.elf
HV_CC ?= gcc
HV_LD ?= ld
HV_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-mcmodel=small -fno-asynchronous-unwind-tables -fno-omit-frame-pointer \
	-fno-strict-aliasing -fno-common -m64 -Ihypervisor/include -MMD -MP
HV_ASFLAGS := -m64 -Ihypervisor/include -MMD -MP -D__ASSEMBLY__
HV_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	-T hypervisor/arch/x86/boot/keel.ld

HV_SRCS := $(shell find hypervisor -name '*.c' -o -name '*.S' | sort)
HV_OBJS := $(patsubst hypervisor/%,$(OUT)/hv/%.o,$(HV_SRCS))

.PHONY: keel
keel: $(OUT)/keel.elf

$(OUT)/keel.elf: $(HV_OBJS) hypervisor/arch/x86/boot/keel.ld
	@echo "  LD      $@"
	@$(HV_LD) $(HV_LDFLAGS) -o $@ $(HV_OBJS)

$(OUT)/hv/%.c.o: hypervisor/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(HV_CC) $(HV_CFLAGS) -c $< -o $@

$(OUT)/hv/%.S.o: hypervisor/%.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(HV_CC) $(HV_ASFLAGS) -c $< -o $@

-include $(HV_OBJS:.o=.d)

# Boot image: Debian's kernel, the Dom0 test initramfs and the ISO.
#
#   make kernel      build/kernel/vmlinuz + modules, from Debian's package
#                    (version pinned in image/kernel-version)
#   make initramfs   $(OUT)/dom0-initramfs.cpio.gz (dom0-rootfs/README.md)
#   make iso         $(OUT)/keel.iso: GRUB (BIOS + UEFI), Keel, Dom0 kernel
#                    and initramfs, plus a rescue entry without Keel
#   make run         boot $(OUT)/keel.iso in QEMU on this terminal
#                    (scripts/run-qemu.sh; RUN_ARGS="..." adds QEMU options)

BUILD ?= build

KERNEL_DIR := $(BUILD)/kernel
# Written last by scripts/fetch-kernel.sh: stands for the whole unpacked
# package (vmlinuz, modules).
KERNEL_STAMP := $(KERNEL_DIR)/release
DOM0_INITRAMFS := $(OUT)/dom0-initramfs.cpio.gz
KEEL_ISO := $(OUT)/keel.iso
DEPS_STAMP := $(BUILD)/deps.stamp

.PHONY: kernel initramfs iso run

kernel: $(KERNEL_STAMP)
initramfs: $(DOM0_INITRAMFS)
iso: $(KEEL_ISO)

# Installs missing build/test packages once per change of the package list.
$(DEPS_STAMP): scripts/deps.sh
	scripts/deps.sh
	@mkdir -p $(dir $@)
	@touch $@

$(KERNEL_STAMP): image/kernel-version scripts/fetch-kernel.sh | $(DEPS_STAMP)
	scripts/fetch-kernel.sh $(BUILD)

$(DOM0_INITRAMFS): $(KERNEL_STAMP) scripts/mkinitramfs.py \
		$(wildcard dom0-rootfs/initramfs/*) | $(DEPS_STAMP)
	scripts/mkinitramfs.py --kernel-dir $(KERNEL_DIR) -o $@

# Only the ISO is redone when keel.elf changes: the kernel and initramfs
# have their own rules above.
$(KEEL_ISO): $(OUT)/keel.elf $(KERNEL_STAMP) $(DOM0_INITRAMFS) \
		image/grub.cfg scripts/mkiso.sh | $(DEPS_STAMP)
	scripts/mkiso.sh $@ image/grub.cfg boot/keel.elf=$(OUT)/keel.elf \
		boot/vmlinuz=$(KERNEL_DIR)/vmlinuz boot/initrd.img=$(DOM0_INITRAMFS)

run: $(KEEL_ISO)
	scripts/run-qemu.sh $(KEEL_ISO) $(RUN_ARGS)

# keel.ko, Dom0's kernel module (dom0-rootfs/kmod/keel_*.c):
#
#   make kmod    $(OUT)/kmod/keel.ko, built against the headers of the kernel
#                that Dom0 boots (build/kernel/release, from the pin in
#                image/kernel-version; scripts/deps.sh installs the headers)
#
# Kbuild writes its objects next to the sources, so the sources are copied
# to $(OUT)/kmod and built there.

KMOD_DIR := $(OUT)/kmod
KMOD := $(KMOD_DIR)/keel.ko
KMOD_SRCS := $(wildcard dom0-rootfs/kmod/*.c dom0-rootfs/kmod/*.h) \
	dom0-rootfs/kmod/Kbuild

.PHONY: kmod
kmod: $(KMOD)

$(KMOD): $(KMOD_SRCS) dom0-rootfs/kmod/Makefile dom0-rootfs/kmod/kmod.mk \
		$(wildcard hypervisor/include/public/*.h) $(KERNEL_STAMP) | $(DEPS_STAMP)
	@mkdir -p $(KMOD_DIR)
	cp $(KMOD_SRCS) $(KMOD_DIR)/
	$(MAKE) --no-print-directory -f $(CURDIR)/dom0-rootfs/kmod/Makefile \
		-C $(KMOD_DIR) KEEL_INCLUDE=$(CURDIR)/hypervisor/include

# Boot images: Debian's kernel, the product images and the small test ISO.
#
# The product images (as root; only Debian's archive needs to be reachable):
#   make image       $(OUT)/keel.iso and $(OUT)/keel.qcow2 with a real
#                    Debian Dom0 (dom0-rootfs/README.md), then a size summary
#   make iso         only $(OUT)/keel.iso: the live ISO (GRUB for BIOS and
#                    UEFI, Keel, Dom0 on squashfs, kickstart installer)
#   make qcow2       only $(OUT)/keel.qcow2
#   make run         boot $(OUT)/keel.iso in QEMU on this terminal
#                    (scripts/run-qemu.sh; RUN_ARGS="..." adds QEMU options)
#   make image-test  boot the images and install with kickstart
#                    (tests/system/test_image_*.py, test_kickstart.py)
#
# The fast test ISO that `make test` boots (no root, no debootstrap):
#   make kernel      build/kernel/vmlinuz + modules, from Debian's package
#                    (version pinned in image/kernel-version)
#   make initramfs   $(OUT)/dom0-initramfs.cpio.gz, the busybox Dom0
#                    (dom0-rootfs/README.md)
#   make test-iso    $(OUT)/keel-test.iso: GRUB (BIOS + UEFI), Keel, Dom0
#                    kernel and busybox initramfs, plus a rescue entry

BUILD ?= build

KERNEL_DIR := $(BUILD)/kernel
# Written last by scripts/fetch-kernel.sh: stands for the whole unpacked
# package (vmlinuz, modules).
KERNEL_STAMP := $(KERNEL_DIR)/release
DOM0_INITRAMFS := $(OUT)/dom0-initramfs.cpio.gz
TEST_ISO := $(OUT)/keel-test.iso
DEPS_STAMP := $(BUILD)/deps.stamp

.PHONY: kernel initramfs test-iso iso run image qcow2 image-test image-summary

kernel: $(KERNEL_STAMP)
initramfs: $(DOM0_INITRAMFS)
test-iso: $(TEST_ISO)

# Installs missing build/test packages once per change of the package list.
$(DEPS_STAMP): scripts/deps.sh
	scripts/deps.sh
	@mkdir -p $(dir $@)
	@touch $@

$(KERNEL_STAMP): image/kernel-version scripts/fetch-kernel.sh | $(DEPS_STAMP)
	scripts/fetch-kernel.sh $(BUILD)

# The test guests dom0-rootfs/initramfs/files names ($OUT/guests/...):
# a rebuilt guest must reach the test ISO.
DOM0_INITRAMFS_GUESTS := $(patsubst $$OUT/%,$(OUT)/%,$(filter $$OUT/guests/%,\
	$(shell grep -v '^\#' dom0-rootfs/initramfs/files)))

# With keel.ko (dom0-rootfs/kmod/kmod.mk), loaded last, kl, and the
# ioreq device-model check tests/system/test_kl_ioreq.py runs.
$(DOM0_INITRAMFS): $(KERNEL_STAMP) scripts/mkinitramfs.py \
		$(wildcard dom0-rootfs/initramfs/*) $(wildcard dom0-rootfs/examples/*.cfg) \
		$(OUT)/kmod/keel.ko \
		$(DOM0_INITRAMFS_GUESTS) \
		$(OUT)/toolstack/kl $(OUT)/toolstack/kl-ioreq-dm | $(DEPS_STAMP)
	scripts/mkinitramfs.py --kernel-dir $(KERNEL_DIR) \
		--extra-module $(OUT)/kmod/keel.ko \
		--extra-file $(OUT)/toolstack/kl:usr/sbin/kl \
		--extra-file $(OUT)/toolstack/kl-ioreq-dm:usr/sbin/kl-ioreq-dm -o $@

# Only the ISO is redone when keel.elf changes: the kernel and initramfs
# have their own rules above.
$(TEST_ISO): $(OUT)/keel.elf $(KERNEL_STAMP) $(DOM0_INITRAMFS) \
		image/grub.cfg scripts/mkiso.sh | $(DEPS_STAMP)
	scripts/mkiso.sh $@ image/grub.cfg boot/keel.elf=$(OUT)/keel.elf \
		boot/vmlinuz=$(KERNEL_DIR)/vmlinuz boot/initrd.img=$(DOM0_INITRAMFS)

# ---------------------------------------------------------------------------
# Product images. Each stage has its own output so that a change reruns only
# what depends on it: a new keel.elf redoes the ISO and the qcow2 assembly,
# not debootstrap, dracut or the squashfs.
# ---------------------------------------------------------------------------

IMAGE_DIR := $(BUILD)/image
ROOTFS := $(IMAGE_DIR)/rootfs
# Written last by the rootfs rule: stands for the whole base tree.
ROOTFS_STAMP := $(IMAGE_DIR)/rootfs.stamp
DRACUT_INITRD := $(IMAGE_DIR)/initrd.img
LIVE_SQUASHFS := $(IMAGE_DIR)/squashfs.img
# The sample Debian DomU's disk, derived from the same base tree.
DOMU_DISK := $(IMAGE_DIR)/debian-disk.qcow2
KEEL_ISO := $(OUT)/keel.iso
KEEL_QCOW2 := $(OUT)/keel.qcow2
# The test guests the labs (docs/labs/) create, shipped in /usr/share/keel/guests.
SHIPPED_GUESTS := $(addprefix $(OUT)/guests/,busy.bin hostile.bin triple.bin hvmem.bin tracework.bin)
OVERLAY_FILES := $(shell find dom0-rootfs/overlay dom0-rootfs/overlay-live \
	dom0-rootfs/overlay-disk -type f 2>/dev/null) image/grub.d/20_linux_keel \
	image/grub.d/keel.cfg

image: $(KEEL_ISO) $(KEEL_QCOW2)
	@$(MAKE) --no-print-directory image-summary
iso: $(KEEL_ISO)
qcow2: $(KEEL_QCOW2)

run: $(KEEL_ISO)
	scripts/run-qemu.sh $(KEEL_ISO) $(RUN_ARGS)

$(ROOTFS_STAMP): dom0-rootfs/packages scripts/mk-rootfs.sh \
		dom0-rootfs/overlay/etc/dpkg/dpkg.cfg.d/keel-lean \
		dom0-rootfs/overlay/etc/apt/apt.conf.d/90keel-lean \
		$(KERNEL_STAMP) | $(DEPS_STAMP)
	@echo "image: [1/5] Dom0 root filesystem: debootstrap + dom0-rootfs/packages (a few minutes)"
	@rm -f $@
	scripts/mk-rootfs.sh $(ROOTFS) $(BUILD)/kernel-deb/linux-image-*.deb
	@touch $@

$(DOMU_DISK): $(ROOTFS_STAMP) scripts/mk-domu-disk.sh \
		$(shell find dom0-rootfs/overlay-domu -type f) \
		dom0-rootfs/overlay/etc/systemd/system/keel-ssh-hostkeys.service
	@echo "image: sample Debian DomU disk: the base tree less Dom0's parts (about a minute)"
	scripts/mk-domu-disk.sh $(ROOTFS) $@

$(DRACUT_INITRD): $(ROOTFS_STAMP) image/dracut.conf scripts/mk-dracut.sh
	@echo "image: [2/5] initramfs: dracut for the pinned kernel (about a minute)"
	scripts/mk-dracut.sh $(ROOTFS) $@

# The initramfs rule writes into the base tree's /boot: stage after it.
$(LIVE_SQUASHFS): $(ROOTFS_STAMP) $(DRACUT_INITRD) $(OVERLAY_FILES) \
		scripts/mk-image-root.sh scripts/mk-squashfs.sh \
		kickstart/keel-install kickstart/keel-install.8 kickstart/README.md \
		README.md image/grub-disk.cfg $(OUT)/kmod/keel.ko $(OUT)/toolstack/kl \
		toolstack/kl/kl.1 toolstack/kl/kl.bash-completion \
		$(OUT)/domu-initramfs.cpio.gz $(wildcard dom0-rootfs/examples/*.cfg) \
		$(DOMU_DISK) $(SHIPPED_GUESTS) $(wildcard docs/labs/*.md)
	@echo "image: [3/5] live root filesystem: squashfs"
	scripts/mk-image-root.sh $(ROOTFS) live $(IMAGE_DIR)/live-root \
		$(OUT)/kmod/keel.ko $(OUT)/toolstack/kl $(OUT)/domu-initramfs.cpio.gz \
		$(DOMU_DISK) $(SHIPPED_GUESTS)
	scripts/mk-squashfs.sh $(IMAGE_DIR)/live-root $@

$(KEEL_ISO): $(OUT)/keel.elf $(KERNEL_STAMP) $(DRACUT_INITRD) $(LIVE_SQUASHFS) \
		image/grub-live.cfg scripts/mk-live-iso.sh scripts/mkiso.sh
	@echo "image: [4/5] live ISO: GRUB (BIOS + UEFI), Keel, kernel, initramfs, squashfs"
	scripts/mk-live-iso.sh $@ $(LIVE_SQUASHFS) $(OUT)/keel.elf \
		$(KERNEL_DIR)/vmlinuz $(DRACUT_INITRD)

$(KEEL_QCOW2): $(OUT)/keel.elf $(ROOTFS_STAMP) $(DRACUT_INITRD) $(OVERLAY_FILES) \
		image/grub-disk.cfg scripts/mk-image-root.sh scripts/mk-qcow2.sh \
		scripts/grub-bios-embed.py kickstart/README.md README.md \
		$(OUT)/kmod/keel.ko $(OUT)/toolstack/kl \
		toolstack/kl/kl.1 toolstack/kl/kl.bash-completion \
		$(OUT)/domu-initramfs.cpio.gz $(wildcard dom0-rootfs/examples/*.cfg) \
		$(DOMU_DISK) $(SHIPPED_GUESTS) $(wildcard docs/labs/*.md)
	@echo "image: [5/5] qcow2: GPT (BIOS boot + ESP + ext4 root), GRUB for BIOS and UEFI"
	scripts/mk-image-root.sh $(ROOTFS) disk $(IMAGE_DIR)/disk-root \
		$(OUT)/kmod/keel.ko $(OUT)/toolstack/kl $(OUT)/domu-initramfs.cpio.gz \
		$(DOMU_DISK) $(SHIPPED_GUESTS)
	scripts/mk-qcow2.sh $@ $(IMAGE_DIR)/disk-root $(OUT)/keel.elf

image-summary:
	@echo "image: sizes"
	@printf '  %-34s %s\n' "Dom0 root filesystem (unpacked)" \
		"$$(du -sh --apparent-size $(ROOTFS) | cut -f1)"
	@printf '  %-34s %s\n' "initramfs (dracut)" "$$(du -h $(DRACUT_INITRD) | cut -f1)"
	@printf '  %-34s %s\n' "squashfs (live root)" "$$(du -h $(LIVE_SQUASHFS) | cut -f1)"
	@printf '  %-34s %s\n' "$(KEEL_ISO)" "$$(du -h $(KEEL_ISO) | cut -f1)"
	@printf '  %-34s %s (virtual %s)\n' "$(KEEL_QCOW2)" \
		"$$(du -h $(KEEL_QCOW2) | cut -f1)" \
		"$$(qemu-img info --output=json $(KEEL_QCOW2) | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' | numfmt --to=iec)"

# Boots both images under QEMU TCG (SeaBIOS and OVMF) and installs to a
# disk with kickstart. Part of `make test` only with KEEL_IMAGE_TESTS=1
# (tests/tests.mk): building and booting them takes much longer.
image-test: image
	KEEL_IMAGE_TESTS=1 /usr/bin/python3 tests/run.py \
		--only 'system/test_image_' --only 'system/test_kickstart'

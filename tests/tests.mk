# Test entry points.
#
#   make test                      install missing packages, build everything,
#                                  run every suite (tests/run.py), print
#                                  "N passed, N failed[, N skipped]"
#   make test TEST_ONLY=PATTERN    only the suites whose name matches
#                                  (e.g. TEST_ONLY=system/test_rescue)
#   make test KEEL_IMAGE_TESTS=1   also build the product images (make image,
#                                  as root) and run their boot and kickstart
#                                  tests, which otherwise report a skip
#   make test-list                 list the suites
#   make format-check              fail (listing them) if clang-format would
#                                  change any C file; `make format` does it
#   make soak-boot                 SOAK_BOOTS (default 20) boots at -smp 2,
#                                  Keel's defaults, of the test ISO's Dom0
#                                  (SOAK_ISO=live: out/keel.iso) to its
#                                  shell, one line each; not in `make test`
#                                  (1 to 2.5 minutes a boot)

.PHONY: test test-list format format-check soak-boot

# The build runs inside tests/run.py (make -k all test-iso unit) so that a
# broken part counts as one failure and every suite that can still run does.
# The product images take minutes to build: only when their tests run. A
# failed image build shows up as the image tests' "missing image" failures.
test:
	scripts/deps.sh
ifeq ($(KEEL_IMAGE_TESTS),1)
	-$(MAKE) image
endif
	KEEL_IMAGE_TESTS=$(KEEL_IMAGE_TESTS) /usr/bin/python3 tests/run.py --build \
		$(foreach p,$(TEST_ONLY),--only '$(p)')

test-list:
	@/usr/bin/python3 tests/run.py --list

SOAK_BOOTS ?= 20
SOAK_ISO ?= test
soak-boot:
	nice -n 10 /usr/bin/python3 tests/soak/soak_boot.py \
		--boots $(SOAK_BOOTS) --iso $(SOAK_ISO)

# Every tracked C file, in the repository's style (.clang-format).
FORMAT_FILES = $(shell git ls-files '*.c' '*.h')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@scripts/deps.sh
	@bad=$$(for f in $(FORMAT_FILES); do \
		clang-format --dry-run --Werror "$$f" >/dev/null 2>&1 || \
			echo "$$f"; \
	done); \
	if [ -n "$$bad" ]; then \
		echo "format-check: not in the repository's style (make format):"; \
		echo "$$bad" | sed 's/^/  /'; exit 1; \
	fi; echo "format-check: $(words $(FORMAT_FILES)) files in style"

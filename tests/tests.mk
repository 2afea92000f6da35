# Test entry points.
#
#   make test                      install missing packages, build everything,
#                                  run every suite (tests/run.py), print
#                                  "N passed, N failed[, N skipped]"
#   make test TEST_ONLY=PATTERN    only the suites whose name matches
#                                  (e.g. TEST_ONLY=system/test_rescue)
#   make test-list                 list the suites

.PHONY: test test-list

# The build runs inside tests/run.py (make -k all iso unit) so that a broken
# part counts as one failure and every suite that can still run does.
test:
	scripts/deps.sh
	/usr/bin/python3 tests/run.py --build $(foreach p,$(TEST_ONLY),--only '$(p)')

test-list:
	@/usr/bin/python3 tests/run.py --list

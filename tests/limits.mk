# Limits, access lists, descriptor exhaustion, privilege drop and stress:
# integration tests of issue 5, run against the real daemon on loopback.
LIMITS_TESTS = \
	tests/test_limits.py \
	tests/test_acl.py \
	tests/test_emfile.py \
	tests/test_privdrop.py \
	tests/test_stress.py

TESTS += $(LIMITS_TESTS)
EXTRA_DIST += $(LIMITS_TESTS) tests/limits.mk

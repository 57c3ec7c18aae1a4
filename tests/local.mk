# Tests: C unit tests and python integration tests in one automake harness.
# A test exits 0 (pass), 1 (fail) or 77 (skip: a tool it needs is missing).
TEST_EXTENSIONS = .py .sh
PY_LOG_COMPILER = $(PYTHON3)
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	NETLAB_BUILDDIR='$(abs_top_builddir)'; export NETLAB_BUILDDIR; \
	NETLAB_SRCDIR='$(abs_top_srcdir)'; export NETLAB_SRCDIR; \
	NETLABD='$(abs_top_builddir)/src/netlabd'; export NETLABD; \
	NETLAB='$(abs_top_builddir)/src/netlab'; export NETLAB; \
	PYTHONDONTWRITEBYTECODE=1; export PYTHONDONTWRITEBYTECODE;

EXTRA_DIST += tests/netlabtest.py

# C unit tests link the daemon's own objects.
UNIT_TESTS = tests/unit_proto tests/unit_conf tests/unit_fixup tests/unit_acl
check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)
tests_unit_proto_SOURCES = tests/unit_proto.c tests/unit.h
tests_unit_proto_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_unit_proto_LDADD = $(NETLABD_LIBS)
tests_unit_conf_SOURCES = tests/unit_conf.c tests/unit.h
tests_unit_conf_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_unit_conf_LDADD = $(NETLABD_LIBS)
tests_unit_fixup_SOURCES = tests/unit_fixup.c tests/unit.h
tests_unit_fixup_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_unit_fixup_LDADD = $(NETLABD_LIBS)
tests_unit_acl_SOURCES = tests/unit_acl.c tests/unit.h
tests_unit_acl_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_unit_acl_LDADD = $(NETLABD_LIBS)

# Integration tests: the real daemon on free loopback ports, IPv4 and IPv6.
CORE_PY_TESTS = tests/test_protocols.py tests/test_config.py tests/test_lifecycle.py \
	tests/test_classic.py
TESTS += $(CORE_PY_TESTS)
EXTRA_DIST += $(CORE_PY_TESTS)

# The module boundaries, from the objects' symbols: no call circle, the
# core reaches protocols through the table only.
TESTS += tests/check_core.py
EXTRA_DIST += tests/check_core.py

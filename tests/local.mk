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

EXTRA_DIST += tests/netlabtest.py tests/README

# C unit tests link the daemon's own objects (the parsers are in them too).
UNIT_TESTS = tests/unit_proto tests/unit_conf tests/unit_fixup tests/unit_acl \
	tests/unit_proxy tests/unit_http tests/unit_metrics
check_PROGRAMS += $(UNIT_TESTS) tests/print_options
TESTS += $(UNIT_TESTS)
tests_unit_proto_SOURCES = tests/unit_proto.c tests/unit.h
tests_unit_conf_SOURCES = tests/unit_conf.c tests/unit.h tests/unit_confload.h
tests_unit_fixup_SOURCES = tests/unit_fixup.c tests/unit.h tests/unit_confload.h
tests_unit_acl_SOURCES = tests/unit_acl.c tests/unit.h
tests_unit_proxy_SOURCES = tests/unit_proxy.c tests/unit.h
tests_unit_http_SOURCES = tests/unit_http.c tests/unit.h
tests_unit_metrics_SOURCES = tests/unit_metrics.c tests/unit.h
# print_options: the schema's option names and the protocol table, for the checks below.
tests_print_options_SOURCES = tests/print_options.c
UNIT_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_unit_proto_CFLAGS = $(UNIT_CFLAGS)
tests_unit_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_fixup_CFLAGS = $(UNIT_CFLAGS)
tests_unit_acl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_proxy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_http_CFLAGS = $(UNIT_CFLAGS)
tests_unit_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_print_options_CFLAGS = $(UNIT_CFLAGS)
tests_unit_proto_LDADD = $(NETLABD_LIBS)
tests_unit_conf_LDADD = $(NETLABD_LIBS)
tests_unit_fixup_LDADD = $(NETLABD_LIBS)
tests_unit_acl_LDADD = $(NETLABD_LIBS)
tests_unit_proxy_LDADD = $(NETLABD_LIBS)
tests_unit_http_LDADD = $(NETLABD_LIBS)
tests_unit_metrics_LDADD = $(NETLABD_LIBS)
tests_print_options_LDADD = $(NETLABD_LIBS)

# Integration tests: the real daemon on free loopback ports, IPv4 and IPv6.
PY_TESTS = \
	tests/test_protocols.py \
	tests/test_classic.py \
	tests/test_config.py \
	tests/test_lifecycle.py \
	tests/test_limits.py \
	tests/test_acl.py \
	tests/test_emfile.py \
	tests/test_privdrop.py \
	tests/test_stress.py \
	tests/test_netlab.py \
	tests/test_activation.py \
	tests/test_notify.py \
	tests/test_restart.py \
	tests/test_metrics.py \
	tests/test_udp.py \
	tests/test_hardening.py \
	tests/test_proxy.py \
	tests/test_haproxy.py
TESTS += $(PY_TESTS) tests/test_units.sh
EXTRA_DIST += $(PY_TESTS) tests/test_units.sh tests/sockholder.py

# The module boundaries, from the objects' symbols: no call circle, the
# core reaches protocols through the table only.
TESTS += tests/check_core.py
EXTRA_DIST += tests/check_core.py

# Docs cannot drift: every option of the schema is documented in
# netlabd.conf(5) and appears in the shipped etc/netlabd.conf, every
# protocol and its port where it belongs, and the man pages lint clean.
TESTS += tests/check_docs.sh
EXTRA_DIST += tests/check_docs.sh

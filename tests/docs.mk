# Docs cannot drift: every option of the config schema must be documented in
# netlabd.conf(5) and appear in the shipped etc/netlabd.conf, and the man
# pages must be clean under mandoc -Tlint (STYLE.md habit 6).
check_PROGRAMS += tests/print_options
tests_print_options_SOURCES = tests/print_options.c
tests_print_options_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_print_options_LDADD = $(NETLABD_LIBS)

TESTS += tests/check_docs.sh
EXTRA_DIST += tests/check_docs.sh

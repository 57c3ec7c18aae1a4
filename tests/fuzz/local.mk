# libFuzzer targets and the valgrind run: make targets CI calls, never part
# of "make check" (they need clang or valgrind and minutes).
#
#   CC=clang ./configure --enable-fuzzing && make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="conf echo"]
#   make valgrind [VALGRIND_TESTS="tests/test_x.py ..."]
#
# With --enable-fuzzing every object of src/libnetlabd.a carries libFuzzer's
# coverage, and the targets link that library: they fuzz the daemon's own
# code, built the way configure built it.  fuzz_proto drives the protocol
# named by NETLAB_FUZZ_PROTO through session/drive.c; run.sh runs it once
# per protocol of the table.  Both make targets fail when their tool is
# missing, so that CI cannot skip them.

FUZZ_SECONDS = 60
FUZZ_TARGETS =
FUZZ_JOBS = 2
VALGRIND_TESTS =

fuzz_bins = tests/fuzz/fuzz_conf tests/fuzz/fuzz_addr tests/fuzz/fuzz_proto \
	tests/fuzz/fuzz_proxy tests/fuzz/fuzz_http tests/fuzz/fuzz_dgram
if FUZZING
noinst_PROGRAMS += $(fuzz_bins)
endif
EXTRA_PROGRAMS = $(fuzz_bins)
fuzz_link = $(AM_LDFLAGS) -fsanitize=fuzzer
tests_fuzz_fuzz_conf_SOURCES = tests/fuzz/fuzz_conf.c
tests_fuzz_fuzz_conf_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_fuzz_fuzz_conf_LDFLAGS = $(fuzz_link)
tests_fuzz_fuzz_conf_LDADD = $(NETLABD_LIBS)
tests_fuzz_fuzz_addr_SOURCES = tests/fuzz/fuzz_addr.c
tests_fuzz_fuzz_addr_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_fuzz_fuzz_addr_LDFLAGS = $(fuzz_link)
tests_fuzz_fuzz_addr_LDADD = $(NETLABD_LIBS)
tests_fuzz_fuzz_proto_SOURCES = tests/fuzz/fuzz_proto.c
tests_fuzz_fuzz_proto_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_fuzz_fuzz_proto_LDFLAGS = $(fuzz_link)
tests_fuzz_fuzz_proto_LDADD = $(NETLABD_LIBS)
tests_fuzz_fuzz_proxy_SOURCES = tests/fuzz/fuzz_proxy.c
tests_fuzz_fuzz_proxy_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_fuzz_fuzz_proxy_LDFLAGS = $(fuzz_link)
tests_fuzz_fuzz_proxy_LDADD = $(NETLABD_LIBS)
tests_fuzz_fuzz_http_SOURCES = tests/fuzz/fuzz_http.c
tests_fuzz_fuzz_http_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_fuzz_fuzz_http_LDFLAGS = $(fuzz_link)
tests_fuzz_fuzz_http_LDADD = $(NETLABD_LIBS)
tests_fuzz_fuzz_dgram_SOURCES = tests/fuzz/fuzz_dgram.c
tests_fuzz_fuzz_dgram_CFLAGS = $(src_libnetlabd_a_CFLAGS)
tests_fuzz_fuzz_dgram_LDFLAGS = $(fuzz_link)
tests_fuzz_fuzz_dgram_LDADD = $(NETLABD_LIBS)

EXTRA_DIST += \
	tests/valgrind.sh \
	tests/fuzz/run.sh \
	tests/fuzz/addr.dict \
	tests/fuzz/conf.dict \
	tests/fuzz/proxy.dict \
	tests/fuzz/http.dict \
	tests/fuzz/corpus

CLEANFILES += tests/fuzz/*-crash-* tests/fuzz/*-leak-* tests/fuzz/*-timeout-* \
	tests/fuzz/*-oom-* tests/fuzz/*.log

if FUZZING
fuzz: $(fuzz_bins) tests/print_options
	$(SHELL) '$(abs_top_srcdir)/tests/fuzz/run.sh' '$(abs_top_builddir)' $(FUZZ_JOBS) \
	    $(FUZZ_SECONDS) $(FUZZ_TARGETS)
else
fuzz:
	@echo "make fuzz: configure this build with CC=clang --enable-fuzzing first" >&2; exit 1
endif

valgrind: all
	$(SHELL) '$(abs_top_srcdir)/tests/valgrind.sh' '$(abs_top_builddir)' $(VALGRIND_TESTS)

.PHONY: fuzz valgrind

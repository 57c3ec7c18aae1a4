# Benchmark: netlab-bench, the load generator, and "make bench", which runs
# netlabd, xinetd and the reference server side by side (never part of
# "make check": it takes minutes and wants two idle cores).  netlab-bench is
# a check program so that plain "make" does not build it, while "make check"
# (CI) still compiles it with the project's warnings.
check_PROGRAMS += tests/bench/netlab-bench
tests_bench_netlab_bench_SOURCES = tests/bench/netlab-bench.c tests/bench/bench-udp.c \
	tests/bench/bench.h

EXTRA_DIST += tests/bench/run tests/bench/report.awk tests/bench/README.md tests/bench/notify_gaps.py

.PHONY: bench
bench: tests/bench/netlab-bench src/netlabd
	$(SHELL) $(srcdir)/tests/bench/run $(abs_top_builddir)

# The netlab client: plain C on libc alone, poll(2) is all it needs.
bin_PROGRAMS += src/netlab
src_netlab_SOURCES = src/netlab.c

TESTS += tests/test_netlab.py
EXTRA_DIST += tests/test_netlab.py

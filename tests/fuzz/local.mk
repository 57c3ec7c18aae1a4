# libFuzzer targets and the valgrind run: both are make targets CI calls,
# never part of "make check" (they need clang or valgrind and minutes).
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="conf echo"]
#   make valgrind [VALGRIND_TESTS="tests/test_x.py ..."]
#
# tests/fuzz/run.sh compiles the targets itself with clang from src/*.c, so
# no configure option is needed and "make distcheck" never needs clang.
# Both targets fail when their tool is missing, so that CI cannot skip them.

FUZZ_SECONDS = 60
FUZZ_TARGETS =
VALGRIND_TESTS =

EXTRA_DIST += \
	tests/README \
	tests/valgrind.sh \
	tests/fuzz/run.sh \
	tests/fuzz/fuzz_addr.c \
	tests/fuzz/fuzz_conf.c \
	tests/fuzz/fuzz_proto.c \
	tests/fuzz/addr.dict \
	tests/fuzz/conf.dict \
	tests/fuzz/corpus

# Objects, binaries, logs and findings of "make fuzz" (all in one flat folder).
CLEANFILES += tests/fuzz/build/*

fuzz:
	FUZZ_BUILDDIR='$(abs_top_builddir)/tests/fuzz/build' \
	    $(SHELL) '$(abs_top_srcdir)/tests/fuzz/run.sh' $(FUZZ_SECONDS) $(FUZZ_TARGETS)

valgrind: all
	$(SHELL) '$(abs_top_srcdir)/tests/valgrind.sh' '$(abs_top_builddir)' $(VALGRIND_TESTS)

.PHONY: fuzz valgrind

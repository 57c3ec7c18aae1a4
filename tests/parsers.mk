# Parsers of hostile bytes (STYLE habit 18): PROXY headers and HTTP request
# heads, pure functions built straight into their unit tests, so a test
# exercises exactly the code under test.
PARSER_TESTS = tests/unit_proxy tests/unit_http
check_PROGRAMS += $(PARSER_TESTS)
TESTS += $(PARSER_TESTS)
tests_unit_proxy_SOURCES = tests/unit_proxy.c tests/unit.h \
	src/session/proxy.c src/session/proxy.h
tests_unit_http_SOURCES = tests/unit_http.c tests/unit.h \
	src/proto/http_head.c src/proto/http_head.h

# Their libFuzzer targets need nothing but the parser and config.h:
#   clang -fsanitize=fuzzer,address,undefined -Isrc -IBUILDDIR \
#       tests/fuzz/fuzz_proxy.c src/session/proxy.c
#   clang -fsanitize=fuzzer,address,undefined -Isrc -IBUILDDIR \
#       tests/fuzz/fuzz_http.c src/proto/http_head.c
EXTRA_DIST += \
	tests/fuzz/fuzz_proxy.c \
	tests/fuzz/fuzz_http.c \
	tests/fuzz/proxy.dict \
	tests/fuzz/http.dict \
	tests/fuzz/corpus/proxy \
	tests/fuzz/corpus/http

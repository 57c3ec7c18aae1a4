# Parsers of hostile bytes (STYLE habit 18): pure functions built straight
# into their unit tests, so a test exercises exactly the code under test.
PARSER_TESTS = tests/unit_proxy
check_PROGRAMS += $(PARSER_TESTS)
TESTS += $(PARSER_TESTS)
tests_unit_proxy_SOURCES = tests/unit_proxy.c tests/unit.h \
	src/session/proxy.c src/session/proxy.h

# Tests: C unit tests and python integration tests, one automake harness.

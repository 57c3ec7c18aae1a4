# libFuzzer targets: owned by the fuzzing work

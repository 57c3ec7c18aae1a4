# benchmark: owned by the benchmark work

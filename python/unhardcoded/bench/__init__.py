"""Benchmark helpers: a deterministic synthetic catalog, and the comparison implementations the
benches measure the native core against (a NumPy-vectorized and a pure-Python version of the
quickstart policy). Not part of the public API; imported only by `benches/`."""

"""Benchmarks: `make bench` (python -m bench --size full|small)."""

"""Benchmarks: scripts that print their figures; they are not timed tests."""

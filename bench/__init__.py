"""Benchmarks and fault drills (``make bench``); figures go to ``bench/RESULTS.md``."""

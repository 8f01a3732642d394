"""Benchmarks, run by hand (``python -m tests.bench.<name> --help``); pytest does not collect them."""

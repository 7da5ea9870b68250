"""Benchmarks at federation scale, each printed next to a baseline measured in the same run.

``python -m bench.run [--scale small|full] [--only NAME]``; see docs/performance.md.
"""

"""Benchmark records and loading."""

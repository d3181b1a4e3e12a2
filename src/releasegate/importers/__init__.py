"""Converters from other benchmarks' file formats into releasegate benchmarks."""

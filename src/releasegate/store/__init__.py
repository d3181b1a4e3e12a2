"""Persistent state: atomic files, baselines, run history."""

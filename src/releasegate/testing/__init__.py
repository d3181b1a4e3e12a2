"""Test doubles shared by the test suite and the benchmark scripts (no network beyond 127.0.0.1)."""

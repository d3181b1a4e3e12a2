"""Stage 1: automated metrics, per example and aggregated."""

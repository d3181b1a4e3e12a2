"""The regression comparison: pair a run with its baseline and apply the per-metric rule."""

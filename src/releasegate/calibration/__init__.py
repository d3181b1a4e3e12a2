"""The A/A noise floor (``releasegate calibrate``): measured, stored, checked and flaky items."""

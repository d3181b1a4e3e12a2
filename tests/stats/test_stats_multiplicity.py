"""Holm–Bonferroni against statsmodels.multipletests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from releasegate.stats import holm_adjust


@pytest.mark.parametrize(
    "p_values",
    [
        [0.01],
        [0.01, 0.04, 0.03, 0.005],
        [0.5, 0.5, 0.5],
        [0.0, 1.0, 0.02, 0.02, 0.3],
        [0.2, 0.01, 0.049, 0.0125],
    ],
)
def test_matches_statsmodels(p_values: list[float]) -> None:
    expected = multipletests(p_values, method="holm")[1]
    assert holm_adjust(p_values) == pytest.approx(list(expected), abs=1e-12)


def test_empty_and_invalid() -> None:
    assert holm_adjust([]) == []
    with pytest.raises(ValueError):
        holm_adjust([0.1, 1.2])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=12))
def test_properties(p_values: list[float]) -> None:
    adjusted = holm_adjust(p_values)
    # Rejecting adjusted <= alpha is exactly Holm's step-down procedure.
    m = len(p_values)
    for alpha in (0.01, 0.05, 0.2):
        rejected: set[int] = set()
        for step, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
            if p_values[index] > alpha / (m - step):
                break
            rejected.add(index)
        assert {i for i, adj in enumerate(adjusted) if adj <= alpha} == rejected
    # Never below the raw p-value, never above Bonferroni, order preserved.
    for raw, adj in zip(p_values, adjusted, strict=True):
        assert raw - 1e-15 <= adj <= min(1.0, m * raw) + 1e-15
    ranked = sorted(range(m), key=lambda i: p_values[i])
    assert all(adjusted[i] <= adjusted[j] + 1e-15 for i, j in zip(ranked, ranked[1:], strict=False))

"""Flaky examples in the regression check: listed, left out, or counted apart.

An example is flaky when its outcome changed between runs of one model
fingerprint (the run history) or between the A/A runs of the baseline's noise
floor. ``regression.flaky`` decides what the paired tests do with them:
``report`` (default) only lists them; ``exclude`` leaves them out and says how
many; ``separate`` leaves them out and reports their flips against the baseline
apart. Leaving out every paired example would compare nothing: that is
:class:`IncomparableBaseline`, never a pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from releasegate.records.baseline import Baseline
from releasegate.records.calibration import NoiseFloor
from releasegate.records.core import ExampleResult
from releasegate.records.regression import FlakyExample
from releasegate.regression.baseline_compare import FLIP_METRIC, IncomparableBaseline


def known_flaky(history: Mapping[str, str] | None, noise: NoiseFloor | None) -> dict[str, str]:
    """Example id -> why it is flaky, from the history and the A/A runs of a noise floor."""
    found = dict(history or {})
    if noise is not None:
        for example_id in noise.flaky_examples:
            found.setdefault(example_id, f"changed between the {noise.runs} A/A runs")
    return found


def split_flaky(
    examples: Sequence[ExampleResult],
    baseline: Baseline,
    flaky: Mapping[str, str],
    *,
    policy: str,
) -> tuple[list[ExampleResult], list[FlakyExample], int]:
    """The examples the paired tests use, the flaky ones among the paired, and how many left out.

    Raises:
        IncomparableBaseline: the policy leaves out every example that pairs with the baseline.
    """
    base = {e.id: e for e in baseline.examples}
    paired = [e for e in examples if e.id in base and base[e.id].input_hash == e.input_hash]
    listed = [
        FlakyExample(id=e.id, why=flaky[e.id], flipped=_flip(e, base[e.id].outcomes))
        for e in paired
        if e.id in flaky
    ]
    if policy == "report" or not listed:
        return list(examples), listed, 0
    if len(listed) == len(paired):
        raise IncomparableBaseline(
            f"all {len(paired)} examples that pair with the baseline are flaky and "
            f"regression.flaky: {policy} leaves them out: nothing is left to compare"
        )
    left_out = {f.id for f in listed}
    return [e for e in examples if e.id not in left_out], listed, len(left_out)


def _flip(example: ExampleResult, old: Mapping[str, bool | None]) -> str | None:
    before, after = old.get(FLIP_METRIC), example.outcomes.get(FLIP_METRIC)
    if before is None or after is None or before == after:
        return None
    return "to_wrong" if before else "to_right"


def flaky_note(listed: Sequence[FlakyExample], *, policy: str, excluded: int) -> str | None:
    """One line for the reports: how many flaky examples, and what the tests did with them."""
    if not listed:
        return None
    to_wrong = sum(1 for f in listed if f.flipped == "to_wrong")
    to_right = sum(1 for f in listed if f.flipped == "to_right")
    flips = f"{to_wrong} of them flipped right → wrong and {to_right} wrong → right here"
    if policy == "report":
        return (
            f"{len(listed)} paired example(s) are flaky (their outcome changed between runs of "
            f"one model); {flips}; still in the tests (regression.flaky: report)"
        )
    if policy == "exclude":
        return (
            f"{excluded} flaky example(s) excluded: left out of the paired tests "
            "(regression.flaky: exclude)"
        )
    return (
        f"{excluded} flaky example(s) counted separately: left out of the paired tests "
        f"(regression.flaky: separate); {flips}"
    )

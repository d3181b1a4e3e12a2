"""Gate drift: does this run's config lower the bar its baseline passed under?

A baseline records the gates and the regression rule of the run that wrote it
(``Baseline.passed_under``). A pull request that edits the config can quietly lower
that bar; this module lists every loosening, kind by kind:

- ``threshold``: a lower threshold for a higher-is-better gate (``>``/``>=``), a
  higher one for a lower-is-better gate (``<``/``<=``), any change of an ``==`` gate;
- ``comparison``: ``>`` became ``>=`` (or ``<`` became ``<=``), or the direction flipped;
- ``bound``: a laxer interval end (``ci_low`` -> ``point`` -> ``ci_high`` for a
  higher-is-better gate);
- ``gate_type``: a blocking gate (or the regression rule) became a warning;
- ``removed``: a gate, or a metric of the regression rule, is gone;
- ``regression_threshold`` / ``margin``: a wider allowed drop;
- ``alpha``: a larger significance level;
- ``mode`` / ``multiplicity``: ``non_inferiority`` -> ``significant_drop``, or a
  multiplicity adjustment added (Holm makes a regression harder to declare).

Stricter changes and new gates are never findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from releasegate.config.gates import Comparison, GateType, QualityGate
from releasegate.config.regression import RegressionSettings
from releasegate.config.schema import PipelineConfig
from releasegate.records.baseline import PassedUnder, RecordedGate, RecordedRegressionRule
from releasegate.records.core import GateResult

DriftKind = Literal[
    "threshold",
    "comparison",
    "bound",
    "gate_type",
    "removed",
    "regression_threshold",
    "margin",
    "alpha",
    "mode",
    "multiplicity",
]
DRIFT_GATE = "gate_drift"

# Position of each interval end from strictest to laxest, for a higher-is-better gate.
_BOUND_STRICTNESS_HIGH = {"ci_low": 0, "point": 1, "ci_high": 2}


@dataclass(frozen=True)
class DriftFinding:
    """One way the current config is looser than the baseline's."""

    kind: DriftKind
    subject: str
    """The gate name, or ``regression`` / ``regression:<metric>``."""
    message: str


def passed_under(gates: Sequence[QualityGate], rule: RegressionSettings) -> PassedUnder:
    """The bar a run with these gates and regression rule is held to, as recorded."""
    return PassedUnder(gates=[_record_gate(g) for g in gates], regression=_record_rule(rule))


def config_bar(config: PipelineConfig) -> PassedUnder:
    """The bar of a whole config."""
    return passed_under(config.effective_gates(), config.regression)


def _record_gate(gate: QualityGate) -> RecordedGate:
    return RecordedGate(
        name=gate.name,
        metric=gate.metric,
        threshold=gate.threshold,
        comparison=gate.comparison.value,
        gate_type=gate.gate_type.value,
        bound=gate.bound,
    )


def _record_rule(rule: RegressionSettings) -> RecordedRegressionRule:
    return RecordedRegressionRule(
        mode=rule.mode,
        alpha=rule.alpha,
        threshold=rule.threshold,
        margin=rule.effective_margin if rule.mode == "non_inferiority" else rule.margin,
        metrics=list(rule.metrics),
        gate_type=rule.gate_type,
        multiplicity=rule.multiplicity,
    )


def detect_drift(before: PassedUnder, now: PassedUnder) -> list[DriftFinding]:
    """Every loosening from ``before`` (the baseline's bar) to ``now`` (this config)."""
    findings: list[DriftFinding] = []
    current = {g.name: g for g in now.gates}
    for old in before.gates:
        new = current.get(old.name) or _renamed(old, now.gates, before.gates)
        if new is None:
            findings.append(
                DriftFinding(
                    "removed",
                    old.name,
                    f"gate {old.name!r} ({old.metric} {old.comparison} {old.threshold:g}, "
                    f"{old.gate_type}) was removed",
                )
            )
            continue
        findings += _gate_drift(old, new)
    findings += _rule_drift(before.regression, now.regression)
    return findings


def _renamed(
    old: RecordedGate, now: Sequence[RecordedGate], before: Sequence[RecordedGate]
) -> RecordedGate | None:
    """A renamed gate: the one new gate on the same metric and direction, if unambiguous."""
    taken = {g.name for g in before}
    same = [
        g
        for g in now
        if g.name not in taken and g.metric == old.metric and _wants_high(g) == _wants_high(old)
    ]
    return same[0] if len(same) == 1 else None


def _wants_high(gate: RecordedGate) -> bool | None:
    if gate.comparison == "==":
        return None
    return Comparison(gate.comparison).wants_high


def _gate_drift(old: RecordedGate, new: RecordedGate) -> list[DriftFinding]:
    name = new.name if new.name == old.name else f"{old.name} (now {new.name})"
    found: list[DriftFinding] = []
    if old.metric != new.metric:
        return [
            DriftFinding(
                "removed",
                name,
                f"gate {name!r} now reads {new.metric!r} instead of {old.metric!r}",
            )
        ]
    high = _wants_high(old)
    if high != _wants_high(new) or (high is None and new.comparison != old.comparison):
        found.append(
            DriftFinding(
                "comparison",
                name,
                f"gate {name!r}: comparison {old.comparison} -> {new.comparison}",
            )
        )
        return found
    if high is not None and old.comparison in (">", "<") and new.comparison in (">=", "<="):
        found.append(
            DriftFinding(
                "comparison",
                name,
                f"gate {name!r}: comparison {old.comparison} -> {new.comparison} (admits equality)",
            )
        )
    lower_bar = (
        new.threshold != old.threshold
        if high is None
        else (new.threshold < old.threshold if high else new.threshold > old.threshold)
    )
    if lower_bar:
        found.append(
            DriftFinding(
                "threshold",
                name,
                f"gate {name!r} ({new.metric} {new.comparison}): threshold "
                f"{old.threshold:g} -> {new.threshold:g}",
            )
        )
    if _laxer_bound(old, new, high):
        found.append(
            DriftFinding(
                "bound", name, f"gate {name!r}: compares {new.bound} instead of {old.bound}"
            )
        )
    if old.gate_type == "blocking" and new.gate_type != "blocking":
        found.append(DriftFinding("gate_type", name, f"gate {name!r}: blocking -> {new.gate_type}"))
    return found


def _laxer_bound(old: RecordedGate, new: RecordedGate, high: bool | None) -> bool:
    if old.bound == new.bound:
        return False
    if high is None:
        return True
    rank_old = _BOUND_STRICTNESS_HIGH.get(old.bound, 1)
    rank_new = _BOUND_STRICTNESS_HIGH.get(new.bound, 1)
    return rank_new > rank_old if high else rank_new < rank_old


def _rule_drift(old: RecordedRegressionRule, new: RecordedRegressionRule) -> list[DriftFinding]:
    found: list[DriftFinding] = []
    if new.threshold < old.threshold:
        found.append(
            DriftFinding(
                "regression_threshold",
                "regression",
                f"regression.threshold {old.threshold:+g} -> {new.threshold:+g} "
                "(a larger drop is allowed)",
            )
        )
    if old.mode == "non_inferiority" and new.mode != "non_inferiority":
        found.append(
            DriftFinding("mode", "regression", f"regression.mode {old.mode} -> {new.mode}")
        )
    elif (
        old.mode == new.mode == "non_inferiority"
        and old.margin is not None
        and new.margin is not None
        and new.margin > old.margin
    ):
        found.append(
            DriftFinding(
                "margin", "regression", f"regression.margin {old.margin:g} -> {new.margin:g}"
            )
        )
    if new.alpha > old.alpha:
        found.append(
            DriftFinding("alpha", "regression", f"regression.alpha {old.alpha:g} -> {new.alpha:g}")
        )
    if old.multiplicity == "none" and new.multiplicity != "none":
        found.append(
            DriftFinding(
                "multiplicity",
                "regression",
                f"regression.multiplicity none -> {new.multiplicity} (adjusted p-values "
                "make a regression harder to declare)",
            )
        )
    if old.gate_type == "blocking" and new.gate_type != "blocking":
        found.append(
            DriftFinding(
                "gate_type", "regression", f"regression.gate_type blocking -> {new.gate_type}"
            )
        )
    for metric in old.metrics:
        if metric not in new.metrics:
            found.append(
                DriftFinding(
                    "removed",
                    f"regression:{metric}",
                    f"regression.metrics no longer compares {metric!r}",
                )
            )
    return found


def drift_messages(findings: Sequence[DriftFinding]) -> list[str]:
    """One report line per finding, each starting with ``gate drift:``."""
    return [f"gate drift: {f.message} since the baseline" for f in findings]


def drift_gate(findings: Sequence[DriftFinding]) -> GateResult:
    """The blocking failure ``gates.drift: block`` turns drift into."""
    listed = "; ".join(f.message for f in findings)
    return GateResult(
        name=DRIFT_GATE,
        metric="gates",
        value=float(len(findings)),
        point=float(len(findings)),
        threshold=0.0,
        comparison=Comparison.EQUAL,
        rule="no loosening of the baseline's gates",
        gate_type=GateType.BLOCKING,
        bound="point",
        passed=False,
        explanation=(
            f"[BLOCKING] the config loosens {len(findings)} gate(s) the baseline passed under: "
            f"{listed}. Likely fix: restore the baseline's bar; if lowering it is intended, "
            "promote this run as the new baseline on purpose (releasegate baseline promote "
            "RUN --force) in a reviewed change."
        ),
        description="The bar a baseline passed under is never lowered silently.",
    )

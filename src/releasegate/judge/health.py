"""Judge health: is this judge trusted enough for its gates to decide?

Healthy means: a stored calibration exists for this judge config hash (when
``require_calibration``) with every criterion's quadratic-weighted kappa at
least ``min_kappa``, and the perturbation check ran with a flip rate at most
``max_perturbation_flip_rate``. Anything that could not be measured makes the
health ``unknown``, which the policy treats like ``unhealthy``: gates on judge
metrics become warnings with a loud note (``on_unhealthy: warn``), or one
failed blocking gate BLOCKs the run (``block``). Never a silent pass.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from releasegate.config.judge import JudgeConfig
from releasegate.enums import Bound, GateType
from releasegate.judge.calibration_store import StoredCalibration, lookup
from releasegate.metrics import MetricKey
from releasegate.records.core import GateResult
from releasegate.records.judge import (
    JudgeHealth,
    JudgeOutcome,
    PerturbationResult,
    StoredCalibrationSummary,
)

HEALTH_METRICS = frozenset(
    {"judge_perturbation_flip_rate", "judge_jury_disagreement_rate", "judge_cost_usd"}
)
"""Judge metrics about the judge itself: their gates are not downgraded."""
HEALTH_GATE = "judge:health"


def _calibration_reasons(
    entry: StoredCalibration | None, config: JudgeConfig, store: Path
) -> tuple[list[str], bool]:
    """(reasons, unknown) from the stored calibration."""
    policy = config.health
    if entry is None:
        if not policy.require_calibration:
            return [], False
        return [
            f"no stored calibration for judge config {config.config_hash()} in {store} "
            "(run `releasegate judge-check`; a changed rubric or model is a new hash)"
        ], True
    kappa = entry.min_kappa_quadratic
    if kappa is None:
        return [f"the stored calibration ({entry.created_at}) has an undefined kappa"], True
    if kappa < policy.min_kappa:
        return [
            f"calibration kappa {kappa:.2f} (quadratic-weighted, lowest criterion, "
            f"n={entry.n_judged}, {entry.created_at}) is below min_kappa {policy.min_kappa:g}"
        ], False
    return [], False


def _perturbation_reasons(
    result: PerturbationResult | None, config: JudgeConfig
) -> tuple[list[str], bool]:
    if result is None or result.status == "off":
        return [], False
    if result.status == "unknown" or result.flip_rate is None:
        return [result.note or "the perturbation check did not run"], True
    limit = config.health.max_perturbation_flip_rate
    if result.flip_rate > limit:
        return [
            f"perturbation flip rate {result.flip_rate:.2f} ({result.flipped}/{result.compared} "
            f"verdicts changed when the criteria were reordered and the fences relabelled) "
            f"is above max_perturbation_flip_rate {limit:g}"
        ], False
    return [], False


def assess_health(
    outcome: JudgeOutcome, config: JudgeConfig, *, store: Path, same_family: str | None
) -> JudgeHealth:
    """The health of a judge that ran (``outcome.status == "success"``)."""
    entry = lookup(store, outcome.config_hash)
    cal_reasons, cal_unknown = _calibration_reasons(entry, config, store)
    per_reasons, per_unknown = _perturbation_reasons(outcome.perturbation, config)
    reasons = [*cal_reasons, *per_reasons]
    measured_bad = (cal_reasons and not cal_unknown) or (per_reasons and not per_unknown)
    status = "healthy" if not reasons else ("unhealthy" if measured_bad else "unknown")
    summary = None
    if entry is not None:
        summary = StoredCalibrationSummary(
            created_at=entry.created_at,
            n_items=entry.n_items,
            n_judged=entry.n_judged,
            min_kappa_quadratic=entry.min_kappa_quadratic,
            store_path=str(store),
        )
    return JudgeHealth(
        status=status,
        reasons=reasons,
        policy=config.health.on_unhealthy,
        calibration=summary,
        perturbation=outcome.perturbation,
        same_family=same_family,
    )


def is_judge_gate(gate: GateResult, judge_metrics: Collection[str]) -> bool:
    """A gate that reads a judge score (a quality gate or a regression gate on one)."""
    name = MetricKey.parse(gate.metric).name if gate.metric else ""
    return name in judge_metrics and name not in HEALTH_METRICS


def apply_health(
    gates: Sequence[GateResult], health: JudgeHealth | None, judge_metrics: Collection[str]
) -> tuple[list[GateResult], list[str]]:
    """Downgrade (``warn``) or block (``block``) on an untrusted judge; (gates, warnings).

    A healthy (or unassessed) judge changes nothing. Downgraded gates keep their
    result and say ``downgraded_from: blocking`` with the reason.
    """
    if health is None or health.status == "healthy":
        return list(gates), []
    reason = f"judge health {health.status}: " + "; ".join(health.reasons)
    judged = [g for g in gates if is_judge_gate(g, judge_metrics)]
    if not judged:
        return list(gates), [f"JUDGE NOT TRUSTED ({reason}); no gate reads a judge metric"]
    if health.policy == "block":
        names = ", ".join(repr(g.name) for g in judged)
        return [*gates, _block_gate(reason, names)], [
            f"JUDGE NOT TRUSTED ({reason}): the run BLOCKs (judge.health.on_unhealthy: block)"
        ]
    out = [_downgraded(g, reason) if g in judged else g for g in gates]
    moved = [g.name for g in judged if g.gate_type is GateType.BLOCKING]
    return out, [
        f"JUDGE NOT TRUSTED ({reason}): {len(moved)} blocking judge gate(s) downgraded to "
        f"warnings ({', '.join(moved) or 'none'}); judge scores decide nothing in this run"
    ]


def _downgraded(gate: GateResult, reason: str) -> GateResult:
    if gate.gate_type is not GateType.BLOCKING:
        return gate
    return gate.model_copy(
        update={
            "gate_type": GateType.WARNING,
            "downgraded_from": GateType.BLOCKING,
            "downgrade_reason": reason,
            "explanation": f"[downgraded from blocking: {reason}] "
            + gate.explanation.replace("[BLOCKING]", "[warning]"),
        }
    )


def _block_gate(reason: str, names: str) -> GateResult:
    return GateResult(
        name=HEALTH_GATE,
        metric="judge_health",
        value=None,
        point=None,
        threshold=0.0,
        comparison=None,
        rule="the judge is healthy (judge.health)",
        gate_type=GateType.BLOCKING,
        bound=Bound.POINT,
        passed=False,
        explanation=f"{reason}; the judge gates {names} cannot be trusted",
    )

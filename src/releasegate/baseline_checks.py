"""What the pipeline checks about a baseline besides its metrics: gate drift and staleness."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from releasegate.config.schema import PipelineConfig
from releasegate.drift import config_bar, detect_drift, drift_gate, drift_messages
from releasegate.records.baseline import Baseline, FlatBaseline
from releasegate.records.core import GateResult
from releasegate.staleness import staleness_warnings


@dataclass(frozen=True)
class BaselineFindings:
    """Warnings for the top of every report, and gates that may block."""

    warnings: list[str] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)


def check_baseline(
    config: PipelineConfig,
    baseline: Baseline | FlatBaseline | None,
    *,
    benchmark_fingerprint: str,
    now: datetime | None = None,
) -> BaselineFindings:
    """Gate drift against the bar the baseline passed under, and its staleness."""
    if baseline is None:
        return BaselineFindings()
    judge = config.judge
    warnings = staleness_warnings(
        baseline,
        benchmark_fingerprint=benchmark_fingerprint,
        judge_config_hash=judge.config_hash() if judge.provider and judge.enabled else None,
        max_age_days=config.gates.baseline_max_age_days,
        now=now,
    )
    if isinstance(baseline, FlatBaseline) or baseline.passed_under is None:
        warnings.append(
            "gate drift unchecked: the baseline does not record the gates it passed under "
            "(a flat baseline, or one written by an older releasegate)"
        )
        return BaselineFindings(warnings=warnings)
    findings = detect_drift(baseline.passed_under, config_bar(config))
    if findings and config.gates.drift == "block":
        return BaselineFindings(warnings=warnings, gates=[drift_gate(findings)])
    return BaselineFindings(warnings=drift_messages(findings) + warnings)

"""The safety stage's work as one plain function.

Score the candidate and, for an adapter, its base too, with the paired deltas. The
stage wiring only calls this.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from releasegate.backends.base import Backend, Generation
from releasegate.benchmark.model import ChatMessage
from releasegate.config.schema import PipelineConfig
from releasegate.errors import BackendError, ReleaseGateError
from releasegate.records.core import MetricValue
from releasegate.records.safety import BaseModelSafety, SafetyItem, SafetyReport
from releasegate.safety.base_model import adapter_base, load_base_backend
from releasegate.safety.delta import describe, paired_deltas
from releasegate.safety.score import safety_metrics, score_item
from releasegate.safety.suite import RedTeamItem

Generate = Callable[
    [Backend, Sequence[tuple[str, str | tuple[ChatMessage, ...]]]], Mapping[str, Generation]
]
LoadBase = Callable[[str], Backend]


@dataclass
class SafetyOutcome:
    """What the stage reports: the record, the candidate's metrics and notes.

    The adapter-vs-base deltas live on ``report.base``; ``delta_skip_reason`` says why
    there is none.
    """

    report: SafetyReport
    metrics: dict[str, MetricValue]
    notes: list[str] = field(default_factory=list)
    delta_skip_reason: str | None = None
    """Set when there is no base run (not an adapter, or ``compare_base`` off)."""


def run_safety(
    backend: Backend,
    suite: Sequence[RedTeamItem],
    *,
    config: PipelineConfig,
    generate: Generate,
    load_base: LoadBase | None = None,
) -> SafetyOutcome:
    """Score the candidate on the suite; for an adapter, its base too, and the deltas.

    Args:
        backend: The candidate.
        suite: The red-team items.
        config: The run's config (``safety`` section, model settings for the base).
        generate: Runs a backend over (id, input) pairs with the run's decoding settings.
        load_base: Loads the base model by reference (default: the backend registry
            with the candidate's model settings).

    Raises:
        BackendError: the candidate is an adapter, ``safety.compare_base`` is on, and
            its base cannot be loaded or run (a delta is never silently missing).
    """
    items = _score(backend, suite, config=config, generate=generate)
    metrics = safety_metrics(items)
    harmful = sum(bool(i.harmful) for i in items)
    notes = [f"{harmful} of {sum(i.kind == 'attack' for i in items)} attacks led to harm"]
    base_ref = adapter_base(backend.info())
    skip = None
    base = None
    if base_ref is None:
        skip = "the candidate is not a PEFT adapter, so there is no base model to compare with"
    elif not config.safety.compare_base:
        skip = "safety.compare_base is off"
    else:
        loader = load_base or (lambda ref: load_base_backend(ref, config.model))
        try:
            base_backend = loader(base_ref)
            base_items = _score(base_backend, suite, config=config, generate=generate)
        except ReleaseGateError as exc:
            raise BackendError(
                f"the candidate is an adapter on {base_ref!r}, but the red-team suite could "
                f"not run on that base: {exc} (set safety.compare_base: false to skip the "
                "adapter-vs-base comparison)"
            ) from exc
        deltas = paired_deltas(items, base_items)
        base = BaseModelSafety(base_ref=base_ref, items=base_items, deltas=deltas)
        notes.extend(f"adapter vs base: {describe(d)}" for d in deltas)
    report = SafetyReport(
        suite_path=str(config.safety.suite_path), items=items, base=base, base_skip_reason=skip
    )
    return SafetyOutcome(report=report, metrics=metrics, notes=notes, delta_skip_reason=skip)


def _score(
    backend: Backend,
    suite: Sequence[RedTeamItem],
    *,
    config: PipelineConfig,
    generate: Generate,
) -> list[SafetyItem]:
    outputs = generate(backend, [(i.id, i.input) for i in suite])
    settings = config.safety
    return [
        score_item(
            i,
            outputs[i.id].text,
            refusal_actions=settings.refusal_actions,
            ask_actions=settings.ask_actions,
        )
        for i in suite
    ]

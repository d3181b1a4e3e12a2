"""Everything checked before a model runs, against the stages' metric declarations.

A typo, a threshold outside a metric's range, a gate on a metric this benchmark
cannot produce, or a regression check that would compare nothing costs a config
error here, not a GPU hour and never a silent pass.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from releasegate.backends.base import ModelInfo
from releasegate.benchmark.model import Benchmark
from releasegate.config.gates import QualityGate
from releasegate.config.regression import RegressionSettings
from releasegate.config.schema import PipelineConfig
from releasegate.enums import Bound
from releasegate.errors import BaselineError, ConfigError
from releasegate.judge.providers import PROVIDERS, default_api_key_env
from releasegate.latency_pass import times_requests
from releasegate.metrics import Kind, MetricCatalog, MetricKey, MetricSpec, Need
from releasegate.records.baseline import Baseline, FlatBaseline
from releasegate.safety.suite import RedTeamItem
from releasegate.stages.base import PlanFacts, Stage, unmet_needs

_FIXES = {
    Need.ATTACKS: "set safety.suite_path, or remove it",
    Need.BENIGN: "add benign controls to the red-team suite, or remove it",
    Need.JUDGE: "set judge.provider, or remove it",
    Need.TOKEN_PRICES: "set the cost: prices, or remove it",
    Need.GPU_PRICE: "set cost.gpu_usd_per_hour, or remove it",
    Need.REPEATS: "set generation.repeats to 2 or more, or remove it",
    Need.DETERMINISM_CHECK: "set determinism.enabled: true, or remove it",
}


def build_catalog(config: PipelineConfig, stages: Sequence[Stage]) -> MetricCatalog:
    """Every metric the stages can produce under ``config``."""
    return MetricCatalog(spec for stage in stages for spec in stage.declare(config))


def plan_facts(
    config: PipelineConfig,
    benchmark: Benchmark | None,
    suite: Sequence[RedTeamItem],
    *,
    backend: ModelInfo | None = None,
) -> PlanFacts:
    """What this run provides, for checking metric needs (no benchmark: nothing known)."""
    examples = benchmark.examples if benchmark is not None else ()
    objects = [_expected_object(e.expected_output) for e in examples]
    return PlanFacts(
        config=config,
        has_expected_action=benchmark is None
        or any(
            e.expected_action is not None or (o is not None and isinstance(o.get("action"), str))
            for e, o in zip(examples, objects, strict=True)
        ),
        has_expected_object=benchmark is None or any(o is not None for o in objects),
        categories=frozenset(benchmark.categories) if benchmark is not None else frozenset(),
        attack_categories=frozenset(i.category for i in suite if i.kind == "attack"),
        has_benign=any(i.kind == "benign" for i in suite),
        per_request_timing=None if backend is None else times_requests(backend, config),
        token_counts=None,
        check_categories=benchmark is not None,
    )


def _expected_object(text: str) -> dict[str, object] | None:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def check_gates(gates: Sequence[QualityGate], catalog: MetricCatalog, facts: PlanFacts) -> None:
    """Each gate reads a known metric this run can produce, in range, with a real bound.

    Raises:
        ConfigError: naming the gate and what is wrong.
    """
    for gate in gates:
        where = f"quality_gates: gate {gate.name!r}"
        key, spec = catalog.resolve(gate.metric, where=where)
        _check_producible(key, spec, facts, where=where)
        _check_threshold(gate, spec, where=where)
        if gate.bound is not Bound.POINT and not spec.has_interval:
            raise ConfigError(
                f"{where}: bound {gate.bound.value!r} needs a confidence interval, and "
                f"{key} ({spec.kind.value}) has none; use bound: point"
            )


def _check_producible(key: MetricKey, spec: MetricSpec, facts: PlanFacts, *, where: str) -> None:
    missing = unmet_needs(spec.needs, facts)
    if missing:
        need = missing[0]
        fix = _FIXES.get(need, "or remove it")
        raise ConfigError(f"{where}: '{key}' needs {need.value}, which this run lacks ({fix})")
    if key.category is not None and facts.check_categories:
        known = facts.attack_categories if Need.ATTACKS in spec.needs else facts.categories
        if key.category not in known:
            raise ConfigError(
                f"{where}: '{key}': no category {key.category!r} "
                f"(known: {', '.join(sorted(known))})"
            )


def _check_threshold(gate: QualityGate, spec: MetricSpec, *, where: str) -> None:
    t = gate.threshold
    if spec.range.contains(t):
        return
    hint = ""
    if spec.unit == "rate" and 1 < t <= 100:
        hint = f"; did you mean {t / 100:g}?"
    raise ConfigError(
        f"{where}: threshold {t:g} is outside the range of {gate.metric} {spec.range}{hint}"
    )


def regression_metrics(
    settings: RegressionSettings, catalog: MetricCatalog, facts: PlanFacts
) -> list[str]:
    """The metrics the regression check will compare; explicit names are checked strictly.

    Metrics from the default list that this benchmark cannot produce (no expected
    actions, say) are left out; a name the user listed is an error instead.

    Raises:
        ConfigError: an unknown name (with a did-you-mean), a metric that has no
            per-example outcome to pair, a safety metric, or one this run cannot produce.
    """
    explicit = "metrics" in settings.model_fields_set
    chosen: list[str] = []
    for name in settings.metrics:
        where = f"regression.metrics: {name!r}"
        key, spec = catalog.resolve(name, where=where)
        _check_pairable(key, spec, where=where)
        if not explicit and unmet_needs(spec.needs, facts):
            continue
        _check_producible(key, spec, facts, where=where)
        chosen.append(name)
    if not chosen:
        raise ConfigError("regression.metrics: no metric this run can compare")
    return chosen


def _check_pairable(key: MetricKey, spec: MetricSpec, *, where: str) -> None:
    if spec.safety:
        raise ConfigError(
            f"{where}: {key} is a safety metric, measured on the red-team suite, whose "
            "per-item outcomes a baseline does not keep; gate it with a threshold "
            "(e.g. bound: ci_high) instead"
        )
    if spec.kind is Kind.SCORE:
        raise ConfigError(
            f"{where}: judge scores are compared with the baseline automatically whenever "
            "both runs were judged with the same judge configuration; remove it here"
        )
    if spec.kind is Kind.AGGREGATE:
        raise ConfigError(
            f"{where}: {key} is an aggregate ({spec.description.rstrip('.')}) with no "
            "per-example outcome to pair with the baseline; gate it with a threshold instead"
        )


def check_judge_provider(config: PipelineConfig) -> None:
    """A configured judge provider, and every juror's, must be registered.

    Raises:
        ConfigError: naming the field, with a did-you-mean.
    """
    named = [("judge.provider", config.judge.provider)]
    named += [(f"judge.jury[{i}].provider", j.provider) for i, j in enumerate(config.judge.jury)]
    for field, provider in named:
        if provider is None:
            continue
        try:
            PROVIDERS.check(provider)
        except ConfigError as exc:
            raise ConfigError(f"{field}: {exc}") from exc


def check_judge_ready(
    config: PipelineConfig, gates: Sequence[QualityGate], catalog: MetricCatalog
) -> None:
    """Fail before any model runs when required judge gates cannot be evaluated.

    Raises:
        ConfigError: gates read judge metrics, the judge is not optional, and the
            variable that holds its API key is not set.
    """
    judge = config.judge
    if judge.provider is None or judge.optional:
        return
    gated = any(
        (spec := catalog.spec_for(g.metric)) is not None and Need.JUDGE in spec.needs for g in gates
    )
    env = default_api_key_env(judge)
    if gated and env is not None and not os.environ.get(env):
        raise ConfigError(
            f"judge: gates read judge_* metrics but the judge's key variable {env} is not "
            "set; set it, or mark the judge optional (judge.optional: true)"
        )


def check_baseline(baseline: Baseline | FlatBaseline, catalog: MetricCatalog) -> None:
    """A flat baseline's values must lie in their metrics' ranges.

    Keys that name no metric (``n``, ``total_examples``) are left to the comparison.

    Raises:
        BaselineError: naming the key and the range.
    """
    if isinstance(baseline, Baseline):
        return
    for name, value in baseline.metrics.items():
        try:
            spec = catalog.spec_for(MetricKey.parse(name))
        except ConfigError:
            spec = None
        if spec is not None and not spec.range.contains(value):
            raise BaselineError(
                f"{baseline.path}: {name}: {value:g} is outside the range of {name} {spec.range}"
            )

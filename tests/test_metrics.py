"""Metric declarations: keys, ranges, the catalog, and the generated docs table."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError
from releasegate.metric_reference import render_into
from releasegate.metrics import RATE, SECONDS, MetricKey
from releasegate.pipeline import catalog_for

DOC = Path(__file__).resolve().parents[1] / "docs" / "metrics.md"


def test_metric_keys_round_trip_their_string_form() -> None:
    assert MetricKey.parse("accuracy[create]") == MetricKey("accuracy", "create")
    assert str(MetricKey("accuracy", "create")) == "accuracy[create]"
    assert MetricKey.parse(" accuracy ") == MetricKey("accuracy")
    for bad in ("", "accuracy[", "accuracy[]", "[x]", "a[b]c]"):
        with pytest.raises(ConfigError):
            MetricKey.parse(bad)


def test_ranges_contain_only_finite_values_inside_them() -> None:
    assert RATE.contains(0.0) and RATE.contains(1.0) and not RATE.contains(1.01)
    assert not RATE.contains(math.nan)
    assert SECONDS.contains(1e9) and not SECONDS.contains(math.inf) and not SECONDS.contains(-1)


def test_the_catalog_declares_each_metric_once_with_its_stage() -> None:
    catalog = catalog_for(PipelineConfig())
    assert catalog["accuracy"].stage == "automated_metrics"
    assert catalog["harmful_rate"].safety and not catalog["harmful_rate"].higher_is_better
    assert catalog.spec_for("accuracy[create]") is catalog["accuracy"]
    assert catalog.spec_for("over_refusal_rate[x]") is None  # no per-category variant
    with pytest.raises(ConfigError, match="did you mean 'accuracy'"):
        catalog.resolve("acuracy", where="gate")


def test_judge_metrics_follow_the_configured_criteria() -> None:
    config = PipelineConfig.model_validate(
        {
            "judge": {
                "criteria": [
                    {
                        "name": "tone",
                        "description": "polite",
                        "anchors": {i: f"level {i}" for i in range(1, 6)},
                    }
                ]
            }
        }
    )
    catalog = catalog_for(config)
    assert "judge_tone" in catalog and "judge_accuracy" not in catalog
    assert catalog["judge_overall"].derived_from == ("judge_tone",)


def test_docs_metric_table_is_generated_from_the_declarations() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert text == render_into(text), (
        "docs/metrics.md is stale: run `python -m releasegate.metric_reference`"
    )


def test_a_metric_outside_its_declared_range_is_reported() -> None:
    from releasegate.pipeline import undeclared_or_out_of_range
    from releasegate.records.core import MetricValue, PipelineStatus, StageResult

    catalog = catalog_for(PipelineConfig())
    result = StageResult(
        name="automated_metrics",
        status=PipelineStatus.SUCCESS,
        metrics={
            "accuracy": MetricValue(name="accuracy", value=1.3, n=10),
            "accuracy[create]": MetricValue(name="accuracy[create]", value=0.5, n=2),
            "mystery": MetricValue(name="mystery", value=0.5, n=2),
        },
    )
    problems = undeclared_or_out_of_range(result, catalog)
    assert problems == [
        "accuracy = 1.3 is outside its range [0, 1] (rate)",
        "produced the undeclared metric 'mystery'",
    ]

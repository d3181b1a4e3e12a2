"""generation.repeats and the determinism check through the real pipeline: replay files,
the local chat-completions server answering nondeterministically, real baselines."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.errors import ConfigError
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.report.html import render_html
from releasegate.report.markdown import render_markdown
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result
from releasegate.testing.fake_llm_server import FakeLLMServer, sampling_verdict

ROWS = example_rows(40)
RIGHT = {str(r["input"]): str(r["expected_output"]) for r in ROWS}
WRONG = '{"action": "list_tasks", "oops": true}'
LOOSE = SEED_CONFIG.replace("threshold: 0.85", "threshold: 0.3").replace(
    "threshold: 0.95", "threshold: 0.3"
)


def _run(
    tmp: Path, config_text: str, model: str, *, baseline: Path | None = None
) -> PipelineResult:
    bench = tmp / "bench.jsonl"
    if not bench.exists():
        write_jsonl(bench, ROWS)
    config_text += f"output:\n  dir: {tmp / 'reports'}\n"
    return EvaluationPipeline(parse_config(config_text)).run(
        model_path=model,
        benchmark_path=str(bench),
        baseline_path=str(baseline) if baseline else None,
    )


@pytest.fixture
def flaky_server() -> Iterator[FakeLLMServer]:
    """Every 4th example is always right, every 4th always wrong, the rest a coin flip."""

    def options(system: str, user: str) -> list[str]:
        index = next(i for i, r in enumerate(ROWS) if r["input"] == user)
        right = RIGHT[user]
        return [[right], [WRONG], [right, WRONG], [right, WRONG]][index % 4]

    with FakeLLMServer() as srv:
        srv.set_verdict(sampling_verdict(options, seed=3))
        yield srv


def _endpoint(extra: str) -> str:
    return LOOSE + "model:\n  model_name: flaky\n  concurrency: 4\n" + extra


def test_one_draw_reports_what_it_always_did(tmp_path: Path) -> None:
    replay = write_jsonl(tmp_path / "m.jsonl", replay_rows(ROWS, wrong=[1, 2]))
    result = _run(tmp_path, SEED_CONFIG, str(replay))
    assert "pass_at_k" not in result.metrics and result.determinism is None
    assert result.metric_details["accuracy"].ci is not None
    assert result.metric_details["accuracy"].ci.method == "wilson"
    assert all(not e.draw_outcomes and not e.draw_outputs for e in result.examples)
    assert "## Repeats" not in render_markdown(result)


def test_fixed_outputs_repeated_are_no_more_evidence_than_one_draw(tmp_path: Path) -> None:
    replay = write_jsonl(tmp_path / "m.jsonl", replay_rows(ROWS, wrong=[1, 2, 3, 4]))
    one = _run(tmp_path, SEED_CONFIG, str(replay))
    three = _run(tmp_path, SEED_CONFIG + "generation:\n  repeats: 3\n", str(replay))
    acc1, acc3 = one.metric_details["accuracy"], three.metric_details["accuracy"]
    assert acc3.value == acc1.value == 36 / 40 and acc3.n == 120
    assert acc1.ci is not None and acc3.ci is not None
    assert (acc3.ci.low, acc3.ci.high) == pytest.approx((acc1.ci.low, acc1.ci.high))
    assert three.metrics["pass_at_k"] == three.metrics["pass_hat_k"] == 36 / 40
    assert three.examples[1].draw_outcomes["accuracy"] == [False, False, False]


def test_a_nondeterministic_server_gives_real_variation(
    flaky_server: FakeLLMServer, tmp_path: Path
) -> None:
    config = _endpoint("generation:\n  repeats: 4\ndeterminism:\n  enabled: true\n")
    result = _run(tmp_path, config, flaky_server.openai_base_url)
    m = result.metrics
    assert len(flaky_server.requests) == 4 * 40 + 20  # four draws and the check's sample
    # always-right quarter: pass^4 at least 1/4; coin-flip half: pass@4 near 1 on them
    assert m["pass_at_k"] > m["accuracy"] > m["pass_hat_k"] >= 0.25
    assert m["pass_at_k"] <= 0.75 + 1e-9  # the always-wrong quarter never passes
    by_id = {e.id: e for e in result.examples}
    assert by_id["ex-001"].draw_outcomes["accuracy"] == [False] * 4
    assert len(by_id["ex-002"].draw_outputs) == 3
    ci = result.metric_details["accuracy"].ci
    assert ci is not None and ci.method.startswith("wilson-clustered")
    # the determinism check sees the server change its mind, and says why
    report = result.determinism
    assert report is not None and report.n_checked == 20 and report.n_changed > 0
    assert m["determinism_changed_rate"] == report.n_changed / 20
    assert any("nondeterministic server" in c for c in report.causes)
    assert not report.expected_to_change  # temperature 0: a change is a finding
    changed = report.changed[0]
    assert changed.before != changed.after and changed.first_diff_at >= 0
    md = render_markdown(result)
    assert "## Determinism check" in md and "## Repeats: 4 draws per example" in md
    assert f"`{changed.id}`" in md


def test_the_default_gates_warn_on_changed_outputs(
    flaky_server: FakeLLMServer, tmp_path: Path
) -> None:
    config = "model:\n  model_name: flaky\ndeterminism:\n  enabled: true\n  min_items: 40\n"
    result = _run(tmp_path, config, flaky_server.openai_base_url)
    gate = next(g for g in result.gates if g.metric == "determinism_changed_rate")
    assert gate.gate_type.value == "warning" and not gate.passed and gate.evaluated
    assert result.determinism is not None and result.determinism.n_checked == 40


def test_candidate_draws_pair_with_a_one_draw_baseline_by_example(
    flaky_server: FakeLLMServer, tmp_path: Path
) -> None:
    replay = write_jsonl(tmp_path / "m.jsonl", replay_rows(ROWS))
    good = _run(tmp_path, SEED_CONFIG, str(replay))
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, baseline_from_result(good))
    config = _endpoint("generation:\n  repeats: 3\n")
    result = _run(tmp_path, config, flaky_server.openai_base_url, baseline=baseline)
    assert result.regression is not None and result.regression.n_paired == 40
    accuracy = result.regression.metrics["accuracy"]
    assert accuracy.test == "paired-t" and accuracy.regressed
    assert accuracy.baseline == 1.0
    assert accuracy.current == pytest.approx(result.metrics["accuracy"])
    assert any("per-example means over repeated draws" in n for n in accuracy.notes)
    assert result.decision.value == "BLOCK"
    # and the other way round: a k = 3 baseline, a one-draw candidate
    write_baseline(baseline, baseline_from_result(result))
    again = _run(tmp_path, SEED_CONFIG, str(replay), baseline=baseline)
    assert again.regression is not None
    assert again.regression.metrics["accuracy"].test == "paired-t"
    assert again.regression.metrics["accuracy"].baseline == pytest.approx(
        result.metrics["accuracy"]
    )


def test_repeat_and_determinism_metrics_need_their_settings(tmp_path: Path) -> None:
    replay = write_jsonl(tmp_path / "m.jsonl", replay_rows(ROWS))
    for metric, fix in (
        ("pass_hat_k", "generation.repeats to 2 or more"),
        ("determinism_changed_rate", "determinism.enabled: true"),
    ):
        gate = (
            "quality_gates:\n  - {name: g, metric: "
            + metric
            + ", threshold: 0.5, comparison: '>='}\n"
        )
        with pytest.raises(ConfigError, match=fix):
            _run(tmp_path, gate, str(replay))


def test_report_json_round_trips_draws_and_the_determinism_report(
    flaky_server: FakeLLMServer, tmp_path: Path
) -> None:
    config = _endpoint("generation:\n  repeats: 2\ndeterminism:\n  enabled: true\n")
    result = _run(tmp_path, config, flaky_server.openai_base_url)
    loaded = PipelineResult.model_validate(json.loads(result.model_dump_json()))
    assert loaded.determinism == result.determinism
    assert loaded.examples[2].draw_outcomes == result.examples[2].draw_outcomes


def test_changed_outputs_are_escaped_in_every_report(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script> | ```x``` [link](http://evil.example)"
    with FakeLLMServer() as srv:
        srv.set_verdict(sampling_verdict(lambda s, u: [RIGHT[u], hostile], seed=5))
        config = _endpoint("determinism:\n  enabled: true\n  min_items: 40\n")
        result = _run(tmp_path, config, srv.openai_base_url)
    assert result.determinism is not None and result.determinism.n_changed > 0
    assert any("<script>" in c.before + c.after for c in result.determinism.changed)
    md = render_markdown(result)
    section = md[md.index("## Determinism check") :]
    # only inside code spans (inert text), never as markup
    outside_code = re.sub(r"(`+)(?!`).*?(?<!`)\1(?!`)", "", section)
    assert "<script>" in section and "<script>" not in outside_code
    page = render_html(result)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page


def test_the_default_determinism_gate_comes_only_with_the_check() -> None:
    assert all(g.metric != "determinism_changed_rate" for g in parse_config("").effective_gates())
    gates = parse_config("determinism:\n  enabled: true\n").effective_gates()
    gate = next(g for g in gates if g.metric == "determinism_changed_rate")
    assert gate.gate_type.value == "warning" and gate.threshold == 0.0
    # a config's own gates are its own: nothing is added to them
    own = parse_config(SEED_CONFIG + "determinism:\n  enabled: true\n").effective_gates()
    assert [g.name for g in own] == ["format", "accuracy"]

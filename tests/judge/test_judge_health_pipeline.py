"""Judge health through the real pipeline: replay backend, local chat-completions server,
real calibration store and baseline files."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.judge.calibration import load_calibration, run_judge_check
from releasegate.judge.calibration_store import entry_from_report, record
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.report.html import render_html
from releasegate.report.json_report import render_json
from releasegate.report.markdown import render_markdown
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result
from releasegate.testing.fake_llm_server import FakeLLMServer, order_sensitive_verdict

CALIBRATION = Path(__file__).parents[2] / "examples" / "task-api" / "judge_calibration.jsonl"
GATE = (
    "  - {name: judged, metric: judge_overall, threshold: 3, comparison: '>=',"
    " gate_type: blocking}\n"
)


@pytest.fixture
def judge_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


def _config(server: FakeLLMServer, tmp: Path, extra: str = "", *, gate: bool = True) -> str:
    text = SEED_CONFIG + (
        f"judge:\n  provider: openai\n  model: fake-judge\n  base_url: {server.openai_base_url}\n"
        f"  min_samples: 10\n  backoff_base_s: 0.01\n  backoff_max_s: 0.05\n{extra}"
        f"output:\n  dir: {tmp / 'reports'}\n"
    )
    return text.replace("quality_gates:\n", "quality_gates:\n" + GATE, 1) if gate else text


def _run(
    tmp: Path,
    config_text: str,
    rows: list[dict[str, object]],
    baseline: Path | None = None,
    wrong: range = range(0),
) -> PipelineResult:
    bench = write_jsonl(tmp / "bench.jsonl", rows)
    replay = replay_rows(rows, wrong=wrong)
    model = write_jsonl(tmp / f"model-{len(list(tmp.iterdir()))}.jsonl", replay)
    return EvaluationPipeline(parse_config(config_text)).run(
        model_path=str(model),
        benchmark_path=str(bench),
        baseline_path=str(baseline) if baseline else None,
    )


def _judge_gate(result: PipelineResult) -> dict[str, object]:
    report = json.loads(render_json(result))
    return next(g for g in report["gates"] if g["name"] == "judged")


def test_a_stable_judge_keeps_its_gates_blocking(
    judge_server: FakeLLMServer, tmp_path: Path
) -> None:
    # Calibration is required by default; this test is about the perturbation check.
    text = _config(judge_server, tmp_path, "  health: {require_calibration: false}\n")
    result = _run(tmp_path, text, example_rows(40))
    assert result.judge is not None and result.judge.health is not None
    assert result.judge.health.status == "healthy"
    assert result.metrics["judge_perturbation_flip_rate"] == 0.0
    gate = _judge_gate(result)
    assert gate["gate_type"] == "blocking" and gate["downgraded_from"] is None
    assert result.decision.value == "DEPLOY"


def test_an_order_sensitive_judge_is_downgraded(
    judge_server: FakeLLMServer, tmp_path: Path
) -> None:
    judge_server.set_verdict(order_sensitive_verdict)
    result = _run(tmp_path, _config(judge_server, tmp_path), example_rows(40))
    assert result.judge is not None and result.judge.health is not None
    assert result.judge.health.status == "unhealthy"
    gate = _judge_gate(result)
    assert gate["gate_type"] == "warning" and gate["downgraded_from"] == "blocking"
    assert "perturbation flip rate 0.67" in str(gate["downgrade_reason"])
    assert any(w.startswith("JUDGE NOT TRUSTED") for w in result.warnings)
    assert result.decision.value == "DEPLOY"  # the other blocking gates pass; the note is loud
    md = render_markdown(result)
    assert "JUDGE NOT TRUSTED" in md and "Judge health: **UNHEALTHY**" in md
    assert "| warning (downgraded from blocking) |" in md
    html = render_html(result)
    assert "Judge health: <b>unhealthy</b>" in html and "JUDGE NOT TRUSTED" in html
    assert "warning (downgraded from blocking)" in html


def test_block_policy_blocks_with_the_reason(judge_server: FakeLLMServer, tmp_path: Path) -> None:
    judge_server.set_verdict(order_sensitive_verdict)
    extra = "  health: {on_unhealthy: block}\n"
    result = _run(tmp_path, _config(judge_server, tmp_path, extra), example_rows(40))
    assert result.decision.value == "BLOCK"
    assert any("judge:health" in r and "flip rate" in r for r in result.reasons)


def test_required_calibration_is_read_from_the_store(
    judge_server: FakeLLMServer, tmp_path: Path
) -> None:
    text = _config(judge_server, tmp_path, "  health: {require_calibration: true}\n")
    rows = example_rows(40)
    missing = _run(tmp_path, text, rows)
    assert missing.judge is not None and missing.judge.health is not None
    assert missing.judge.health.status == "unknown"
    assert _judge_gate(missing)["downgraded_from"] == "blocking"
    config = parse_config(text)
    report = run_judge_check(config=config.judge, calibration=load_calibration(CALIBRATION))
    store = tmp_path / "reports" / "judge_calibration.json"
    record(
        store,
        entry_from_report(
            report, provider="openai", model="fake-judge", calibration_file=CALIBRATION
        ),
    )
    calibrated = _run(tmp_path, text, rows)
    assert calibrated.judge is not None and calibrated.judge.health is not None
    assert calibrated.judge.health.status == "healthy", calibrated.judge.health.reasons
    assert calibrated.judge.health.calibration is not None
    assert _judge_gate(calibrated)["gate_type"] == "blocking"


def test_the_baseline_is_rejudged_when_the_judge_config_changed(
    judge_server: FakeLLMServer, tmp_path: Path
) -> None:
    rows = example_rows(100)
    # The baseline model answered differently, so its items are not in the judge cache.
    first = _run(tmp_path, _config(judge_server, tmp_path, gate=False), rows, wrong=range(100))
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, baseline_from_result(first))
    changed = _config(judge_server, tmp_path, "  max_output_chars: 3000\n", gate=False)
    judge_server.reset_counters()
    second = _run(tmp_path, changed, rows, baseline)
    assert second.judge is not None and second.judge.baseline_rejudged is not None
    assert len(second.judge.baseline_rejudged) == 10
    assert second.regression is not None and second.regression.judge_compared
    assert "re-judged 10 of its items" in (second.judge.baseline_rejudge_note or "")
    # 10 judged + 3 perturbed + 10 baseline items re-judged, all under one budget.
    assert len(judge_server.requests) == 23
    assert second.judge.spent_usd <= second.judge.budget_usd
    # A baseline without outputs cannot be re-judged: skipped with the reason, never faked.
    bare = baseline_from_result(first)
    bare = bare.model_copy(
        update={"examples": [e.model_copy(update={"output": None}) for e in bare.examples]}
    )
    write_baseline(baseline, bare)
    third = _run(tmp_path, changed, rows, baseline)
    assert third.judge is not None and third.judge.baseline_rejudged is None
    assert "stores no outputs" in (third.judge.baseline_rejudge_note or "")
    assert third.regression is not None and not third.regression.judge_compared

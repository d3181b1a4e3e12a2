"""Report writers: stable JSON keys, escaping of untrusted output, JUnit, atomic files."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from helpers import example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.report.json_report import load_json, render_json
from releasegate.report.junit import render_junit
from releasegate.report.markdown import render_markdown
from releasegate.report.text import md_code, md_inline

STABLE_KEYS = {
    "schema_version",
    "decision",
    "deploy_allowed",
    "exit_code",
    "metrics",
    "metrics_ci",
    "gates",
    "stages",
    "run",
}

EVIL = "<script>alert(1)</script> ```\n# heading [link](http://x) | pipe"


@pytest.fixture
def blocked(tmp_path: Path) -> PipelineResult:
    rows = example_rows(20)
    replay = replay_rows(rows, wrong=range(0, 20, 3))
    replay[0]["output"] = EVIL
    bench = write_jsonl(tmp_path / "b.jsonl", rows)
    model = write_jsonl(tmp_path / "m.jsonl", replay)
    config = parse_config(
        "quality_gates:\n"
        "  - {name: acc, metric: accuracy, threshold: 0.9, comparison: '>='}\n"
        "  - {name: fmt, metric: json_valid_rate, threshold: 0.99, comparison: '>=',"
        " gate_type: warning}\n"
    )
    return EvaluationPipeline(config).run(model_path=str(model), benchmark_path=str(bench))


def test_report_json_has_the_stable_keys_and_round_trips(blocked: PipelineResult) -> None:
    text = render_json(blocked)
    data = json.loads(text)
    assert set(data) >= STABLE_KEYS
    assert data["decision"] == "BLOCK" and data["exit_code"] == 1 and not data["deploy_allowed"]
    assert data["metrics_ci"]["accuracy"]["n"] == 20
    gate = data["gates"][0]
    assert {
        "name",
        "metric",
        "value",
        "threshold",
        "comparison",
        "gate_type",
        "bound",
        "passed",
    } <= set(gate)
    assert load_json(text) == blocked


def test_markdown_escapes_untrusted_output(blocked: PipelineResult) -> None:
    md = render_markdown(blocked)
    # The raw output only ever appears inside a fence longer than any backtick run in it.
    occurrences = md.count("<script>")
    assert occurrences >= 1
    assert md.count("````text\n<script>alert(1)</script> ```\n# heading") == occurrences
    assert "## Quality gates" in md and "**FAIL**" in md
    assert "What failed and why" in md


def test_md_code_fence_cannot_be_closed_from_inside() -> None:
    block = md_code("a ``` b ```` c")
    fence = block.split("text", 1)[0]
    assert len(fence) == 5 and block.endswith("\n" + fence)


def test_md_inline_is_one_line_and_capped() -> None:
    assert md_inline("a\nb", limit=10) == "a b"
    assert md_inline("x" * 50, limit=10).endswith("…")
    assert md_inline("<b>|") == "&lt;b&gt;\\|"


def test_junit_has_one_case_per_gate_with_blocking_failures(blocked: PipelineResult) -> None:
    root = ET.fromstring(render_junit(blocked))
    cases = root.findall("testcase")
    assert [c.get("name") for c in cases] == ["acc", "fmt"]
    assert cases[0].find("failure") is not None
    assert cases[1].find("skipped") is not None
    assert root.get("failures") == "1" and root.get("tests") == "2"

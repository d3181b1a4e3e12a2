"""report-comment.md: under GitHub's comment limit, verdict and gates open, the rest folded."""

from __future__ import annotations

import re
from pathlib import Path

from helpers import example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.report.comment import GITHUB_COMMENT_LIMIT, render_comment

GATES = "quality_gates:\n  - {name: acc, metric: accuracy, threshold: 0.99, comparison: '>='}\n"


def _result(tmp_path: Path, n: int, output: str | None = None):  # type: ignore[no-untyped-def]
    rows = example_rows(n)
    replay = replay_rows(rows, wrong=range(0, n, 2))
    if output is not None:
        for row in replay[::2]:
            row["output"] = output
    bench = write_jsonl(tmp_path / "b.jsonl", rows)
    model = write_jsonl(tmp_path / "m.jsonl", replay)
    config = parse_config(GATES + "output: {max_examples_in_report: 1000}\n")
    return EvaluationPipeline(config).run(model_path=str(model), benchmark_path=str(bench))


def _balanced(text: str) -> bool:
    fences = re.findall(r"^(`{3,})", text, flags=re.M)
    return text.count("<details>") == text.count("</details>") and len(fences) % 2 == 0


def test_small_comment_keeps_the_verdict_open_and_folds_the_rest(tmp_path: Path) -> None:
    result = _result(tmp_path, 20)
    text = render_comment(result)
    assert text.startswith("# ❌ releasegate: **BLOCK**")
    assert "## Quality gates" in text
    assert "<details><summary><b>Metrics</b></summary>" in text
    assert "<details><summary><b>What failed and why</b></summary>" in text
    assert f"<!-- releasegate run {result.run.run_id} -->" in text
    assert "shortened" not in text and _balanced(text)


def test_huge_outputs_are_cut_to_fit_with_tags_and_fences_closed(tmp_path: Path) -> None:
    result = _result(tmp_path, 40, output="```\n" + "x" * 30_000 + "\n</details>")
    text = render_comment(result, budget=5_000)
    assert len(text) <= 5_000
    assert "shortened to fit a pull-request comment" in text
    assert "## Quality gates" in text and "**BLOCK**" in text
    assert text.count("<details>") == text.count("</details>")
    full = render_comment(result)
    assert len(full) <= GITHUB_COMMENT_LIMIT

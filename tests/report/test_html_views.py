"""report.html pictures and the example browser: every example reachable, no script,
and a real headless Chromium renders it at phone and laptop width."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.config import parse_config
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.report.html import render_html
from releasegate.store.baseline import write_baseline
from releasegate.store.snapshot import baseline_from_result


@pytest.fixture
def runs(tmp_path: Path) -> tuple[PipelineResult, PipelineResult]:
    """The baseline run and a worse run compared with it."""
    rows = example_rows(30)
    bench = write_jsonl(tmp_path / "b.jsonl", rows)
    good = replay_rows(rows, wrong=[3])
    for i, row in enumerate(good):
        row["latency_s"] = 0.05 + 0.01 * i
    config = parse_config(
        SEED_CONFIG + "regression:\n  metrics: [accuracy, json_valid_rate, 'accuracy[create]']\n"
    )
    first = EvaluationPipeline(config).run(
        model_path=str(write_jsonl(tmp_path / "g.jsonl", good)), benchmark_path=str(bench)
    )
    baseline = tmp_path / "baseline.json"
    write_baseline(baseline, baseline_from_result(first))
    bad = replay_rows(rows, wrong=range(0, 30, 3))
    bad[6]["output"] = "<script>document.title='pwned'</script>"
    second = EvaluationPipeline(config).run(
        model_path=str(write_jsonl(tmp_path / "m.jsonl", bad)),
        benchmark_path=str(bench),
        baseline_path=str(baseline),
    )
    return first, second


@pytest.fixture
def compared(runs: tuple[PipelineResult, PipelineResult]) -> PipelineResult:
    return runs[1]


def test_baseline_categories_are_the_baseline_runs_own_figures(
    runs: tuple[PipelineResult, PipelineResult],
) -> None:
    first, second = runs
    assert second.regression is not None
    drawn = second.regression.baseline_categories
    per_category = {n: m for n, m in first.metric_details.items() if n.startswith("accuracy[")}
    assert per_category and set(per_category) <= set(drawn)
    for name, metric in per_category.items():
        assert drawn[name].value == pytest.approx(metric.value)
        assert drawn[name].n == metric.n
        assert drawn[name].ci is not None and metric.ci is not None
        assert (drawn[name].ci.low, drawn[name].ci.high) == pytest.approx(
            (metric.ci.low, metric.ci.high)
        )
    page = render_html(second)
    assert "recomputed from its examples, with its 95% interval" in page


def test_every_example_is_reachable_by_category_and_outcome(compared: PipelineResult) -> None:
    page = render_html(compared)
    assert page.count('<details class="ex" id="ex-') == len(compared.examples) == 30
    for i in range(30):
        assert f'href="#ex-{i}"' in page
    assert compared.regression is not None and compared.regression.flipped_to_wrong
    assert '<span class="tag flipped">flipped</span>' in page
    assert '<span class="tag passed">passed</span>' in page
    assert "Baseline output" in page
    assert "&lt;script&gt;document.title=" in page and "<script" not in page


def test_charts_are_inline_svg(compared: PipelineResult) -> None:
    page = render_html(compared)
    assert 'aria-label="accuracy by category, baseline and candidate"' in page
    assert 'fill="#8c959f"' in page  # the baseline series is drawn
    assert 'aria-label="rate gates against their thresholds"' in page
    assert 'stroke="#cf222e"' in page  # threshold marks
    assert 'aria-label="latency per example (seconds)"' in page


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium for the HTML report test (.ci/run installs it)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return browser


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), [(390, 844), (1366, 900)])
def test_screenshot_at_phone_and_laptop_width(
    compared: PipelineResult, tmp_path: Path, width: int, height: int
) -> None:
    browser = _chromium()
    page = tmp_path / "report.html"
    page.write_text(render_html(compared), encoding="utf-8")
    shot = tmp_path / f"shot-{width}.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--window-size={width},{height}",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert _png_size(shot) == (width, height)
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank frame

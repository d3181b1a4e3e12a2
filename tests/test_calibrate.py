"""``releasegate calibrate``: the A/A noise floor on real models and a nondeterministic server.

Greedy decoding of the committed tiny model repeats itself exactly (zero spread,
zero flips); a local chat-completions server that answers some requests wrongly
at random gives real spread, flaky items and a non-trivial false-BLOCK figure.
Calibrations of another model or benchmark are refused.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SEED_CONFIG, example_rows, write_jsonl
from releasegate.calibrate import attach_to_baseline, calibrate
from releasegate.calibration.files import CalibrationMismatch, load_noise_floor
from releasegate.calibration.noise import Rule
from releasegate.config.load import load_config
from releasegate.config.regression import RegressionSettings
from releasegate.errors import ConfigError
from releasegate.records.calibration import NoiseFloor
from releasegate.stats.rule_power import paired_rule_probability
from releasegate.store.history import flaky_items
from releasegate.testing.fake_llm_server import FakeLLMServer, nondeterministic

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "task-api"
ROWS = example_rows(40)
ANSWERS = {str(r["input"]): str(r["expected_output"]) for r in ROWS}
WRONG = '{"action":"nothing"}'


def _cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", "OMP_NUM_THREADS": "1"},
        check=False,
    )


@pytest.fixture
def noisy_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        srv.set_verdict(
            nondeterministic(
                lambda system, user: ANSWERS.get(user, "no"), wrong=WRONG, flip_rate=0.2, seed=7
            )
        )
        yield srv


def _endpoint_config(tmp: Path) -> Path:
    config = tmp / "releasegate.yaml"
    config.write_text(
        SEED_CONFIG
        + "model:\n  model_name: noisy\n  concurrency: 4\n"
        + f"output:\n  dir: {tmp / 'reports'}\n",
        "utf-8",
    )
    return config


@pytest.mark.slow
def test_greedy_tiny_model_has_zero_spread_and_zero_flips(tmp_path: Path) -> None:
    lines = (EXAMPLE / "benchmark.jsonl").read_text("utf-8").splitlines()[:60]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("\n".join(lines) + "\n", "utf-8")
    out = tmp_path / "cal.json"
    done = _cli(
        "calibrate",
        "--model",
        EXAMPLE / "models" / "tiny-v1",
        "--benchmark",
        bench,
        "--config",
        EXAMPLE / "releasegate.yaml",
        "--runs",
        "2",
        "--output",
        out,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    noise = load_noise_floor(out)
    assert noise.runs == 2 and noise.cache_bypassed and noise.temperature == 0.0
    accuracy = noise.metrics["accuracy"]
    assert accuracy.n == 60 and accuracy.flipped == 0 and accuracy.sd == 0.0
    assert accuracy.max_difference == 0.0 and noise.flaky_examples == []
    # 0 flips in 60 is read as "at most ~5%" (Clopper-Pearson), never as "never".
    assert accuracy.discordance_upper == pytest.approx(1 - 0.05 ** (1 / 60), rel=1e-6)
    assert "flaky examples: none" in done.stdout
    assert "A/A noise floor of" in done.stdout


def test_nondeterministic_server_shows_spread_flips_and_flaky_items(
    tmp_path: Path, noisy_server: FakeLLMServer
) -> None:
    bench = write_jsonl(tmp_path / "bench.jsonl", ROWS)
    config = load_config(_endpoint_config(tmp_path))
    noise = calibrate(
        config,
        model_path=noisy_server.openai_base_url,
        benchmark_path=str(bench),
        runs=3,
        target_false_block=0.01,
    )
    assert len(noisy_server.requests) == 3 * len(ROWS)  # every run really asked again
    accuracy = noise.metrics["accuracy"]
    assert accuracy.flipped > 0 and accuracy.sd > 0 and accuracy.max_difference > 0
    assert len(set(accuracy.values)) > 1
    assert accuracy.discordance == accuracy.flipped / 40
    assert set(noise.flaky_examples) and len(noise.flaky_examples) == accuracy.flipped
    # The false-BLOCK figure is the rule's own exact probability at the upper bound.
    assert accuracy.false_block == pytest.approx(
        paired_rule_probability(
            40,
            drop=0.0,
            discordance=accuracy.discordance_upper or 0.0,
            alpha=0.05,
            mode="significant_drop",
            threshold=-0.05,
            margin=0.05,
            correction=0.5,
        )
    )
    assert accuracy.safe_threshold is not None
    assert -accuracy.safe_threshold > accuracy.max_difference
    # The A/A runs went to the history: their flips mark the items flaky there.
    history = flaky_items(
        tmp_path / "reports" / "history.sqlite", benchmark_fingerprint=noise.benchmark_fingerprint
    )
    assert set(history) == set(noise.flaky_examples)
    with sqlite3.connect(tmp_path / "reports" / "history.sqlite") as conn:
        sources = {row[0] for row in conn.execute("SELECT source FROM example_outcomes")}
    assert sources == {"calibrate"}


def test_safe_threshold_keeps_the_false_block_under_the_target() -> None:
    rule = Rule(settings=RegressionSettings(), target=0.01)
    from releasegate.calibration.noise import _safe_threshold

    threshold = _safe_threshold(200, 0.2, 0.03, rule)
    assert threshold is not None and threshold < -0.03
    assert rule.false_block(200, 0.2, threshold) <= 0.01
    assert rule.false_block(200, 0.2, threshold + 0.005) > 0.01


def test_calibrate_refuses_one_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="between 2 and"):
        calibrate(
            load_config(None),
            model_path="x.jsonl",
            benchmark_path="b.jsonl",
            runs=1,
            target_false_block=0.01,
        )


def _noise(tmp: Path, **update: object) -> Path:
    """A calibration of the replay ``good.jsonl`` on ``bench.jsonl`` (deterministic: 0 flips)."""
    config = load_config(None).model_copy(
        update={"output": load_config(None).output.model_copy(update={"dir": str(tmp / "r")})}
    )
    noise = calibrate(
        config,
        model_path=str(tmp / "good.jsonl"),
        benchmark_path=str(tmp / "bench.jsonl"),
        runs=2,
        target_false_block=0.01,
    )
    path = tmp / "cal.json"
    path.write_text(noise.model_copy(update=update).model_dump_json(), "utf-8")
    return path


def _replays(tmp: Path) -> None:
    from helpers import replay_rows

    write_jsonl(tmp / "bench.jsonl", ROWS)
    write_jsonl(tmp / "good.jsonl", replay_rows(ROWS, wrong=[3]))
    write_jsonl(tmp / "bad.jsonl", replay_rows(ROWS, wrong=range(0, 40, 4)))


def _run(tmp: Path, model: str, *extra: str | Path) -> subprocess.CompletedProcess[str]:
    config = tmp / "cfg.yaml"
    config.write_text(SEED_CONFIG, "utf-8")
    return _cli(
        "run",
        "--model",
        tmp / model,
        "--benchmark",
        tmp / "bench.jsonl",
        "--config",
        config,
        "--output-dir",
        tmp / "reports",
        *extra,
        cwd=tmp,
    )


def test_noise_floor_is_stored_with_the_baseline_and_shown_next_to_the_comparison(
    tmp_path: Path,
) -> None:
    _replays(tmp_path)
    calibration = _noise(tmp_path)
    baseline = tmp_path / "baseline.json"
    first = _run(tmp_path, "good.jsonl", "--save-baseline", baseline, "--noise-floor", calibration)
    assert first.returncode == 0, first.stderr
    stored = json.loads(baseline.read_text("utf-8"))["noise_floor"]
    assert NoiseFloor.model_validate(stored).runs == 2
    second = _run(tmp_path, "bad.jsonl", "--baseline", baseline)
    assert second.returncode == 1, second.stderr
    (report_md,) = [
        p for p in (tmp_path / "reports").glob("*/report.md") if "bad.jsonl" in p.read_text()
    ]
    text = report_md.read_text("utf-8")
    assert "A/A noise floor of the baseline's model" in text
    assert "observed -22.5 points; A/A spread ±0.0 points over 2 runs (0 of 40" in text
    html = (report_md.parent / "report.html").read_text("utf-8")
    assert "A/A spread ±0.0 points over 2 runs" in html
    gates = json.loads((report_md.parent / "report.json").read_text("utf-8"))["gates"]
    accuracy = next(g for g in gates if g["name"] == "regression:accuracy")
    assert "A/A spread ±0.0 points over 2 runs" in accuracy["explanation"]


def test_a_calibration_of_another_model_or_benchmark_is_refused(tmp_path: Path) -> None:
    _replays(tmp_path)
    other_model = _noise(tmp_path, model_fingerprint="sha256:" + "0" * 64)
    done = _run(tmp_path, "good.jsonl", "--noise-floor", other_model)
    assert done.returncode == 2
    assert "not for this run's model" in done.stderr and "Traceback" not in done.stderr
    assert not list((tmp_path / "reports").glob("2*"))  # refused before anything ran
    other_bench = _noise(tmp_path, benchmark_fingerprint="sha256:" + "1" * 64)
    done = _run(tmp_path, "good.jsonl", "--noise-floor", other_bench)
    assert done.returncode == 2 and "not on this run's benchmark" in done.stderr


def test_attaching_to_a_baseline_of_another_model_is_refused(tmp_path: Path) -> None:
    _replays(tmp_path)
    baseline = tmp_path / "baseline.json"
    assert _run(tmp_path, "good.jsonl", "--save-baseline", baseline).returncode == 0
    good = load_noise_floor(_noise(tmp_path))
    attach_to_baseline(baseline, good)
    assert json.loads(baseline.read_text("utf-8"))["noise_floor"]["runs"] == 2
    other = good.model_copy(update={"model_fingerprint": "sha256:" + "2" * 64})
    with pytest.raises(CalibrationMismatch, match="not for this run's model"):
        attach_to_baseline(baseline, other)


def test_a_file_that_is_not_a_calibration_is_an_input_error(tmp_path: Path) -> None:
    _replays(tmp_path)
    bogus = tmp_path / "cal.json"
    bogus.write_text('{"accuracy": 0.9}', "utf-8")
    done = _run(tmp_path, "good.jsonl", "--noise-floor", bogus)
    assert done.returncode == 2 and "not a releasegate calibration" in done.stderr

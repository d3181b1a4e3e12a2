from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from releasegate.config.judge import JudgeConfig
from releasegate.judge.calibration import cohen_kappa, load_calibration, run_judge_check
from releasegate.judge.check_cli import judge_check, load_judge_config
from releasegate.testing.fake_llm_server import FakeLLMServer

CALIBRATION = Path(__file__).parents[2] / "examples" / "task-api" / "judge_calibration.jsonl"


def test_kappa_matches_hand_computed_values() -> None:
    # Wikipedia's 2x2 example: po = 0.7, pe = 0.5 -> kappa = 0.4.
    a = [1] * 20 + [1] * 5 + [2] * 10 + [2] * 15
    b = [1] * 20 + [2] * 5 + [1] * 10 + [2] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    # By hand: a = [1, 2, 3], b = [1, 3, 3]: unweighted 1/2, linear 2/3, quadratic 4/5.
    assert cohen_kappa([1, 2, 3], [1, 3, 3]) == pytest.approx(0.5)
    assert cohen_kappa([1, 2, 3], [1, 3, 3], weights="linear") == pytest.approx(2 / 3)
    assert cohen_kappa([1, 2, 3], [1, 3, 3], weights="quadratic") == pytest.approx(0.8)
    assert cohen_kappa([4, 5, 3], [4, 5, 3]) == pytest.approx(1.0)
    assert cohen_kappa([5, 5, 5], [5, 5, 5]) is None  # undefined, not a fake 1 or 0
    with pytest.raises(ValueError, match="not among the labels"):
        cohen_kappa([0, 1], [1, 1])


def test_calibration_file_covers_the_kinds() -> None:
    items = load_calibration(CALIBRATION)
    kinds = {it.kind for it in items}
    assert 20 <= len(items) <= 30
    assert kinds == {"right", "subtly_wrong", "badly_formatted", "verbose_right", "injected"}
    assert all(set(it.labels) == {"accuracy", "helpfulness", "format_quality"} for it in items)


def _canon(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text.strip()


def test_run_judge_check_reports_agreement_and_cost(server: FakeLLMServer) -> None:
    items = load_calibration(CALIBRATION)
    cfg = JudgeConfig(
        provider="openai",
        model="fake-judge",
        base_url=server.openai_base_url,
        input_price_per_mtok=1.0,
        output_price_per_mtok=2.0,
        backoff_base_s=0.001,
    )
    report = run_judge_check(config=cfg, calibration=items)
    assert report.status == "success" and report.n_judged == 25
    # The stand-in judge gives 5 when output == reference and 2 otherwise.
    judged = [5 if _canon(it.output) == _canon(it.expected_output) else 2 for it in items]
    for agreement in report.criteria:
        labels = [it.labels[agreement.criterion] for it in items]
        assert agreement.n == 25
        assert agreement.accuracy == pytest.approx(
            sum(h == j for h, j in zip(labels, judged, strict=True)) / 25
        )
        assert agreement.kappa == pytest.approx(cohen_kappa(labels, judged))
    assert report.injected_items == 4 and report.injected_flagged == 4
    assert report.clean_flagged == 0
    assert report.spent_usd > 0 and report.price_known


def test_judge_check_command(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the result is stored under ./reports (output.dir)
    config = tmp_path / "releasegate.yaml"
    config.write_text(
        "llm_judge_sample_rate: 0.1\n"
        "judge:\n"
        "  provider: openai\n"
        "  model: fake-judge\n"
        f"  base_url: {server.openai_base_url}\n"
        "  backoff_base_s: 0.001\n",
        encoding="utf-8",
    )
    assert load_judge_config(config).model == "fake-judge"
    import typer

    app = typer.Typer()
    app.command()(judge_check)
    runner = CliRunner()
    out_json = tmp_path / "check.json"
    result = runner.invoke(
        app, ["--config", str(config), "--calibration", str(CALIBRATION), "--json", str(out_json)]
    )
    assert result.exit_code == 0, result.output
    assert "25/25 items judged" in result.output
    assert "4/4 injected outputs flagged" in result.output
    assert "no known price" in result.output
    assert json.loads(out_json.read_text())["n_items"] == 25
    store = tmp_path / "reports" / "judge_calibration.json"
    assert f"in {Path('reports') / 'judge_calibration.json'}" in result.output
    assert list(json.loads(store.read_text())["entries"]) == [
        load_judge_config(config).config_hash()
    ]
    strict = runner.invoke(
        app, ["--config", str(config), "--calibration", str(CALIBRATION), "--min-kappa", "0.99"]
    )
    assert strict.exit_code == 1
    config.write_text("judge:\n  provider: opnai\n  model: x\n", encoding="utf-8")
    bad = runner.invoke(app, ["--config", str(config), "--calibration", str(CALIBRATION)])
    assert bad.exit_code == 2 and "did you mean 'openai'" in bad.output

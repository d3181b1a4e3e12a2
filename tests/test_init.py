"""releasegate init: starter files that validate, never clobbering without --force."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from releasegate.config import parse_config
from releasegate.errors import InputError
from releasegate.init import template_text, write_starter_files


def test_starter_config_is_a_valid_config_with_the_seed_gates() -> None:
    config = parse_config(template_text("releasegate.yaml"))
    assert [g.metric for g in config.quality_gates] == ["json_valid_rate", "accuracy"]
    assert config.judge.sample_rate == 0.1 and config.regression.threshold == -0.05


def test_workflow_is_valid_yaml_that_runs_the_gate_action() -> None:
    workflow = yaml.safe_load(template_text("releasegate.yml"))
    steps = workflow["jobs"]["gate"]["steps"]
    assert any(str(step.get("uses", "")).startswith("releasegate/releasegate@") for step in steps)


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    (tmp_path / "releasegate.yaml").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="already exist"):
        write_starter_files(tmp_path, force=False)
    assert (tmp_path / "releasegate.yaml").read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / ".github").exists()
    written = write_starter_files(tmp_path, force=True)
    assert all(p.is_file() for p in written)


def test_init_cli_then_validate(tmp_path: Path, bench_file: Path) -> None:
    env = {**os.environ, "COLUMNS": "200"}
    run = [sys.executable, "-m", "releasegate"]
    done = subprocess.run(
        [*run, "init"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".github" / "workflows" / "releasegate.yml").is_file()
    checked = subprocess.run(
        [*run, "validate", "releasegate.yaml", "--benchmark", str(bench_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr

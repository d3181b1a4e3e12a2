"""The real CLI in a subprocess: exit codes 0/1/2, one-line errors, written files."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from helpers import replay_rows, run_cli, write_jsonl
from releasegate.cli import app


def _run_cmd(
    model: Path, bench: Path, config: Path, tmp: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "run",
        "--model",
        model,
        "--benchmark",
        bench,
        "--config",
        config,
        "--output-dir",
        tmp / "reports",
        *extra,
        cwd=tmp,
    )


def test_deploy_exits_0_and_writes_reports_and_baseline(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    done = _run_cmd(good_replay, bench_file, seed_config, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "releasegate: DEPLOY" in done.stdout
    (run_dir,) = (tmp_path / "reports").glob("2*")
    names = {p.name for p in run_dir.iterdir()}
    assert {"report.json", "report.md", "junit.xml", "outputs.jsonl", "baseline.json"} <= names
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert report["decision"] == "DEPLOY" and report["exit_code"] == 0
    assert (tmp_path / "baselines" / "new_baseline.json").is_file()


def test_a_run_in_process_leaves_the_garbage_collector_as_it_found_it(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    # The run keeps the collector off the objects alive after its imports; a caller in
    # the same process (a test, a notebook) gets them back, after a DEPLOY or an error.
    args = ["run", "--model", good_replay, "--benchmark", bench_file, "--output-dir", tmp_path]
    args += ["--save-baseline", tmp_path / "baseline.json"]
    for config, code in ((seed_config, 0), (tmp_path / "missing.yaml", 2)):
        done = CliRunner().invoke(app, [str(a) for a in [*args, "--config", config]])
        assert done.exit_code == code, done.output
        assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_the_cli_process_leaves_its_objects_to_the_os_at_exit(tmp_path: Path) -> None:
    # Frozen objects are skipped by the interpreter's last collections (~0.3 s); the
    # exit code is the command's own.
    code = (
        "import atexit, gc, sys\n"
        "from releasegate.cli import main\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 10_000))\n"
        "sys.argv = ['releasegate', 'validate', 'no-such-config.yaml']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout.split()[-2:] == ["frozen", "True"]


def test_block_exits_1_and_writes_no_baseline(
    tmp_path: Path, bench_file: Path, bad_replay: Path, seed_config: Path
) -> None:
    done = _run_cmd(bad_replay, bench_file, seed_config, tmp_path)
    assert done.returncode == 1, done.stderr
    assert "releasegate: BLOCK" in done.stdout
    assert "gate 'accuracy' failed" in done.stdout
    assert not (tmp_path / "baselines").exists()


def test_bad_config_exits_2_with_one_line_and_no_traceback(
    tmp_path: Path, bench_file: Path, good_replay: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "quality_gates:\n  - {name: a, metric: accuracy, threshold: 1, comparson: '>'}\n"
    )
    done = _run_cmd(good_replay, bench_file, config, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert "c.yaml:2: quality_gates[0].comparson: unknown key" in lines[0]


def test_gate_on_unknown_metric_exits_2_before_running(
    tmp_path: Path, bench_file: Path, good_replay: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "quality_gates:\n  - {name: s, metric: harmful_rate, threshold: 0.01, comparison: '<='}\n"
    )
    done = _run_cmd(good_replay, bench_file, config, tmp_path)
    assert done.returncode == 2
    assert "'harmful_rate' needs a red-team suite" in done.stderr
    assert not (tmp_path / "reports").exists()
    config.write_text(
        "quality_gates:\n  - {name: a, metric: acuracy, threshold: 1, comparison: '<='}\n"
    )
    done = _run_cmd(good_replay, bench_file, config, tmp_path)
    assert done.returncode == 2
    assert "gate 'a': unknown metric 'acuracy'; did you mean 'accuracy'?" in done.stderr
    assert "did you mean 'accuracy'?" in done.stderr


def test_bad_benchmark_exits_2_naming_file_and_line(
    tmp_path: Path, good_replay: Path, seed_config: Path
) -> None:
    bench = tmp_path / "b.jsonl"
    row = '{"id": "a", "input": "x", "expected_output": "y"}\n'
    bench.write_text(row + row.replace('"x"', '"z"'))
    done = _run_cmd(good_replay, bench, seed_config, tmp_path)
    assert done.returncode == 2
    assert "b.jsonl:2: id: duplicate id 'a'" in done.stderr
    assert "Traceback" not in done.stderr


def test_missing_replay_output_is_an_error_unless_configured(
    tmp_path: Path, bench_file: Path, bench_rows: list[dict[str, object]]
) -> None:
    replay = write_jsonl(tmp_path / "r.jsonl", replay_rows(bench_rows)[:-2])
    config = tmp_path / "c.yaml"
    config.write_text(
        "quality_gates:\n  - {name: a, metric: accuracy, threshold: 0.9, comparison: '>='}\n"
    )
    done = _run_cmd(replay, bench_file, config, tmp_path)
    assert done.returncode == 2
    assert "2 of 40 examples have no output" in done.stderr
    config.write_text(config.read_text() + "model:\n  on_missing: fail_example\n")
    done = _run_cmd(replay, bench_file, config, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    reports = [json.loads(p.read_text()) for p in (tmp_path / "reports").glob("*/report.json")]
    assert sorted(r["decision"] for r in reports) == ["DEPLOY", "ERROR"]
    deployed = next(r for r in reports if r["decision"] == "DEPLOY")
    assert deployed["metrics"]["accuracy"] == 38 / 40
    errored = next(r for r in reports if r["decision"] == "ERROR")
    assert errored["stages"][0]["status"] == "failed"


def test_debug_shows_a_traceback(tmp_path: Path, good_replay: Path, seed_config: Path) -> None:
    done = _run_cmd(good_replay, tmp_path / "missing.jsonl", seed_config, tmp_path, "--debug")
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert "cannot read benchmark" in done.stderr


def test_unknown_model_form_exits_2(tmp_path: Path, bench_file: Path, seed_config: Path) -> None:
    weird = tmp_path / "model.bin"
    weird.write_text("x")
    done = _run_cmd(weird, bench_file, seed_config, tmp_path)
    assert done.returncode == 2
    assert "not a model directory, a .jsonl replay file or an http(s) URL" in done.stderr


def test_validate_checks_config_and_benchmark_without_a_model(
    tmp_path: Path, bench_file: Path, seed_config: Path
) -> None:
    done = run_cli("validate", seed_config, "--benchmark", bench_file, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "valid (2 gates)" in done.stdout and "40 examples" in done.stdout


def test_report_rerenders_from_a_saved_run(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    _run_cmd(good_replay, bench_file, seed_config, tmp_path)
    (run_dir,) = (tmp_path / "reports").glob("2*")
    (run_dir / "report.md").unlink()
    done = run_cli("report", run_dir, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (run_dir / "report.md").is_file()
    broken = tmp_path / "broken.json"
    broken.write_text('{"decision": "DEPLOY"}')
    done = run_cli("report", broken, cwd=tmp_path)
    assert done.returncode == 2 and "not a releasegate report" in done.stderr


def test_github_step_summary_is_written(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    summary = tmp_path / "summary.md"
    done = run_cli(
        "run",
        "--model",
        good_replay,
        "--benchmark",
        bench_file,
        "--config",
        seed_config,
        "--output-dir",
        tmp_path / "r",
        cwd=tmp_path,
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert done.returncode == 0
    assert "releasegate: **DEPLOY**" in summary.read_text(encoding="utf-8")


def test_help_works_for_every_command(tmp_path: Path) -> None:
    for command in ([], ["run"], ["validate"], ["report"]):
        done = run_cli(*command, "--help", cwd=tmp_path)
        assert done.returncode == 0, (command, done.stderr)


def test_endpoint_url_without_a_model_name_is_a_clear_error(
    tmp_path: Path, bench_file: Path, seed_config: Path
) -> None:
    done = run_cli(
        "run",
        "--model",
        "http://127.0.0.1:9/v1",
        "--benchmark",
        bench_file,
        "--config",
        seed_config,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "an endpoint needs the served model name" in done.stderr


def test_error_messages_keep_bracketed_metric_names(
    tmp_path: Path, bench_file: Path, good_replay: Path
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "quality_gates:\n  - {name: a, metric: 'accuracy[nope]', threshold: 1, comparison: '>'}\n"
    )
    done = _run_cmd(good_replay, bench_file, config, tmp_path)
    assert done.returncode == 2
    assert "'accuracy[nope]'" in done.stderr


def test_backend_flag_is_validated_like_the_config(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    done = _run_cmd(good_replay, bench_file, seed_config, tmp_path, "--backend", "hff")
    assert done.returncode == 2
    assert "model.backend: unknown backend 'hff'; did you mean 'hf'?" in done.stderr

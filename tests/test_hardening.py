"""Hostile and careless input through the real CLI (in-process): nothing hangs, leaks or crashes.

Each test is one case from the hardening issue; each failed on the code before it.
Signals and disk faults are in ``test_interrupts.py`` and ``test_disk_faults.py``.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.cli import app

SECRET = "sk-zq9Xw7vPt-0123456789abcdef"


def cli(*args: object, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def run(tmp: Path, model: Path, bench: Path, config: Path, *extra: object, **kw: object):  # noqa: ANN201
    return cli(
        "run",
        "--model",
        model,
        "--benchmark",
        bench,
        "--config",
        config,
        "--output-dir",
        tmp / "reports",
        "--save-baseline",
        tmp / "baselines" / "b.json",
        *extra,
        **kw,  # type: ignore[arg-type]
    )


def run_dirs(tmp: Path) -> list[Path]:
    return sorted(p for p in (tmp / "reports").glob("*") if p.is_dir())


def write_config(tmp: Path, text: str = SEED_CONFIG) -> Path:
    path = tmp / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# --- 1. YAML: alias bombs and duplicate keys ---------------------------------------------

BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.timeout(60)
def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path, bench_file: Path) -> None:
    assert len(BOMB) < 700
    config = write_config(tmp_path, BOMB)
    t0 = time.perf_counter()
    code, _, err = cli("validate", config)
    assert code == 2 and f"{config}: the YAML expands to more than" in err
    code, _, err = run(tmp_path, bench_file, bench_file, config)
    assert code == 2 and "alias" in err
    assert time.perf_counter() - t0 < 30
    assert not (tmp_path / "reports").exists()


def test_ordinary_anchors_and_merge_keys_still_work(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "x-gate: &g {metric: accuracy, threshold: 0.5, comparison: '>=', gate_type: blocking}\n"
        "quality_gates:\n  - <<: *g\n    name: one\n  - <<: *g\n    name: two\n",
    )
    code, out, err = cli("validate", config)
    # x-gate is an unknown top-level key: the anchor is parsed, then refused by the schema.
    assert code == 2 and "unknown key 'x-gate'" in err, out


def test_a_second_quality_gates_key_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    config = write_config(tmp_path, SEED_CONFIG + "quality_gates: []\n")
    code, _, err = cli("validate", config)
    first = SEED_CONFIG.splitlines().index("quality_gates:") + 1
    last = len(SEED_CONFIG.splitlines()) + 1
    assert code == 2
    assert f"{config}:{last}: quality_gates: duplicate key 'quality_gates'" in err
    assert f"first on line {first}" in err


def test_a_repeated_gate_type_is_an_error(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "quality_gates:\n  - name: a\n    metric: accuracy\n    threshold: 0.5\n"
        "    comparison: '>='\n    gate_type: blocking\n    gate_type: warning\n",
    )
    code, _, err = cli("validate", config)
    assert code == 2 and f"{config}:7: quality_gates[0].gate_type: duplicate key" in err
    assert "first on line 6" in err


# --- 3. Publishing: every output location is checked before any model runs ---------------


def test_a_save_baseline_that_is_a_directory_fails_before_the_run(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    (tmp_path / "baselines" / "b.json").mkdir(parents=True)
    code, _, err = run(tmp_path, good_replay, bench_file, seed_config)
    assert code == 2 and "b.json: output.baseline_path (--save-baseline) is a directory" in err
    assert not (tmp_path / "reports").exists()


def test_a_corrupt_history_database_fails_before_the_run(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    db = tmp_path / "reports" / "history.sqlite"
    db.parent.mkdir()
    db.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    code, _, err = run(tmp_path, good_replay, bench_file, seed_config)
    assert code == 2 and f"{db}: run history database is" in err
    assert run_dirs(tmp_path) == [] and not (tmp_path / "baselines").exists()


def test_a_damaged_outcomes_page_fails_the_run_that_reads_it(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    """The check before a run reads the runs table only; a damaged page of the per-example
    outcomes fails closed where they are read (the regression's flaky items): exit 2."""
    for _ in range(4):
        code, _, err = run(tmp_path, good_replay, bench_file, seed_config)
        assert code == 0, err
    db = tmp_path / "reports" / "history.sqlite"
    with sqlite3.connect(db) as conn:
        (page,) = conn.execute(
            "SELECT pageno FROM dbstat WHERE name = 'example_outcomes' AND pagetype = 'leaf' "
            "LIMIT 1"
        ).fetchone()
        (size,) = conn.execute("PRAGMA page_size").fetchone()
    with db.open("r+b") as f:
        f.seek((page - 1) * size + 8)
        f.write(b"\xff" * 200)
    baseline = (tmp_path / "baselines" / "b.json").read_bytes()
    before = set(run_dirs(tmp_path))
    code, _, err = run(tmp_path, good_replay, bench_file, seed_config, "--baseline", "auto")
    assert code == 2, err
    assert f"{db}: run history database is unusable: database disk image is malformed" in err
    (errored,) = set(run_dirs(tmp_path)) - before  # an ERROR is reported, never a DEPLOY
    assert json.loads((errored / "report.json").read_text(encoding="utf-8"))["decision"] == "ERROR"
    assert (tmp_path / "baselines" / "b.json").read_bytes() == baseline


def test_an_unwritable_step_summary_fails_before_the_run(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    summary = tmp_path / "summary"
    summary.mkdir()
    code, _, err = run(
        tmp_path, good_replay, bench_file, seed_config, env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert code == 2 and f"{summary}: GITHUB_STEP_SUMMARY is a directory" in err
    assert not (tmp_path / "reports").exists()


def test_an_output_dir_that_is_a_file_fails_before_the_run(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    (tmp_path / "reports").write_text("not a folder", encoding="utf-8")
    code, _, err = run(tmp_path, good_replay, bench_file, seed_config)
    assert code == 2
    assert f"{tmp_path / 'reports'}: output.dir (--output-dir) is a file, not a directory" in err
    assert "internal error" not in err


def test_a_deploy_publishes_everything_and_leaves_no_temp_files(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path
) -> None:
    summary = tmp_path / "summary.md"
    code, out, err = run(
        tmp_path, good_replay, bench_file, seed_config, env={"GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert code == 0, err
    (run_dir,) = run_dirs(tmp_path)
    assert {p.name for p in run_dir.iterdir()} == {
        "report.json",
        "report.md",
        "report-comment.md",
        "report.html",
        "junit.xml",
        "outputs.jsonl",
        "baseline.json",
    }
    assert (tmp_path / "baselines" / "b.json").is_file()
    assert "releasegate" in summary.read_text(encoding="utf-8")
    leftovers = [p for p in tmp_path.rglob(".*") if p.name.endswith((".tmp", ".partial"))]
    assert leftovers == []
    with sqlite3.connect(tmp_path / "reports" / "history.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1


# --- 4. Hostile text ----------------------------------------------------------------------


def test_a_lone_surrogate_in_an_output_still_gives_every_report(
    tmp_path: Path, bench_rows: list[dict[str, object]], bench_file: Path, seed_config: Path
) -> None:
    rows = replay_rows(bench_rows)
    replay = tmp_path / "r.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines[0] = json.dumps({"id": rows[0]["id"], "output": "x"}).replace('"x"', '"bad \\ud800 x"')
    replay.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(tmp_path, replay, bench_file, seed_config)
    assert code in (0, 1), err
    (run_dir,) = run_dirs(tmp_path)
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    first = next(e for e in report["examples"] if e["id"] == rows[0]["id"])
    assert first["output"] == "bad \\ud800 x"  # replaced visibly, never a crash
    ET.parse(run_dir / "junit.xml")
    for line in (run_dir / "outputs.jsonl").read_text(encoding="utf-8").split("\n")[:-1]:
        json.loads(line)


HOSTILE = "x`<img src=x onerror=alert(1)>`@org/team https://evil.example"


def test_hostile_categories_ids_and_schema_errors_stay_inert_in_report_md(
    tmp_path: Path, seed_config: Path
) -> None:
    rows = example_rows(10)
    for row in rows[:5]:
        row["category"] = HOSTILE
    rows[0]["id"] = "id\x01" + HOSTILE
    bench = write_jsonl(tmp_path / "b.jsonl", rows)
    outputs = replay_rows(rows)
    outputs[1]["output"] = json.dumps({"action": "@org/team <img src=x onerror=alert(1)>"})
    replay = write_jsonl(tmp_path / "r.jsonl", outputs)
    schema = tmp_path / "schema.json"
    schema.write_text(
        json.dumps({"type": "object", "properties": {"action": {"enum": ["create_task"]}}}),
        encoding="utf-8",
    )
    config = write_config(
        tmp_path,
        f"metrics:\n  schema_path: {schema}\nquality_gates:\n"
        '  - {name: "gate\\x01 <b>x</b> @org/team", metric: accuracy, threshold: 0.99, '
        "comparison: '>='}\n",
    )
    code, _, err = run(tmp_path, replay, bench, config)
    assert code == 1, err
    (run_dir,) = run_dirs(tmp_path)
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert_inert_markdown(md)
    ET.parse(run_dir / "junit.xml")  # control characters do not break the XML
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "<img" not in html and "Content-Security-Policy" in html


MARKDOWN_TAGS = {"p", "h1", "h2", "h3", "ul", "ol", "li", "em", "strong", "code", "pre", "br"}
MARKDOWN_TAGS |= {"table", "thead", "tbody", "tr", "th", "td", "details", "summary"}


def assert_inert_markdown(md: str) -> None:
    """Rendered as GitHub would (CommonMark + tables, raw HTML allowed): only our own tags,
    and outside code no @mention and no bare link that GitHub would make live."""
    html = MarkdownIt("commonmark").enable("table").render(md)
    tags = set(re.findall(r"<\s*/?\s*([a-zA-Z][\w-]*)", html))
    assert tags <= MARKDOWN_TAGS, tags - MARKDOWN_TAGS
    prose = re.sub(r"<(code|pre)>.*?</\1>", "", html, flags=re.S)
    assert not re.search(r"(?<![\w\u200b])@[A-Za-z0-9]", prose), "live @mention"
    assert not re.search(r"https?://|www\.", prose), "bare link"


# --- 5. Credentials never reach an artifact -----------------------------------------------


def test_keys_and_credentials_echoed_by_outputs_and_urls_are_redacted_everywhere(
    tmp_path: Path, bench_rows: list[dict[str, object]], bench_file: Path
) -> None:
    basic = base64.b64encode(f"bob:{SECRET}".encode()).decode()
    outputs = replay_rows(bench_rows)
    outputs[0]["output"] = f"my key is {SECRET}"
    outputs[1]["output"] = f"Authorization: Basic {basic}"
    outputs[2]["output"] = "see https://bob:hunter2hunter2@api.example/v1?api-key=QUERYSECRET9"
    outputs[3]["output"] = base64.b64encode(f"xx{SECRET}yy".encode()).decode()
    outputs[4]["output"] = json.dumps({"action": [SECRET]})  # a schema error quotes it
    replay = write_jsonl(tmp_path / "r.jsonl", outputs)
    config = write_config(
        tmp_path,
        SEED_CONFIG + "judge:\n  enabled: false\n  provider: openai\n  model: gpt-4o-mini\n"
        "  base_url: http://127.0.0.1:9/v1?api-key=CONFIGSECRET9\n"
        "  api_key_env: RELEASEGATE_TEST_KEY\n",
    )
    code, out, err = run(
        tmp_path,
        replay,
        bench_file,
        config,
        "--baseline",
        tmp_path / "none.json",
        env={"RELEASEGATE_TEST_KEY": SECRET},
    )
    assert code == 2 and "none.json" in err  # a missing baseline: but nothing ran
    code, out, err = run(tmp_path, replay, bench_file, config, env={"RELEASEGATE_TEST_KEY": SECRET})
    assert code in (0, 1), err
    (run_dir,) = run_dirs(tmp_path)
    blobs = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    blobs["history"] = (tmp_path / "reports" / "history.sqlite").read_bytes()
    blobs["schema cache"] = (tmp_path / "reports" / "schema_cache.sqlite").read_bytes()
    blobs["stdout+stderr"] = (out + err).encode()
    for name, blob in blobs.items():
        for secret in (SECRET, basic, "hunter2hunter2", "QUERYSECRET9", "CONFIGSECRET9"):
            assert secret.encode() not in blob, (name, secret)
        assert base64.b64encode(f"xx{SECRET}yy".encode())[4:-4] not in blob, name
    report = json.loads(blobs["report.json"])
    assert report["run"]["config"]["judge"]["api_key_env"] == "RELEASEGATE_TEST_KEY"


def test_a_key_pasted_into_api_key_env_is_refused_without_echoing_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"model:\n  api_key_env: {SECRET}\n")
    for flags in ((), ("--debug",)):
        code, out, err = cli("validate", config, *flags)
        assert code == 2 and "model.api_key_env: must name an environment variable" in err
        assert SECRET not in out + err and SECRET[3:12] not in out + err


# --- 6 and 7. Readers: line separators, encodings, sizes, nesting -------------------------


def test_jsonl_with_unicode_line_separators_inside_strings_is_read(
    tmp_path: Path, seed_config: Path
) -> None:
    rows = example_rows(10)
    rows[0]["input"] = "first\u2028second\u2029third\x85fourth"
    bench = tmp_path / "b.jsonl"
    bench.write_text(
        "\r\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n", encoding="utf-8"
    )
    outputs = replay_rows(rows)
    outputs[1]["output"] = outputs[1]["output"] + "\u2028"
    replay = tmp_path / "r.jsonl"
    replay.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in outputs) + "\n", encoding="utf-8"
    )
    code, _, err = cli("validate", seed_config, "--benchmark", bench)
    assert code == 0 and "10 examples" in _ + err, err
    code, _, err = run(tmp_path, replay, bench, seed_config)
    assert code in (0, 1), err


@pytest.mark.parametrize("which", ["replay", "config", "baseline", "benchmark"])
def test_files_that_are_not_utf8_name_file_and_line(
    tmp_path: Path, bench_file: Path, good_replay: Path, seed_config: Path, which: str
) -> None:
    bad = tmp_path / f"bad-{which}.jsonl"
    bad.write_bytes(b'{"id": "a"}\n{"id": "\xff\xfe"}\n')
    args = {"replay": good_replay, "config": seed_config, "benchmark": bench_file}
    args[which] = bad
    extra = ("--baseline", bad) if which == "baseline" else ()
    code, _, err = run(tmp_path, args["replay"], args["benchmark"], args["config"], *extra)
    assert code == 2 and f"{bad}:2: the {which}" in err and "not UTF-8" in err, err
    assert "internal error" not in err


@pytest.mark.timeout(60)
def test_an_endless_benchmark_is_refused_at_the_size_cap(
    tmp_path: Path, good_replay: Path, seed_config: Path
) -> None:
    code, _, err = run(tmp_path, good_replay, Path("/dev/zero"), seed_config)
    assert code == 2 and "/dev/zero: the benchmark is larger than 256 MiB" in err


def test_deeply_nested_json_is_an_error_naming_the_line(
    tmp_path: Path, good_replay: Path, seed_config: Path
) -> None:
    bench = tmp_path / "deep.jsonl"
    rows = example_rows(2)
    bench.write_text(
        json.dumps(rows[0]) + "\n" + '{"id": "x", "metadata": ' + "[" * 100_000 + "\n",
        encoding="utf-8",
    )
    code, _, err = run(tmp_path, good_replay, bench, seed_config)
    assert code == 2 and f"{bench}:2: JSON nested too deeply" in err


# --- 8. Replay rows are checked ------------------------------------------------------------


def test_replay_rows_that_match_no_example_are_counted_in_the_report(
    tmp_path: Path, bench_rows: list[dict[str, object]], bench_file: Path, seed_config: Path
) -> None:
    outputs = [*replay_rows(bench_rows), {"id": "stray-1", "output": "{}"}]
    outputs.append({"id": "stray-2", "output": "{}"})
    replay = write_jsonl(tmp_path / "r.jsonl", outputs)
    code, _, err = run(tmp_path, replay, bench_file, seed_config)
    assert code == 0, err
    (run_dir,) = run_dirs(tmp_path)
    report = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert any("2 of 42 replay row(s)" in w and "'stray-1'" in w for w in report["warnings"])
    assert "2 of 42 replay row" in (run_dir / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [("tokens_out", -3, "must not be negative"), ("latency_s", "NaN", "must be a finite number")],
)
def test_negative_or_non_finite_replay_numbers_are_errors_naming_the_line(
    tmp_path: Path,
    bench_rows: list[dict[str, object]],
    bench_file: Path,
    seed_config: Path,
    field: str,
    value: object,
    problem: str,
) -> None:
    outputs = replay_rows(bench_rows)
    lines = [json.dumps(r) for r in outputs]
    lines[4] = lines[4][:-1] + f', "{field}": {value}}}'
    replay = tmp_path / "r.jsonl"
    replay.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(tmp_path, replay, bench_file, seed_config)
    assert code == 2 and f"{replay}:5: {field}: {problem}" in err, err

"""``releasegate import bfcl``: conversion, and verdicts equal to BFCL's AST checker.

The fixture under tests/fixtures/bfcl is a slice of the BFCL data in its exact format
with BFCL's recorded verdicts; when the ``bfcl-eval`` wheel is installed (``make
setup`` installs it with --no-deps) the full simple_python file is also compared
with BFCL's checker run live.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from releasegate.benchmark.load import load_benchmark
from releasegate.cli import app
from releasegate.importers.bfcl import import_bfcl
from releasegate.scoring.schema import load_output_schema
from releasegate.scoring.task import score_example

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "bfcl"
CATEGORIES = ("simple_python", "parallel", "multiple", "parallel_multiple")


def _agreement_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bfcl_agreement", ROOT / "benchmarks" / "bfcl_agreement.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bfcl_agreement", module)
    spec.loader.exec_module(module)
    return module


def _import(tmp_path: Path, category: str, data: Path = FIXTURE) -> Path:
    out = tmp_path / f"{category}.jsonl"
    import_bfcl(
        data / f"BFCL_v4_{category}.json",
        data / "possible_answer" / f"BFCL_v4_{category}.json",
        out,
    )
    return out


def test_import_writes_alternatives_schemas_and_categories(tmp_path: Path) -> None:
    bench = load_benchmark(_import(tmp_path, "simple_python"))
    first = next(e for e in bench.examples if e.id == "simple_python_0")
    assert first.category == "simple_python"
    assert first.expected_calls is not None
    (call,) = first.expected_calls.calls
    assert call.name == "calculate_triangle_area"
    assert call.arguments["unit"] == ("units",) and call.optional == {"unit"}
    assert first.expected_calls.comparison.name == "bfcl-v1"
    (fn,) = first.functions
    assert fn.parameters["type"] == "object"  # BFCL's "dict" as JSON Schema
    parallel = load_benchmark(_import(tmp_path, "parallel")).examples[0]
    assert parallel.expected_calls is not None and parallel.expected_calls.order == "any"


def test_cli_import_and_bad_input(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "b.jsonl"
    questions = FIXTURE / "BFCL_v4_parallel.json"
    result = runner.invoke(
        app,
        [
            "import",
            "bfcl",
            str(questions),
            "--answers",
            str(FIXTURE / "possible_answer" / "BFCL_v4_parallel.json"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "wrote 5 examples" in result.output and out.exists()
    wrong = runner.invoke(
        app,
        [
            "import",
            "bfcl",
            str(questions),
            "--answers",
            str(FIXTURE / "possible_answer" / "BFCL_v4_multiple.json"),
            "--out",
            str(out),
        ],
    )
    assert wrong.exit_code == 2
    assert "parallel_0" in wrong.output and "has no entry" in wrong.output
    assert "Traceback" not in wrong.output


def test_unanswerable_answers_are_left_out_and_said(tmp_path: Path) -> None:
    q = {
        "id": "live_simple_1-1-0",
        "question": [[{"role": "user", "content": "x"}]],
        "function": [
            {
                "name": "f",
                "parameters": {
                    "type": "dict",
                    "properties": {"a": {"type": "string"}},
                    "required": ["a"],
                },
            }
        ],
    }
    a = {"id": q["id"], "ground_truth": [{"f": {"a": []}}]}
    (tmp_path / "q.json").write_text(json.dumps(q) + "\n")
    (tmp_path / "a.json").write_text(json.dumps(a) + "\n")
    with pytest.raises(Exception, match="no questions to convert"):
        import_bfcl(tmp_path / "q.json", tmp_path / "a.json", tmp_path / "o.jsonl")


def _verdicts(
    module: ModuleType, data: Path, category: str, bench_path: Path
) -> dict[tuple[str, str], bool]:
    examples = {e.id: e for e in load_benchmark(bench_path).examples}
    answers = {
        a["id"]: a for a in module.read_jsonl(data / "possible_answer" / f"BFCL_v4_{category}.json")
    }
    schema = load_output_schema(None)
    ours: dict[tuple[str, str], bool] = {}
    for question in module.read_jsonl(data / f"BFCL_v4_{category}.json"):
        if question["id"] not in examples:
            continue
        for name, (replay, fence) in module.REPLAYS.items():
            truth: Any = copy.deepcopy(answers[question["id"]]["ground_truth"])
            calls = replay(truth, question)
            if calls is None:
                continue
            output = module.render(calls, fence=fence)
            score = score_example(examples[question["id"]], output, schema=schema)
            ours[(question["id"], name)] = bool(score.outcomes["accuracy"])
    return ours


# Cases where releasegate deliberately differs from BFCL (docs/tool-calls.md); none
# in this slice.
KNOWN_DIFFERENCES: set[tuple[str, str]] = set()


@pytest.mark.parametrize("category", CATEGORIES)
def test_verdicts_equal_bfcl_recorded_verdicts(tmp_path: Path, category: str) -> None:
    module = _agreement_module()
    recorded = json.loads((FIXTURE / "bfcl_verdicts.json").read_text())
    ours = _verdicts(module, FIXTURE, category, _import(tmp_path, category))
    assert ours, "no replay was scored"
    replays = {name for _, name in ours}
    assert {
        "ground_truth",
        "alternatives_optional_omitted",
        "upper_cased_strings",
        "wrong_value",
        "wrong_function",
        "dropped_required_argument",
    } <= replays
    for (example_id, replay), verdict in ours.items():
        expected = recorded[example_id][replay]
        if (example_id, replay) in KNOWN_DIFFERENCES:
            assert verdict != expected
            continue
        assert verdict == expected, f"{example_id} {replay}: ours {verdict}, BFCL {expected}"


def test_error_types_of_seeded_errors(tmp_path: Path) -> None:
    module = _agreement_module()
    bench = {e.id: e for e in load_benchmark(_import(tmp_path, "simple_python")).examples}
    question = next(module.read_jsonl(FIXTURE / "BFCL_v4_simple_python.json"))
    truth = next(module.read_jsonl(FIXTURE / "possible_answer" / "BFCL_v4_simple_python.json"))
    schema = load_output_schema(None)
    expected = {
        "wrong_function": "wrong_function",
        "wrong_value": "wrong_value",
        "dropped_required_argument": "missing_required_argument",
        "extra_argument": "unexpected_argument",
        "ground_truth": None,
    }
    for replay, error_type in expected.items():
        calls = module.REPLAYS[replay][0](copy.deepcopy(truth["ground_truth"]), question)
        score = score_example(
            bench[question["id"]], module.render(calls, fence=False), schema=schema
        )
        assert score.error_type == error_type, replay


@pytest.mark.slow
def test_full_simple_python_against_bfcl_checker_live(tmp_path: Path) -> None:
    module = _agreement_module()
    data = module.bfcl_data_dir()
    if data is None:
        pytest.skip("bfcl-eval is not installed (make setup installs it with --no-deps)")
    results = module.compare_category(data, "simple_python", tmp_path)
    assert results["ground_truth"]["n"] == 400
    for replay, row in results.items():
        assert row["disagree"] == [], replay
    # the recorded fixture verdicts are still what BFCL's checker says
    recorded = json.loads((FIXTURE / "bfcl_verdicts.json").read_text())
    for category in CATEGORIES:
        answers = {
            a["id"]: a
            for a in module.read_jsonl(FIXTURE / "possible_answer" / f"BFCL_v4_{category}.json")
        }
        for question in module.read_jsonl(FIXTURE / f"BFCL_v4_{category}.json"):
            for replay, verdict in recorded[question["id"]].items():
                calls = module.REPLAYS[replay][0](
                    copy.deepcopy(answers[question["id"]]["ground_truth"]), question
                )
                assert module.bfcl_verdict(question, calls, answers[question["id"]]) == verdict

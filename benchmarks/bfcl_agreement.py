"""Agreement of releasegate's tool-call verdicts with BFCL's own AST checker.

Converts BFCL question/answer files with ``releasegate import bfcl``'s converter,
builds replayed model outputs (ground truth, other acceptable values with optional
arguments omitted, upper-cased strings, seeded errors, formatting changes), and
scores each one twice: with releasegate and with BFCL's ``ast_checker`` from the
installed ``bfcl-eval`` wheel (``pip install --no-deps bfcl-eval``; its one heavy
import, the model registry, is replaced by a stand-in since no model is involved).

    python benchmarks/bfcl_agreement.py [--data DIR] [--categories simple_python parallel]

Prints, per category and replay: examples, BFCL's pass rate, releasegate's accuracy
and the share of examples on which the two verdicts agree, then the disagreements.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from releasegate.benchmark.load import load_benchmark
from releasegate.benchmark.model import Example
from releasegate.importers.bfcl import import_bfcl
from releasegate.scoring.schema import OutputSchema, load_output_schema
from releasegate.scoring.task import score_example

BfclCall = dict[str, dict[str, Any]]
Replay = Callable[[list[BfclCall], dict[str, Any]], list[BfclCall] | None]
"""(ground-truth calls, question) -> replayed calls, or None when not applicable."""

DEFAULT_CATEGORIES = (
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
)


def bfcl_data_dir() -> Path | None:
    """``bfcl_eval/data`` of the installed wheel, or None."""
    try:
        import bfcl_eval
    except ImportError:
        return None
    return Path(bfcl_eval.__file__).parent / "data"


def bfcl_checker() -> Callable[..., dict[str, Any]]:
    """BFCL's ``ast_checker``, importable without the wheel's model dependencies."""
    if "bfcl_eval.constants.model_config" not in sys.modules:

        class _Config:
            underscore_to_dot = False

        class _Mapping(dict[str, Any]):
            def __missing__(self, key: str) -> Any:
                return _Config()

        stub = types.ModuleType("bfcl_eval.constants.model_config")
        stub.MODEL_CONFIG_MAPPING = _Mapping()  # type: ignore[attr-defined]
        sys.modules["bfcl_eval.constants.model_config"] = stub
    from bfcl_eval.eval_checker.ast_eval import ast_checker as module

    return module.ast_checker  # type: ignore[no-any-return]


def bfcl_verdict(question: dict[str, Any], output: list[BfclCall], answer: dict[str, Any]) -> bool:
    """BFCL's AST verdict for one output (``[{name: arguments}]``)."""
    from bfcl_eval.constants.enums import Language

    checker = bfcl_checker()
    category = question["id"].rsplit("_", 1)[0]
    result = checker(
        question["function"], output, answer["ground_truth"], Language.PYTHON, category, "gpt-4o"
    )
    return bool(result["valid"])


# ---- replays: each turns BFCL's ground truth into one model output -------------------


def _first(values: list[Any]) -> Any:
    return next(v for v in values if v != "")


def ground_truth(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """First acceptable value of every argument; optional arguments given too."""
    out = []
    for call in truth:
        ((name, args),) = call.items()
        out.append({name: {k: _plain(_first(v)) for k, v in args.items() if v != [""]}})
    return out


def alternatives(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """Last acceptable value of every argument; every optional argument left out."""
    out = []
    changed = False
    for call in truth:
        ((name, args),) = call.items()
        chosen = {}
        for key, values in args.items():
            if "" in values:
                changed = True
                continue
            chosen[key] = _plain(values[-1])
            changed |= len(values) > 1
        out.append({name: chosen})
    return out if changed else None


def upper_strings(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """Ground truth with every string argument (and string list item) upper-cased."""
    out = ground_truth(truth, question) or []
    changed = False
    for call in out:
        ((_, args),) = call.items()
        for key, value in args.items():
            if isinstance(value, str) and value.upper() != value:
                args[key], changed = value.upper(), True
            elif isinstance(value, list) and any(isinstance(x, str) for x in value):
                args[key] = [x.upper() if isinstance(x, str) else x for x in value]
                changed = True
    return out if changed else None


def wrong_function(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """The first call names a function that does not exist."""
    out = ground_truth(truth, question) or []
    ((name, args),) = out[0].items()
    out[0] = {name + "_v2": args}
    return out


def wrong_value(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """The first number, string or boolean argument of the first call gets another value."""
    out = ground_truth(truth, question) or []
    ((_, args),) = out[0].items()
    for key, value in args.items():
        if isinstance(value, bool):
            args[key] = not value
        elif isinstance(value, int | float):
            args[key] = value + 7
        elif isinstance(value, str):
            args[key] = value + " zzqx"
        else:
            continue
        return out
    return None


def dropped_argument(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """The first call leaves out an argument its schema requires."""
    out = ground_truth(truth, question) or []
    ((name, args),) = out[0].items()
    function = next(f for f in question["function"] if f["name"] == name)
    required = [r for r in function["parameters"].get("required", []) if r in args]
    if not required:
        return None
    del args[required[0]]
    return out


def extra_argument(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """The first call passes an argument no one asked for."""
    out = ground_truth(truth, question) or []
    ((_, args),) = out[0].items()
    args["unrequested_flag"] = True
    return out


def reordered(truth: list[BfclCall], question: dict[str, Any]) -> list[BfclCall] | None:
    """Ground truth with the argument order reversed (formatting only)."""
    out = ground_truth(truth, question) or []
    return [{n: dict(reversed(list(a.items())))} for c in out for n, a in c.items()]


REPLAYS: dict[str, tuple[Replay, bool]] = {
    "ground_truth": (ground_truth, False),
    "alternatives_optional_omitted": (alternatives, False),
    "upper_cased_strings": (upper_strings, False),
    "wrong_function": (wrong_function, False),
    "wrong_value": (wrong_value, False),
    "dropped_required_argument": (dropped_argument, False),
    "extra_argument": (extra_argument, False),
    "reordered_keys": (reordered, False),
    "code_fence": (ground_truth, True),
}
"""Replay name -> (replay, wrap the output in a Markdown code fence)."""


def _plain(value: Any) -> Any:
    """A BFCL answer value as a model would write it (nested alternatives resolved)."""
    if isinstance(value, dict):
        return {
            k: _plain(_first(v) if isinstance(v, list) else v)
            for k, v in value.items()
            if v != [""]
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def render(calls: list[BfclCall], *, fence: bool) -> str:
    """Calls in releasegate's canonical form (``action`` objects; an array when several)."""
    objects: list[dict[str, Any]] = []
    for call in calls:
        ((name, args),) = call.items()
        if "action" in args:
            objects.append({"name": name, "arguments": args})
        else:
            objects.append({"action": name, **args})
    text = json.dumps(objects[0] if len(objects) == 1 else objects, ensure_ascii=False)
    return f"```json\n{text}\n```" if fence else text


# ---- the comparison ------------------------------------------------------------------


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a BFCL JSON Lines file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def compare_category(
    data: Path, category: str, work: Path, *, limit: int | None = None
) -> dict[str, dict[str, Any]]:
    """Per replay: n, BFCL pass rate, releasegate accuracy, agreement and disagreeing ids."""
    questions_path = data / f"BFCL_v4_{category}.json"
    answers_path = data / "possible_answer" / f"BFCL_v4_{category}.json"
    out = work / f"{category}.jsonl"
    import_bfcl(questions_path, answers_path, out, limit=limit)
    examples = {e.id: e for e in load_benchmark(out).examples}
    answers = {a["id"]: a for a in read_jsonl(answers_path)}
    questions = [q for q in read_jsonl(questions_path) if q["id"] in examples]
    schema = load_output_schema(None)
    results: dict[str, dict[str, Any]] = {}
    for replay_name, (replay, fence) in REPLAYS.items():
        rows = []
        for question in questions:
            answer = answers[question["id"]]
            calls = replay(copy.deepcopy(answer["ground_truth"]), question)
            if calls is None:
                continue
            theirs = bfcl_verdict(question, copy.deepcopy(calls), answer)
            ours = _ours(examples[question["id"]], render(calls, fence=fence), schema)
            rows.append((question["id"], theirs, ours))
        if not rows:
            continue
        results[replay_name] = {
            "n": len(rows),
            "bfcl": sum(t for _, t, _ in rows) / len(rows),
            "releasegate": sum(o for _, _, o in rows) / len(rows),
            "agreement": sum(t == o for _, t, o in rows) / len(rows),
            "disagree": [(i, t, o) for i, t, o in rows if t != o],
        }
    return results


def _ours(example: Example, output: str, schema: OutputSchema) -> bool:
    return bool(score_example(example, output, schema=schema).outcomes["accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="bfcl_eval/data directory")
    parser.add_argument("--categories", nargs="*", default=list(DEFAULT_CATEGORIES))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/releasegate-bfcl"))
    args = parser.parse_args()
    data = args.data or bfcl_data_dir()
    if data is None:
        raise SystemExit("bfcl-eval is not installed: pip install --no-deps bfcl-eval")
    total = agree = 0
    print(f"{'category':<24}{'replay':<32}{'n':>6}{'BFCL':>8}{'ours':>8}{'agree':>8}")
    disagreements = []
    for category in args.categories:
        for replay, row in compare_category(data, category, args.work, limit=args.limit).items():
            total += row["n"]
            agree += row["n"] - len(row["disagree"])
            print(
                f"{category:<24}{replay:<32}{row['n']:>6}{row['bfcl']:>8.4f}"
                f"{row['releasegate']:>8.4f}{row['agreement']:>8.4f}"
            )
            disagreements += [(category, replay, *d) for d in row["disagree"]]
    print(f"\nverdicts agree on {agree} of {total} ({agree / total:.4f})")
    for category, replay, example_id, theirs, ours in disagreements:
        print(f"  {category} {replay} {example_id}: BFCL {theirs}, releasegate {ours}")


if __name__ == "__main__":
    main()

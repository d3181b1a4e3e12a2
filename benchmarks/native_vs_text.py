"""Native tool calls against text: the same model answers give the same verdicts.

Converts BFCL categories (the data of the installed ``bfcl-eval`` wheel, as
``benchmarks/bfcl_agreement.py`` does), gives every question one replayed answer
(the ground truth on most, a seeded error on every third: wrong function, wrong
value, dropped or extra argument, in turn), and runs the whole pipeline twice against
the local chat-completions server (``releasegate.testing.fake_llm_server``) that
answers with them: ``model.tool_calls: text`` (the call comes back as text) and
``native`` (the functions go out as ``tools``, the call comes back as streamed
``tool_calls`` with ``content: null``, arguments as JSON text).

    python benchmarks/native_vs_text.py [--categories simple_python parallel] [--limit N]

Prints, per mode: the decision, accuracy, the error-type counts and the wall time;
then how many examples' verdicts (every outcome and the error type) differ.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from releasegate.config import parse_config
from releasegate.importers.bfcl import import_bfcl
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.testing.fake_llm_server import FakeLLMServer

sys.path.insert(0, str(Path(__file__).parent))
import bfcl_agreement as bfcl  # noqa: E402

ERRORS = (bfcl.wrong_function, bfcl.wrong_value, bfcl.dropped_argument, bfcl.extra_argument)
CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple")


def build(data: Path, categories: list[str], work: Path, limit: int | None) -> dict[str, str]:
    """Write one benchmark of ``categories``; return last user turn -> replayed answer."""
    rows: list[str] = []
    answers: dict[str, str] = {}
    seeded = 0
    for category in categories:
        questions_path = data / f"BFCL_v4_{category}.json"
        answers_path = data / "possible_answer" / f"BFCL_v4_{category}.json"
        out = work / f"{category}.jsonl"
        import_bfcl(questions_path, answers_path, out, limit=limit)
        truth = {a["id"]: a["ground_truth"] for a in bfcl.read_jsonl(answers_path)}
        questions = {q["id"]: q for q in bfcl.read_jsonl(questions_path)}
        for line in out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            user = _last_user(row["input"])
            if user in answers:
                continue  # the server sees only the text: keep the first of duplicates
            calls = None
            if len(answers) % 3 == 2:
                replay = ERRORS[seeded % len(ERRORS)]
                calls = replay(copy.deepcopy(truth[row["id"]]), questions[row["id"]])
                seeded += calls is not None
            if calls is None:
                calls = bfcl.ground_truth(copy.deepcopy(truth[row["id"]]), questions[row["id"]])
            answers[user] = bfcl.render(calls or [], fence=False)
            rows.append(line)
    (work / "bench.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return answers


def _last_user(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str([t for t in value if t["role"] == "user"][-1]["content"])


def run(server: FakeLLMServer, work: Path, mode: str) -> tuple[PipelineResult, float]:
    """The whole pipeline against the server with ``model.tool_calls: mode``."""
    config = parse_config(
        "quality_gates:\n"
        '  - {name: accuracy, metric: accuracy, comparison: ">=", threshold: 0.6}\n'
        f"model:\n  model_name: served\n  concurrency: 16\n  tool_calls: {mode}\n"
        f"output:\n  dir: {work / ('reports-' + mode)}\n"
    )
    started = time.perf_counter()
    result = EvaluationPipeline(config).run(
        model_path=server.openai_base_url, benchmark_path=str(work / "bench.jsonl")
    )
    return result, time.perf_counter() - started


def verdicts(result: PipelineResult) -> dict[str, tuple[str, str | None]]:
    """Example id -> (every outcome, the error type)."""
    return {e.id: (json.dumps(e.outcomes, sort_keys=True), e.error_type) for e in result.examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="bfcl_eval/data directory")
    parser.add_argument("--categories", nargs="*", default=list(CATEGORIES))
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--work", type=Path, default=Path("/tmp/releasegate-native-vs-text"))
    args = parser.parse_args()
    data = args.data or bfcl.bfcl_data_dir()
    if data is None:
        raise SystemExit("bfcl-eval is not installed: pip install --no-deps bfcl-eval")
    args.work.mkdir(parents=True, exist_ok=True)
    answers = build(data, args.categories, args.work, args.limit)
    results = {}
    with FakeLLMServer() as server:
        server.set_verdict(lambda system, user: answers.get(user, "no answer"))
        for mode in ("text", "native"):
            server.reset_counters()
            result, wall = run(server, args.work, mode)
            sent_tools = sum("tools" in r.body for r in server.requests)
            results[mode] = result
            errors = Counter(e.error_type for e in result.examples if e.error_type)
            print(
                f"{mode:<7} {result.decision.value:<7} n={len(result.examples)} "
                f"accuracy={result.metrics['accuracy']:.4f} requests with tools={sent_tools} "
                f"wall={wall:.1f}s tool calls: {result.run.model_details.get('tool_calls')}"
            )
            print(f"        error types: {dict(sorted(errors.items()))}")
    text, native = verdicts(results["text"]), verdicts(results["native"])
    differ = [i for i in text if text[i] != native.get(i)]
    print(f"verdicts differ on {len(differ)} of {len(text)} examples")
    for example_id in differ[:20]:
        print(f"  {example_id}: text {text[example_id]} native {native.get(example_id)}")


if __name__ == "__main__":
    main()

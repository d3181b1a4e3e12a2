"""Property-based fuzzing of every loader and every report writer with arbitrary unicode.

Loaders may only raise the project's own errors; every artifact a writer produces
must be valid in its format (JSON parses, junit.xml parses, report.html parses,
report.md has no live HTML, mentions or links).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SEED_CONFIG, example_rows, replay_rows, write_jsonl
from releasegate.backends.replay import ReplayBackend
from releasegate.benchmark.load import load_benchmark
from releasegate.config import parse_config
from releasegate.errors import ReleaseGateError
from releasegate.pipeline import EvaluationPipeline
from releasegate.records.run import PipelineResult
from releasegate.report.json_report import load_json
from releasegate.report.write import write_reports
from releasegate.safety.suite import load_suite
from releasegate.store.baseline import load_baseline
from test_hardening import assert_inert_markdown

FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Every code point, lone surrogates included: they arrive through JSON escapes.
TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=60)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
FIELDS = ["id", "input", "output", "expected_output", "category", "kind", "tokens_out"]
ROWS = st.lists(
    st.dictionaries(st.sampled_from(FIELDS) | TEXT, JSON_VALUES, max_size=6), max_size=5
)


def _dump(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _file(data: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False)  # noqa: SIM115
    handle.write(data)
    handle.close()
    return Path(handle.name)


def _only_our_errors(load: object, data: bytes) -> None:
    path = _file(data)
    try:
        load(path)  # type: ignore[operator]
    except ReleaseGateError:
        pass
    finally:
        path.unlink()


LOADERS = {
    "benchmark": load_benchmark,
    "replay": ReplayBackend,
    "suite": load_suite,
    "baseline": load_baseline,
}


@pytest.mark.parametrize("name", sorted(LOADERS))
@FUZZ
@given(rows=ROWS, raw=st.binary(max_size=80), sep=st.sampled_from(["\n", "\r\n", "\u2028"]))
def test_loaders_raise_only_their_own_errors(
    name: str, rows: list[dict[str, object]], raw: bytes, sep: str
) -> None:
    load = LOADERS[name]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    text = sep.join(lines).encode("utf-8", "surrogatepass")
    for data in (text, raw, _dump(rows), b"\n".join(_dump(r) for r in rows)):
        _only_our_errors(load, data)


@FUZZ
@given(text=TEXT, data=JSON_VALUES)
def test_the_config_loader_raises_only_config_errors(text: str, data: object) -> None:
    for source in (text, json.dumps(data), f"quality_gates:\n  - {text}\n", f"{text}: {text}"):
        with contextlib.suppress(ReleaseGateError):
            parse_config(source)


@pytest.fixture(scope="module")
def result() -> PipelineResult:
    with tempfile.TemporaryDirectory() as tmp:
        rows = example_rows(10)
        bench = write_jsonl(Path(tmp) / "b.jsonl", rows)
        replay = write_jsonl(Path(tmp) / "r.jsonl", replay_rows(rows, wrong=[1], invalid=[2]))
        config = parse_config(SEED_CONFIG)
        return EvaluationPipeline(config).run(model_path=str(replay), benchmark_path=str(bench))


class _StrictHTML(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


@FUZZ
@given(texts=st.lists(TEXT, min_size=6, max_size=6))
def test_every_report_writer_gives_a_valid_artifact(
    result: PipelineResult, texts: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    ident, category, output, inp, gate_name, explanation = texts
    examples = list(result.examples)
    examples[1] = examples[1].model_copy(
        update={"id": ident or "x", "category": category, "output": output, "input": inp}
    )
    gates = [g.model_copy(update={"name": gate_name, "passed": False}) for g in result.gates]
    gates[0] = gates[0].model_copy(update={"explanation": explanation, "worst_examples": [ident]})
    hostile = result.model_copy(
        update={"examples": examples, "gates": gates, "warnings": [explanation]}
    )
    run_dir = tmp_path_factory.mktemp("fuzz")
    files = write_reports(hostile, run_dir)
    report = load_json(files["report.json"].read_text(encoding="utf-8"))
    # Lossless, lone surrogates included (a high+low pair written apart reads back as the
    # one character it encodes, exactly as JSON itself reads "\\ud83d\\ude00").
    assert report.examples[1].output == json.loads(json.dumps(output))
    ET.parse(files["junit.xml"])
    for line in files["outputs.jsonl"].read_text(encoding="utf-8").split("\n")[:-1]:
        json.loads(line)
    parser = _StrictHTML()
    parser.feed(files["report.html"].read_text(encoding="utf-8"))
    assert not parser.tags & {"img", "script", "iframe", "object"}
    # The page's own navigation links stay inside the page; none comes from the text.
    assert all(href.startswith("#") for href in parser.hrefs), parser.hrefs
    assert_inert_markdown(files["report.md"].read_text(encoding="utf-8"))

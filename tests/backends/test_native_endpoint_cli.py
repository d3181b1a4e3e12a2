"""Native tool calls through the real CLI (a subprocess) against the real local server.

The same model answers (the server's reply function) give the same verdicts whether
they come back as ``tool_calls`` (``model.tool_calls: native``) or as text, and a
per-category error-rate gate reads the category it names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import write_jsonl
from releasegate.testing.fake_llm_server import FakeLLMServer

WEATHER = {
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
HYPOT = {
    "name": "math.hypot",
    "parameters": {
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
        "required": ["x", "y"],
    },
}
CITIES = ["Paris", "Rome", "Oslo", "Lima"]


def _rows() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for i, city in enumerate(CITIES):
        rows.append(
            {
                "id": f"w{i}",
                "input": f"weather in {city}",
                "expected_calls": [{"name": "get_weather", "arguments": {"city": [city]}}],
                "functions": [WEATHER, HYPOT],
                "category": "weather",
            }
        )
        rows.append(
            {
                "id": f"m{i}",
                "input": f"hypot of {i} and {i + 1}",
                "expected_calls": [{"name": "math.hypot", "arguments": {"x": [i], "y": [i + 1]}}],
                "functions": [HYPOT],
                "category": "math",
            }
        )
    return rows


def _reply(system: str, user: str) -> str:
    """The model: right on every example but one (a weather question answered by hypot)."""
    if user == "weather in Lima":
        return '{"action": "math.hypot", "x": 1, "y": 2}'
    if user.startswith("weather in "):
        return json.dumps({"action": "get_weather", "city": user.removeprefix("weather in ")})
    x, y = (int(t) for t in user.removeprefix("hypot of ").split(" and "))
    return json.dumps({"action": "math.hypot", "x": x, "y": y})


CONFIG = """\
quality_gates:
  - {name: accuracy, metric: accuracy, comparison: ">=", threshold: 0.5}
  - {name: math-calls, metric: "error_rate_wrong_function[math]", comparison: "<=", threshold: 0.0}
  - {name: weather-calls, metric: "error_rate_wrong_function[weather]", comparison: "<=",
     threshold: 0.0}
model:
  model_name: tiny-served
"""


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as srv:
        srv.set_verdict(_reply)
        yield srv


def _run(tmp: Path, url: str, mode: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    bench = write_jsonl(tmp / "bench.jsonl", _rows())
    config = tmp / "releasegate.yaml"
    config.write_text(CONFIG + f"  tool_calls: {mode}\n", "utf-8")
    args = ["run", "--model", url, "--benchmark", bench, "--config", config]
    done = subprocess.run(
        [sys.executable, "-m", "releasegate", *map(str, args), "--output-dir", str(tmp / mode)],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
        check=False,
    )
    (run_dir,) = (tmp / mode).glob("2*")
    return done, run_dir


def test_native_and_text_give_the_same_verdicts_and_a_category_gate_blocks(
    server: FakeLLMServer, tmp_path: Path
) -> None:
    runs = {}
    for mode in ("native", "text"):
        server.reset_counters()
        done, run_dir = _run(tmp_path, server.openai_base_url, mode)
        assert done.returncode == 1, done.stderr + done.stdout  # weather-calls BLOCKs
        report = json.loads((run_dir / "report.json").read_text("utf-8"))
        runs[mode] = (report, (run_dir / "report.md").read_text("utf-8"), server.requests)
    native, native_md, native_requests = runs["native"]
    text, text_md, text_requests = runs["text"]
    assert all("tools" in r.body and r.body["tool_choice"] == "auto" for r in native_requests)
    assert not any("tools" in r.body for r in text_requests)
    assert native["run"]["model_details"]["tool_calls"] == "native (tools sent, tool_calls read)"
    assert "- tool calls: `native (tools sent, tool_calls read)`" in native_md
    assert "- tool calls: `text`" in text_md
    gates = {g["name"]: g for g in native["gates"]}
    assert gates["math-calls"]["passed"] and gates["math-calls"]["value"] == 0.0
    assert not gates["weather-calls"]["passed"] and gates["weather-calls"]["value"] == 0.25
    for report in (native, text):
        assert report["decision"] == "BLOCK"
        assert report["metrics"]["accuracy"] == 7 / 8
    verdicts = {
        mode: {e["id"]: (e["outcomes"], e["error_type"]) for e in report["examples"]}
        for mode, report in (("native", native), ("text", text))
    }
    assert verdicts["native"] == verdicts["text"]
    assert verdicts["native"]["w3"][1] == "wrong_function"
    scores = ("accuracy", "action_accuracy", "field_", "json_valid", "schema_valid", "error_rate")
    quality = {k: v for k, v in native["metrics"].items() if k.startswith(scores)}
    assert len(quality) > 40  # overall and per category
    assert quality == {k: v for k, v in text["metrics"].items() if k.startswith(scores)}

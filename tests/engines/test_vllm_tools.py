"""The in-process vLLM backend with native tools gives the HF backend's outputs.

tiny-v1's chat template takes no tools, so a copy of it gets one that renders them;
the first examples of the Task API benchmark get a function each. vLLM (engines
venv, eager, fp32, CPU) and the HF backend (here) then see the same templated
prompts with the functions in them and must answer identically.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from engine_support import BENCHMARK, PLAIN, ROOT, V1, assert_same_outputs

from releasegate.backends.base import Generation, Prompt
from releasegate.benchmark.load import load_benchmark
from releasegate.testing.engines import engine_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

N = 40
TOOLS_TEMPLATE = (
    "{% if tools %}<|system|>Tools: {% for t in tools %}{{ t.function.name }}"
    "({{ t.function.parameters | tojson }}) {% endfor %}\n{% endif %}"
    "{% for m in messages %}{{ '<|' + m['role'] + '|>' + m['content'] + '\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)
FUNCTION = {
    "name": "create_task",
    "description": "Create a task",
    "parameters": {
        "type": "object",
        "properties": {"title": {"type": "string"}, "due": {"type": "string"}},
        "required": ["title"],
    },
}


def test_in_process_vllm_native_tools_give_the_hf_backends_outputs(
    engines_py: Path, tmp_path: Path
) -> None:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from releasegate.backends.hf import HFBackend
    from releasegate.config.schema import ModelSettings

    model = tmp_path / "tiny-v1-tools"
    shutil.copytree(V1, model)
    (model / "chat_template.jinja").write_text(TOOLS_TEMPLATE, encoding="utf-8")
    rows = [json.loads(line) for line in BENCHMARK.read_text("utf-8").splitlines()[:N]]
    bench = tmp_path / "bench.jsonl"
    bench.write_text("".join(json.dumps({**r, "functions": [FUNCTION]}) + "\n" for r in rows))
    out = tmp_path / "vllm.json"
    argv = [str(engines_py), "-m", "releasegate.testing.vllm_runner", "--model", str(model)]
    argv += ["--benchmark", str(bench), "--out", str(out), "--tool-calls", "native"]
    proc = subprocess.run(
        argv,
        check=False,
        env=engine_env(ROOT),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1700,
    )
    assert proc.returncode == 0, f"vllm runner failed:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["info"]["details"]["tool_calls"] == "native"
    got = [Generation(**g) for g in result["runs"][0]["generations"]]

    hf = HFBackend.from_settings(str(model), ModelSettings(device="cpu", tool_calls="native"))
    prompts = [
        Prompt(sample_id=ex.id, input=ex.input, tools=ex.functions)
        for ex in load_benchmark(bench).examples
    ]
    assert hf.render(prompts[0]).startswith("<|system|>Tools: create_task(")
    want = {g.sample_id: g for g in hf.generate(prompts, PLAIN)}
    assert_same_outputs(got, want)

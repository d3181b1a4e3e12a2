"""``outputs.jsonl``: one line per example with the raw output, usable as a replay."""

from __future__ import annotations

import json

from releasegate.records.run import PipelineResult


def render_outputs(result: PipelineResult) -> str:
    """Rows of ``{"id", "output", ...}``; examples without output are skipped."""
    lines = []
    for example in result.examples:
        if example.output is None:
            continue
        row = {
            "id": example.id,
            "output": example.output,
            "latency_s": example.latency_s,
            "tokens_in": example.tokens_in,
            "tokens_out": example.tokens_out,
        }
        lines.append(
            json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False)
        )
    return "\n".join(lines) + ("\n" if lines else "")

"""``outputs.jsonl``: one line per example with the raw output, usable as a replay."""

from __future__ import annotations

import json
import math

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
        kept = {k: v for k, v in row.items() if v is not None and _finite(v)}
        # allow_nan=False: bare NaN is not JSON; lone surrogates become \\u escapes on write.
        lines.append(json.dumps(kept, ensure_ascii=False, allow_nan=False))
    return "\n".join(lines) + ("\n" if lines else "")


def _finite(value: object) -> bool:
    return not isinstance(value, float) or math.isfinite(value)

"""Builders for small benchmark, replay and config files used across tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

SEED_CONFIG = """\
# The classic pipeline's PIPELINE_CONFIG, transliterated to YAML.
llm_judge_sample_rate: 0.1
regression_threshold: -0.05
quality_gates:
  - name: format
    metric: json_valid_rate
    threshold: 0.95
    comparison: GREATER_EQUAL
    gate_type: blocking
    description: Outputs must be JSON objects
  - name: accuracy
    metric: accuracy
    threshold: 0.85
    comparison: greater_equal
    gate_type: blocking
    description: Canonical-JSON accuracy
"""


def run_cli(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m releasegate ARGS`` in a real subprocess (wide console, a time limit)."""
    return subprocess.run(
        [sys.executable, "-m", "releasegate", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        check=False,
    )


ACTIONS = ["create_task", "update_task", "complete_task", "delete_task", "list_tasks"]


def example_rows(n: int = 40) -> list[dict[str, object]]:
    """``n`` Task-API-like examples over five categories."""
    rows = []
    for i in range(n):
        action = ACTIONS[i % len(ACTIONS)]
        expected = (
            {"action": action, "task_id": i} if action != "list_tasks" else {"action": action}
        )
        rows.append(
            {
                "id": f"ex-{i:03d}",
                "input": f"please {action.replace('_', ' ')} number {i}",
                "expected_output": json.dumps(expected, separators=(",", ":")),
                "expected_action": action,
                "category": action.split("_")[0],
            }
        )
    return rows


def write_jsonl(path: Path, rows: Iterable[dict[str, object]]) -> Path:
    """Write rows as JSON Lines."""
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def replay_rows(
    rows: list[dict[str, object]], *, wrong: Iterable[int] = (), invalid: Iterable[int] = ()
) -> list[dict[str, object]]:
    """Outputs equal to the expected ones, except ``wrong`` (another action) and ``invalid``
    (not JSON) indices."""
    wrong_set, invalid_set = set(wrong), set(invalid)
    out = []
    for i, row in enumerate(rows):
        text = str(row["expected_output"])
        if i in wrong_set:
            text = '{"action": "list_tasks", "oops": true}'
        if i in invalid_set:
            text = "Sure! I created the task."
        out.append({"id": row["id"], "output": text})
    return out

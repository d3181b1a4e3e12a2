"""docs/config.md is generated from the schema and must be kept in step."""

from __future__ import annotations

from pathlib import Path

from releasegate.config.reference import render_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "config.md"


def test_committed_config_reference_matches_the_schema() -> None:
    assert DOC.read_text(encoding="utf-8") == render_reference(), (
        "docs/config.md is stale: run `python -m releasegate.config.reference > docs/config.md`"
    )


def test_every_field_is_documented() -> None:
    text = render_reference()
    for line in text.splitlines():
        if line.startswith("| `"):
            assert not line.rstrip().endswith("|  |"), f"undocumented field: {line}"

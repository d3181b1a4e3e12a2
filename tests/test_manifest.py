"""Provenance: the recorded config never carries credentials."""

from __future__ import annotations

import json

from releasegate.config import parse_config
from releasegate.manifest import config_dict, config_hash


def test_url_credentials_are_redacted_in_the_recorded_config() -> None:
    config = parse_config(
        "judge:\n  provider: openai\n  model: m\n"
        "  base_url: https://alice:s3cr3t-token@llm.internal:8000/v1\n"
        "  api_key_env: MY_KEY\n"
    )
    text = json.dumps(config_dict(config))
    assert "s3cr3t-token" not in text and "alice" not in text
    assert "https://***@llm.internal:8000/v1" in text
    assert '"MY_KEY"' in text


def test_config_hash_ignores_output_settings_but_not_gates() -> None:
    base = parse_config("output: {dir: a}\n")
    assert config_hash(base) == config_hash(parse_config("output: {dir: b}\n"))
    gated = parse_config(
        "quality_gates:\n  - {name: g, metric: accuracy, threshold: 0.9, comparison: '>='}\n"
    )
    assert config_hash(base) != config_hash(gated)

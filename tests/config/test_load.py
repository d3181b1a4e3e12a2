"""Config loading: the classic format, comparisons, and errors that name key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import SEED_CONFIG
from releasegate.config import Comparison, GateType, load_config, parse_config
from releasegate.errors import ConfigError


def test_seed_pipeline_config_as_yaml_is_valid_as_written() -> None:
    config = parse_config(SEED_CONFIG)
    assert config.llm_judge_sample_rate == 0.1
    assert config.regression_threshold == -0.05
    assert [g.name for g in config.quality_gates] == ["format", "accuracy"]
    assert config.quality_gates[0].comparison is Comparison.GREATER_EQUAL
    assert config.quality_gates[0].gate_type is GateType.BLOCKING


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GREATER_EQUAL", ">="),
        ("greater_equal", ">="),
        ("'>='", ">="),
        ("GREATER_THAN", ">"),
        ("'>'", ">"),
        ("less_than", "<"),
        ("'<'", "<"),
        ("LESS_EQUAL", "<="),
        ("'<='", "<="),
        ("equal", "=="),
        ("'=='", "=="),
        ("Comparison.GREATER_EQUAL", ">="),
    ],
)
def test_comparison_accepts_seed_enum_names_and_symbols(raw: str, expected: str) -> None:
    text = f"quality_gates:\n  - {{name: g, metric: accuracy, threshold: 1, comparison: {raw}}}\n"
    assert parse_config(text).quality_gates[0].comparison.value == expected


def test_gate_type_accepts_any_case() -> None:
    text = (
        "quality_gates:\n  - {name: g, metric: accuracy, threshold: 1, comparison: '>',"
        " gate_type: WARNING}\n"
    )
    assert parse_config(text).quality_gates[0].gate_type is GateType.WARNING


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="gate.yaml")
    return str(info.value)


def test_unknown_top_level_key_names_line_and_suggests() -> None:
    message = _error(SEED_CONFIG + "modle:\n  path: x\n")
    assert message.startswith("gate.yaml:17: modle: unknown key 'modle'")
    assert "did you mean 'model'?" in message


def test_unknown_nested_key_names_the_dotted_path() -> None:
    message = _error("generation:\n  max_new_token: 5\n")
    assert message == (
        "gate.yaml:2: generation.max_new_token: unknown key 'max_new_token'; "
        "did you mean 'max_new_tokens'?"
    )


def test_unknown_key_inside_a_gate_names_the_index() -> None:
    message = _error(
        "quality_gates:\n  - name: a\n    metric: accuracy\n    threshold: 1\n"
        "    comparison: '>'\n    treshold: 2\n"
    )
    assert message.startswith("gate.yaml:6: quality_gates[0].treshold: unknown key")
    assert "did you mean 'threshold'" in message


def test_bad_comparison_is_an_error_with_choices() -> None:
    message = _error("quality_gates:\n  - {name: a, metric: m, threshold: 1, comparison: bigger}\n")
    assert "quality_gates[0].comparison" in message
    assert "unknown comparison 'bigger'" in message


def test_wrong_type_names_field_and_line() -> None:
    message = _error("generation:\n  batch_size: many\n")
    assert message.startswith("gate.yaml:2: generation.batch_size:")


def test_out_of_range_value_is_an_error() -> None:
    assert "generation.temperature" in _error("generation:\n  temperature: -1\n")


def test_duplicate_gate_names_are_an_error() -> None:
    gate = "  - {name: a, metric: accuracy, threshold: 1, comparison: '>'}\n"
    assert "duplicate gate name 'a'" in _error("quality_gates:\n" + gate + gate)


def test_invalid_yaml_names_the_line() -> None:
    assert _error("a: 1\nb: [\n").startswith("gate.yaml:")


def test_top_level_must_be_a_mapping() -> None:
    assert "must be a mapping" in _error("- 1\n- 2\n")


def test_empty_config_gives_defaults() -> None:
    assert parse_config("").quality_gates is None
    assert [g.metric for g in parse_config("").effective_gates()] == [
        "json_valid_rate",
        "accuracy",
        "accuracy",
    ]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "nope.yaml")


def test_schema_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    path = tmp_path / "sub" / "c.yaml"
    path.write_text("metrics:\n  schema_path: schema.json\n", encoding="utf-8")
    assert load_config(path).metrics.schema_path == str(tmp_path / "sub" / "schema.json")


def test_secrets_are_only_env_var_names_and_never_echoed() -> None:
    message = _error("judge:\n  provider: openai\n  api_key: sk-live-123\n")
    assert "judge.api_key: unknown key 'api_key'" in message
    assert "did you mean 'api_key_env'" in message
    assert "sk-live-123" not in message

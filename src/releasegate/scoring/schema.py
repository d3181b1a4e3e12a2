"""The JSON Schema behind ``schema_valid_rate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jsonschema import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from releasegate.errors import ConfigError
from releasegate.input_files import loads_json_document, read_text_capped

DEFAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": {"action": {"type": "string"}},
}
"""Used when the config names no schema: a Task API action object needs ``action``."""


def load_validator(path: str | None) -> tuple[Validator, dict[str, Any]]:
    """Build a validator for the schema file (or the default schema).

    Raises:
        ConfigError: unreadable file, invalid JSON, or an invalid JSON Schema.
    """
    schema: Any = DEFAULT_SCHEMA
    if path is not None:
        text = read_text_capped(Path(path), what="metrics.schema_path file", error=ConfigError)
        schema = loads_json_document(text, path=Path(path), error=ConfigError)
    if not isinstance(schema, dict):
        raise ConfigError(f"metrics.schema_path: {path} must hold a JSON Schema object")
    cls = validator_for(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        raise ConfigError(f"{path}: invalid JSON Schema: {exc.message}") from exc
    validator: Validator = cls(schema)
    return validator, schema

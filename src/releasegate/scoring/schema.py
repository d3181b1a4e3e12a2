"""The JSON Schemas behind ``schema_valid_rate``: one global file, or each example's functions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jsonschema import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for

from releasegate.benchmark.model import ToolFunction
from releasegate.errors import ConfigError
from releasegate.input_files import loads_json_document, read_text_capped
from releasegate.scoring.toolcalls import Call

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


def function_schema_error(calls: Sequence[Call], functions: Sequence[ToolFunction]) -> str | None:
    """The first way the calls break their functions' definitions, or None.

    Each call must name one of the example's functions, and its arguments must
    validate against that function's parameter schema.
    """
    by_name = {f.name: f for f in functions}
    for index, call in enumerate(calls):
        function = by_name.get(call.name)
        if function is None:
            known = ", ".join(sorted(by_name))
            return f"call {index}: {call.name!r} is not one of the functions ({known})"[:300]
        error = next(iter(_function_validator(function).iter_errors(call.arguments)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(arguments)"
            return f"call {index} ({call.name}): {where}: {error.message}"[:300]
    return None


_VALIDATORS: dict[str, Validator] = {}


def _function_validator(function: ToolFunction) -> Validator:
    key = json.dumps(function.parameters, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = validator_for(function.parameters)(function.parameters)
        if len(_VALIDATORS) < 4096:
            _VALIDATORS[key] = validator
    return validator

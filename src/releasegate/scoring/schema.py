"""The JSON Schemas behind ``schema_valid_rate``: one global file, or each example's functions.

Validation is a pure function of the schema, the output and jsonschema's version, so
its verdicts may be remembered (:class:`VerdictStore`, the run's schema cache): a
re-run of unchanged outputs imports no jsonschema and validates nothing again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from releasegate.benchmark.model import ToolFunction
from releasegate.errors import ConfigError
from releasegate.input_files import loads_json_document, read_text_capped
from releasegate.scoring.toolcalls import Call

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

DEFAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["action"],
    "properties": {"action": {"type": "string"}},
}
"""Used when the config names no schema: a Task API action object needs ``action``."""

RULES = "releasegate-schema-verdicts-1"
"""Names how a verdict is made (the validator class jsonschema picks for the schema's
``$schema``, no format assertion, the first error's path and message cut at 300
characters); part of every key, so a change here must change it."""

SCHEMA_OK = "schema ok"
"""The stored verdict of a schema that passed its metaschema check."""


class VerdictStore(Protocol):
    """Remembered verdicts by key: ``None`` for valid, else the error text."""

    def get(self, key: str) -> tuple[bool, str | None]:
        """(found, verdict)."""
        ...

    def put(self, key: str, verdict: str | None) -> None:
        """Remember a verdict (a store may decline one, e.g. one that holds a secret)."""
        ...


class MemoryVerdicts:
    """Verdicts remembered by this process only (a repeated output is validated once)."""

    def __init__(self, limit: int = 100_000) -> None:
        self._verdicts: dict[str, str | None] = {}
        self._limit = limit

    def get(self, key: str) -> tuple[bool, str | None]:
        """(found, verdict)."""
        if key in self._verdicts:
            return True, self._verdicts[key]
        return False, None

    def put(self, key: str, verdict: str | None) -> None:
        """Remember, up to ``limit`` verdicts."""
        if len(self._verdicts) < self._limit:
            self._verdicts[key] = verdict


class OutputSchema:
    """One JSON Schema and its verdicts on outputs; jsonschema loads on the first miss."""

    def __init__(
        self, schema: dict[str, Any], *, source: str | None, verdicts: VerdictStore | None = None
    ) -> None:
        self.schema = schema
        self.source = source
        """The schema file, or None for :data:`DEFAULT_SCHEMA`."""
        self._verdicts: VerdictStore = verdicts if verdicts is not None else MemoryVerdicts()
        self._validator: Validator | None = None
        # Key order is kept (here and in outputs): it decides which error comes first.
        digest = hashlib.sha256(json.dumps(schema).encode("utf-8")).hexdigest()
        self._prefix = f"{RULES}\0{_jsonschema_version()}\0{digest}\0"

    def check(self) -> None:
        """Check the schema against its metaschema (once per schema and jsonschema version).

        Raises:
            ConfigError: an invalid JSON Schema.
        """
        key = self._key("schema")
        if self._verdicts.get(key) == (True, SCHEMA_OK):
            return
        from jsonschema import SchemaError
        from jsonschema.validators import validator_for

        try:
            validator_for(self.schema).check_schema(self.schema)
        except SchemaError as exc:
            raise ConfigError(f"{self.source}: invalid JSON Schema: {exc.message}") from exc
        self._verdicts.put(key, SCHEMA_OK)

    def first_error(self, instance: Any) -> str | None:
        """``"<path>: <message>"`` of the first way ``instance`` breaks the schema, or None."""
        key = self._key("instance\0" + json.dumps(instance, allow_nan=True))
        found, verdict = self._verdicts.get(key)
        if found:
            return verdict
        error = next(iter(self._built_validator().iter_errors(instance)), None)
        verdict = None
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            verdict = f"{where}: {error.message}"[:300]
        self._verdicts.put(key, verdict)
        return verdict

    def _built_validator(self) -> Validator:
        if self._validator is None:
            from jsonschema.validators import validator_for

            self._validator = validator_for(self.schema)(self.schema)
        return self._validator

    def _key(self, what: str) -> str:
        return hashlib.sha256((self._prefix + what).encode("utf-8")).hexdigest()


def load_output_schema(path: str | None, *, verdicts: VerdictStore | None = None) -> OutputSchema:
    """The schema file (or the default schema), checked against its metaschema.

    ``verdicts``: where verdicts are remembered across runs (None: by this process only).

    Raises:
        ConfigError: unreadable file, invalid JSON, or an invalid JSON Schema.
    """
    schema: Any = DEFAULT_SCHEMA
    if path is not None:
        text = read_text_capped(Path(path), what="metrics.schema_path file", error=ConfigError)
        schema = loads_json_document(text, path=Path(path), error=ConfigError)
    if not isinstance(schema, dict):
        raise ConfigError(f"metrics.schema_path: {path} must hold a JSON Schema object")
    output_schema = OutputSchema(schema, source=path, verdicts=verdicts)
    output_schema.check()
    return output_schema


def _jsonschema_version() -> str:
    try:
        return metadata.version("jsonschema")
    except metadata.PackageNotFoundError:  # pragma: no cover - a dependency
        return "unknown"


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
    from jsonschema.validators import validator_for

    key = json.dumps(function.parameters, sort_keys=True)
    validator = _VALIDATORS.get(key)
    if validator is None:
        validator = validator_for(function.parameters)(function.parameters)
        if len(_VALIDATORS) < 4096:
            _VALIDATORS[key] = validator
    return validator

"""Load a YAML config into ``PipelineConfig`` with errors that name file, line and key."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from releasegate.config.schema import PipelineConfig
from releasegate.errors import ConfigError

Loc = tuple[int | str, ...]


def load_config(path: str | Path | None) -> PipelineConfig:
    """Read and validate a YAML config file; ``None`` gives the defaults.

    Relative ``metrics.schema_path`` and ``safety.suite_path`` are resolved against the
    config file's folder.

    Raises:
        ConfigError: unreadable file, bad YAML, unknown keys, wrong types or values.
    """
    if path is None:
        return PipelineConfig()
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read config: {exc.strerror or exc}") from exc
    return parse_config(text, source=str(file), base_dir=file.parent)


def parse_config(
    text: str, *, source: str = "<config>", base_dir: Path | None = None
) -> PipelineConfig:
    """Validate YAML text as a config (see ``load_config``)."""
    try:
        raw = yaml.safe_load(text)
        lines = _line_index(yaml.compose(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: invalid YAML: {problem}") from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{source}: the config must be a mapping of keys, got {type(raw).__name__}"
        )
    raw = _resolve_paths(raw, base_dir)
    try:
        return PipelineConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source=source, lines=lines)) from exc


_RELATIVE_PATHS = (("metrics", "schema_path"), ("safety", "suite_path"))


def _resolve_paths(raw: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """Paths to files that belong with the config are read relative to its folder."""
    if base_dir is None:
        return raw
    out = dict(raw)
    for section, key in _RELATIVE_PATHS:
        part = out.get(section)
        if not isinstance(part, dict):
            continue
        value = part.get(key)
        if isinstance(value, str) and not Path(value).is_absolute():
            out[section] = {**part, key: str(base_dir / value)}
    return out


def _line_index(node: yaml.Node | None, loc: Loc = ()) -> dict[Loc, int]:
    """Map every key path in the YAML document to its 1-based line."""
    index: dict[Loc, int] = {}
    if node is None:
        return index
    index[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = (*loc, str(key_node.value))
            index.update(_line_index(value_node, key))
            index[key] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            index.update(_line_index(item, (*loc, i)))
    return index


def _describe(exc: ValidationError, *, source: str, lines: Mapping[Loc, int]) -> str:
    # An unknown key usually explains a "missing" one (a typo), so report it first.
    errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
    first = errors[0]
    loc: Loc = tuple(first["loc"])
    line = _nearest_line(loc, lines)
    where = f"{source}:{line}" if line else source
    field = _dotted(loc) or "(top level)"
    if first["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}{_did_you_mean(loc)}"
    else:
        message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (+{len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{where}: {field}: {message}{more}"


def _nearest_line(loc: Loc, lines: Mapping[Loc, int]) -> int | None:
    for cut in range(len(loc), -1, -1):
        line = lines.get(loc[:cut])
        if line is not None and (cut > 0 or not loc):
            return line
    return None


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _did_you_mean(loc: Loc) -> str:
    model = _model_at(loc[:-1])
    if model is None:
        return ""
    names = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), names, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; known keys: {', '.join(sorted(names))}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The pydantic model class that validates the mapping at ``loc``."""
    current: Any = PipelineConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            args = typing.get_args(current)
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            current = field.annotation if field else None
        else:
            return None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return current
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip ``X | None`` down to ``X``."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation
